"""Figures put into words for people: durations in human units, shares as percentages, the change
against the previous period (an arrow *and* words, never colour alone), and the short definition of
every figure, which the dashboard shows on hover and the help page lists in full.

Nothing here touches the database: these functions take the plain values of metrics.report_types.
"""

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.formats import date_format, number_format
from django.utils.functional import Promise
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metrics.charts import Bar, bar_chart, column_chart, heatmap_chart
from metrics.report_types import METRICS, SPLITS, Distribution, Report, SlaBreach
from metrics.reports import SLA_BREACHES_SHOWN
from networks.base import InboundKind
from networks.models import Network

NO_DATA = "—"
MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def duration_human(seconds: float | None, *, days: bool = True) -> str:
    """ "45 s", "12 min", "2 h 15 min", "3 d 4 h". Business time passes `days=False`: a "day" of
    working hours would read as 24 hours, so it is counted in hours only ("26 h 30 min")."""
    if seconds is None:
        return NO_DATA
    seconds = max(0.0, seconds)
    if round(seconds) < MINUTE:
        return _("%(seconds)s s") % {"seconds": round(seconds)}
    minutes = round(seconds / MINUTE)
    if minutes < 60:
        return _("%(minutes)s min") % {"minutes": minutes}
    if minutes < 24 * 60 or not days:
        hours, minutes = divmod(minutes, 60)
        if minutes == 0:
            return _("%(hours)s h") % {"hours": hours}
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    whole_days, hours = divmod(round(seconds / HOUR), 24)
    if hours == 0:
        return _("%(days)s d") % {"days": whole_days}
    return _("%(days)s d %(hours)s h") % {"days": whole_days, "hours": hours}


def percent_human(share: float | None) -> str:
    """A share 0..1 as "87.5%" ("87,5 %" in Spanish)."""
    if share is None:
        return NO_DATA
    return _("%(percent)s%%") % {"percent": number_format(share * 100, decimal_pos=1)}


def number_human(value: float | None, *, decimals: int = 0) -> str:
    if value is None:
        return NO_DATA
    return number_format(value, decimal_pos=decimals)


# --- Change against the previous period ---------------------------------------------------------

DURATION, SHARE, COUNT = "duration", "share", "count"


@dataclass(frozen=True)
class Change:
    """How a figure moved since the previous period, said in words; `arrow` repeats it for the eye."""

    arrow: str  # "↑", "↓" or "="
    text: str  # "12 min more than the previous period (worse)"
    verdict: str  # "better", "worse" or "" (a volume is neither)


def change_describe(
    current: float | None, previous: float | None, *, measure: str, lower_is_better: bool | None = None
) -> Change | None:
    """The change from `previous` to `current`; None when either period has no figure.
    `lower_is_better` None: the figure is neither good nor bad (a volume)."""
    if current is None or previous is None:
        return None
    difference = current - previous
    amount = _amount(abs(difference), measure)
    if amount == _amount(0, measure):
        return Change(arrow="=", text=_("Same as the previous period"), verdict="")
    went_up = difference > 0
    verdict = "" if lower_is_better is None else ("worse" if went_up == lower_is_better else "better")
    if went_up:
        text = _("%(amount)s more than the previous period") % {"amount": amount}
    else:
        text = _("%(amount)s less than the previous period") % {"amount": amount}
    if verdict:
        judgement = _("better") if verdict == "better" else _("worse")
        text = "%s (%s)" % (text, judgement)  # noqa: UP031
    return Change(arrow="↑" if went_up else "↓", text=text, verdict=verdict)


def _amount(difference: float, measure: str) -> str:
    if measure == DURATION:
        return duration_human(difference)
    if measure == SHARE:
        return _("%(points)s pp") % {"points": number_format(difference * 100, decimal_pos=1)}
    return number_human(difference)


# --- Definitions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    slug: str  # the anchor on the help page
    term: Promise
    text: Promise


