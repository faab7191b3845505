# ruff: noqa: S608 - the hand-written SQL here puts in table and column names and integers of its own
# only; every value comes in as a parameter.
"""The supervisor's report: the values of metrics.report_types, filled from the rollups.

``report_build(filters)`` is what the dashboard, the CSV export and the printable report call. It
reads metrics.rollups' tables (care cycle and span facts, daily rollups and SLA per due day,
messages per hour, monthly span histograms) and, for what is about "now", the conversations
themselves (the backlog) and the activity model (best hours). Definitions are metrics.rollups'
and metrics.sla's.

Percentiles are exact: the k-th smallest span is found by counting spans per duration bucket (the
monthly histograms for the months the period covers, less or plus the facts of the days at its
edges), then reading only the bucket that holds it, sorted. Median and 90th percentile
interpolate between the two nearest spans (like PostgreSQL's percentile_cont). Should the
histograms ever disagree with the facts, the figure is counted from the facts alone.

The tag filter applies to conversations only (publishing has no tags); with a tag, the daily
figures are counted from the tagged conversations' messages and cycles instead of the rollups.
"""

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, F, Min, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inbox.models import Conversation, ConversationStatus
from metrics.models import (
    LONG_WAIT_SECONDS,
    CareCycleFact,
    DailyRollup,
    DailySla,
    HourlyTraffic,
    TimingFact,
    TimingHistogram,
    TimingMetric,
)
from metrics.report_types import (
    CLOCKS,
    SPLITS,
    Backlog,
    BestHours,
    Distribution,
    Filters,
    OffHours,
    OpeningBacklog,
    PublishingRow,
    Report,
    ResponseRate,
    SlaBreach,
    SlaRow,
    TimingRow,
    VolumeRow,
)
from metrics.rollups import (
    CLOCK_COLUMNS,
    DAILY_FIELDS,
    RollupContext,
    daily_count,
    daily_cycles,
    daily_messages,
    next_month,
    rollup_context,
    rollups_refreshed_at,
)
from metrics.sla import sla_breached, sla_counted
from networks.base import InboundKind
from networks.models import Channel, ChannelStatus
from scheduling.models import AudienceSegment, Delivery, DeliveryState

try:  # the activity model (scheduling.activity) ranks each segment's hours by engagement per post
    from scheduling.activity import activity_week, activity_week_all_channels
except ImportError:  # pragma: no cover - without it, best hours fall back to the segments' priors
    activity_week = activity_week_all_channels = None

METRIC_NAMES = {
    TimingMetric.FIRST_RESPONSE: "first_response",
    TimingMetric.REPLY: "reply",
    TimingMetric.RESOLUTION: "resolution",
}
SPLIT_OFFICES = {"all": (True, False), "office": (True,), "off": (False,)}
QUANTILES = (0.5, 0.9)
# Breaches listed in the report (the latest due first); sla_breaches_list gives them all.
SLA_BREACHES_SHOWN = 50
BEST_HOURS_SHOWN = 5
# The activity model reads sixteen weeks of posts: ten minutes more or less change nothing in it,
# and each dashboard view would otherwise ask it once per segment.
BEST_HOURS_CACHE_SECONDS = 600
# Upper bounds (seconds) of the backlog's age buckets; the last one is open.
AGE_BUCKETS = (
    (3600, _("< 1 h")),
    (4 * 3600, _("1–4 h")),
    (24 * 3600, _("4–24 h")),
    (72 * 3600, _("1–3 days")),
    (None, _("> 3 days")),
)
# Openings per SQL statement: two parameters each, far below any database's limit for a year.
OPENINGS_PER_STATEMENT = 500


def report_build(filters: Filters, *, now: datetime | None = None, compare: bool = True) -> Report:
    """The report for `filters`; with `compare`, `previous` holds the same report for the period
    of the same length just before, with the figures a comparison needs (the backlog and best
    hours, which are about now, are shared)."""
    now = now or timezone.now()
    with _reading():
        context = rollup_context()
        backlog = _backlog(_Scope(filters, context), now)
        best_hours = _best_hours(filters, now)
        refreshed_at = rollups_refreshed_at()
        previous = None
        if compare:
            previous = _period_report(
                filters.previous(),
                now,
                context,
                backlog=backlog,
                best_hours=best_hours,
                refreshed_at=refreshed_at,
                for_comparison=True,
            )
        report = _period_report(
            filters, now, context, backlog=backlog, best_hours=best_hours, refreshed_at=refreshed_at
        )
    return replace(report, previous=previous)


