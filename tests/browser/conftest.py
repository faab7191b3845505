"""A real browser on the desk's pages: Debian's Chromium, driven by Playwright, against pytest-django's
live server (which also serves static/), with axe-core checking WCAG 2.1 AA.

One browser for the package; each test gets a fresh browser context signed in as the manager by
the session cookie of `client.force_login` (only test_login goes through the form). Every page a
test opens is watched: a Content-Security-Policy violation, an uncaught JavaScript error or a
static file that fails to load fails the test.

Chromium is found at $SOCIALDESK_CHROMIUM (default /usr/bin/chromium). Without it the tests fail
with a message saying so, unless SOCIALDESK_SKIP_BROWSER=1 says to skip them.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.checks import page_watch
from tests.browser.desk import Desk, desk_create

CHROMIUM = os.environ.get("SOCIALDESK_CHROMIUM", "/usr/bin/chromium")
SKIP_BROWSER = os.environ.get("SOCIALDESK_SKIP_BROWSER", "") == "1"
# Chromium is a process of its own, out of pytest-socket's reach: it resolves no name but the live
# server's, so neither a page nor the browser's own background services can reach the internet.
OFFLINE = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost", "--disable-sync"]
# Short waits: everything is local, so anything slower than this is a fault, not a slow network.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if SKIP_BROWSER:
        pytest.skip("SOCIALDESK_SKIP_BROWSER=1: browser tests not run")
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"No Chromium at {CHROMIUM}: install it (Debian: apt-get install chromium), point "
            "SOCIALDESK_CHROMIUM at one, or set SOCIALDESK_SKIP_BROWSER=1 to skip the browser tests.",
            pytrace=False,
        )
    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API keeps an asyncio loop marked as running in this thread while the
        # browser lives, and Django then refuses the ORM calls the tests make between browser steps.
        # Nothing runs concurrently here: the browser only waits for the live server's thread.
        # (Django also hands this thread connections of their own meanwhile, without the test
        # database's serialized copy: so no serialized_rollback here, and desk_create makes its
        # own rows rather than counting on the migrations' seeds.)
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=OFFLINE)
            yield chromium
            chromium.close()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The live server shares this process's cache (the pause banner lives there): start empty."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def desk(live_server, manager) -> Desk:
    """A desk with work on it (live_server makes the test transactional: the server sees the rows)."""
    return desk_create(manager=manager)


@contextmanager
def watched_page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A page in a context of its own; on the way out, what the watch saw fails the test."""
    context = browser.new_context(base_url=base_url, locale="es-ES")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    watch = page_watch(page)
    yield page
    context.close()
    problems = watch.problems()
    assert not problems, "The browser saw problems:\n" + "\n".join(problems)


@pytest.fixture
def anonymous_page(browser, live_server) -> Iterator[Page]:
    with watched_page(browser, live_server.url) as page:
        yield page


@pytest.fixture
def page(browser, live_server, desk, client) -> Iterator[Page]:
    """A browser page signed in as the desk's manager."""
    client.force_login(desk.manager)
    session = {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }
    with watched_page(browser, live_server.url) as page:
        page.context.add_cookies([session])
        yield page
