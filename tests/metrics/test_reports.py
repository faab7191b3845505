"""report_build on hand-built desks: volume and heatmap, off-hours coverage, the backlog now and
at each opening, filters, the comparison period, publishing and best hours, and percentiles that
stay exact however a period falls across months."""

import statistics
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox.services import conversation_mark_spam, conversation_tag
from metrics import reports
from metrics.report_types import Filters
from metrics.reports import report_build
from metrics.rollups import rollups_rebuild
from networks.base import InboundKind
from scheduling.models import AudienceSegment, Delivery, DeliveryMetrics, DeliveryState, Post
from tests.inbox.helpers import citizen_writes, we_answer_on_the_network
from tests.metrics.helpers import MADRID, answered, madrid, measured_cycle, new_thread, refreshed, report
from tests.networks.fixtures import make_sandbox_channel

NOW = madrid(2026, 12, 2, 12)


def test_volume_and_heatmap_count_citizens_messages_by_local_day_and_hour(sandbox_channel, office_hours):
    monday = madrid(2026, 11, 23, 10, 15)
    citizen_writes(sandbox_channel, thread_key="a", at=monday)
    citizen_writes(sandbox_channel, "¿Hola?", thread_key="a", at=monday + timedelta(minutes=5))
    citizen_writes(sandbox_channel, thread_key="b", kind=InboundKind.MENTION, at=monday)
    # Sunday 23:30 in Madrid (22:30 UTC) is Sunday's last hour here.
    citizen_writes(sandbox_channel, thread_key="c", at=madrid(2026, 11, 29, 23, 30))
    we_answer_on_the_network(
        sandbox_channel, thread_key="a", at=monday + timedelta(hours=1)
    )  # not a citizen's
    refreshed(NOW)

    result = report(date(2026, 11, 23), date(2026, 11, 29), now=NOW)

    assert [(row.day, row.conversation_kind, row.conversations, row.messages) for row in result.volume] == [
        (date(2026, 11, 23), "mention", 1, 1),
        (date(2026, 11, 23), "private_message", 1, 2),
        (date(2026, 11, 29), "private_message", 1, 1),
    ]
    assert {row.network for row in result.volume} == {"sandbox"}
    assert result.heatmap[0][10] == 3
    assert result.heatmap[6][23] == 1
    assert sum(map(sum, result.heatmap)) == 4


def test_off_hours_coverage(sandbox_channel, office_hours):
    saturday = madrid(2026, 11, 28, 12)
    answered(sandbox_channel, at=saturday, after=timedelta(hours=1))  # from the phone, before Monday
    answered(sandbox_channel, at=saturday, after=madrid(2026, 11, 30, 10) - saturday)  # on Monday
    answered(sandbox_channel, at=madrid(2026, 11, 25, 10), after=timedelta(minutes=20))  # in office hours
    refreshed(NOW)

    off_hours = report(date(2026, 11, 23), date(2026, 11, 29), now=NOW).off_hours

    assert (off_hours.messages, off_hours.off_hours_messages) == (3, 2)
    assert (off_hours.off_hours_cycles, off_hours.answered_before_next_opening) == (2, 1)
    assert off_hours.answered_before_opening_share == 0.5
    assert off_hours.first_response_wall.count == 2
    assert off_hours.first_response_wall.median == (3600 + 46 * 3600) / 2
    assert off_hours.first_response_business.median == (0 + 3600) / 2


def test_the_backlog_now_and_its_age(sandbox_channel, office_hours):
    citizen_writes(sandbox_channel, thread_key="fresh", at=NOW - timedelta(minutes=30))
    citizen_writes(sandbox_channel, thread_key="hours", at=NOW - timedelta(hours=2))
    citizen_writes(sandbox_channel, thread_key="days", at=NOW - timedelta(days=5))
    answered(sandbox_channel, at=NOW - timedelta(hours=3), after=timedelta(minutes=10))
    spam = citizen_writes(sandbox_channel, thread_key="spam", at=NOW - timedelta(days=9)).conversation
    conversation_mark_spam(conversation=spam, spam=True)
    refreshed(NOW)

    backlog = report(date(2026, 12, 1), date(2026, 12, 2), now=NOW).backlog

    assert backlog.waiting == 3
    assert backlog.oldest_seconds == 5 * 86400
    assert [count for _label, count in backlog.age_buckets] == [1, 1, 0, 0, 1]
    assert backlog.age_buckets[0][0] == "< 1 h"


