"""The rollups the supervisor's reports read, derived from the reporting events, the messages and
the conversations, and kept current from them.

The rollups: one row per care cycle (CareCycleFact) and per measured span (TimingFact); per local
day, channel and kind the citizens' messages and how the cycles opened went (DailyRollup), and the
SLA of the cycles due that day (DailySla); messages per day and hour (HourlyTraffic); spans per
duration bucket and month (TimingHistogram).

``rollups_refresh(now=...)`` runs from beat (socialdesk.beat.ROLLUPS_REFRESH_SECONDS) and looks only
at what changed since its last run: new reporting events, new messages, comments hidden or shown
again (audit log), conversations changed (spam). In one transaction it rebuilds the facts of the
conversations touched, then the daily rows of the days touched, the SLA of the due days touched and
the histograms of the months touched. ``rollups_rebuild()`` (``manage.py rebuild_rollups``)
derives everything again, one transaction per chunk; on PostgreSQL set-based in the database
(metrics.rollups_pg), elsewhere with the refresh's own builders. Both give the same rows (tests
compare them on PostgreSQL).

What counts, defined here once:

- A care cycle starts with the citizen's first message (or the manager reopening a closed
  conversation) and ends when it is closed; a reopen starts the next cycle.
- First response: cycle start → first human answer of the cycle. Reply: the citizen's oldest
  unanswered message → the next human answer. Resolution: cycle start → closing. Human answers
  are those sent from SocialDesk or seen on the network; automations are not (inbox writes no event
  for them). Wall-clock and business seconds are the reporting events' own, measured with the
  calendar in force when they happened.
- A span belongs to the local day its start falls on (when the citizen wrote) and is "office" or
  "off" by whether that moment was office time.
- Spam conversations, hidden ones (every message the citizen wrote in it is hidden on the network)
  and cycles closed as needing no reply without one count apart: they have no spans.
- Traffic counts every message a citizen wrote, by its time on the network, spam included: it is
  what arrived.
"""

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import groupby, islice
from operator import itemgetter
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from inbox.models import Conversation, Message, MessageDirection, Resolution
from metrics.models import (
    LONG_WAIT_SECONDS,
    CareCycleFact,
    DailyRollup,
    DailySla,
    HourlyTraffic,
    ReportingEvent,
    ReportingEventKind,
    RollupState,
    TimingFact,
    TimingHistogram,
    TimingMetric,
)
from metrics.sla import sla_counted, sla_due_at, sla_targets
from socialdesk.business_calendar import BusinessCalendar, business_calendar
from socialdesk.models import AuditEvent
from socialdesk.models.audit import AuditAction

STATE_ID = 1
# Source rows written longer ago than this are committed (no transaction of the desk lasts
# minutes), so the high water marks only pass them; younger rows are looked at again next time.
SETTLE = timedelta(minutes=10)
# Source rows one refresh takes at most; a backlog (after an outage) is worked off over a few runs.
REFRESH_CAP = 50_000
# Conversation ids per rebuild transaction: about 40,000 events, a second or two of work.
REBUILD_CONVERSATION_SPAN = 10_000
# Conversation ids per `IN (...)` list in a refresh.
ID_BATCH = 2_000
# A rebuild that has not finished after this long has died: refreshes go on without it.
REBUILD_STALE = timedelta(hours=2)
# Duration buckets per factor e (2.718…) of duration: each is about 5 % wide. Buckets only group
# spans so that metrics.reports finds the exact k-th one quickly; no figure is ever rounded to one.
BUCKETS_PER_E = 20
WALL, BUSINESS = "wall", "business"
CLOCK_COLUMNS = {WALL: ("wall_bucket", "wall_seconds"), BUSINESS: ("business_bucket", "business_seconds")}

