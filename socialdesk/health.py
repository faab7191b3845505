"""The checks behind /healthz: database, broker, worker, beat, and tasks (sent by beat, run by a worker).

/healthz needs no login, so a detail names only what kind of thing went wrong (an exception class,
an age in seconds) and never a message: driver messages carry host names, ports and sometimes
credentials.
"""

import sys
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from socialdesk.heartbeat import COMPONENTS

# Orchestrators poll /healthz with a short timeout of their own: an unreachable broker must make
# the check fail within it, not hang on connection retries.
BROKER_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str

    def as_dict(self) -> dict:
        return {"ok": self.ok, "detail": self.detail}


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means the same thing here: not reachable
        return Check(False, f"unreachable ({exc.__class__.__name__})")
    return Check(True, connection.vendor)


def check_broker() -> Check:
    from socialdesk.celery import app

    timeouts = {"socket_connect_timeout": BROKER_TIMEOUT_SECONDS, "socket_timeout": BROKER_TIMEOUT_SECONDS}
    try:
        with app.connection_for_write(transport_options=timeouts) as conn:
            conn.ensure_connection(max_retries=0)
            # Declaring the default queue proves the broker can take a task, not only that a
            # socket opens (for the filesystem transport, that its folders are there).
            conn.default_channel.queue_declare(queue=app.conf.task_default_queue)
            kind = conn.transport.driver_type  # "filesystem", "redis": not the class that implements it
    except Exception as exc:  # kombu raises a family of transport-specific errors
        return Check(False, f"unreachable ({exc.__class__.__name__})")
    return Check(True, kind)


def check_heartbeats() -> dict[str, Check]:
    from socialdesk.models import Heartbeat

    stale_after = settings.SOCIALDESK_HEARTBEAT_STALE_SECONDS
    now = timezone.now()
    try:
        seen = {beat.component: beat.last_seen_at for beat in Heartbeat.objects.all()}
    except Exception as exc:  # the database check already says why
        return {component: Check(False, f"unknown ({exc.__class__.__name__})") for component in COMPONENTS}
    checks = {}
    for component in COMPONENTS:
        last_seen = seen.get(component)
        if last_seen is None:
            checks[component] = Check(False, "never seen")
            continue
        age = (now - last_seen).total_seconds()
        checks[component] = Check(age <= stale_after, f"last seen {age:.0f} s ago")
    return checks


def all_checks() -> dict[str, Check]:
    return {"database": check_database(), "broker": check_broker(), **check_heartbeats()}


def health_report() -> tuple[bool, dict]:
    checks = all_checks()
    healthy = all(check.ok for check in checks.values())
    return healthy, {
        "status": "ok" if healthy else "failing",
        "checks": {name: check.as_dict() for name, check in checks.items()},
    }


def main(names: list[str]) -> int:
    """`python -m socialdesk.health beat`: exit 0 when the named checks pass (container healthchecks)."""
    import django

    django.setup()
    checks = all_checks()
    if not names or not set(names) <= checks.keys():
        print(f"usage: python -m socialdesk.health {{{','.join(checks)}}}...", file=sys.stderr)
        return 2
    for name in names:
        print(f"{name}: {'ok' if checks[name].ok else 'failing'} ({checks[name].detail})")
    return 0 if all(checks[name].ok for name in names) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