def test_the_backlog_found_at_each_opening_after_a_weekend_or_holiday(sandbox_channel, office_hours):
    # Before the weekend of 28–29 November 2026; the desk opens on Monday 30 at 09:00.
    answered(
        sandbox_channel,
        at=madrid(2026, 11, 27, 16),
        after=madrid(2026, 11, 30, 10) - madrid(2026, 11, 27, 16),
    )
    answered(sandbox_channel, at=madrid(2026, 11, 28, 11), after=timedelta(hours=1))  # answered on Saturday
    citizen_writes(sandbox_channel, thread_key="sunday", at=madrid(2026, 11, 29, 18))  # still waiting
    # Answered on Friday, then written to again on Saturday and still waiting now.
    again = new_thread()
    answered(sandbox_channel, at=madrid(2026, 11, 27, 10), after=timedelta(minutes=5), thread_key=again)
    citizen_writes(sandbox_channel, "¿Y?", thread_key=again, at=madrid(2026, 11, 28, 9))
    refreshed(NOW)

    result = report(date(2026, 11, 23), date(2026, 12, 2), now=NOW)

    assert [(o.opened_at, o.waiting) for o in result.opening_backlogs] == [
        (madrid(2026, 11, 23, 9), 0),
        (madrid(2026, 11, 30, 9), 3),
    ]


def test_long_waits_at_openings_after_holidays(sandbox_channel, office_hours):
    """Waits longer than three days are counted apart (bisection over the few of them): one
    answered after the holidays, one never answered, and one that ended before the second opening."""
    # Friday 9 and Monday 12 October 2026 are holidays: the desk opens again on Tuesday 13.
    thursday = madrid(2026, 10, 8, 16, 30)
    answered(sandbox_channel, at=thursday, after=madrid(2026, 10, 13, 10) - thursday)
    citizen_writes(sandbox_channel, thread_key="forgotten", at=thursday)
    wednesday = madrid(2026, 9, 30, 10)
    answered(sandbox_channel, at=wednesday, after=madrid(2026, 10, 6, 10) - wednesday)
    refreshed(NOW)

    openings = report(date(2026, 10, 5), date(2026, 10, 14), now=NOW).opening_backlogs

    assert [(o.opened_at, o.waiting) for o in openings] == [
        (madrid(2026, 10, 5, 9), 1),
        (madrid(2026, 10, 13, 9), 2),
    ]


def test_openings_are_the_first_working_moments_after_a_day_without_any(db):
    """Against the definition, day by day, over a year with two working windows on some days,
    public holidays, a closed day and both daylight-saving changes."""
    from metrics.reports import openings_between
    from metrics.rollups import rollup_context
    from socialdesk.demo import DEFAULT_WORKING_HOURS
    from socialdesk.models import ClosedDay, WorkingInterval

    WorkingInterval.objects.bulk_create(
        WorkingInterval(weekday=w, starts_at=a, ends_at=b) for w, a, b in DEFAULT_WORKING_HOURS
    )
    ClosedDay.objects.create(date=date(2026, 7, 15), name="Cierre")
    context = rollup_context()
    calendar = context.calendar
    expected = []
    day = date(2026, 1, 1)
    while day <= date(2026, 12, 31):
        opening = calendar.next_working_start(context.day_start(day))
        day_before = calendar.business_seconds_between(
            context.day_start(day - timedelta(days=1)), context.day_start(day)
        )
        if opening < context.day_start(day + timedelta(days=1)) and not day_before:
            expected.append(opening)
        day += timedelta(days=1)

    openings = openings_between(context, date(2026, 1, 1), date(2026, 12, 31), now=madrid(2027, 1, 1))

    assert openings == expected
    assert madrid(2026, 7, 16, 8) in openings  # the day after the closed day
    assert openings_between(context, date(2026, 1, 1), date(2026, 12, 31), now=madrid(2026, 3, 1)) == [
        moment for moment in expected if moment <= madrid(2026, 3, 1)
    ]