CYCLE_FIELDS = (
    "conversation_id",
    "cycle",
    "channel_id",
    "network",
    "conversation_kind",
    "day",
    "started_at",
    "started_in_office",
    "first_response_at",
    "resolved_at",
    "resolution",
    "sla_due_at",
    "sla_late",
    "sla_breach_recorded",
    "next_opening_at",
    "spam",
    "hidden",
    "long_wait",
)
TIMING_FIELDS = (
    "metric",
    "conversation_id",
    "cycle",
    "channel_id",
    "network",
    "conversation_kind",
    "day",
    "started_at",
    "ended_at",
    "started_in_office",
    "wall_seconds",
    "business_seconds",
    "wall_bucket",
    "business_bucket",
)
EVENT_FIELDS = (
    "conversation_id",
    "cycle",
    "kind",
    "occurred_at",
    "started_at",
    "wall_seconds",
    "business_seconds",
    "in_office_hours",
    "started_in_office_hours",
    "channel_id",
    "network",
    "conversation_kind",
    "details",
)
_CONVERSATION, _CYCLE, _KIND, _OCCURRED, _STARTED, _WALL, _BUSINESS, _IN_OFFICE, _STARTED_IN_OFFICE = range(9)
_CHANNEL, _NETWORK, _CONVERSATION_KIND, _DETAILS = range(9, 13)
_CYCLE_START_KINDS = (ReportingEventKind.OPENED, ReportingEventKind.REOPENED)
# Span events measured from the cycle's start (a reply is measured from the oldest unanswered message).
_MEASURED_FROM_START = (ReportingEventKind.FIRST_RESPONSE, ReportingEventKind.RESOLVED)
_SPAN_METRICS = {
    ReportingEventKind.FIRST_RESPONSE: TimingMetric.FIRST_RESPONSE,
    ReportingEventKind.REPLY: TimingMetric.REPLY,
    ReportingEventKind.RESOLVED: TimingMetric.RESOLUTION,
}


def duration_bucket(seconds: float) -> int:
    """The bucket of a duration: 0 below one second, then BUCKETS_PER_E buckets per factor e."""
    if seconds < 1:
        return 0
    return min(1 + int(math.log(seconds) * BUCKETS_PER_E), 32_767)


@dataclass(frozen=True)
class RollupContext:
    """What deriving the rollups needs besides the rows: the calendar and targets in force now."""

    calendar: BusinessCalendar
    targets: dict[str, int]

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.calendar.tz).date()

    def day_start(self, day: date) -> datetime:
        """The instant the local day begins."""
        return datetime.combine(day, time(0), tzinfo=self.calendar.tz)


def rollup_context() -> RollupContext:
    return RollupContext(calendar=business_calendar(), targets=sla_targets())


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


# --- Facts: one row per care cycle, one per measured span ----------------------------------------


class CyclePivot(NamedTuple):
    """What a cycle's reporting events say about it, before the calendar and the conversation's
    flags are applied (metrics.rollups_pg computes the same in SQL)."""

    conversation_id: int
    cycle: int
    channel_id: int
    network: str
    conversation_kind: str
    started_at: datetime | None
    started_in_office: bool | None  # None: events older than the field; the calendar decides
    first_response_at: datetime | None
    resolved_at: datetime | None
    resolution: str
    breach_recorded: bool


def facts_from_events(
    events: Iterable[tuple], flags: dict[int, tuple[bool, bool]], context: RollupContext
) -> tuple[list[tuple], list[tuple]]:
    """Cycle rows and timing rows (CYCLE_FIELDS, TIMING_FIELDS order) from reporting events
    (EVENT_FIELDS order) sorted by conversation, cycle and time. `flags` gives each conversation's
    (spam, hidden)."""
    cycles: list[tuple] = []
    timings: list[tuple] = []
    for (conversation_id, _cycle), group in groupby(events, key=itemgetter(_CONVERSATION, _CYCLE)):
        events_of_cycle = list(group)
        pivot = cycle_pivot(events_of_cycle)
        row = cycle_row(pivot, flags.get(conversation_id, (False, False)), context)
        if row is None:
            continue
        cycles.append(row)
        if cycle_counted(row):
            timings.extend(_timing_rows(events_of_cycle, context))
    return cycles, timings


