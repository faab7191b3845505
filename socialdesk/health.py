"""The checks behind /healthz: database, broker, worker and beat."""

from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from socialdesk.heartbeat import COMPONENTS


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

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = conn.transport_cls
    except Exception as exc:  # kombu raises a family of transport-specific errors
        return Check(False, f"unreachable ({exc.__class__.__name__})")
    return Check(True, str(transport))


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


def health_report() -> tuple[bool, dict]:
    checks = {"database": check_database(), "broker": check_broker(), **check_heartbeats()}
    healthy = all(check.ok for check in checks.values())
    return healthy, {
        "status": "ok" if healthy else "failing",
        "checks": {name: check.as_dict() for name, check in checks.items()},
    }