def test_filters_by_network_channel_and_tag(sandbox_channel, office_hours):
    _account, other = make_sandbox_channel(handle="otra", name="Otra")
    at = madrid(2026, 11, 25, 10)
    tagged = answered(sandbox_channel, at=at, after=timedelta(minutes=10))
    conversation_tag(conversation=tagged, name="cursos")
    answered(sandbox_channel, at=at, after=timedelta(minutes=20))
    answered(other, at=at, after=timedelta(minutes=40))
    refreshed(NOW)
    day = date(2026, 11, 25)

    def first_response(**filters):
        return report(day, day, now=NOW, **filters).timing("first_response", "wall")

    assert (first_response().count, first_response(network="sandbox").count) == (3, 3)
    assert first_response(network="x").count == 0
    other_channel = first_response(channel_id=other.pk)
    assert (other_channel.count, other_channel.median) == (1, 2400)
    tag = tagged.tags.get().pk
    by_tag = report(day, day, now=NOW, tag_id=tag)
    assert (by_tag.timing("first_response", "wall").median, by_tag.response_rate.needing_reply) == (600, 1)
    assert [(row.conversations, row.messages) for row in by_tag.volume] == [(1, 1)]
    assert by_tag.heatmap[2][10] == 1
    assert report(day, day, now=NOW, channel_id=other.pk).backlog.waiting == 0


def test_the_previous_period_for_comparison(sandbox_channel, office_hours):
    answered(sandbox_channel, at=madrid(2026, 11, 18, 10), after=timedelta(minutes=10))
    answered(sandbox_channel, at=madrid(2026, 11, 25, 10), after=timedelta(minutes=30))
    answered(sandbox_channel, at=madrid(2026, 11, 26, 10), after=timedelta(minutes=50))
    refreshed(NOW)

    result = report_build(Filters(start=date(2026, 11, 23), end=date(2026, 11, 29)), now=NOW)

    assert result.previous.filters == Filters(start=date(2026, 11, 16), end=date(2026, 11, 22))
    assert result.timing("first_response", "wall").median == 40 * 60
    assert result.previous.timing("first_response", "wall").median == 10 * 60
    assert result.previous.response_rate.needing_reply == 1
    assert result.previous.previous is None
    assert (result.previous.opening_backlogs, result.previous.sla_breaches, result.previous.publishing) == (
        [],
        [],
        [],
    )
    assert [(row.day, row.network, row.conversations, row.messages) for row in result.previous.volume] == [
        (date(2026, 11, 18), "", 1, 1)
    ]
    assert (
        report_build(
            Filters(start=date(2026, 11, 23), end=date(2026, 11, 29)), now=NOW, compare=False
        ).previous
        is None
    )


def test_publishing_per_network(sandbox_channel, office_hours):
    post = Post.objects.create(text="Cursos gratuitos")
    published = madrid(2026, 11, 25, 10)

    def delivery(**more):
        fields = {"state": DeliveryState.PUBLISHED, "published_at": published, **more}
        return Delivery.objects.create(
            post=post,
            channel=sandbox_channel,
            text=post.text,
            scheduled_at=published,
            due_at=published,
            **fields,
        )

    live = delivery(external_id="p-1")
    echo = delivery(external_id="p-2", is_echo=True, echo_of=live)
    delivery(external_id="p-3", state=DeliveryState.FAILED)
    for item, engagement in ((live, 30), (echo, 10)):
        DeliveryMetrics.objects.create(delivery=item, likes=engagement, engagement=engagement, fetched_at=NOW)
    refreshed(NOW)

    rows = report(date(2026, 11, 25), date(2026, 11, 25), now=NOW).publishing

    assert [(row.network, row.posts, row.echoes, row.engagement_per_post) for row in rows] == [
        ("sandbox", 1, 1, 20.0)
    ]