def cycle_pivot(events: list[tuple]) -> CyclePivot:
    """The cycle's start (its opening event, or else what its first response or resolution measured
    from), first response, last resolution and breach, from its events in time order."""
    opening = next((e for e in events if e[_KIND] in _CYCLE_START_KINDS), None)
    span = next((e for e in events if e[_KIND] in _MEASURED_FROM_START and e[_STARTED] is not None), None)
    first = next((e for e in events if e[_KIND] == ReportingEventKind.FIRST_RESPONSE), None)
    resolved = next((e for e in reversed(events) if e[_KIND] == ReportingEventKind.RESOLVED), None)
    if opening is not None:
        started_at, started_in_office = opening[_OCCURRED], opening[_IN_OFFICE]
    elif span is not None:
        started_at, started_in_office = span[_STARTED], span[_STARTED_IN_OFFICE]
    else:
        started_at = started_in_office = None
    return CyclePivot(
        conversation_id=events[0][_CONVERSATION],
        cycle=events[0][_CYCLE],
        channel_id=events[0][_CHANNEL],
        network=events[0][_NETWORK],
        conversation_kind=events[0][_CONVERSATION_KIND],
        started_at=started_at,
        started_in_office=started_in_office,
        first_response_at=first[_OCCURRED] if first else None,
        resolved_at=resolved[_OCCURRED] if resolved else None,
        resolution=(resolved[_DETAILS] or {}).get("resolution", "") if resolved else "",
        breach_recorded=any(e[_KIND] == ReportingEventKind.SLA_BREACHED for e in events),
    )


def cycle_row(pivot: CyclePivot, flags: tuple[bool, bool], context: RollupContext) -> tuple | None:
    """The CareCycleFact row (CYCLE_FIELDS order); None for a cycle nothing says the start of (it
    cannot happen through inbox.services)."""
    started_at = pivot.started_at
    if started_at is None:
        return None
    started_in_office = pivot.started_in_office
    if started_in_office is None:
        started_in_office = context.calendar.is_working_time(started_at)
    spam, hidden = flags
    first_response_at, resolved_at = pivot.first_response_at, pivot.resolved_at
    due = sla_due_at(
        calendar=context.calendar,
        started_at=started_at,
        target_seconds=context.targets.get(pivot.conversation_kind),
    )
    unanswered = first_response_at is None
    return (
        pivot.conversation_id,
        pivot.cycle,
        pivot.channel_id,
        pivot.network,
        pivot.conversation_kind,
        context.local_day(started_at),
        started_at,
        started_in_office,
        first_response_at,
        resolved_at,
        pivot.resolution,
        due,
        bool(due and first_response_at and first_response_at > due),
        pivot.breach_recorded,
        None if started_in_office else context.calendar.next_working_start(started_at),
        spam,
        hidden,
        unanswered
        and (resolved_at is None or (resolved_at - started_at).total_seconds() > LONG_WAIT_SECONDS),
    )


_ROW = {name: position for position, name in enumerate(CYCLE_FIELDS)}


def cycle_counted(row: tuple) -> bool:
    """Whether the cycle needed a reply: not spam, not hidden, not closed as needing none unanswered."""
    return not (
        row[_ROW["spam"]]
        or row[_ROW["hidden"]]
        or (row[_ROW["first_response_at"]] is None and row[_ROW["resolution"]] == Resolution.NO_REPLY_NEEDED)
    )


def _timing_rows(events: list[tuple], context: RollupContext) -> list[tuple]:
    """The cycle's spans: its first response (the first one only), replies, and resolution (the last)."""
    first = next((e for e in events if e[_KIND] == ReportingEventKind.FIRST_RESPONSE), None)
    resolved = next((e for e in reversed(events) if e[_KIND] == ReportingEventKind.RESOLVED), None)
    return [
        timing_row(e, context)
        for e in events
        if e[_KIND] in _SPAN_METRICS
        and e[_STARTED] is not None
        and e[_WALL] is not None
        and (e[_KIND] != ReportingEventKind.FIRST_RESPONSE or e is first)
        and (e[_KIND] != ReportingEventKind.RESOLVED or e is resolved)
    ]


def timing_row(event: tuple, context: RollupContext) -> tuple:
    """The TimingFact row (TIMING_FIELDS order) of a span event (EVENT_FIELDS order)."""
    wall, business = event[_WALL], event[_BUSINESS] if event[_BUSINESS] is not None else 0.0
    started_in_office = event[_STARTED_IN_OFFICE]
    if started_in_office is None:
        # Events written before the field existed: the calendar in force now decides.
        started_in_office = context.calendar.is_working_time(event[_STARTED])
    return (
        _SPAN_METRICS[event[_KIND]],
        event[_CONVERSATION],
        event[_CYCLE],
        event[_CHANNEL],
        event[_NETWORK],
        event[_CONVERSATION_KIND],
        context.local_day(event[_STARTED]),
        event[_STARTED],
        event[_OCCURRED],
        started_in_office,
        wall,
        business,
        duration_bucket(wall),
        duration_bucket(business),
    )