# Keyed by the slug with underscores, so templates can reach them (`definitions.first_response`).
DEFINITIONS: dict[str, Definition] = {
    definition.slug.replace("-", "_"): definition
    for definition in [
        Definition(
            "first-response",
            gettext_lazy("First response time"),
            gettext_lazy(
                "From the citizen's first message of a care cycle to the first public or private reply "
                "written by a person (from SocialDesk or directly on the network). Automatic messages "
                "do not count."
            ),
        ),
        Definition(
            "reply-time",
            gettext_lazy("Reply time"),
            gettext_lazy(
                "From the oldest citizen's message still unanswered to the next reply written by a "
                "person. A conversation with several exchanges gives several reply times."
            ),
        ),
        Definition(
            "resolution",
            gettext_lazy("Resolution time"),
            gettext_lazy(
                "From the start of a care cycle to the moment the conversation is closed. Measured once "
                "per care cycle."
            ),
        ),
        Definition(
            "care-cycle",
            gettext_lazy("Care cycle"),
            gettext_lazy(
                "One round of attention: it starts with a citizen's message and ends when the "
                "conversation is closed. If the citizen writes again after the closing, a new care "
                "cycle starts, measured on its own."
            ),
        ),
        Definition(
            "median",
            gettext_lazy("Median"),
            gettext_lazy(
                "Half of the cases took less than this and half took more. A few very slow cases "
                "do not move it."
            ),
        ),
        Definition(
            "p90",
            gettext_lazy("90th percentile"),
            gettext_lazy("Nine cases out of ten took less than this: it shows how long the slow cases wait."),
        ),
        Definition(
            "mean",
            gettext_lazy("Mean"),
            gettext_lazy(
                "The sum of all the times divided by the number of cases; a few very slow cases raise it."
            ),
        ),
        Definition(
            "business-time",
            gettext_lazy("Business time"),
            gettext_lazy(
                "Only the office hours count: nights, weekends and holidays are left out, with the "
                "calendar that was in force at that moment. Wall-clock time counts every hour. Business "
                "times are shown in hours, never in days."
            ),
        ),
        Definition(
            "office-split",
            gettext_lazy("Office hours and off-hours"),
            gettext_lazy(
                "Each time is classed by the moment the citizen wrote: in office hours or outside them "
                "(nights, weekends, holidays), whenever the answer came."
            ),
        ),
        Definition(
            "response-rate",
            gettext_lazy("Response rate"),
            gettext_lazy(
                "Care cycles that got a reply from a person, divided by the care cycles that needed "
                'one. Spam, hidden comments and conversations closed as "no reply needed" are not part '
                "of the rate and are counted apart."
            ),
        ),
        Definition(
            "sla",
            gettext_lazy("Service level (SLA)"),
            gettext_lazy(
                "The administrator sets, per kind of conversation, a target for the first response in "
                "business time. A care cycle meets it when the first response comes before the due "
                "time. The due time moves over closed hours: a message written on Friday at 16:30 with "
                "a 1-hour target, in an office that closes at 17:00, is due on Monday at opening time "
                "plus the remaining 30 minutes."
            ),
        ),
        Definition(
            "sla-compliance",
            gettext_lazy("Compliance"),
            gettext_lazy(
                "Care cycles answered before their due time, divided by the care cycles whose "
                "first response was due in the period."
            ),
        ),
        Definition(
            "volume",
            gettext_lazy("Volume"),
            gettext_lazy(
                "Conversations: care cycles opened in the period. Messages: the citizens' messages "
                "received. Our own replies are not counted."
            ),
        ),
        Definition(
            "heatmap",
            gettext_lazy("When citizens write"),
            gettext_lazy(
                "Citizens' messages by weekday and hour, in Spanish peninsular time (Europe/Madrid)."
            ),
        ),
        Definition(
            "backlog",
            gettext_lazy("Backlog"),
            gettext_lazy(
                "Conversations waiting for a reply right now, and how long the oldest has waited "
                "(wall-clock time)."
            ),
        ),
        Definition(
            "opening-backlog",
            gettext_lazy("Backlog at opening"),
            gettext_lazy(
                "How many conversations were waiting for a reply at the first working moment after a "
                "weekend or a holiday: the work found when the office opens."
            ),
        ),
        Definition(
            "off-hours-coverage",
            gettext_lazy("Off-hours coverage"),
            gettext_lazy(
                "The share of citizens' messages that arrive outside office hours, how many of the care "
                "cycles started then got a first response before the office opened again, and their "
                "first response time."
            ),
        ),
        Definition(
            "engagement-per-post",
            gettext_lazy("Engagement per post"),
            gettext_lazy(
                "Likes, shares, comments and clicks the networks report for the posts published in the "
                "period, divided by the number of posts (live posts and echoes)."
            ),
        ),
        Definition(
            "best-hours",
            gettext_lazy("Best hours"),
            gettext_lazy(
                "For each audience segment, the weekday and hour when its posts get the most engagement, "
                "averaged per post over the last 16 weeks. The score compares the hours with each other: "
                "1 is the best hour."
            ),
        ),
    ]
}