def test_best_hours_per_segment_from_the_activity_model_or_the_priors(sandbox_channel, monkeypatch):
    refreshed(NOW)
    segment = AudienceSegment.objects.filter(is_active=True).first()

    learned = next(
        row
        for row in report(date(2026, 12, 1), date(2026, 12, 1), now=NOW).best_hours
        if row.segment == segment.name
    )
    assert 1 <= len(learned.slots) <= 5
    assert learned.slots[0][2] == 1.0
    assert [slot[2] for slot in learned.slots] == sorted((slot[2] for slot in learned.slots), reverse=True)

    cache.clear()
    monkeypatch.setattr(reports, "activity_week", None)
    fallback = next(
        row
        for row in report(date(2026, 12, 1), date(2026, 12, 1), now=NOW).best_hours
        if row.segment == segment.name
    )
    best_prior = max(max(day) for day in segment.priors)
    expected = sorted(
        ((d, h, w / best_prior) for d, day in enumerate(segment.priors) for h, w in enumerate(day)),
        key=lambda slot: (-slot[2], slot[0], slot[1]),
    )[:5]
    assert (fallback.slots, fallback.is_learned) == (expected, False)


def test_a_report_takes_the_same_few_queries_however_much_data(
    sandbox_channel, office_hours, django_assert_max_num_queries
):
    for n in range(30):
        answered(sandbox_channel, at=madrid(2026, 11, 2 + n % 28, 10), after=timedelta(minutes=n + 1))
    refreshed(NOW)

    with django_assert_max_num_queries(45):
        report_build(Filters(start=date(2026, 1, 1), end=date(2026, 12, 31)), now=NOW)


# --- Percentiles stay exact across months ------------------------------------------------------

_examples = iter(range(1, 10**6))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    durations=st.lists(
        st.one_of(st.integers(1, 600), st.integers(600, 10**6), st.floats(0, 10**7, allow_nan=False)),
        min_size=1,
        max_size=40,
    ),
    start_day=st.integers(0, 40),
    length=st.integers(1, 120),
)
def test_percentiles_are_exact_whatever_months_the_period_covers(db, durations, start_day, length):
    """Whole months are read from the histograms and the rest from the facts: the figures are the
    exact median, 90th percentile and mean of the spans either way (and with a filter, which reads
    the facts only)."""
    year = 2000 + next(_examples)  # a year of its own for each example
    first = date(year, 1, 1) + timedelta(days=start_day)
    period = [first + timedelta(days=n) for n in range(length)]
    for n, seconds in enumerate(durations):
        day = period[(n * 7) % length]
        measured_cycle(
            written=datetime(day.year, day.month, day.day, 10, tzinfo=MADRID).astimezone(UTC),
            answered_after=seconds,
        )
    rollups_rebuild(now=datetime(year + 1, 1, 1, tzinfo=UTC))

    for network in ("", "sandbox"):
        first_response = report_build(
            Filters(start=period[0], end=period[-1], network=network), now=NOW, compare=False
        ).timing("first_response", "wall")
        ordered = sorted(durations)
        assert first_response.count == len(durations)
        assert first_response.median == pytest.approx(statistics.median(ordered), abs=1e-6)
        expected_p90 = (
            statistics.quantiles(ordered, n=10, method="inclusive")[8] if len(ordered) > 1 else ordered[0]
        )
        assert first_response.p90 == pytest.approx(expected_p90, abs=1e-6)
        assert first_response.mean == pytest.approx(statistics.fmean(ordered), rel=1e-9)


def test_histograms_that_disagree_with_the_facts_do_not_change_a_figure(db):
    from metrics.models import TimingHistogram

    spans = [30, 90, 600, 4000, 7200, 90_000]
    for n, seconds in enumerate(spans):
        measured_cycle(written=madrid(2026, 3, 2 + n, 10), answered_after=seconds)
    rollups_rebuild(now=NOW)
    # A bucket said to hold far more spans than it does: the ranks it points at are not there.
    row = (
        TimingHistogram.objects.filter(month=date(2026, 3, 1), clock="wall", metric=1)
        .order_by("bucket")
        .first()
    )
    TimingHistogram.objects.filter(pk=row.pk).update(count=row.count + 100)

    first = report_build(
        Filters(start=date(2026, 3, 1), end=date(2026, 3, 31)), now=NOW, compare=False
    ).timing("first_response", "wall")

    assert (first.count, first.median, first.mean) == (6, (600 + 4000) / 2, statistics.fmean(spans))