def _events(conversations: Q) -> Iterator[tuple]:
    return (
        ReportingEvent.objects.filter(conversations)
        .order_by("conversation_id", "cycle", "occurred_at", "id")
        .values_list(*EVENT_FIELDS)
        .iterator(chunk_size=5000)
    )


def conversation_flags(conversations: Q, messages: Q) -> dict[int, tuple[bool, bool]]:
    """(spam, hidden) of the conversations selected (by `conversations` on Conversation and the
    same selection as `messages` on Message); only conversations with a flag set are listed."""
    spam = set(Conversation.objects.filter(conversations, spam=True).values_list("pk", flat=True))
    hidden = set(
        Message.objects.filter(messages, direction=MessageDirection.INBOUND)
        .order_by()
        .values("conversation_id")
        .annotate(shown=Count("id", filter=Q(hidden=False)))
        .filter(shown=0)
        .values_list("conversation_id", flat=True)
    )
    return {pk: (pk in spam, pk in hidden) for pk in spam | hidden}


@dataclass(frozen=True)
class _Selection:
    """The same conversations, selected on each table that holds them."""

    facts: Q
    conversations: Q
    messages: Q

    @classmethod
    def ids(cls, ids: Sequence[int]) -> "_Selection":
        return cls(Q(conversation_id__in=ids), Q(pk__in=ids), Q(conversation_id__in=ids))

    @classmethod
    def span(cls, low: int, high: int) -> "_Selection":
        return cls(
            Q(conversation_id__gte=low, conversation_id__lt=high),
            Q(pk__gte=low, pk__lt=high),
            Q(conversation_id__gte=low, conversation_id__lt=high),
        )


def _facts_replace(selection: _Selection, context: RollupContext) -> "Touched":
    """Rebuild the facts of the selected conversations; returns what changed: the local days
    whose opened cycles changed, the days first responses were due that changed, and the
    months whose spans changed."""
    old_cycles = set(CareCycleFact.objects.filter(selection.facts).values_list(*CYCLE_FIELDS))
    old_timings = set(TimingFact.objects.filter(selection.facts).values_list(*TIMING_FIELDS))
    CareCycleFact.objects.filter(selection.facts).delete()
    TimingFact.objects.filter(selection.facts).delete()
    flags = conversation_flags(selection.conversations, selection.messages)
    cycles, timings = facts_from_events(_events(selection.facts), flags, context)
    rows_insert(CareCycleFact, CYCLE_FIELDS, cycles)
    rows_insert(TimingFact, TIMING_FIELDS, timings)
    changed_cycles = old_cycles.symmetric_difference(cycles)
    due = _ROW["sla_due_at"]
    return Touched(
        days={row[_ROW["day"]] for row in changed_cycles},
        due_days={context.local_day(row[due]) for row in changed_cycles if row[due] is not None},
        months={month_of(row[_TIMING_DAY]) for row in old_timings.symmetric_difference(timings)},
    )


@dataclass
class Touched:
    """What a refresh must recount: local days (messages and cycles opened), days first responses
    were due (SLA), months (span histograms)."""

    days: set[date] = field(default_factory=set)
    due_days: set[date] = field(default_factory=set)
    months: set[date] = field(default_factory=set)

    def add(self, other: "Touched") -> None:
        self.days |= other.days
        self.due_days |= other.due_days
        self.months |= other.months


_TIMING_DAY = TIMING_FIELDS.index("day")


# --- Daily rollups: messages, cycles and how they went, SLA per due day -------------------------

DAILY_FIELDS = (
    "day",
    "channel_id",
    "network",
    "conversation_kind",
    "messages",
    "off_hours_messages",
    "cycles_opened",
    "spam_cycles",
    "hidden_cycles",
    "no_reply_needed_cycles",
    "needing_reply_cycles",
    "replied_cycles",
    "off_hours_cycles",
    "off_hours_answered",
)
HOURLY_FIELDS = ("day", "hour", "weekday", "channel_id", "network", "messages")
SLA_FIELDS = ("day", "channel_id", "network", "conversation_kind", "met", "late", "unanswered")
# The cycle fields daily_count reads, in this order.
DAILY_CYCLE_FIELDS = (
    "day",
    "channel_id",
    "network",
    "conversation_kind",
    "spam",
    "hidden",
    "first_response_at",
    "resolution",
    "started_in_office",
    "next_opening_at",
)
_COUNTS = len(DAILY_FIELDS) - 4


