"""The only writer of ReportingEvent."""

from datetime import datetime

from metrics.models import ReportingEvent, ReportingEventKind
from socialdesk.business_calendar import business_calendar


def reporting_event_record(
    *,
    kind: ReportingEventKind,
    conversation,
    occurred_at: datetime,
    started_at: datetime | None = None,
    actor=None,
    source: str = "desk",
    details: dict | None = None,
    cycle: int | None = None,
) -> ReportingEvent:
    """Append one event for `conversation`, in its current care cycle unless `cycle` says which.
    With `started_at`, the span started_at → occurred_at is measured in wall-clock and business
    seconds (a span running backwards, from clocks that disagree, counts as zero), and whether it
    started in office hours is noted."""
    calendar = business_calendar()
    wall = business = started_in_office_hours = None
    if started_at is not None:
        start = min(started_at, occurred_at)
        wall = (occurred_at - start).total_seconds()
        business = calendar.business_seconds_between(start, occurred_at)
        started_in_office_hours = calendar.is_working_time(started_at)
    return ReportingEvent.objects.create(
        kind=kind,
        occurred_at=occurred_at,
        conversation_id=conversation.pk,
        channel_id=conversation.channel_id,
        network=conversation.channel.network,
        conversation_kind=conversation.kind,
        cycle=conversation.cycle if cycle is None else cycle,
        started_at=started_at,
        wall_seconds=wall,
        business_seconds=business,
        in_office_hours=calendar.is_working_time(occurred_at),
        started_in_office_hours=started_in_office_hours,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        source=source,
        details=details or {},
    )