# --- A report as the pages show it --------------------------------------------------------------
# The dashboard and the printable report render the same ReportPage; the CSV export reads the
# Report itself (raw seconds and counts), not these strings.

METRIC_LABELS = {
    "first_response": gettext_lazy("First response time"),
    "reply": gettext_lazy("Reply time"),
    "resolution": gettext_lazy("Resolution time per care cycle"),
}
METRIC_DEFINITIONS = {"first_response": "first_response", "reply": "reply_time", "resolution": "resolution"}
CLOCK_LABELS = {"business": gettext_lazy("Business time"), "wall": gettext_lazy("Wall-clock time")}
SPLIT_LABELS = {
    "all": gettext_lazy("At any time"),
    "office": gettext_lazy("In office hours"),
    "off": gettext_lazy("Off-hours"),
}
# Up to two months the volume chart has a column per day, up to a year one per week, then per month.
DAILY_UP_TO_DAYS = 62
WEEKLY_UP_TO_DAYS = 366


def network_label(value: str) -> str:
    return str(Network(value).label) if value in Network.values else value


def kind_label(value: str) -> str:
    return str(InboundKind(value).label) if value in InboundKind.values else value


def slot_label(weekday: int, hour: int) -> str:
    return _("%(weekday)s %(start)02d:00–%(end)02d:00") % {
        "weekday": WEEKDAYS[weekday],
        "start": hour,
        "end": (hour + 1) % 24,
    }


@dataclass(frozen=True)
class Chart:
    """An SVG chart and its data table alternative (the first cell of each row heads the row)."""

    chart_id: str
    svg: SafeString
    caption: str
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class KeyFigure:
    label: str
    value: str
    definition: Definition
    change: Change | None = None
    detail: str = ""


@dataclass(frozen=True)
class TimingLine:
    clock: str
    split: str
    count: int
    median: str
    p90: str
    mean: str
    median_change: Change | None


@dataclass(frozen=True)
class TimingTable:
    metric: str
    title: str
    definition: Definition
    lines: list[TimingLine]


@dataclass(frozen=True)
class SlaLine:
    kind: str
    target: str
    total: int
    met: int
    breached: int
    compliance: str
    change: Change | None


@dataclass(frozen=True)
class BreachLine:
    conversation_id: int
    kind: str
    network: str
    written_at: datetime
    due_at: datetime
    answered_at: datetime | None
    late: str


@dataclass(frozen=True)
class VolumeLine:
    label: str
    conversations: int
    messages: int
    messages_change: Change | None = None  # against the previous period, when compared


@dataclass(frozen=True)
class PublishingLine:
    network: str
    posts: int
    echoes: int
    engagement_per_post: str
    posts_change: Change | None = None  # against the previous period, when compared


@dataclass(frozen=True)
class BestHoursLine:
    segment: str
    slots: list[tuple[str, str]]  # ("Tuesday 19:00–20:00", "0.82"), best first
    learned: bool  # False: from the segment's prior hours, not yet from measured engagement