def daily_count(
    messages: Iterable[tuple], cycles: Iterable[tuple], context: RollupContext
) -> tuple[dict, dict]:
    """Daily and hourly rows from citizens' messages (created_at, channel_id, network, kind) and
    care cycles (DAILY_CYCLE_FIELDS order).

    Daily: {(day, channel_id, network, kind): [counts in DAILY_FIELDS order after the key]};
    hourly: {(day, hour, weekday, channel_id, network): messages}.
    """
    daily: dict[tuple, list[int]] = defaultdict(lambda: [0] * _COUNTS)
    hourly: dict[tuple, int] = defaultdict(int)
    tz, is_working_time = context.calendar.tz, context.calendar.is_working_time
    for created_at, channel_id, network, kind in messages:
        local = created_at.astimezone(tz)
        day = local.date()
        counts = daily[(day, channel_id, network, kind)]
        counts[0] += 1
        if not is_working_time(created_at):
            counts[1] += 1
        hourly[(day, local.hour, day.weekday(), channel_id, network)] += 1
    for day, channel_id, network, kind, spam, hidden, first_at, resolution, in_office, next_opening in cycles:
        counts = daily[(day, channel_id, network, kind)]
        counts[2] += 1
        if spam:
            counts[3] += 1
        elif hidden:
            counts[4] += 1
        elif first_at is None and resolution == Resolution.NO_REPLY_NEEDED:
            counts[5] += 1
        else:
            counts[6] += 1
            counts[7] += first_at is not None
            if not in_office:
                counts[8] += 1
                counts[9] += first_at is not None and (next_opening is None or first_at < next_opening)
    return daily, hourly


def daily_messages(messages: Q, first: date, last: date, context: RollupContext) -> Iterator[tuple]:
    """Citizens' messages written on local days first … last, as daily_count reads them."""
    return (
        Message.objects.filter(
            messages,
            direction=MessageDirection.INBOUND,
            created_at__gte=context.day_start(first),
            created_at__lt=context.day_start(last + timedelta(days=1)),
        )
        .order_by()
        .values_list("created_at", "channel_id", "channel__network", "conversation__kind")
        .iterator(chunk_size=5000)
    )


def daily_cycles(facts: Q, first: date, last: date) -> Iterator[tuple]:
    return (
        CareCycleFact.objects.filter(facts, day__gte=first, day__lte=last)
        .order_by()
        .values_list(*DAILY_CYCLE_FIELDS)
        .iterator(chunk_size=5000)
    )


def _daily_replace(
    days: Iterable[date], context: RollupContext, *, progress: "Progress | None" = None
) -> None:
    runs = _day_runs(sorted(set(days)), longest=31)
    for position, (first, last) in enumerate(runs, start=1):
        with transaction.atomic():
            DailyRollup.objects.filter(day__gte=first, day__lte=last).delete()
            HourlyTraffic.objects.filter(day__gte=first, day__lte=last).delete()
            daily, hourly = daily_count(
                daily_messages(Q(), first, last, context), daily_cycles(Q(), first, last), context
            )
            rows_insert(DailyRollup, DAILY_FIELDS, [(*key, *counts) for key, counts in daily.items()])
            rows_insert(HourlyTraffic, HOURLY_FIELDS, [(*key, count) for key, count in hourly.items()])
        if progress:
            progress("daily", position, len(runs))


def sla_count(cycles: Iterable[tuple], context: RollupContext) -> dict[tuple, list[int]]:
    """{(local due day, channel_id, network, kind): [met, late, unanswered]} of the cycles that count
    for the SLA, from (sla_due_at, first_response_at, channel_id, network, kind) of counted cycles."""
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for due, first_at, channel_id, network, kind in cycles:
        entry = counts[(context.local_day(due), channel_id, network, kind)]
        entry[0 if first_at is not None and first_at <= due else 1 if first_at is not None else 2] += 1
    return counts


