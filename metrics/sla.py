"""Response targets (SLA): when a care cycle's first response is due, and the breach events.

A cycle's first response is due its kind's target (SlaTarget, set by the administrator) in
business time after the cycle started — the citizen's first message of the cycle — counted with the
business calendar in force now: a Friday 16:30 message with a one-hour target, in an office that
closes at 17:00, is due on Monday at opening + 30 minutes; holidays and closed days do not count.

A cycle counts for the SLA unless it is spam, hidden, or was closed as needing no reply without
one. It is met when the first human response came by the due time and breached when it came later
or has not come and the due time has passed. Compliance is measured against the targets in force
now: changing a target re-measures the past (sla_due_recompute). The SLA_BREACHED events written
here keep the due time that applied when they were written.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q

from inbox.models import Conversation, Resolution
from metrics.models import CareCycleFact, ReportingEventKind, RollupState, SlaTarget
from metrics.services import reporting_event_record
from networks.base import InboundKind
from socialdesk.audit import audit_record
from socialdesk.business_calendar import BusinessCalendar, business_calendar
from socialdesk.models.audit import AuditAction

HOUR = 3600
# "One business day": the office's standard working day, 08:00–15:00 (socialdesk.demo's default
# hours; the two afternoons a week are extra). The administrator may change any target.
BUSINESS_DAY_SECONDS = 7 * HOUR
DEFAULT_TARGETS = {
    InboundKind.PUBLIC_COMMENT: 4 * HOUR,
    InboundKind.MENTION: 4 * HOUR,
    InboundKind.PRIVATE_MESSAGE: BUSINESS_DAY_SECONDS,
}
# Breaches written per run at most; the rest wait for the next run (oldest due first).
BREACH_BATCH = 500
# Facts rebuilt in one go when a target changes.
RECOMPUTE_BATCH = 2000


def sla_targets() -> dict[str, int]:
    """Business seconds of each kind's active target."""
    return dict(SlaTarget.objects.filter(is_active=True).values_list("conversation_kind", "business_seconds"))


def sla_due_at(
    *, calendar: BusinessCalendar, started_at: datetime, target_seconds: int | None
) -> datetime | None:
    """When a first response to a cycle started at `started_at` is due (None: no target, or the
    office never opens again)."""
    if target_seconds is None:
        return None
    return calendar.add_business_seconds(started_at, target_seconds)


def sla_counted() -> Q:
    """Cycles that count for the SLA (and for the response rate): not spam, not hidden, not closed
    as needing no reply without one."""
    return Q(spam=False, hidden=False) & ~Q(
        first_response_at__isnull=True, resolution=Resolution.NO_REPLY_NEEDED
    )


def sla_breached(now: datetime) -> Q:
    """Counted cycles whose first response came after the due time, or is overdue now."""
    return (
        sla_counted()
        & Q(sla_due_at__isnull=False)
        & (Q(sla_late=True) | Q(first_response_at__isnull=True, sla_due_at__lte=now))
    )


def sla_target_save(*, target: SlaTarget, actor=None, request=None) -> SlaTarget:
    """Save a target and re-measure the cycles of its kind once the change is committed. A change
    is audited with the values before and after: it changes what every past report says."""
    from metrics.tasks import recompute_sla_due

    with transaction.atomic():
        before = (
            SlaTarget.objects.select_for_update()
            .filter(pk=target.pk)
            .values("business_seconds", "is_active")
            .first()
            if target.pk
            else None
        ) or {"business_seconds": None, "is_active": None}
        target.save()
        after = {"business_seconds": target.business_seconds, "is_active": target.is_active}
        if after != before:
            audit_record(
                action=AuditAction.SLA_TARGET_CHANGED,
                actor=actor,
                target=target,
                details={"kind": target.conversation_kind, "before": before, "after": after},
                request=request,
            )
        recompute_sla_due.delay_on_commit(target.conversation_kind)
    return target


def sla_due_recompute(*, conversation_kind: str) -> int:
    """Due times of every cycle of one kind, from its target now, and the SLA per due day counted
    again. Returns how many cycles changed."""
    from metrics.rollups import daily_sla_rebuild, rollup_context

    calendar = business_calendar()
    target = sla_targets().get(conversation_kind)
    facts = CareCycleFact.objects.filter(conversation_kind=conversation_kind).only(
        "pk", "started_at", "first_response_at", "sla_due_at", "sla_late"
    )
    changed: list[CareCycleFact] = []
    for fact in facts.iterator(chunk_size=RECOMPUTE_BATCH):
        due = sla_due_at(calendar=calendar, started_at=fact.started_at, target_seconds=target)
        late = bool(due and fact.first_response_at and fact.first_response_at > due)
        if (due, late) != (fact.sla_due_at, fact.sla_late):
            fact.sla_due_at, fact.sla_late = due, late
            changed.append(fact)
    for start in range(0, len(changed), RECOMPUTE_BATCH):
        CareCycleFact.objects.bulk_update(
            changed[start : start + RECOMPUTE_BATCH], ["sla_due_at", "sla_late"]
        )
    daily_sla_rebuild(rollup_context())
    return len(changed)


def _breach_candidates(now: datetime):
    return (
        CareCycleFact.objects.filter(sla_breached(now), sla_breach_recorded=False)
        .order_by("sla_due_at", "pk")
        .values_list("pk", flat=True)
    )


def sla_breaches_record(*, now: datetime, limit: int = BREACH_BATCH) -> int:
    """Write one SLA_BREACHED event per breached cycle that has none yet (the oldest due first, at
    most `limit`). Each cycle is claimed with a conditional update, and the events table allows one
    breach per cycle, so two runs at once never write two. Returns how many were written."""
    state = RollupState.objects.filter(pk=1).first()
    if state is not None and state.rebuilding_since is not None:
        return 0  # the facts are being rewritten: their flags say nothing until the rebuild ends
    written, targets = 0, sla_targets()
    for pk in list(_breach_candidates(now)[:limit]):
        with transaction.atomic():
            if CareCycleFact.objects.filter(pk=pk, sla_breach_recorded=False).update(
                sla_breach_recorded=True
            ):
                written += _breach_write(CareCycleFact.objects.get(pk=pk), now=now, targets=targets)
    return written


def _breach_write(fact: CareCycleFact, *, now: datetime, targets: dict[str, int]) -> int:
    conversation = Conversation.objects.select_related("channel").filter(pk=fact.conversation_id).first()
    if conversation is None:
        return 0  # erased since: nothing left to attach the event to
    try:
        with transaction.atomic():
            reporting_event_record(
                kind=ReportingEventKind.SLA_BREACHED,
                conversation=conversation,
                cycle=fact.cycle,
                occurred_at=fact.sla_due_at,
                started_at=fact.started_at,
                source="system",
                details={
                    "due_at": fact.sla_due_at.isoformat(),
                    "target_business_seconds": targets.get(fact.conversation_kind),
                    "answered_at": fact.first_response_at.isoformat() if fact.first_response_at else None,
                    "noticed_at": now.isoformat(),
                },
            )
    except IntegrityError:
        return 0  # written meanwhile by another run: one breach per cycle
    return 1