@dataclass(frozen=True)
class ReportPage:
    report: Report
    previous: Report | None
    key_figures: list[KeyFigure]
    timing_tables: list[TimingTable]
    timing_chart: Chart
    response_rate: list[KeyFigure]
    apart: list[tuple[str, int]]  # spam, hidden, no reply needed
    sla: list[SlaLine]
    sla_breaches: list[BreachLine]
    sla_breaches_not_shown: int
    volume_chart: Chart
    volume_by_network: list[VolumeLine]
    volume_by_kind: list[VolumeLine]
    heatmap_chart: Chart
    backlog: list[KeyFigure]
    backlog_chart: Chart | None
    off_hours: list[KeyFigure]
    off_hours_timings: list[TimingLine]
    publishing: list[PublishingLine]
    best_hours: list[BestHoursLine]


def report_present(report: Report, previous: Report | None = None) -> ReportPage:
    """Everything the dashboard and the printable report show, as words and charts; `previous` is
    the comparison period's report, or None when not comparing."""
    shown = report.sla_breaches[:SLA_BREACHES_SHOWN]
    return ReportPage(
        report=report,
        previous=previous,
        key_figures=_key_figures(report, previous),
        timing_tables=[_timing_table(report, previous, metric) for metric in METRICS],
        timing_chart=_timing_chart(report),
        response_rate=_response_rate(report, previous),
        apart=[
            (_("Spam"), report.response_rate.spam),
            (_("Hidden"), report.response_rate.hidden),
            (_("Closed, no reply needed"), report.response_rate.no_reply_needed),
        ],
        sla=_sla_lines(report, previous),
        sla_breaches=[_breach_line(breach) for breach in shown],
        sla_breaches_not_shown=max(report.sla_breaches_total, len(report.sla_breaches)) - len(shown),
        volume_chart=_volume_chart(report),
        volume_by_network=_volume_by(report, previous, "network", network_label),
        volume_by_kind=_volume_by(report, previous, "conversation_kind", kind_label),
        heatmap_chart=_heatmap_chart(report),
        backlog=_backlog(report),
        backlog_chart=_backlog_chart(report),
        off_hours=_off_hours(report, previous),
        off_hours_timings=_off_hours_timings(report, previous),
        publishing=_publishing(report, previous),
        best_hours=[
            BestHoursLine(
                segment=row.segment,
                learned=row.is_learned,
                slots=[
                    (slot_label(weekday, hour), number_human(score, decimals=2))
                    for weekday, hour, score in row.slots
                ],
            )
            for row in report.best_hours
        ],
    )


def _median(report: Report | None, metric: str, clock: str, split: str = "all") -> float | None:
    return None if report is None else report.timing(metric, clock, split).median


def _sla_compliance(report: Report | None) -> float | None:
    if report is None:
        return None
    total = sum(row.total for row in report.sla)
    return sum(row.met for row in report.sla) / total if total else None


def _volume_totals(report: Report | None) -> tuple[int, int] | tuple[None, None]:
    if report is None:
        return None, None
    return sum(row.conversations for row in report.volume), sum(row.messages for row in report.volume)


def _key_figures(report: Report, previous: Report | None) -> list[KeyFigure]:
    conversations, messages = _volume_totals(report)
    previous_conversations, previous_messages = _volume_totals(previous)
    compliance = _sla_compliance(report)
    rate = report.response_rate.rate
    off_share = report.off_hours.off_hours_share
    return [
        KeyFigure(
            label=_("First response, median"),
            value=duration_human(_median(report, "first_response", "business"), days=False),
            detail=_("business time"),
            definition=DEFINITIONS["first_response"],
            change=change_describe(
                _median(report, "first_response", "business"),
                _median(previous, "first_response", "business"),
                measure=DURATION,
                lower_is_better=True,
            ),
        ),
        KeyFigure(
            label=_("First response, median"),
            value=duration_human(_median(report, "first_response", "wall")),
            detail=_("wall-clock time"),
            definition=DEFINITIONS["first_response"],
            change=change_describe(
                _median(report, "first_response", "wall"),
                _median(previous, "first_response", "wall"),
                measure=DURATION,
                lower_is_better=True,
            ),
        ),
        KeyFigure(
            label=_("Response rate"),
            value=percent_human(rate),
            definition=DEFINITIONS["response_rate"],
            change=change_describe(
                rate, previous and previous.response_rate.rate, measure=SHARE, lower_is_better=False
            ),
        ),
        KeyFigure(
            label=_("SLA compliance"),
            value=percent_human(compliance),
            definition=DEFINITIONS["sla_compliance"],
            change=change_describe(
                compliance, _sla_compliance(previous), measure=SHARE, lower_is_better=False
            ),
        ),
        KeyFigure(
            label=_("Conversations"),
            value=number_human(conversations),
            definition=DEFINITIONS["volume"],
            change=change_describe(conversations, previous_conversations, measure=COUNT),
        ),
        KeyFigure(
            label=_("Citizens' messages"),
            value=number_human(messages),
            definition=DEFINITIONS["volume"],
            change=change_describe(messages, previous_messages, measure=COUNT),
        ),
        KeyFigure(
            label=_("Messages written off-hours"),
            value=percent_human(off_share),
            definition=DEFINITIONS["off_hours_coverage"],
            change=change_describe(off_share, previous and previous.off_hours.off_hours_share, measure=SHARE),
        ),
        KeyFigure(
            label=_("Waiting for a reply now"),
            value=number_human(report.backlog.waiting),
            definition=DEFINITIONS["backlog"],
        ),
    ]