@contextmanager
def _reading() -> Iterator[None]:
    """One transaction for the whole report. On PostgreSQL neither the just-in-time compiler nor
    parallel workers are used (starting them costs more than these short queries take), and sorts
    get room in memory."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true),"
                    " set_config('work_mem', '32MB', true)"
                )
        yield


def _period_report(
    filters: Filters,
    now: datetime,
    context: RollupContext,
    *,
    backlog: Backlog,
    best_hours: list[BestHours],
    refreshed_at: datetime | None,
    for_comparison: bool = False,
) -> Report:
    """The report of one period; `for_comparison` leaves out the lists a comparison does not use
    (openings, breaches, publishing) and gives the volume per day only."""
    scope = _Scope(filters, context)
    timings = _timings(scope)
    daily = _daily(scope, by_day_only=for_comparison)
    sla_rows, breaches_total = _sla_rows(scope, now)
    first_response_off = {
        clock: next(
            row.distribution
            for row in timings
            if (row.metric, row.clock, row.split) == ("first_response", clock, "off")
        )
        for clock in CLOCKS
    }
    counts = daily.counts
    return Report(
        filters=filters,
        timings=timings,
        response_rate=ResponseRate(
            needing_reply=counts["needing_reply_cycles"],
            replied=counts["replied_cycles"],
            spam=counts["spam_cycles"],
            hidden=counts["hidden_cycles"],
            no_reply_needed=counts["no_reply_needed_cycles"],
        ),
        sla=sla_rows,
        sla_breaches=[]
        if for_comparison
        else sla_breaches_list(filters, now=now, limit=SLA_BREACHES_SHOWN, scope=scope),
        volume=daily.volume,
        heatmap=daily.heatmap,
        backlog=backlog,
        opening_backlogs=[] if for_comparison else _opening_backlogs(scope, now),
        off_hours=OffHours(
            messages=counts["messages"],
            off_hours_messages=counts["off_hours_messages"],
            answered_before_next_opening=counts["off_hours_answered"],
            off_hours_cycles=counts["off_hours_cycles"],
            first_response_wall=first_response_off["wall"],
            first_response_business=first_response_off["business"],
        ),
        publishing=[] if for_comparison else _publishing(scope),
        best_hours=best_hours,
        sla_breaches_total=breaches_total,
        refreshed_at=refreshed_at,
    )


class _Scope:
    """The filters as conditions on each table, and the period as days and instants."""

    def __init__(self, filters: Filters, context: RollupContext) -> None:
        self.filters = filters
        self.context = context
        self.start_at = context.day_start(filters.start)
        self.end_at = context.day_start(filters.end + timedelta(days=1))
        tagged = (
            Conversation.tags.through.objects.filter(tag_id=filters.tag_id).values("conversation_id")
            if filters.tag_id is not None
            else None
        )
        self.facts = self._on(
            Q(), network="network", channel="channel_id", conversation="conversation_id", tagged=tagged
        )
        self.traffic = self._on(Q(), network="network", channel="channel_id")
        self.conversations = self._on(
            Q(), network="channel__network", channel="channel_id", conversation="pk", tagged=tagged
        )
        self.messages = self._on(
            Q(),
            network="channel__network",
            channel="channel_id",
            conversation="conversation_id",
            tagged=tagged,
        )
        self.deliveries = self._on(Q(), network="channel__network", channel="channel_id")
        self.days = Q(day__gte=filters.start, day__lte=filters.end)

    def _on(self, q: Q, *, network: str, channel: str, conversation: str = "", tagged=None) -> Q:
        if self.filters.network:
            q &= Q(**{network: self.filters.network})
        if self.filters.channel_id is not None:
            q &= Q(**{channel: self.filters.channel_id})
        if tagged is not None and conversation:
            q &= Q(**{f"{conversation}__in": tagged})
        return q

    @property
    def unfiltered(self) -> bool:
        return not self.filters.network and self.filters.channel_id is None and self.filters.tag_id is None

    def facts_sql(self, alias: str) -> tuple[str, list]:
        """The filters as SQL conditions (each starting with AND) on a fact table's row `alias`."""
        return self._sql(alias, network=f"{alias}.network = %s", conversation=f"{alias}.conversation_id")

    def traffic_sql(self, alias: str) -> tuple[str, list]:
        """The network and channel filters on a daily rollup's row `alias` (they have no tags)."""
        return self._sql(alias, network=f"{alias}.network = %s", conversation="")

    def conversations_sql(self, alias: str) -> tuple[str, list]:
        channels = Channel._meta.db_table
        return self._sql(
            alias,
            network=f"{alias}.channel_id IN (SELECT id FROM {channels} WHERE network = %s)",
            conversation=f"{alias}.id",
        )

    def _sql(self, alias: str, *, network: str, conversation: str) -> tuple[str, list]:
        sql, params = "", []
        if self.filters.network:
            sql += f" AND {network}"
            params.append(self.filters.network)
        if self.filters.channel_id is not None:
            sql += f" AND {alias}.channel_id = %s"
            params.append(self.filters.channel_id)
        if self.filters.tag_id is not None and conversation:
            tags = Conversation.tags.through._meta.db_table
            sql += f" AND {conversation} IN (SELECT conversation_id FROM {tags} WHERE tag_id = %s)"
            params.append(self.filters.tag_id)
        return sql, params


