"""The emergency pause (floods, fires, a crisis): one action stops every scheduled delivery at once.

While a pause is open the dispatcher claims nothing and a claimed delivery goes back to waiting.
Resuming never lets anything out by itself: every delivery whose time came during the pause is
held for the manager to publish, reschedule or drop. The page banner reads the pause from the
cache (written on every change and refreshed by every dispatcher tick), so no page pays a query.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from scheduling.models import Delivery, DeliveryState, HeldReason, PublishingPause
from socialdesk.audit import audit_record
from socialdesk.models.audit import AuditAction

BANNER_CACHE_KEY = "scheduling:publishing-pause"


@dataclass(frozen=True)
class PauseBanner:
    reason: str
    started_at: datetime
    ends_at: datetime | None


def publishing_pause_open() -> PublishingPause | None:
    return PublishingPause.objects.filter(is_open=True).first()


def publishing_pause(*, reason: str, ends_at: datetime | None = None, actor, request=None) -> PublishingPause:
    """Stop all publishing now. Pausing while paused updates the reason and the end time."""
    reason = reason.strip()
    if not reason:
        raise ValueError("An emergency pause needs a reason.")
    user = actor if actor is not None and actor.is_authenticated else None
    with transaction.atomic():
        pause = PublishingPause.objects.select_for_update().filter(is_open=True).first()
        if pause is None:
            try:
                with transaction.atomic():
                    pause = PublishingPause.objects.create(reason=reason, ends_at=ends_at, started_by=user)
            except IntegrityError:  # another manager paused at the same moment: one pause it is
                pause = PublishingPause.objects.select_for_update().get(is_open=True)
        pause.reason = reason
        pause.ends_at = ends_at
        pause.save(update_fields=["reason", "ends_at"])
        audit_record(
            action=AuditAction.PUBLISHING_PAUSED,
            actor=actor,
            target=pause,
            details={"reason": reason, "ends_at": ends_at.isoformat() if ends_at else None},
            request=request,
        )
        transaction.on_commit(publishing_pause_refresh_banner)
    return pause


def publishing_resume(*, actor=None, request=None, now: datetime | None = None) -> int:
    """End the open pause and hold every delivery that came due during it. Returns how many were held."""
    now = now or timezone.now()
    with transaction.atomic():
        pause = PublishingPause.objects.select_for_update().filter(is_open=True).first()
        if pause is None:
            return 0
        pause.is_open = False
        pause.ended_at = now
        pause.ended_by = actor if actor is not None and actor.is_authenticated else None
        pause.save(update_fields=["is_open", "ended_at", "ended_by"])
        held = Delivery.objects.filter(state=DeliveryState.SCHEDULED, due_at__lte=now).update(
            state=DeliveryState.HELD, held_reason=HeldReason.PAUSE, updated_at=now
        )
        audit_record(
            action=AuditAction.PUBLISHING_RESUMED,
            actor=actor,
            actor_label="" if actor is not None else "SocialDesk",
            target=pause,
            details={"held": held, "by_end_time": actor is None},
            request=request,
        )
        transaction.on_commit(publishing_pause_refresh_banner)
    return held


def publishing_pause_expire(*, now: datetime) -> int:
    """Resume when the open pause's end time has come (called by every dispatcher tick)."""
    if PublishingPause.objects.filter(is_open=True, ends_at__lte=now).exists():
        return publishing_resume(now=now)
    return 0


def publishing_pause_refresh_banner() -> None:
    pause = publishing_pause_open()
    banner = PauseBanner(pause.reason, pause.started_at, pause.ends_at) if pause else None
    cache.set(BANNER_CACHE_KEY, banner, timeout=None)


def publishing_pause_banner() -> PauseBanner | None:
    """What the page banner shows; None when not paused or not known yet (the next tick tells)."""
    return cache.get(BANNER_CACHE_KEY)
