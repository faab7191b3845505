"""What a metrics report is made of: plain, immutable values the dashboard, the CSV export and the
printable report render. `metrics.reports.report_build(filters)` fills them from the daily rollups
(and the reporting events for what rollups cannot answer); nothing here touches the database.

Durations are seconds. "wall" is clock time, "business" counts working hours only (business calendar
in force when the event happened). Splits: "all", "office" (the citizen wrote in office hours),
"off" (the citizen wrote outside them).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

METRICS = ("first_response", "reply", "resolution")
CLOCKS = ("wall", "business")
SPLITS = ("all", "office", "off")


@dataclass(frozen=True)
class Filters:
    start: date  # first day included (Europe/Madrid)
    end: date  # last day included
    network: str = ""
    channel_id: int | None = None
    tag_id: int | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Filters":
        """The period of the same length just before this one (for comparison)."""
        length = timedelta(days=self.days)
        return Filters(
            start=self.start - length,
            end=self.end - length,
            network=self.network,
            channel_id=self.channel_id,
            tag_id=self.tag_id,
        )


@dataclass(frozen=True)
class Distribution:
    count: int
    median: float | None
    p90: float | None
    mean: float | None


@dataclass(frozen=True)
class TimingRow:
    metric: str  # one of METRICS
    clock: str  # one of CLOCKS
    split: str  # one of SPLITS
    distribution: Distribution


@dataclass(frozen=True)
class ResponseRate:
    needing_reply: int  # care cycles that needed a human reply
    replied: int  # of those, with a human reply (from the desk or seen on the network)
    spam: int  # shown apart, not in the rate
    hidden: int
    no_reply_needed: int

    @property
    def rate(self) -> float | None:
        return self.replied / self.needing_reply if self.needing_reply else None


@dataclass(frozen=True)
class SlaRow:
    conversation_kind: str  # networks.base.InboundKind value
    target_business_seconds: int
    total: int  # cycles whose first response was due in the period
    met: int
    breached: int

    @property
    def compliance(self) -> float | None:
        return self.met / self.total if self.total else None


@dataclass(frozen=True)
class SlaBreach:
    conversation_id: int
    conversation_kind: str
    network: str
    written_at: datetime
    due_at: datetime
    answered_at: datetime | None  # None: still unanswered
    late_seconds: float  # wall-clock seconds past due (until the answer, or until now)


@dataclass(frozen=True)
class VolumeRow:
    day: date
    network: str
    conversation_kind: str
    conversations: int  # care cycles opened that day
    messages: int  # citizens' messages received that day


@dataclass(frozen=True)
class Backlog:
    waiting: int  # conversations needing a reply now
    oldest_seconds: float | None
    age_buckets: list[tuple[str, int]] = field(default_factory=list)  # ("< 1 h", 3), ("1–4 h", 5) …


@dataclass(frozen=True)
class OpeningBacklog:
    opened_at: datetime  # first working moment after a weekend or holiday
    waiting: int  # conversations needing a reply at that moment


@dataclass(frozen=True)
class OffHours:
    messages: int  # citizens' messages in the period
    off_hours_messages: int
    answered_before_next_opening: int  # off-hours cycles with a first response before the desk opened
    off_hours_cycles: int
    first_response_wall: Distribution
    first_response_business: Distribution

    @property
    def off_hours_share(self) -> float | None:
        return self.off_hours_messages / self.messages if self.messages else None

    @property
    def answered_before_opening_share(self) -> float | None:
        return self.answered_before_next_opening / self.off_hours_cycles if self.off_hours_cycles else None


@dataclass(frozen=True)
class PublishingRow:
    network: str
    posts: int  # live deliveries published
    echoes: int  # echo deliveries published
    engagement_per_post: float | None


@dataclass(frozen=True)
class BestHours:
    segment: str  # the audience segment's name
    slots: list[tuple[int, int, float]]  # (weekday 0=Monday, hour, score 0..1), best first, at most 5
    # True: ranked by measured engagement per post (scheduling.activity); False: the segment's priors.
    is_learned: bool = False


@dataclass(frozen=True)
class Report:
    filters: Filters
    timings: list[TimingRow]
    response_rate: ResponseRate
    sla: list[SlaRow]
    sla_breaches: list[SlaBreach]
    volume: list[VolumeRow]
    heatmap: list[list[int]]  # 7 × 24 citizens' messages by weekday × hour, Europe/Madrid
    backlog: Backlog
    opening_backlogs: list[OpeningBacklog]
    off_hours: OffHours
    publishing: list[PublishingRow]
    best_hours: list[BestHours]
    sla_breaches_total: int = 0  # all breaches in the period; `sla_breaches` lists the latest ones
    refreshed_at: datetime | None = None  # the rollups were current up to here
    # The same report for the period just before (Filters.previous), with what a comparison needs:
    # its opening_backlogs, sla_breaches and publishing are left empty, and its volume has one row
    # per day for all networks and kinds together (network and conversation_kind "").
    previous: "Report | None" = None

    def timing(self, metric: str, clock: str, split: str = "all") -> Distribution:
        for row in self.timings:
            if (row.metric, row.clock, row.split) == (metric, clock, split):
                return row.distribution
        return Distribution(count=0, median=None, p90=None, mean=None)