def _moment(value: datetime):
    """A datetime as the database backend takes it in hand-written SQL."""
    return connection.ops.adapt_datetimefield_value(value)


def _day(value: date):
    return connection.ops.adapt_datefield_value(value)


# --- Timings: exact median, 90th percentile and mean -----------------------------------------------

# {(metric, started_in_office, clock): {bucket: [count, total seconds]}}
BucketCounts = dict[tuple[int, bool, str], dict[int, list]]


def _timings(scope: _Scope) -> list[TimingRow]:
    counts = _bucket_counts(scope)
    plans = []
    for metric, name in METRIC_NAMES.items():
        for clock in CLOCKS:
            for split in SPLITS:
                plans.append(_DistributionPlan.make(name, metric, clock, split, counts))
    values = _kth_values(scope, [request for plan in plans for request in plan.requests])
    rows = []
    for plan in plans:
        distribution = plan.distribution(values)
        if distribution is None:  # the histograms disagree with the facts: count directly
            distribution = _distribution_direct(scope, plan)
        rows.append(
            TimingRow(metric=plan.name, clock=plan.clock, split=plan.split, distribution=distribution)
        )
    return rows


def _bucket_counts(scope: _Scope) -> BucketCounts:
    """Spans per bucket in the period, in one statement. With nothing but dates filtered, whole
    months come from the histograms, and so does a month the period covers more than half of, less
    the facts of its other days; everything else is counted from the facts."""
    if scope.unfiltered:
        months, add_days, less_days = _month_plan(scope.filters.start, scope.filters.end)
    else:
        months, add_days, less_days = [], [(scope.filters.start, scope.filters.end)], []
    parts, params = [], []
    if months:
        placeholders = ", ".join(["%s"] * len(months))
        parts.append(
            "SELECT h.clock, 1, h.metric, h.started_in_office, h.bucket, SUM(h.count), SUM(h.total_seconds)"
            f" FROM {TimingHistogram._meta.db_table} h WHERE h.month IN ({placeholders})"
            " GROUP BY h.clock, h.metric, h.started_in_office, h.bucket"
        )
        params.extend(_day(month) for month in months)
    if add_days or less_days:
        adding, adding_params = _day_runs_sql(add_days)
        less, less_params = _day_runs_sql(less_days)
        filters, filter_params = scope.facts_sql("f")
        for clock, (bucket, seconds) in CLOCK_COLUMNS.items():
            parts.append(
                f"SELECT '{clock}', CASE WHEN {adding} THEN 1 ELSE -1 END, f.metric, f.started_in_office,"
                f" f.{bucket}, COUNT(*), SUM(f.{seconds}) FROM {TimingFact._meta.db_table} f"
                f" WHERE ({adding} OR {less}){filters} GROUP BY 2, 3, 4, 5"
            )
            params.extend([*adding_params, *adding_params, *less_params, *filter_params])
    counts: BucketCounts = defaultdict(lambda: defaultdict(lambda: [0, 0.0]))
    if not parts:
        return counts
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for clock, sign, metric, office, bucket, count, total in cursor.fetchall():
            entry = counts[(metric, bool(office), clock)][bucket]
            entry[0] += sign * count
            entry[1] += sign * total
    return counts


def _day_runs_sql(runs: list[tuple[date, date]]) -> tuple[str, list]:
    """`f.day` within any of the runs, as SQL (false for none)."""
    if not runs:
        return "1 = 0", []
    sql = " OR ".join("(f.day >= %s AND f.day <= %s)" for _run in runs)
    return f"({sql})", [_day(day) for run in runs for day in run]


def _month_plan(
    start: date, end: date
) -> tuple[list[date], list[tuple[date, date]], list[tuple[date, date]]]:
    """(months read from the histograms, day runs whose facts are added, day runs whose facts are
    taken away) that together count the spans of start … end."""
    months, add, less = [], [], []
    month = start.replace(day=1)
    while month <= end:
        last_of_month = next_month(month) - timedelta(days=1)
        first, last = max(start, month), min(end, last_of_month)
        covered, length = (last - first).days + 1, (last_of_month - month).days + 1
        if covered == length:
            months.append(month)
        elif covered * 2 > length:
            months.append(month)
            if first > month:
                less.append((month, first - timedelta(days=1)))
            if last < last_of_month:
                less.append((last + timedelta(days=1), last_of_month))
        else:
            add.append((first, last))
        month = next_month(month)
    return months, add, less


@dataclass(frozen=True)
class _KthRequest:
    """The `limit` smallest spans from the `offset`-th (0-based) of one bucket, for the given
    office flags."""

    metric: int
    clock: str
    offices: tuple[bool, ...]
    bucket: int
    offset: int
    limit: int


