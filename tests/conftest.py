"""The standing cast and the rules every test lives by.

Tests that need PostgreSQL or Redis are marked; without them the test is skipped with the reason,
except in CI (CI=true), where a missing service is a failure, never a silent skip.
"""

import inspect
import os

import pytest
from django.db import connection
from django.utils import translation

from socialdesk.models import Role, User

IN_CI = os.environ.get("CI", "").lower() == "true"


def _redis_reachable() -> bool:
    url = os.environ.get("REDIS_URL")
    if not url:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def pytest_runtest_setup(item):
    missing = None
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        missing = "needs PostgreSQL: set DATABASE_URL to a PostgreSQL database"
    elif item.get_closest_marker("redis") and not _redis_reachable():
        missing = "needs Redis: set REDIS_URL to a reachable Redis"
    if missing:
        if IN_CI:
            pytest.fail(f"CI must provide this service: {missing}")
        pytest.skip(missing)


def pytest_collection_modifyitems(items):
    """A test that takes ``request`` may ask for the database lazily (``request.getfixturevalue`` of
    a user or a channel): mark it as using the database, as pytest-django cannot see that. It sets
    up the test databases only for what the collected tests ask by name, so such a test, run alone,
    ran against the configured database itself: the developer's var/socialdesk.sqlite3, or the
    PostgreSQL database DATABASE_URL names."""
    for item in items:
        function = getattr(item, "function", None)  # the test's own arguments, not every fixture's
        asks_lazily = function is not None and "request" in inspect.signature(function).parameters
        if asks_lazily and not item.get_closest_marker("django_db"):
            item.add_marker(pytest.mark.django_db)


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """LocaleMiddleware leaves the last request's language active in the thread: put the default
    back so no test inherits another test's language."""
    yield
    translation.deactivate()


def _make_user(username: str, role: str) -> User:
    return User.objects.create_user(
        username=username, password=f"{username}-password-123", role=role, first_name=username.title()
    )


@pytest.fixture
def manager(db) -> User:
    return _make_user("marta", Role.MANAGER)


@pytest.fixture
def supervisor(db) -> User:
    return _make_user("sergio", Role.SUPERVISOR)


@pytest.fixture
def administrator(db) -> User:
    return _make_user("ana", Role.ADMINISTRATOR)


@pytest.fixture
def outsider(db) -> User:
    """Can sign in, has no role: must see nothing."""
    return _make_user("olga", "")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def supervisor_client(client, supervisor):
    client.force_login(supervisor)
    return client