def sla_cycles(facts: Q, start: datetime, end: datetime) -> Iterator[tuple]:
    """Counted cycles due in [start, end), as sla_count reads them."""
    return (
        CareCycleFact.objects.filter(facts, sla_counted(), sla_due_at__gte=start, sla_due_at__lt=end)
        .order_by()
        .values_list("sla_due_at", "first_response_at", "channel_id", "network", "conversation_kind")
        .iterator(chunk_size=5000)
    )


def daily_sla_replace(days: Iterable[date], context: RollupContext) -> None:
    """Count again the SLA of the cycles due on these local days."""
    for first, last in _day_runs(sorted(set(days)), longest=92):
        with transaction.atomic():
            DailySla.objects.filter(day__gte=first, day__lte=last).delete()
            counts = sla_count(
                sla_cycles(Q(), context.day_start(first), context.day_start(last + timedelta(days=1))),
                context,
            )
            rows_insert(DailySla, SLA_FIELDS, [(*key, *entry) for key, entry in counts.items()])


def daily_sla_rebuild(context: RollupContext) -> None:
    """Count the SLA of every cycle again (after a target changed, or in a rebuild)."""
    if connection.vendor == "postgresql":
        from metrics import rollups_pg

        with transaction.atomic():
            rollups_pg.daily_sla_rebuild(context)
        return
    bounds = CareCycleFact.objects.aggregate(first=Min("sla_due_at"), last=Max("sla_due_at"))
    with transaction.atomic():
        DailySla.objects.all().delete()
    if bounds["first"] is None:
        return
    first, last = context.local_day(bounds["first"]), context.local_day(bounds["last"])
    daily_sla_replace([first + timedelta(days=n) for n in range((last - first).days + 1)], context)