@dataclass(frozen=True)
class _DistributionPlan:
    name: str
    metric: int
    clock: str
    split: str
    count: int
    total: float
    # rank (0-based, over the whole sorted distribution) → the request that reads it, and where
    # in that request's sorted answer it is
    ranks: dict[int, tuple[_KthRequest, int]]

    @classmethod
    def make(
        cls, name: str, metric: int, clock: str, split: str, counts: BucketCounts
    ) -> "_DistributionPlan":
        offices = SPLIT_OFFICES[split]
        merged: dict[int, list] = defaultdict(lambda: [0, 0.0])
        for office in offices:
            for bucket, (count, total) in counts.get((metric, office, clock), {}).items():
                merged[bucket][0] += count
                merged[bucket][1] += total
        count = sum(entry[0] for entry in merged.values())
        total = sum(entry[1] for entry in merged.values())
        # Where each rank is: (bucket, offset in the bucket, spans in the bucket).
        located: dict[int, tuple[int, int, int]] = {}
        wanted = sorted({rank for q in QUANTILES for rank in _ranks(q, count)})
        seen = 0
        for bucket in sorted(merged):
            bucket_count = merged[bucket][0]
            for rank in wanted:
                if seen <= rank < seen + bucket_count:
                    located[rank] = (bucket, rank - seen, bucket_count)
            seen += bucket_count
        ranks: dict[int, tuple[_KthRequest, int]] = {}
        for rank in wanted:
            if rank in ranks:
                continue
            bucket, offset, bucket_count = located[rank]
            # The next rank too, when it is in the same bucket: one read for both.
            pair = rank + 1 in located and located[rank + 1][0] == bucket and offset + 1 < bucket_count
            request = _KthRequest(metric, clock, offices, bucket, offset, 2 if pair else 1)
            ranks[rank] = (request, 0)
            if pair:
                ranks[rank + 1] = (request, 1)
        return cls(name, metric, clock, split, count, total, ranks)

    @property
    def requests(self) -> list[_KthRequest]:
        return [request for request, _index in self.ranks.values()]

    def distribution(self, values: dict[_KthRequest, list[float]]) -> Distribution | None:
        if not self.count:
            return Distribution(count=0, median=None, p90=None, mean=None)
        by_rank = {}
        for rank, (request, index) in self.ranks.items():
            answer = values.get(request, [])
            if index >= len(answer):
                return None
            by_rank[rank] = answer[index]
        median, p90 = (_interpolated(by_rank, q, self.count) for q in QUANTILES)
        return Distribution(count=self.count, median=median, p90=p90, mean=self.total / self.count)


def _ranks(q: float, count: int) -> set[int]:
    if not count:
        return set()
    position = q * (count - 1)
    return {math.floor(position), math.ceil(position)}


