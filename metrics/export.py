"""Every table of a metrics report as CSV, for a spreadsheet.

The format, chosen once: comma-separated, UTF-8 with a byte-order mark (so Excel in Spanish reads
accents right; open it with Data → From Text/CSV, which detects the comma), one header row, headers in
the reader's language. Numbers are raw: durations in whole seconds, shares as fractions 0..1 with a
point as decimal separator, datetimes in ISO 8601 with the Europe/Madrid offset. Text cells that a
spreadsheet would take for a formula (starting with = + - @, a tab or a carriage return) get a leading
apostrophe, so a citizen-chosen tag name cannot become a formula on the supervisor's computer.
"""

import csv
import io
from collections.abc import Callable, Iterable
from datetime import date, datetime

from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from metrics.formatting import CLOCK_LABELS, METRIC_LABELS, SPLIT_LABELS, kind_label, network_label
from metrics.report_types import CLOCKS, METRICS, SPLITS, Distribution, Report, TimingRow

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | date | datetime | None
Rows = Iterable[list[Cell]]


def cell_guard(value: Cell) -> str:
    """One cell as text: numbers as they are, text defused if a spreadsheet would run it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _seconds(value: float | None) -> int | None:
    return None if value is None else round(value)


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _distribution(distribution: Distribution) -> list[Cell]:
    return [
        distribution.count,
        _seconds(distribution.median),
        _seconds(distribution.p90),
        _seconds(distribution.mean),
    ]


def _timings(report: Report) -> tuple[list[str], Rows]:
    header = [
        _("Time"),
        _("Clock"),
        _("When the citizen wrote"),
        _("Count"),
        _("Median (s)"),
        _("90th percentile (s)"),
        _("Mean (s)"),
    ]

    def position(row: TimingRow) -> tuple[int, int, int]:
        return METRICS.index(row.metric), CLOCKS.index(row.clock), SPLITS.index(row.split)

    timings = sorted(report.timings, key=position)
    return header, [
        [
            METRIC_LABELS.get(row.metric, row.metric),
            CLOCK_LABELS.get(row.clock, row.clock),
            SPLIT_LABELS.get(row.split, row.split),
            *_distribution(row.distribution),
        ]
        for row in timings
    ]


def _response_rate(report: Report) -> tuple[list[str], Rows]:
    rate = report.response_rate
    header = [
        _("Care cycles needing a reply"),
        _("Replied"),
        _("Response rate"),
        _("Spam"),
        _("Hidden"),
        _("Closed, no reply needed"),
    ]
    return header, [
        [rate.needing_reply, rate.replied, _share(rate.rate), rate.spam, rate.hidden, rate.no_reply_needed]
    ]


def _sla(report: Report) -> tuple[list[str], Rows]:
    header = [
        _("Kind"),
        _("Target (business seconds)"),
        _("Due in the period"),
        _("Met"),
        _("Breached"),
        _("Compliance"),
    ]
    return header, [
        [
            kind_label(row.conversation_kind),
            row.target_business_seconds,
            row.total,
            row.met,
            row.breached,
            _share(row.compliance),
        ]
        for row in report.sla
    ]


def _sla_breaches(report: Report) -> tuple[list[str], Rows]:
    header = [
        _("Conversation"),
        _("Kind"),
        _("Network"),
        _("Written at"),
        _("Due at"),
        _("Answered at"),
        _("Late (s)"),
    ]
    return header, [
        [
            breach.conversation_id,
            kind_label(breach.conversation_kind),
            network_label(breach.network),
            breach.written_at,
            breach.due_at,
            breach.answered_at,
            _seconds(breach.late_seconds),
        ]
        for breach in report.sla_breaches
    ]


def _volume(report: Report) -> tuple[list[str], Rows]:
    header = [_("Day"), _("Network"), _("Kind"), _("Conversations"), _("Messages")]
    return header, [
        [
            row.day,
            network_label(row.network),
            kind_label(row.conversation_kind),
            row.conversations,
            row.messages,
        ]
        for row in report.volume
    ]


def _heatmap(report: Report) -> tuple[list[str], Rows]:
    header = [_("Weekday"), *(f"{hour:02d}" for hour in range(24))]
    return header, [[str(WEEKDAYS[day]), *counts] for day, counts in enumerate(report.heatmap)]


def _backlog(report: Report) -> tuple[list[str], Rows]:
    backlog = report.backlog
    header = [_("Measure"), _("Value")]
    rows: list[list[Cell]] = [
        [_("Waiting for a reply now"), backlog.waiting],
        [_("Oldest waiting for (s)"), _seconds(backlog.oldest_seconds)],
    ]
    rows += [[_("Waiting for %(age)s") % {"age": label}, count] for label, count in backlog.age_buckets]
    return header, rows


def _opening_backlogs(report: Report) -> tuple[list[str], Rows]:
    return [_("Opening"), _("Waiting")], [[row.opened_at, row.waiting] for row in report.opening_backlogs]


def _off_hours(report: Report) -> tuple[list[str], Rows]:
    off = report.off_hours
    rows: list[list[Cell]] = [
        [_("Citizens' messages"), off.messages],
        [_("Messages written off-hours"), off.off_hours_messages],
        [_("Share written off-hours"), _share(off.off_hours_share)],
        [_("Care cycles started off-hours"), off.off_hours_cycles],
        [_("Answered before the office opened"), off.answered_before_next_opening],
        [_("Share answered before the office opened"), _share(off.answered_before_opening_share)],
    ]
    for clock, distribution in (("wall", off.first_response_wall), ("business", off.first_response_business)):
        count, median, p90, mean = _distribution(distribution)
        named = {"clock": CLOCK_LABELS[clock]}
        rows += [
            [_("First response (%(clock)s): count") % named, count],
            [_("First response (%(clock)s): median (s)") % named, median],
            [_("First response (%(clock)s): 90th percentile (s)") % named, p90],
            [_("First response (%(clock)s): mean (s)") % named, mean],
        ]
    return [_("Measure"), _("Value")], rows


def _publishing(report: Report) -> tuple[list[str], Rows]:
    header = [_("Network"), _("Posts"), _("Echoes"), _("Engagement per post")]
    return header, [
        [
            network_label(row.network),
            row.posts,
            row.echoes,
            None if row.engagement_per_post is None else round(row.engagement_per_post, 2),
        ]
        for row in report.publishing
    ]


def _best_hours(report: Report) -> tuple[list[str], Rows]:
    header = [_("Audience segment"), _("Rank"), _("Weekday"), _("Hour"), _("Score")]
    return header, [
        [row.segment, rank, str(WEEKDAYS[weekday]), f"{hour:02d}:00", round(score, 4)]
        for row in report.best_hours
        for rank, (weekday, hour, score) in enumerate(row.slots, start=1)
    ]


# The URL slug of each table, in the order the dashboard shows them.
TABLES: dict[str, Callable[[Report], tuple[list[str], Rows]]] = {
    "timings": _timings,
    "response_rate": _response_rate,
    "sla": _sla,
    "sla_breaches": _sla_breaches,
    "volume": _volume,
    "heatmap": _heatmap,
    "backlog": _backlog,
    "opening_backlogs": _opening_backlogs,
    "off_hours": _off_hours,
    "publishing": _publishing,
    "best_hours": _best_hours,
}


def table_csv(report: Report, table: str) -> str:
    """The CSV text of one table (KeyError for an unknown table), BOM first."""
    header, rows = TABLES[table](report)
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([cell_guard(cell) for cell in header])
    writer.writerows([cell_guard(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def table_filename(report: Report, table: str) -> str:
    return f"socialdesk-{table.replace('_', '-')}-{report.filters.start}-{report.filters.end}.csv"