def _distribution_texts(distribution: Distribution, clock: str) -> dict:
    days = clock == "wall"
    return {
        "count": distribution.count,
        "median": duration_human(distribution.median, days=days),
        "p90": duration_human(distribution.p90, days=days),
        "mean": duration_human(distribution.mean, days=days),
    }


def _timing_table(report: Report, previous: Report | None, metric: str) -> TimingTable:
    lines = []
    for clock in ("business", "wall"):
        for split in SPLITS:
            distribution = report.timing(metric, clock, split)
            lines.append(
                TimingLine(
                    clock=str(CLOCK_LABELS[clock]),
                    split=str(SPLIT_LABELS[split]),
                    **_distribution_texts(distribution, clock),
                    median_change=change_describe(
                        distribution.median,
                        _median(previous, metric, clock, split),
                        measure=DURATION,
                        lower_is_better=True,
                    ),
                )
            )
    return TimingTable(
        metric=metric,
        title=str(METRIC_LABELS[metric]),
        definition=DEFINITIONS[METRIC_DEFINITIONS[metric]],
        lines=lines,
    )


def _timing_chart(report: Report) -> Chart:
    bars, rows = [], []
    for metric in METRICS:
        distribution = report.timing(metric, "business")
        median = duration_human(distribution.median, days=False)
        p90 = duration_human(distribution.p90, days=False)
        label = str(METRIC_LABELS[metric])
        bars.append(
            Bar(
                label=_("%(metric)s: median") % {"metric": label},
                value=distribution.median or 0,
                value_label=median,
            )
        )
        bars.append(
            Bar(
                label=_("%(metric)s: 90th percentile") % {"metric": label},
                value=distribution.p90 or 0,
                value_label=p90,
                hatched=True,
            )
        )
        rows.append([label, median, p90])
    title = _("Response times in business time")
    return Chart(
        chart_id="chart-timings",
        svg=bar_chart(
            chart_id="chart-timings",
            title=title,
            description=_(
                "Median (solid bars) and 90th percentile (hatched bars) of each time, all messages."
            ),
            bars=bars,
            label_width=300,
        ),
        caption=title,
        headers=[_("Time"), _("Median"), _("90th percentile")],
        rows=rows,
    )


def _response_rate(report: Report, previous: Report | None) -> list[KeyFigure]:
    rate = report.response_rate
    return [
        KeyFigure(
            label=_("Response rate"),
            value=percent_human(rate.rate),
            definition=DEFINITIONS["response_rate"],
            detail=_("%(replied)s of %(needing)s care cycles that needed a reply")
            % {"replied": rate.replied, "needing": rate.needing_reply},
            change=change_describe(
                rate.rate, previous and previous.response_rate.rate, measure=SHARE, lower_is_better=False
            ),
        )
    ]