def _interpolated(by_rank: dict[int, float], q: float, count: int) -> float:
    position = q * (count - 1)
    low, high = math.floor(position), math.ceil(position)
    return by_rank[low] + (by_rank[high] - by_rank[low]) * (position - low)


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation between the nearest ranks (PostgreSQL's percentile_cont)."""
    if not sorted_values:
        return None
    by_rank = dict(enumerate(sorted_values))
    return _interpolated(by_rank, q, len(sorted_values))


def _kth_values(scope: _Scope, requests: list[_KthRequest]) -> dict[_KthRequest, list[float]]:
    """Each request's spans, sorted, read from its bucket only: one SQL statement of small sorted
    subqueries."""
    unique = list(dict.fromkeys(requests))
    if not unique:
        return {}
    table = TimingFact._meta.db_table
    filters, filter_params = scope.facts_sql("f")
    parts, params = [], []
    for position, request in enumerate(unique):
        bucket, seconds = CLOCK_COLUMNS[request.clock]
        offices = ", ".join(["%s"] * len(request.offices))
        parts.append(
            f"SELECT {position} AS request, kth.seconds FROM ("
            f"SELECT f.{seconds} AS seconds FROM {table} f WHERE f.metric = %s AND f.{bucket} = %s"
            f" AND f.started_in_office IN ({offices}) AND f.day >= %s AND f.day <= %s{filters}"
            f" ORDER BY f.{seconds} LIMIT {request.limit} OFFSET {request.offset}) kth"
        )
        params.extend(
            [
                request.metric,
                request.bucket,
                *request.offices,
                _day(scope.filters.start),
                _day(scope.filters.end),
            ]
        )
        params.extend(filter_params)
    values: dict[_KthRequest, list[float]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for position, value in cursor.fetchall():
            values[unique[position]].append(float(value))
    return {request: sorted(found) for request, found in values.items()}


def _distribution_direct(scope: _Scope, plan: _DistributionPlan) -> Distribution:
    _bucket_field, seconds_field = CLOCK_COLUMNS[plan.clock]
    values = sorted(
        TimingFact.objects.filter(
            scope.facts, scope.days, metric=plan.metric, started_in_office__in=SPLIT_OFFICES[plan.split]
        ).values_list(seconds_field, flat=True)
    )
    return distribution_of(values)


def distribution_of(values: list[float]) -> Distribution:
    """Count, median, 90th percentile and mean of plain values (sorted or not)."""
    ordered = sorted(values)
    if not ordered:
        return Distribution(count=0, median=None, p90=None, mean=None)
    return Distribution(
        count=len(ordered),
        median=percentile(ordered, 0.5),
        p90=percentile(ordered, 0.9),
        mean=math.fsum(ordered) / len(ordered),
    )


# --- Daily figures: volume, heatmap, response rate, off-hours coverage -----------------------------

_COUNT_FIELDS = DAILY_FIELDS[4:]


@dataclass(frozen=True)
class _DailyFigures:
    volume: list[VolumeRow]
    heatmap: list[list[int]]
    counts: dict[str, int]  # DAILY_FIELDS' counts, added up over the period


def _daily(scope: _Scope, *, by_day_only: bool = False) -> _DailyFigures:
    """From the daily and hourly rollups; with a tag, counted from the tagged conversations'
    messages and cycles the way the rollups count them. `by_day_only`: one volume row per day,
    networks and kinds together (network and kind empty), enough for a comparison's totals."""
    if scope.filters.tag_id is not None:
        return _daily_counted(scope, by_day_only=by_day_only)
    rollups = DailyRollup.objects.filter(scope.traffic, scope.days)
    totals = rollups.aggregate(**{name: Coalesce(Sum(name), 0) for name in _COUNT_FIELDS})
    # Straight from the cursor: a year is thousands of rows, and nothing here needs the ORM's
    # conversions (SQLite gives dates as text).
    filters, params = scope.traffic_sql("d")
    keys = "d.day, '', ''" if by_day_only else "d.day, d.network, d.conversation_kind"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {keys}, SUM(d.cycles_opened), SUM(d.messages)"
            f" FROM {DailyRollup._meta.db_table} d WHERE d.day >= %s AND d.day <= %s{filters}"
            f" GROUP BY {'d.day' if by_day_only else keys}"
            " HAVING SUM(d.cycles_opened) > 0 OR SUM(d.messages) > 0",
            [_day(scope.filters.start), _day(scope.filters.end), *params],
        )
        per_day = [
            (day if isinstance(day, date) else date.fromisoformat(day), network, kind, opened, received)
            for day, network, kind, opened, received in cursor.fetchall()
        ]
    heatmap = [[0] * 24 for _ in range(7)]
    hours = (
        HourlyTraffic.objects.filter(scope.traffic, scope.days)
        .order_by()
        .values("weekday", "hour")
        .annotate(total=Sum("messages"))
        .values_list("weekday", "hour", "total")
    )
    for weekday, hour, count in hours:
        heatmap[weekday][hour] = count
    return _DailyFigures(volume=_volume(per_day), heatmap=heatmap, counts=totals)


def _volume(per_day) -> list[VolumeRow]:
    """(day, network, kind, cycles opened, messages) rows as VolumeRow, in that order."""
    return [
        VolumeRow(day=day, network=network, conversation_kind=kind, conversations=opened, messages=received)
        for day, network, kind, opened, received in sorted(per_day)
    ]


def _daily_counted(scope: _Scope, *, by_day_only: bool) -> _DailyFigures:
    start, end = scope.filters.start, scope.filters.end
    daily, hourly = daily_count(
        daily_messages(scope.messages, start, end, scope.context),
        daily_cycles(scope.facts, start, end),
        scope.context,
    )
    totals = dict.fromkeys(_COUNT_FIELDS, 0)
    per_day: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    opened_at, received_at = _COUNT_FIELDS.index("cycles_opened"), _COUNT_FIELDS.index("messages")
    for (day, _channel, network, kind), counts in daily.items():
        for name, count in zip(_COUNT_FIELDS, counts, strict=True):
            totals[name] += count
        key = (day, "", "") if by_day_only else (day, network, kind)
        per_day[key][0] += counts[opened_at]
        per_day[key][1] += counts[received_at]
    heatmap = [[0] * 24 for _ in range(7)]
    for (_day, hour, weekday, _channel, _network), count in hourly.items():
        heatmap[weekday][hour] += count
    volume = _volume((*key, opened, received) for key, (opened, received) in per_day.items())
    return _DailyFigures(volume=volume, heatmap=heatmap, counts=totals)


# --- SLA -----------------------------------------------------------------------------------------


def _sla_due_in(scope: _Scope, first: date, last: date) -> Q:
    return Q(
        sla_due_at__gte=scope.context.day_start(first),
        sla_due_at__lt=scope.context.day_start(last + timedelta(days=1)),
    )


def _sla_rows(scope: _Scope, now: datetime) -> tuple[list[SlaRow], int]:
    """One row per active target: the cycles due in the period that are answered or overdue. Days
    before today come from the daily SLA rollup (all their unanswered cycles are overdue); today
    and later from the facts, since what is overdue depends on the hour. With a tag, all from the
    facts."""
    targets = scope.context.targets
    start, end = scope.filters.start, scope.filters.end
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    recent_from = start
    if scope.filters.tag_id is None:
        recent_from = max(start, scope.context.local_day(now))
        rolled_up_until = min(end, recent_from - timedelta(days=1))
        if start <= rolled_up_until:
            rolled_up = (
                DailySla.objects.filter(scope.traffic, day__gte=start, day__lte=rolled_up_until)
                .order_by()
                .values("conversation_kind")
                .annotate(total_met=Sum("met"), total_late=Sum("late"), total_unanswered=Sum("unanswered"))
                .values_list("conversation_kind", "total_met", "total_late", "total_unanswered")
            )
            for kind, met, late, unanswered in rolled_up:
                counts[kind][0] += met + late + unanswered
                counts[kind][1] += met
    if recent_from <= end:
        decided = sla_counted() & (Q(first_response_at__isnull=False) | Q(sla_due_at__lte=now))
        recent = (
            CareCycleFact.objects.filter(scope.facts, decided, _sla_due_in(scope, recent_from, end))
            .order_by()
            .values("conversation_kind")
            .annotate(total=Count("pk"), met=Count("pk", filter=Q(first_response_at__lte=F("sla_due_at"))))
            .values_list("conversation_kind", "total", "met")
        )
        for kind, total, met in recent:
            counts[kind][0] += total
            counts[kind][1] += met
    rows = [
        SlaRow(
            conversation_kind=kind,
            target_business_seconds=targets[kind],
            total=counts[kind][0],
            met=counts[kind][1],
            breached=counts[kind][0] - counts[kind][1],
        )
        for kind in InboundKind.values
        if kind in targets
    ]
    return rows, sum(row.breached for row in rows)


def sla_breaches_list(
    filters: Filters, *, now: datetime, limit: int | None = None, scope: _Scope | None = None
) -> list[SlaBreach]:
    """Breached cycles due in the period, the latest due first (all of them without `limit`)."""
    scope = scope or _Scope(filters, rollup_context())
    facts = (
        CareCycleFact.objects.filter(
            scope.facts, sla_breached(now), _sla_due_in(scope, filters.start, filters.end)
        )
        .order_by("-sla_due_at", "-pk")
        .values_list(
            "conversation_id", "conversation_kind", "network", "started_at", "sla_due_at", "first_response_at"
        )
    )
    if limit is not None:
        facts = facts[:limit]
    return [
        SlaBreach(
            conversation_id=conversation_id,
            conversation_kind=kind,
            network=network,
            written_at=written_at,
            due_at=due_at,
            answered_at=answered_at,
            late_seconds=((answered_at or now) - due_at).total_seconds(),
        )
        for conversation_id, kind, network, written_at, due_at, answered_at in facts
    ]


# --- Backlog now and at each opening ---------------------------------------------------------------


# Every status but closed, spelled out so the (status, needs_reply) index serves the backlog.
WAITING_STATUSES = [status for status in ConversationStatus.values if status != ConversationStatus.CLOSED]


def _waiting_now(scope_conversations: Q):
    return Conversation.objects.filter(
        scope_conversations, status__in=WAITING_STATUSES, needs_reply=True, spam=False
    )


def _backlog(scope: "_Scope", now: datetime) -> Backlog:
    since = Coalesce("awaiting_since", "last_inbound_at")
    buckets: dict[str, Count] = {}
    lower = None
    for position, (upper, _label) in enumerate(AGE_BUCKETS):
        # Age < upper ⇔ waiting since after now − upper.
        condition = Q(since__isnull=False)
        if upper is not None:
            condition &= Q(since__gt=now - timedelta(seconds=upper))
        if lower is not None:
            condition &= Q(since__lte=now - timedelta(seconds=lower))
        buckets[f"bucket_{position}"] = Count("pk", filter=condition)
        lower = upper
    figures = (
        _waiting_now(scope.conversations)
        .annotate(since=since)
        .aggregate(waiting=Count("pk"), oldest=Min("since"), **buckets)
    )
    oldest = figures["oldest"]
    return Backlog(
        waiting=figures["waiting"],
        oldest_seconds=max((now - oldest).total_seconds(), 0.0) if oldest else None,
        age_buckets=[(str(label), figures[f"bucket_{n}"]) for n, (_upper, label) in enumerate(AGE_BUCKETS)],
    )


def openings_between(context: RollupContext, start: date, end: date, *, now: datetime) -> list[datetime]:
    """The first working moment of each day in start … end (and not after `now`) that follows a
    day without working time: a weekend, a holiday, a closed day. It is where an off-hours
    stretch that began by the start of the day before ends."""
    begin = context.day_start(start - timedelta(days=1))
    until = min(context.day_start(end + timedelta(days=1)), now + timedelta(microseconds=1))
    if until <= begin:
        return []
    openings = []
    for off_start, off_end in context.calendar.off_hours_windows(begin, until):
        if off_end >= until:
            continue  # the office does not open again within the period
        day = context.local_day(off_end)
        if start <= day <= end and off_start <= context.day_start(day - timedelta(days=1)):
            openings.append(off_end)
    return openings


def _opening_backlogs(scope: _Scope, now: datetime) -> list[OpeningBacklog]:
    """How many conversations were waiting for an answer at each opening: those in a wait that
    began before it and ended after it — a reply span, an unanswered cycle, or a wait still running
    now (after the cycle's first response). A conversation's waits never overlap, so waits are
    counted. A wait that ended with a closing after the cycle's first response leaves no span
    behind and is not counted.

    Waits shorter than LONG_WAIT_SECONDS are found in SQL, LONG_WAIT_SECONDS back from each
    opening. Longer ones, and those still running, are read once and counted by bisection: a long
    wait started by `since` (= opening − LONG_WAIT_SECONDS) and not ended by the opening is one
    started by `since` less one ended by the opening (a long wait ended by the opening started
    before `since`)."""
    openings = openings_between(scope.context, scope.filters.start, scope.filters.end, now=now)
    if not openings:
        return []
    counts: dict[datetime, int] = defaultdict(int)
    for start in range(0, len(openings), OPENINGS_PER_STATEMENT):
        for moment, count in _short_waits_at(scope, openings[start : start + OPENINGS_PER_STATEMENT]).items():
            counts[moment] += count
    long_starts, long_ends, running = _long_waits(scope, openings[0], openings[-1])
    for moment in openings:
        at, since = moment.timestamp(), moment.timestamp() - LONG_WAIT_SECONDS
        counts[moment] += bisect_right(long_starts, since) - bisect_right(long_ends, at)
        counts[moment] += bisect_right(running, at)
    return [OpeningBacklog(opened_at=moment, waiting=counts[moment]) for moment in openings]


def _long_waits(
    scope: _Scope, first: datetime, last: datetime
) -> tuple[list[float], list[float], list[float]]:
    """Sorted starts and ends (seconds since 1970) of the long waits that may matter to openings
    first … last (those ended before `first` would add one and take one away), and sorted starts of
    the waits still running now after a first response. One statement; instants come back as
    numbers, which thousands of timestamps are much quicker to read as."""
    facts, fact_params = scope.facts_sql("f")
    cycles, cycle_params = scope.facts_sql("c")
    live, live_params = scope.conversations_sql("v")
    statuses = ", ".join(["%s"] * len(WAITING_STATUSES))
    sql = (
        f"SELECT 1, {_epoch('f.started_at')}, {_epoch('f.ended_at')} FROM {TimingFact._meta.db_table} f"
        f" WHERE f.metric = {TimingMetric.REPLY.value} AND f.wall_seconds > {LONG_WAIT_SECONDS}"
        f" AND f.started_at <= %s AND f.ended_at > %s{facts}"
        " UNION ALL "
        f"SELECT 1, {_epoch('c.started_at')}, {_epoch('c.resolved_at')} FROM {CareCycleFact._meta.db_table} c"
        " WHERE c.long_wait = %s AND c.first_response_at IS NULL AND c.spam = %s AND c.hidden = %s"
        f" AND c.started_at <= %s AND (c.resolved_at IS NULL OR c.resolved_at > %s){cycles}"
        " UNION ALL "
        f"SELECT 2, {_epoch('v.awaiting_since')}, NULL FROM {Conversation._meta.db_table} v"
        f" WHERE v.status IN ({statuses}) AND v.needs_reply = %s AND v.spam = %s"
        f" AND v.cycle_first_response_at IS NOT NULL AND v.awaiting_since <= %s{live}"
    )
    last_since = _moment(last - timedelta(seconds=LONG_WAIT_SECONDS))
    params = [
        last_since,
        _moment(first),
        *fact_params,
        True,
        False,
        False,
        last_since,
        _moment(first),
        *cycle_params,
        *WAITING_STATUSES,
        True,
        False,
        _moment(last),
        *live_params,
    ]
    starts, ends, running = [], [], []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for wait, start, end in cursor.fetchall():
            if wait == 2:
                running.append(_seconds(start))
            else:
                starts.append(_seconds(start))
                if end is not None:
                    ends.append(_seconds(end))
    return sorted(starts), sorted(ends), sorted(running)


def _epoch(column: str) -> str:
    """SQL for an instant as seconds since 1970 (PostgreSQL; elsewhere the stored value)."""
    return f"EXTRACT(EPOCH FROM {column})::float8" if connection.vendor == "postgresql" else column


def _seconds(value) -> float:
    """An instant read through _epoch, as seconds since 1970 (SQLite stores naive UTC text)."""
    if isinstance(value, float | int):
        return float(value)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _short_waits_at(scope: _Scope, moments: list[datetime]) -> dict[datetime, int]:
    """Waits started less than LONG_WAIT_SECONDS before each moment and not ended by it."""
    rows = ", ".join(f"({position}, %s, %s)" for position in range(len(moments)))
    params: list = []
    for moment in moments:
        params.extend([_moment(moment), _moment(moment - timedelta(seconds=LONG_WAIT_SECONDS))])
    facts, fact_params = scope.facts_sql("f")
    cycles, cycle_params = scope.facts_sql("c")
    timing_table, cycle_table = TimingFact._meta.db_table, CareCycleFact._meta.db_table
    sql = (
        f"WITH openings (n, opened, since) AS (VALUES {rows}) "
        "SELECT n, COUNT(*) FROM ("
        f"SELECT o.n FROM openings o JOIN {timing_table} f ON f.started_at > o.since AND f.started_at <= o.opened"
        f" WHERE f.metric = {TimingMetric.REPLY.value} AND f.ended_at > o.opened{facts}"
        " UNION ALL "
        f"SELECT o.n FROM openings o JOIN {cycle_table} c ON c.started_at > o.since AND c.started_at <= o.opened"
        " WHERE c.first_response_at IS NULL AND (c.resolved_at IS NULL OR c.resolved_at > o.opened)"
        f" AND c.spam = %s AND c.hidden = %s{cycles}"
        ") waiting GROUP BY n"
    )
    params.extend([*fact_params, False, False, *cycle_params])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {moments[position]: count for position, count in cursor.fetchall()}


# --- Publishing and best hours ---------------------------------------------------------------------


def _publishing(scope: _Scope) -> list[PublishingRow]:
    rows = (
        Delivery.objects.filter(
            scope.deliveries,
            state=DeliveryState.PUBLISHED,
            published_at__gte=scope.start_at,
            published_at__lt=scope.end_at,
        )
        .order_by()
        .values("channel__network")
        .annotate(
            posts=Count("pk", filter=Q(is_echo=False)),
            echoes=Count("pk", filter=Q(is_echo=True)),
            measured=Count("metrics"),
            engagement=Sum("metrics__engagement"),
        )
        .values_list("channel__network", "posts", "echoes", "measured", "engagement")
    )
    return [
        PublishingRow(
            network=network,
            posts=posts,
            echoes=echoes,
            engagement_per_post=(engagement or 0.0) / measured if measured else None,
        )
        for network, posts, echoes, measured, engagement in sorted(rows)
    ]


def _best_hours(filters: Filters, now: datetime) -> list[BestHours]:
    """Cached for BEST_HOURS_CACHE_SECONDS: they look at sixteen weeks of posts and do not depend on
    the report's period."""
    slot = int(now.timestamp() // BEST_HOURS_CACHE_SECONDS)
    key = f"metrics:best-hours:{filters.network}:{filters.channel_id}:{slot}"
    return cache.get_or_set(key, lambda: _best_hours_computed(filters, now), BEST_HOURS_CACHE_SECONDS)


def _best_hours_computed(filters: Filters, now: datetime) -> list[BestHours]:
    channels = Channel.objects.filter(status=ChannelStatus.ACTIVE)
    if filters.network:
        channels = channels.filter(network=filters.network)
    if filters.channel_id is not None:
        channels = channels.filter(pk=filters.channel_id)
    channels = list(channels)
    unscoped = not filters.network and filters.channel_id is None
    result = []
    for segment in AudienceSegment.objects.filter(is_active=True):
        scores, learned = _segment_week(segment, channels, now=now, unscoped=unscoped)
        slots = sorted(
            (
                (day, hour, score)
                for day, row in enumerate(scores)
                for hour, score in enumerate(row)
                if score > 0
            ),
            key=lambda slot: (-slot[2], slot[0], slot[1]),
        )[:BEST_HOURS_SHOWN]
        result.append(BestHours(segment=segment.name, slots=slots, is_learned=learned))
    return result


def _segment_week(
    segment, channels: list, *, now: datetime, unscoped: bool
) -> tuple[list[list[float]], bool]:
    """The segment's 7 × 24 scores (0..1) over the channels, and whether engagement (rather than
    the segment's prior hours) ranks them."""
    if activity_week is None:
        return _priors_scores(segment), False
    if unscoped:
        week = activity_week_all_channels(segment=segment, now=now)
        return [list(row) for row in week.scores], week.is_learned
    weeks = [activity_week(channel=channel, segment=segment, now=now) for channel in channels]
    if not weeks:
        return _priors_scores(segment), False
    summed = [[sum(week.scores[d][h] for week in weeks) for h in range(24)] for d in range(7)]
    best = max(max(row) for row in summed) or 1.0
    return [[value / best for value in row] for row in summed], any(week.is_learned for week in weeks)


def _priors_scores(segment) -> list[list[float]]:
    priors = segment.priors if isinstance(segment.priors, list) and len(segment.priors) == 7 else []
    if not priors or not any(any(day) for day in priors):
        return [[0.0] * 24 for _ in range(7)]
    best = max(max(day) for day in priors)
    return [[float(weight) / best for weight in day] for day in priors]
