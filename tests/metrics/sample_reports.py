"""Reports built by hand, so the pages and the export can be tested figure by figure without the
rollups (those are tested by the report_build tests and the integration tests that go through them)."""

from dataclasses import replace
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from metrics.report_types import (
    CLOCKS,
    METRICS,
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

NOVEMBER = Filters(start=date(2026, 11, 1), end=date(2026, 11, 30))


def timing_seconds(metric: str, clock: str, split: str, *, scale: float = 1) -> float:
    """A distinct, recognisable median per row: 2 h 15 min for the first response in business time."""
    base = {"first_response": 8100, "reply": 3000, "resolution": 86400}[metric]
    factor = {"business": 1, "wall": 2}[clock] * {"all": 1, "office": 0.5, "off": 3}[split]
    return base * factor * scale


def sample_report(filters: Filters = NOVEMBER, *, scale: float = 1, **fields) -> Report:
    """A month with something in every section; `scale` stretches every time (for comparisons)."""
    timings = [
        TimingRow(
            metric=metric,
            clock=clock,
            split=split,
            distribution=Distribution(
                count=40,
                median=timing_seconds(metric, clock, split, scale=scale),
                p90=timing_seconds(metric, clock, split, scale=scale) * 3,
                mean=timing_seconds(metric, clock, split, scale=scale) * 1.5,
            ),
        )
        for metric in METRICS
        for clock in CLOCKS
        for split in SPLITS
    ]
    heatmap = [[(weekday * 24 + hour) % 7 for hour in range(24)] for weekday in range(7)]
    heatmap[0][10] = 42  # Monday 10:00, the busiest hour
    report = Report(
        filters=filters,
        timings=timings,
        response_rate=ResponseRate(needing_reply=80, replied=70, spam=5, hidden=3, no_reply_needed=9),
        sla=[
            SlaRow(
                conversation_kind="private_message",
                target_business_seconds=3600,
                total=40,
                met=30,
                breached=10,
            ),
            SlaRow(
                conversation_kind="public_comment", target_business_seconds=7200, total=20, met=19, breached=1
            ),
        ],
        sla_breaches=[
            SlaBreach(
                conversation_id=4242,
                conversation_kind="private_message",
                network="facebook",
                written_at=datetime(2026, 11, 6, 15, 30, tzinfo=UTC),
                due_at=datetime(2026, 11, 9, 8, 30, tzinfo=UTC),
                answered_at=datetime(2026, 11, 9, 11, 0, tzinfo=UTC),
                late_seconds=9000,
            ),
            SlaBreach(
                conversation_id=4243,
                conversation_kind="public_comment",
                network="x",
                written_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
                due_at=datetime(2026, 11, 20, 11, 0, tzinfo=UTC),
                answered_at=None,
                late_seconds=600,
            ),
        ],
        volume=[
            VolumeRow(
                day=date(2026, 11, 2),
                network="facebook",
                conversation_kind="private_message",
                conversations=3,
                messages=7,
            ),
            VolumeRow(
                day=date(2026, 11, 2), network="x", conversation_kind="mention", conversations=2, messages=2
            ),
            VolumeRow(
                day=date(2026, 11, 3),
                network="facebook",
                conversation_kind="public_comment",
                conversations=5,
                messages=9,
            ),
        ],
        heatmap=heatmap,
        backlog=Backlog(
            waiting=6, oldest_seconds=93600, age_buckets=[("< 1 h", 2), ("1–4 h", 3), ("> 1 d", 1)]
        ),
        opening_backlogs=[OpeningBacklog(opened_at=datetime(2026, 11, 9, 8, 0, tzinfo=UTC), waiting=11)],
        off_hours=OffHours(
            messages=18,
            off_hours_messages=6,
            answered_before_next_opening=2,
            off_hours_cycles=4,
            first_response_wall=Distribution(count=4, median=50400, p90=61200, mean=52000),
            first_response_business=Distribution(count=4, median=1800, p90=3600, mean=2000),
        ),
        publishing=[
            PublishingRow(network="facebook", posts=12, echoes=20, engagement_per_post=14.25),
            PublishingRow(network="bluesky", posts=4, echoes=0, engagement_per_post=None),
        ],
        best_hours=[BestHours(segment="Job seekers", slots=[(1, 19, 1.0), (3, 8, 0.82)])],
    )
    return replace(report, **fields)


def report_build_stub(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The pages' report_build answers with the hand-built report for whatever filters are asked
    (or the one put in `by_filters`), with the previous period's inside when asked to compare, as the
    real one does; `asked` records the filters of each report built, in order. The full list of
    breaches (the CSV's) is the report's own list."""
    asked: list[Filters] = []
    by_filters: dict[Filters, Report] = {}

    def build(filters: Filters, *, now=None, compare: bool = True) -> Report:
        asked.append(filters)
        report = by_filters.get(filters) or sample_report(filters)
        return replace(report, previous=build(filters.previous(), compare=False) if compare else None)

    def breaches(filters: Filters, *, now=None, limit=None):
        return (by_filters.get(filters) or sample_report(filters)).sla_breaches

    monkeypatch.setattr("metrics.views.report_build", build)
    monkeypatch.setattr("metrics.views.sla_breaches_list", breaches)
    return SimpleNamespace(asked=asked, by_filters=by_filters)