def _day_runs(days: list[date], *, longest: int) -> list[tuple[date, date]]:
    """Sorted days as (first, last) runs of consecutive days, none longer than `longest`."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and day == runs[-1][1] + timedelta(days=1) and (day - runs[-1][0]).days < longest:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


# --- Histograms: spans per duration bucket and month ---------------------------------------------


def _histogram_rows(facts) -> Iterator[tuple]:
    for clock, (bucket_field, seconds_field) in CLOCK_COLUMNS.items():
        grouped = facts.annotate(month=TruncMonth("day"))
        keys = ("month", "metric", "started_in_office", bucket_field)
        rows = (
            grouped.order_by()
            .values(*keys)
            .annotate(count=Count("id"), total=Sum(seconds_field))
            .values_list(*keys, "count", "total")
        )
        for month, metric, office, bucket, count, total in rows:
            yield (month, metric, office, clock, bucket, count, total)


HISTOGRAM_FIELDS = ("month", "metric", "started_in_office", "clock", "bucket", "count", "total_seconds")


def _histogram_replace(months: Iterable[date]) -> None:
    for month in sorted(set(months)):
        TimingHistogram.objects.filter(month=month).delete()
        facts = TimingFact.objects.filter(day__gte=month, day__lt=next_month(month))
        rows_insert(TimingHistogram, HISTOGRAM_FIELDS, list(_histogram_rows(facts)))


def _histogram_rebuild() -> None:
    TimingHistogram.objects.all().delete()
    rows_insert(TimingHistogram, HISTOGRAM_FIELDS, list(_histogram_rows(TimingFact.objects.all())))


# --- Writing rows ---------------------------------------------------------------------------------


def rows_insert(model, fields: Sequence[str], rows: Iterable[tuple]) -> int:
    """Insert plain tuples into `model`'s table: PostgreSQL's COPY (the fastest way in), or
    bulk_create elsewhere. Returns how many. Producing the rows must not query the database: the
    connection is busy copying meanwhile."""
    if connection.vendor == "postgresql":
        return _rows_copy(model, fields, rows)
    inserted = 0
    iterator = iter(rows)
    while batch := list(islice(iterator, 1000)):
        model.objects.bulk_create([model(**dict(zip(fields, row, strict=True))) for row in batch])
        inserted += len(batch)
    return inserted


def _rows_copy(model, fields: Sequence[str], rows: Iterable[tuple]) -> int:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    inserted = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            inserted += 1
    return inserted


# --- Refresh and rebuild --------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshSummary:
    conversations: int
    days: int
    due_days: int
    months: int


def rollup_state() -> RollupState:
    state, _created = RollupState.objects.get_or_create(pk=STATE_ID)
    return state


def rollups_refreshed_at() -> datetime | None:
    """Until when the rollups are current (None: never built)."""
    return RollupState.objects.filter(pk=STATE_ID).values_list("refreshed_at", flat=True).first()


def rollups_refresh(*, now: datetime) -> RefreshSummary | None:
    """Bring the rollups up to date with what changed since the last run. None when another
    refresh or a rebuild is running; the first run ever is a full rebuild."""
    state = rollup_state()
    if state.refreshed_at is None and state.rebuilding_since is None:
        with suppress(RebuildRunning):
            rollups_rebuild(now=now)
        return None
    with transaction.atomic():
        state = RollupState.objects.select_for_update(skip_locked=True).filter(pk=STATE_ID).first()
        if state is None or (state.rebuilding_since and now - state.rebuilding_since < REBUILD_STALE):
            return None
        return _refresh(state, now=now, context=rollup_context())


def _refresh(state: RollupState, *, now: datetime, context: RollupContext) -> RefreshSummary:
    settled = now - SETTLE
    events = list(
        ReportingEvent.objects.filter(id__gt=state.event_high_water)
        .order_by("id")
        .values_list("id", "recorded_at", "conversation_id")[:REFRESH_CAP]
    )
    messages = list(
        Message.objects.filter(id__gt=state.message_high_water)
        .order_by("id")
        .values_list("id", "received_at", "created_at", "direction")[:REFRESH_CAP]
    )
    audits = list(
        AuditEvent.objects.filter(id__gt=state.audit_high_water)
        .order_by("id")
        .values_list("id", "at", "action", "details")[:REFRESH_CAP]
    )
    touched = {conversation_id for _id, _at, conversation_id in events}
    touched.update(
        details.get("conversation")
        for _id, _at, action, details in audits
        if action in (AuditAction.COMMENT_HIDDEN, AuditAction.COMMENT_UNHIDDEN)
        and details.get("conversation")
    )
    changed = Conversation.objects.all()
    if state.conversations_checked_at is not None:
        changed = changed.filter(updated_at__gte=state.conversations_checked_at)
    touched.update(changed.values_list("pk", flat=True))
    recount = Touched(
        days={
            context.local_day(created_at)
            for _id, _at, created_at, direction in messages
            if direction == MessageDirection.INBOUND
        }
    )
    ordered = sorted(touched)
    for start in range(0, len(ordered), ID_BATCH):
        recount.add(_facts_replace(_Selection.ids(ordered[start : start + ID_BATCH]), context))
    _daily_replace(recount.days, context)
    daily_sla_replace(recount.due_days, context)
    _histogram_replace(recount.months)
    state.event_high_water = _high_water(events, settled, state.event_high_water)
    state.message_high_water = _high_water(messages, settled, state.message_high_water)
    state.audit_high_water = _high_water(audits, settled, state.audit_high_water)
    state.conversations_checked_at = settled
    state.refreshed_at = now
    state.save()
    return RefreshSummary(
        conversations=len(touched),
        days=len(recount.days),
        due_days=len(recount.due_days),
        months=len(recount.months),
    )


def _high_water(rows: list[tuple], settled: datetime, current: int) -> int:
    """The highest id below which every row is surely in: the last one written before `settled`."""
    return max((row[0] for row in rows if row[1] <= settled), default=current)


def _high_waters_now(settled: datetime) -> tuple[int, int, int]:
    def last(queryset, field_name: str) -> int:
        written = queryset.filter(**{f"{field_name}__lte": settled}).order_by("-id")
        return written.values_list("id", flat=True).first() or 0

    return (
        last(ReportingEvent.objects, "recorded_at"),
        last(Message.objects, "received_at"),
        last(AuditEvent.objects, "at"),
    )


Progress = Callable[[str, int, int], None]


class RebuildRunning(Exception):
    """Another rebuild is running (started less than REBUILD_STALE ago)."""


def rollups_rebuild(*, now: datetime | None = None, progress: Progress | None = None) -> None:
    """Derive every rollup again from the events, messages and conversations: facts one chunk of
    conversations per transaction, then the daily rollups one month per transaction, then the SLA
    days and the histograms. Reports keep reading the old rows of a chunk until it commits.
    On PostgreSQL the work is done set-based in the database (metrics.rollups_pg).

    Claimed with a conditional update, so two rebuilds never run at once: the second raises
    RebuildRunning."""
    now = now or timezone.now()
    rollup_state()
    idle = Q(rebuilding_since__isnull=True) | Q(rebuilding_since__lt=now - REBUILD_STALE)
    if not RollupState.objects.filter(idle, pk=STATE_ID).update(rebuilding_since=now):
        raise RebuildRunning
    try:
        _rebuild(now=now, context=rollup_context(), progress=progress)
    finally:
        RollupState.objects.filter(pk=STATE_ID).update(rebuilding_since=None)
    _vacuum()


def _rebuild(*, now: datetime, context: RollupContext, progress: Progress | None) -> None:
    from metrics import rollups_pg

    settled = now - SETTLE
    # Taken before reading anything: what comes later is left to the next refresh.
    high_waters = _high_waters_now(settled)
    set_based = connection.vendor == "postgresql"
    bounds = ReportingEvent.objects.aggregate(low=Min("conversation_id"), high=Max("conversation_id"))
    low, high = bounds["low"] or 0, (bounds["high"] or -1) + 1
    with transaction.atomic():
        outside = Q(conversation_id__lt=low) | Q(conversation_id__gte=high)
        CareCycleFact.objects.filter(outside).delete()
        TimingFact.objects.filter(outside).delete()
    spans = list(range(low, high, REBUILD_CONVERSATION_SPAN))
    with rollups_pg.indexes_set_aside() if set_based else nullcontext():
        for position, start in enumerate(spans, start=1):
            with transaction.atomic():
                if set_based:
                    rollups_pg.facts_rebuild(start, start + REBUILD_CONVERSATION_SPAN, context)
                else:
                    _facts_replace(_Selection.span(start, start + REBUILD_CONVERSATION_SPAN), context)
            if progress:
                progress("facts", position, len(spans))
    days = _days_with_data(context)
    if set_based:
        rollups_pg.daily_rebuild(days, context, progress=progress)
    else:
        _daily_replace(days, context, progress=progress)
    daily_sla_rebuild(context)
    with transaction.atomic():
        if set_based:
            rollups_pg.histogram_rebuild()
        else:
            _histogram_rebuild()
    if progress:
        progress("sla and histograms", 1, 1)
    RollupState.objects.filter(pk=STATE_ID).update(
        event_high_water=high_waters[0],
        message_high_water=high_waters[1],
        audit_high_water=high_waters[2],
        conversations_checked_at=settled,
        refreshed_at=now,
        rebuilt_at=now,
    )


def _days_with_data(context: RollupContext) -> list[date]:
    """Every local day from the first citizen's message or cycle to the last; the daily rollups
    of days outside go."""
    span = Message.objects.filter(direction=MessageDirection.INBOUND).aggregate(
        first=Min("created_at"), last=Max("created_at")
    )
    cycle_days = CareCycleFact.objects.aggregate(first=Min("day"), last=Max("day"))
    firsts = [d for d in (span["first"] and context.local_day(span["first"]), cycle_days["first"]) if d]
    lasts = [d for d in (span["last"] and context.local_day(span["last"]), cycle_days["last"]) if d]
    with transaction.atomic():
        if not firsts:
            DailyRollup.objects.all().delete()
            HourlyTraffic.objects.all().delete()
            return []
        first, last = min(firsts), max(lasts)
        DailyRollup.objects.filter(Q(day__lt=first) | Q(day__gt=last)).delete()
        HourlyTraffic.objects.filter(Q(day__lt=first) | Q(day__gt=last)).delete()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


ROLLUP_MODELS = (CareCycleFact, TimingFact, TimingHistogram, DailyRollup, DailySla, HourlyTraffic)


def _vacuum() -> None:
    """After a rebuild on PostgreSQL: fresh planner statistics, and a visibility map so the reports'
    covering indexes are read without visiting the table (VACUUM cannot run inside a transaction;
    inside one, as in tests, statistics only)."""
    if connection.vendor != "postgresql":
        return
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for model in ROLLUP_MODELS:
            cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")
