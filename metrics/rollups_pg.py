# ruff: noqa: S608 - the SQL here puts in table names and constants of its own only; values are parameters.
"""The full rollup rebuild on PostgreSQL, set-based.

It makes the same rows as metrics.rollups' Python builders (which the incremental refresh and other
databases use; tests/metrics/test_rollups.py compares a rebuild with step-by-step refreshes on
PostgreSQL), but does the heavy part in the database instead of row by row in Python:

- care cycles: one GROUP BY per chunk of conversations pivots the events into what
  metrics.rollups.CyclePivot holds; the calendar's part (due time, next opening) is then added by
  the same metrics.rollups.cycle_row, and the rows are copied in;
- spans: INSERT … SELECT from the events of the cycles that count;
- daily and hourly rollups: grouped from the messages, with the office's working windows (from the
  business calendar) in a temporary table to tell office hours from off-hours;
- SLA per due day and span histograms: one GROUP BY each;

and while the facts are loaded, their secondary indexes are set aside and built again at the end
(indexes_set_aside): indexing 800,000 rows once is several times faster than keeping six indexes
current row by row.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from django.db import connection, transaction

from metrics.models import (
    CareCycleFact,
    DailyRollup,
    DailySla,
    HourlyTraffic,
    ReportingEvent,
    TimingFact,
    TimingHistogram,
)
from metrics.rollups import (
    BUCKETS_PER_E,
    CLOCK_COLUMNS,
    CYCLE_FIELDS,
    DAILY_FIELDS,
    EVENT_FIELDS,
    HISTOGRAM_FIELDS,
    HOURLY_FIELDS,
    SLA_FIELDS,
    TIMING_FIELDS,
    CyclePivot,
    RollupContext,
    cycle_row,
    rows_insert,
    timing_row,
)

WINDOWS_TABLE = "metrics_office_windows"
# A chunk of the daily rebuild: about a month of messages.
DAILY_CHUNK_DAYS = 31
# Room for the sorts and hashes of one chunk, so none spills to disk (the default is 4 MB).
WORK_MEM = "64MB"

_EVENTS = ReportingEvent._meta.db_table
_CYCLES = CareCycleFact._meta.db_table
_TIMINGS = TimingFact._meta.db_table
# A cycle that needed a reply (metrics.sla.sla_counted), on a CareCycleFact row.
_COUNTED = "NOT {t}.spam AND NOT {t}.hidden AND NOT ({t}.first_response_at IS NULL AND {t}.resolution = 'no_reply_needed')"


def _bucket(seconds: str) -> str:
    """metrics.rollups.duration_bucket in SQL (PostgreSQL's ln and Python's math.log are both the C
    library's log)."""
    return f"CASE WHEN {seconds} < 1 THEN 0 ELSE LEAST(1 + floor(ln({seconds}) * {BUCKETS_PER_E}), 32767)::smallint END"


_PIVOT = f"""
WITH pivot AS (
    SELECT e.conversation_id, e.cycle,
        (array_agg(e.channel_id ORDER BY e.occurred_at, e.id))[1] AS channel_id,
        (array_agg(e.network ORDER BY e.occurred_at, e.id))[1] AS network,
        (array_agg(e.conversation_kind ORDER BY e.occurred_at, e.id))[1] AS conversation_kind,
        (array_agg(e.occurred_at ORDER BY e.occurred_at, e.id)
            FILTER (WHERE e.kind IN ('opened', 'reopened')))[1] AS opened_at,
        (array_agg(e.in_office_hours ORDER BY e.occurred_at, e.id)
            FILTER (WHERE e.kind IN ('opened', 'reopened')))[1] AS opened_in_office,
        (array_agg(e.started_at ORDER BY e.occurred_at, e.id)
            FILTER (WHERE e.kind IN ('first_response', 'resolved') AND e.started_at IS NOT NULL))[1] AS span_started_at,
        (array_agg(e.started_in_office_hours ORDER BY e.occurred_at, e.id)
            FILTER (WHERE e.kind IN ('first_response', 'resolved') AND e.started_at IS NOT NULL))[1] AS span_in_office,
        min(e.occurred_at) FILTER (WHERE e.kind = 'first_response') AS first_response_at,
        (array_agg(e.occurred_at ORDER BY e.occurred_at DESC, e.id DESC) FILTER (WHERE e.kind = 'resolved'))[1]
            AS resolved_at,
        (array_agg(COALESCE(e.details ->> 'resolution', '') ORDER BY e.occurred_at DESC, e.id DESC)
            FILTER (WHERE e.kind = 'resolved'))[1] AS resolution,
        bool_or(e.kind = 'sla_breached') AS breach_recorded
    FROM {_EVENTS} e
    WHERE e.conversation_id >= %(low)s AND e.conversation_id < %(high)s
    GROUP BY e.conversation_id, e.cycle
)
SELECT p.conversation_id, p.cycle, p.channel_id, p.network, p.conversation_kind,
    CASE WHEN p.opened_at IS NOT NULL THEN p.opened_at ELSE p.span_started_at END,
    CASE WHEN p.opened_at IS NOT NULL THEN p.opened_in_office ELSE p.span_in_office END,
    p.first_response_at, p.resolved_at, COALESCE(p.resolution, ''), p.breach_recorded,
    COALESCE(c.spam, false), h.conversation_id IS NOT NULL
FROM pivot p
LEFT JOIN inbox_conversation c ON c.id = p.conversation_id
LEFT JOIN (
    SELECT conversation_id FROM inbox_message
    WHERE direction = 'in' AND conversation_id >= %(low)s AND conversation_id < %(high)s
    GROUP BY conversation_id HAVING bool_and(hidden)
) h ON h.conversation_id = p.conversation_id
ORDER BY p.conversation_id, p.cycle
"""

_SPANS_OF_COUNTED_CYCLES = f"""
FROM {_EVENTS} e
JOIN {_CYCLES} c ON c.conversation_id = e.conversation_id AND c.cycle = e.cycle
WHERE e.conversation_id >= %(low)s AND e.conversation_id < %(high)s
    AND c.conversation_id >= %(low)s AND c.conversation_id < %(high)s
    AND e.kind IN ('first_response', 'reply', 'resolved') AND e.started_at IS NOT NULL AND e.wall_seconds IS NOT NULL
    AND {_COUNTED.format(t="c")}
    AND (e.kind <> 'first_response' OR e.occurred_at = c.first_response_at)
    AND (e.kind <> 'resolved' OR e.occurred_at = c.resolved_at)
"""

_TIMINGS_INSERT = f"""
INSERT INTO {_TIMINGS} ({", ".join(TIMING_FIELDS)})
SELECT CASE e.kind WHEN 'first_response' THEN 1 WHEN 'reply' THEN 2 ELSE 3 END,
    e.conversation_id, e.cycle, e.channel_id, e.network, e.conversation_kind,
    (e.started_at AT TIME ZONE %(tz)s)::date, e.started_at, e.occurred_at, e.started_in_office_hours,
    e.wall_seconds, COALESCE(e.business_seconds, 0),
    {_bucket("e.wall_seconds")}, {_bucket("COALESCE(e.business_seconds, 0)")}
{_SPANS_OF_COUNTED_CYCLES}
    AND e.started_in_office_hours IS NOT NULL
"""

# Events written before started_in_office_hours existed: metrics.rollups.timing_row asks the calendar.
_TIMINGS_UNSPLIT = f"""
SELECT {", ".join(f"e.{name}" for name in EVENT_FIELDS)}
{_SPANS_OF_COUNTED_CYCLES}
    AND e.started_in_office_hours IS NULL
"""


def facts_rebuild(low: int, high: int, context: RollupContext) -> None:
    """Care cycle and span facts of conversations low <= id < high, inside the caller's transaction."""
    parameters = {"low": low, "high": high, "tz": context.calendar.tz.key}
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        for table in (_CYCLES, _TIMINGS):
            cursor.execute(
                f"DELETE FROM {table} WHERE conversation_id >= %(low)s AND conversation_id < %(high)s",
                parameters,
            )
        cursor.execute(_PIVOT, parameters)
        pivots = cursor.fetchall()
    cycles = []
    for row in pivots:
        built = cycle_row(CyclePivot(*row[:11]), (row[11], row[12]), context)
        if built is not None:
            cycles.append(built)
    rows_insert(CareCycleFact, CYCLE_FIELDS, cycles)
    with connection.cursor() as cursor:
        cursor.execute(_TIMINGS_INSERT, parameters)
        cursor.execute(_TIMINGS_UNSPLIT, parameters)
        unsplit = [timing_row(event, context) for event in cursor.fetchall()]
    rows_insert(TimingFact, TIMING_FIELDS, unsplit)


_IN_OFFICE = f"""COALESCE((
    SELECT w.ends_at > m.created_at FROM {WINDOWS_TABLE} w WHERE w.starts_at <= m.created_at
    ORDER BY w.starts_at DESC LIMIT 1
), false)"""

_HOURLY_INSERT = f"""
INSERT INTO {HourlyTraffic._meta.db_table} ({", ".join(HOURLY_FIELDS)})
SELECT (m.created_at AT TIME ZONE %(tz)s)::date,
    extract(hour FROM m.created_at AT TIME ZONE %(tz)s)::int,
    extract(isodow FROM m.created_at AT TIME ZONE %(tz)s)::int - 1,
    m.channel_id, ch.network, count(*)
FROM inbox_message m JOIN networks_channel ch ON ch.id = m.channel_id
WHERE m.direction = 'in' AND m.created_at >= %(start)s AND m.created_at < %(end)s
GROUP BY 1, 2, 3, 4, 5
"""

_DAILY_INSERT = f"""
WITH messages AS (
    SELECT (m.created_at AT TIME ZONE %(tz)s)::date AS day, m.channel_id, ch.network, v.kind AS conversation_kind,
        count(*) AS messages, count(*) FILTER (WHERE NOT {_IN_OFFICE}) AS off_hours
    FROM inbox_message m
    JOIN inbox_conversation v ON v.id = m.conversation_id
    JOIN networks_channel ch ON ch.id = m.channel_id
    WHERE m.direction = 'in' AND m.created_at >= %(start)s AND m.created_at < %(end)s
    GROUP BY 1, 2, 3, 4
), cycles AS (
    SELECT c.day, c.channel_id, c.network, c.conversation_kind,
        count(*) AS opened,
        count(*) FILTER (WHERE c.spam) AS spam,
        count(*) FILTER (WHERE NOT c.spam AND c.hidden) AS hidden,
        count(*) FILTER (WHERE NOT c.spam AND NOT c.hidden AND c.first_response_at IS NULL
            AND c.resolution = 'no_reply_needed') AS no_reply_needed,
        count(*) FILTER (WHERE {_COUNTED.format(t="c")}) AS needing,
        count(*) FILTER (WHERE {_COUNTED.format(t="c")} AND c.first_response_at IS NOT NULL) AS replied,
        count(*) FILTER (WHERE {_COUNTED.format(t="c")} AND NOT c.started_in_office) AS off_hours_cycles,
        count(*) FILTER (WHERE {_COUNTED.format(t="c")} AND NOT c.started_in_office AND c.first_response_at IS NOT NULL
            AND (c.next_opening_at IS NULL OR c.first_response_at < c.next_opening_at)) AS off_hours_answered
    FROM {_CYCLES} c
    WHERE c.day >= %(first)s AND c.day <= %(last)s
    GROUP BY 1, 2, 3, 4
)
INSERT INTO {DailyRollup._meta.db_table} ({", ".join(DAILY_FIELDS)})
SELECT COALESCE(m.day, c.day), COALESCE(m.channel_id, c.channel_id), COALESCE(m.network, c.network),
    COALESCE(m.conversation_kind, c.conversation_kind),
    COALESCE(m.messages, 0), COALESCE(m.off_hours, 0), COALESCE(c.opened, 0), COALESCE(c.spam, 0),
    COALESCE(c.hidden, 0), COALESCE(c.no_reply_needed, 0), COALESCE(c.needing, 0), COALESCE(c.replied, 0),
    COALESCE(c.off_hours_cycles, 0), COALESCE(c.off_hours_answered, 0)
FROM messages m FULL OUTER JOIN cycles c
    ON c.day = m.day AND c.channel_id = m.channel_id AND c.conversation_kind = m.conversation_kind
"""


def office_windows(context: RollupContext, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The calendar's working windows within [start, end): the stretches between its off-hours ones."""
    windows, cursor = [], start
    for off_start, off_end in context.calendar.off_hours_windows(start, end):
        if off_start > cursor:
            windows.append((cursor, off_start))
        cursor = off_end
    if cursor < end:
        windows.append((cursor, end))
    return windows


def daily_rebuild(
    days: list[date], context: RollupContext, *, progress: Callable[[str, int, int], None] | None = None
) -> None:
    """Daily and hourly rollups of these (consecutive) days, about a month per transaction."""
    if not days:
        return
    _windows_create(context, days[0], days[-1])
    try:
        chunks = [days[start : start + DAILY_CHUNK_DAYS] for start in range(0, len(days), DAILY_CHUNK_DAYS)]
        for position, chunk in enumerate(chunks, start=1):
            first, last = chunk[0], chunk[-1]
            parameters = {
                "tz": context.calendar.tz.key,
                "first": first,
                "last": last,
                "start": context.day_start(first),
                "end": context.day_start(last + timedelta(days=1)),
            }
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
                for model in (DailyRollup, HourlyTraffic):
                    cursor.execute(
                        f"DELETE FROM {model._meta.db_table} WHERE day >= %(first)s AND day <= %(last)s",
                        parameters,
                    )
                cursor.execute(_DAILY_INSERT, parameters)
                cursor.execute(_HOURLY_INSERT, parameters)
            if progress:
                progress("daily", position, len(chunks))
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {WINDOWS_TABLE}")


def _windows_create(context: RollupContext, first: date, last: date) -> None:
    windows = office_windows(context, context.day_start(first), context.day_start(last + timedelta(days=1)))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {WINDOWS_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {WINDOWS_TABLE} (starts_at timestamptz PRIMARY KEY, ends_at timestamptz)"
        )
        with cursor.cursor.copy(f"COPY {WINDOWS_TABLE} (starts_at, ends_at) FROM STDIN") as copy:
            for window in windows:
                copy.write_row(window)
        cursor.execute(f"ANALYZE {WINDOWS_TABLE}")


_SLA_INSERT = f"""
INSERT INTO {DailySla._meta.db_table} ({", ".join(SLA_FIELDS)})
SELECT (c.sla_due_at AT TIME ZONE %(tz)s)::date, c.channel_id, c.network, c.conversation_kind,
    count(*) FILTER (WHERE c.first_response_at <= c.sla_due_at),
    count(*) FILTER (WHERE c.first_response_at > c.sla_due_at),
    count(*) FILTER (WHERE c.first_response_at IS NULL)
FROM {_CYCLES} c
WHERE c.sla_due_at IS NOT NULL AND {_COUNTED.format(t="c")}
GROUP BY 1, 2, 3, 4
"""


def daily_sla_rebuild(context: RollupContext) -> None:
    """The SLA of every cycle, per local due day (inside the caller's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {DailySla._meta.db_table}")
        cursor.execute(_SLA_INSERT, {"tz": context.calendar.tz.key})


def histogram_rebuild() -> None:
    """Every month's span histograms (inside the caller's transaction)."""
    selects = [
        f"SELECT date_trunc('month', f.day)::date, f.metric, f.started_in_office, '{clock}', f.{bucket},"
        f" count(*), sum(f.{seconds}) FROM {_TIMINGS} f GROUP BY 1, 2, 3, 5"
        for clock, (bucket, seconds) in CLOCK_COLUMNS.items()
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        cursor.execute(f"DELETE FROM {TimingHistogram._meta.db_table}")
        cursor.execute(
            f"INSERT INTO {TimingHistogram._meta.db_table} ({', '.join(HISTOGRAM_FIELDS)}) {' UNION ALL '.join(selects)}"
        )


# The index the rebuild itself deletes by, chunk after chunk: kept. (CareCycleFact's is its unique
# constraint, which is not set aside either.)
_KEPT_INDEXES = {"metrics_timing_conv_idx"}


def _set_aside_indexes() -> list[tuple[type, object]]:
    return [
        (model, index)
        for model in (CareCycleFact, TimingFact)
        for index in model._meta.indexes
        if index.name not in _KEPT_INDEXES
    ]


@contextmanager
def indexes_set_aside() -> Iterator[None]:
    """The facts' secondary indexes dropped for the duration, and built again after it, whether it
    ends well or not. Reports meanwhile read the tables without them (slower, still right)."""
    indexes_restore()
    with connection.cursor() as cursor:
        for _model, index in _set_aside_indexes():
            cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(index.name)}")
    try:
        yield
    finally:
        indexes_restore()


def indexes_restore() -> None:
    """Build whichever of the facts' indexes is missing (after a rebuild, or one that was killed)."""
    with connection.cursor() as cursor:
        existing = {
            name
            for model in (CareCycleFact, TimingFact)
            for name in connection.introspection.get_constraints(cursor, model._meta.db_table)
        }
    missing = [(model, index) for model, index in _set_aside_indexes() if index.name not in existing]
    if not missing:
        return
    with connection.schema_editor() as editor, connection.cursor() as cursor:
        cursor.execute(f"SET maintenance_work_mem = '{WORK_MEM}'")
        for model, index in missing:
            editor.add_index(model, index)
