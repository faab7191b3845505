"""/healthz: database, broker, worker, beat and tasks; 200 only when all of them are fine."""

import socket
import time
from datetime import timedelta

import environ
import pytest
import time_machine
from django.db.utils import ConnectionHandler
from django.utils import timezone

from socialdesk import health
from socialdesk.health import BROKER_TIMEOUT_SECONDS
from socialdesk.heartbeat import COMPONENTS
from socialdesk.models import Heartbeat

ALL_CHECKS = {"database", "broker", *COMPONENTS}
STALE_SECONDS = 90


def closed_port() -> int:
    """A loopback port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(autouse=True)
def stale_after(settings):
    settings.SOCIALDESK_HEARTBEAT_STALE_SECONDS = STALE_SECONDS


@pytest.fixture
def fresh_heartbeats(db):
    now = timezone.now()
    for component in COMPONENTS:
        Heartbeat.objects.create(
            component=component, last_seen_at=now, hostname="worker-7.internal", pid=4242
        )


def failing_checks(body: dict) -> set[str]:
    return {name for name, check in body["checks"].items() if not check["ok"]}


def test_healthz_is_200_when_everything_works_and_needs_no_login(client, fresh_heartbeats):
    response = client.get("/healthz")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == ALL_CHECKS
    assert failing_checks(body) == set()
    assert "no-cache" in response["Cache-Control"]
    # The heartbeat rows know where the worker runs; the public answer does not say.
    assert "worker-7.internal" not in response.content.decode()
    assert "4242" not in response.content.decode()


@pytest.mark.parametrize("component", COMPONENTS)
def test_healthz_is_503_when_a_heartbeat_is_stale(client, fresh_heartbeats, component):
    now = timezone.now()
    Heartbeat.objects.filter(component=component).update(last_seen_at=now - timedelta(seconds=STALE_SECONDS + 5))

    with time_machine.travel(now, tick=False):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert failing_checks(body) == {component}
    assert body["checks"][component]["detail"] == f"last seen {STALE_SECONDS + 5} s ago"


@pytest.mark.parametrize("component", COMPONENTS)
def test_healthz_is_503_when_a_component_was_never_seen(client, fresh_heartbeats, component):
    Heartbeat.objects.filter(component=component).delete()

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert failing_checks(body) == {component}
    assert body["checks"][component]["detail"] == "never seen"


def test_a_heartbeat_just_inside_the_limit_is_fine(client, fresh_heartbeats):
    Heartbeat.objects.update(last_seen_at=timezone.now() - timedelta(seconds=STALE_SECONDS - 5))

    assert client.get("/healthz").status_code == 200


def test_healthz_is_503_quickly_and_tells_no_secret_when_the_broker_is_unreachable(
    client, fresh_heartbeats, monkeypatch
):
    port = closed_port()
    # Celery lets CELERY_BROKER_URL in the environment override the configured broker.
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://:broker-s3cret@127.0.0.1:{port}/0")

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert failing_checks(body) == {"broker"}
    assert body["checks"]["broker"]["detail"].startswith("unreachable (")
    text = response.content.decode()
    assert "broker-s3cret" not in text
    assert str(port) not in text


def test_an_unreachable_broker_fails_at_once_without_retrying(monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{closed_port()}/0")

    started = time.monotonic()
    check = health.check_broker()

    assert not check.ok
    # kombu sleeps 2 s before its first retry: a refused connection must not wait for one.
    assert time.monotonic() - started < BROKER_TIMEOUT_SECONDS


def test_healthz_is_503_and_tells_no_secret_when_the_database_is_unreachable(
    client, fresh_heartbeats, monkeypatch
):
    # A real PostgreSQL connection (driver and all) to a port nobody answers, for the database check.
    port = closed_port()
    unreachable = ConnectionHandler(
        {"default": environ.Env.db_url_config(f"postgres://socialdesk:db-s3cret@127.0.0.1:{port}/socialdesk")}
    )["default"]
    monkeypatch.setattr(health, "connection", unreachable)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == {"ok": False, "detail": "unreachable (OperationalError)"}
    assert failing_checks(body) == {"database"}
    text = response.content.decode()
    assert "db-s3cret" not in text
    assert str(port) not in text


def test_healthz_skips_the_https_redirect_for_probes(client, fresh_heartbeats, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz").status_code == 200
    assert client.get("/login/").status_code == 301


def test_the_command_line_check_exits_0_when_the_named_components_are_fine(fresh_heartbeats, capsys):
    assert health.main(["beat", "worker"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "beat: ok (last seen 0 s ago)",
        "worker: ok (last seen 0 s ago)",
    ]


def test_the_command_line_check_exits_1_when_one_is_not(fresh_heartbeats, capsys):
    Heartbeat.objects.filter(component="beat").delete()
    assert health.main(["beat"]) == 1
    assert capsys.readouterr().out == "beat: failing (never seen)\n"


@pytest.mark.parametrize("names", [[], ["bogus"]])
def test_the_command_line_check_refuses_unknown_names(fresh_heartbeats, capsys, names):
    assert health.main(names) == 2
    assert "usage: python -m socialdesk.health" in capsys.readouterr().err