def _sla_lines(report: Report, previous: Report | None) -> list[SlaLine]:
    before = {row.conversation_kind: row.compliance for row in previous.sla} if previous else {}
    return [
        SlaLine(
            kind=kind_label(row.conversation_kind),
            target=duration_human(row.target_business_seconds, days=False),
            total=row.total,
            met=row.met,
            breached=row.breached,
            compliance=percent_human(row.compliance),
            change=change_describe(
                row.compliance, before.get(row.conversation_kind), measure=SHARE, lower_is_better=False
            ),
        )
        for row in report.sla
    ]


def _breach_line(breach: SlaBreach) -> BreachLine:
    return BreachLine(
        conversation_id=breach.conversation_id,
        kind=kind_label(breach.conversation_kind),
        network=network_label(breach.network),
        written_at=breach.written_at,
        due_at=breach.due_at,
        answered_at=breach.answered_at,
        late=duration_human(breach.late_seconds),
    )


def _volume_periods(filters) -> tuple[str, list[tuple[date, str]]]:
    """The columns of the volume chart: (first day, label) per day, week or month of the period."""
    if filters.days <= DAILY_UP_TO_DAYS:
        days = [filters.start + timedelta(days=offset) for offset in range(filters.days)]
        return _("day"), [(day, date_format(day, "j M")) for day in days]
    if filters.days <= WEEKLY_UP_TO_DAYS:
        monday = filters.start - timedelta(days=filters.start.weekday())
        weeks = []
        while monday <= filters.end:
            weeks.append((max(monday, filters.start), date_format(monday, "j M")))
            monday += timedelta(days=7)
        return _("week"), weeks
    months, first = [], filters.start
    while first <= filters.end:
        months.append((first, date_format(first, "M Y")))
        first = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
    return _("month"), months


def _volume_chart(report: Report) -> Chart:
    unit, periods = _volume_periods(report.filters)
    starts = [start for start, _label in periods]
    conversations = [0] * len(periods)
    messages = [0] * len(periods)
    for row in report.volume:
        if not report.filters.start <= row.day <= report.filters.end:
            continue
        index = bisect_right(starts, row.day) - 1
        conversations[index] += row.conversations
        messages[index] += row.messages
    title = _("Citizens' messages per %(unit)s") % {"unit": unit}
    return Chart(
        chart_id="chart-volume",
        svg=column_chart(
            chart_id="chart-volume",
            title=title,
            description=_("%(count)s messages from %(start)s to %(end)s.")
            % {
                "count": sum(messages),
                "start": date_format(report.filters.start),
                "end": date_format(report.filters.end),
            },
            bars=[
                Bar(label=label, value=count)
                for (_start, label), count in zip(periods, messages, strict=True)
            ],
        ),
        caption=title,
        headers=[unit.capitalize(), _("Conversations"), _("Messages")],
        rows=[
            [label, str(opened), str(received)]
            for (_start, label), opened, received in zip(periods, conversations, messages, strict=True)
        ],
    )


def _volume_by(
    report: Report, previous: Report | None, attribute: str, label: Callable[[str], str]
) -> list[VolumeLine]:
    totals = _volume_totals_by(report, attribute)
    # A network or kind without messages in the previous period had 0 there.
    before = _volume_totals_by(previous, attribute) if previous else None
    return sorted(
        (
            VolumeLine(
                label=label(key),
                conversations=conversations,
                messages=messages,
                messages_change=change_describe(messages, before.get(key, (0, 0))[1], measure=COUNT)
                if before is not None
                else None,
            )
            for key, (conversations, messages) in totals.items()
        ),
        key=lambda line: (-line.messages, line.label),
    )


def _volume_totals_by(report: Report, attribute: str) -> dict[str, tuple[int, int]]:
    """Conversations and messages of the period per value of ``attribute`` (network or kind)."""
    totals: dict[str, tuple[int, int]] = {}
    for row in report.volume:
        conversations, messages = totals.get(getattr(row, attribute), (0, 0))
        totals[getattr(row, attribute)] = (conversations + row.conversations, messages + row.messages)
    return totals


