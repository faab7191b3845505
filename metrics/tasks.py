"""Thin tasks: call a service. The schedule is in socialdesk/beat.py."""

from celery import shared_task
from django.utils import timezone

from metrics.rollups import rollups_refresh
from metrics.sla import sla_breaches_record, sla_due_recompute


@shared_task(name="metrics.tasks.refresh_rollups")
def refresh_rollups() -> int:
    """Bring the rollups up to date, then write the breaches they reveal (breaches are read from
    the care cycle facts, so they come second). Returns how many breaches were written."""
    now = timezone.now()
    rollups_refresh(now=now)
    return sla_breaches_record(now=now)


@shared_task(name="metrics.tasks.recompute_sla_due")
def recompute_sla_due(conversation_kind: str) -> int:
    return sla_due_recompute(conversation_kind=conversation_kind)