def _heatmap_chart(report: Report) -> Chart:
    weekdays = [str(WEEKDAYS[day]) for day in range(7)]
    hours = [f"{hour:02d}" for hour in range(24)]
    title = _("When citizens write")
    return Chart(
        chart_id="chart-heatmap",
        svg=heatmap_chart(
            chart_id="chart-heatmap",
            title=title,
            description=_(
                "Citizens' messages by weekday (rows, Monday first) and hour (columns, 00 to 23, "
                "Europe/Madrid). Each cell shows its count; darker cells have more messages."
            ),
            grid=report.heatmap,
            row_labels=[str(WEEKDAYS_ABBR[day]) for day in range(7)],
            column_labels=hours,
            legend_label=_("Messages:"),
        ),
        caption=title,
        headers=[_("Weekday"), *hours],
        rows=[[weekday, *map(str, counts)] for weekday, counts in zip(weekdays, report.heatmap, strict=True)],
    )


def _backlog(report: Report) -> list[KeyFigure]:
    return [
        KeyFigure(
            label=_("Waiting for a reply now"),
            value=number_human(report.backlog.waiting),
            definition=DEFINITIONS["backlog"],
        ),
        KeyFigure(
            label=_("Oldest waiting for"),
            value=duration_human(report.backlog.oldest_seconds),
            definition=DEFINITIONS["backlog"],
        ),
    ]


def _backlog_chart(report: Report) -> Chart | None:
    buckets = report.backlog.age_buckets
    if not buckets:
        return None
    title = _("Conversations waiting, by how long they have waited")
    return Chart(
        chart_id="chart-backlog",
        svg=bar_chart(
            chart_id="chart-backlog",
            title=title,
            description=_("%(count)s conversations waiting now.") % {"count": report.backlog.waiting},
            bars=[Bar(label=label, value=count) for label, count in buckets],
            label_width=160,
        ),
        caption=title,
        headers=[_("Waiting for"), _("Conversations")],
        rows=[[label, str(count)] for label, count in buckets],
    )


def _off_hours(report: Report, previous: Report | None) -> list[KeyFigure]:
    off = report.off_hours
    return [
        KeyFigure(
            label=_("Messages written off-hours"),
            value=percent_human(off.off_hours_share),
            definition=DEFINITIONS["off_hours_coverage"],
            detail=_("%(off)s of %(all)s messages") % {"off": off.off_hours_messages, "all": off.messages},
            change=change_describe(
                off.off_hours_share, previous and previous.off_hours.off_hours_share, measure=SHARE
            ),
        ),
        KeyFigure(
            label=_("Answered before the office opened"),
            value=percent_human(off.answered_before_opening_share),
            definition=DEFINITIONS["off_hours_coverage"],
            detail=_("%(answered)s of %(cycles)s care cycles started off-hours")
            % {"answered": off.answered_before_next_opening, "cycles": off.off_hours_cycles},
            change=change_describe(
                off.answered_before_opening_share,
                previous and previous.off_hours.answered_before_opening_share,
                measure=SHARE,
                lower_is_better=False,
            ),
        ),
    ]


def _publishing(report: Report, previous: Report | None) -> list[PublishingLine]:
    # A network that published nothing in the previous period published 0 posts there.
    posts_before = {row.network: row.posts for row in previous.publishing} if previous else None
    return [
        PublishingLine(
            network=network_label(row.network),
            posts=row.posts,
            echoes=row.echoes,
            engagement_per_post=number_human(row.engagement_per_post, decimals=1),
            posts_change=change_describe(row.posts, posts_before.get(row.network, 0), measure=COUNT)
            if posts_before is not None
            else None,
        )
        for row in report.publishing
    ]


def _off_hours_timings(report: Report, previous: Report | None) -> list[TimingLine]:
    lines = []
    for clock in ("business", "wall"):
        distribution = getattr(report.off_hours, f"first_response_{clock}")
        before = getattr(previous.off_hours, f"first_response_{clock}").median if previous else None
        lines.append(
            TimingLine(
                clock=str(CLOCK_LABELS[clock]),
                split=str(SPLIT_LABELS["off"]),
                **_distribution_texts(distribution, clock),
                median_change=change_describe(
                    distribution.median, before, measure=DURATION, lower_is_better=True
                ),
            )
        )
    return lines
