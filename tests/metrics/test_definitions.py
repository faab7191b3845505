"""The definitions the supervisor reads, pinned on hand-built timelines: what a first response, a
reply, a resolution and a care cycle are, who counts as answering, and how business time runs
across nights, weekends, holidays and both daylight-saving changes."""

import statistics
from datetime import date, time, timedelta

import pytest

from inbox.models import ReplyKind, Resolution
from inbox.services import conversation_mark_spam, reply_create
from metrics.models import CareCycleFact, TimingFact, TimingMetric
from socialdesk.models import WorkingInterval
from tests.inbox.helpers import citizen_writes, we_answer_on_the_network
from tests.metrics.helpers import answered, closed, hidden_comment, madrid, new_thread, refreshed, report

# Wednesday 25 November 2026, an ordinary working day (office 09:00–17:00).
DAY = date(2026, 11, 25)
AFTER = madrid(2026, 12, 1, 12)


def test_median_p90_and_mean_are_exact_on_known_spans(sandbox_channel, office_hours):
    spans = [60, 120, 180, 240, 3600]
    for n, seconds in enumerate(spans):
        answered(sandbox_channel, at=madrid(2026, 11, 25, 10, n), after=timedelta(seconds=seconds))
    refreshed(AFTER)

    result = report(DAY, DAY, now=AFTER)

    for clock in ("wall", "business"):
        first = result.timing("first_response", clock)
        # 180 in the middle; p90 sits 60 % of the way from 240 to 3600 (rank 3.6 of 0..4).
        assert (first.count, first.median, first.p90, first.mean) == (5, 180, 2256, 840)
        assert first.median == statistics.median(spans)
        assert first.p90 == pytest.approx(statistics.quantiles(spans, n=10, method="inclusive")[8])
        assert result.timing("first_response", clock, "office") == first
        assert result.timing("first_response", clock, "off").count == 0
        assert result.timing("reply", clock) == first  # one answer each: the reply is the first response


def test_a_reopen_starts_a_new_cycle_with_its_own_first_response(sandbox_channel, office_hours, manager):
    thread = new_thread()
    conversation = answered(
        sandbox_channel, at=madrid(2026, 11, 25, 10), after=timedelta(minutes=10), thread_key=thread
    )
    closed(conversation, by=manager, at=madrid(2026, 11, 25, 11))
    citizen_writes(sandbox_channel, "Otra cosa", thread_key=thread, at=madrid(2026, 11, 26, 10))
    we_answer_on_the_network(sandbox_channel, thread_key=thread, at=madrid(2026, 11, 26, 10, 30))
    refreshed(AFTER)

    cycles = list(CareCycleFact.objects.order_by("cycle").values_list("cycle", "day", "resolution"))
    assert cycles == [(1, DAY, "replied"), (2, date(2026, 11, 26), "")]
    result = report(DAY, date(2026, 11, 26), now=AFTER)
    first = result.timing("first_response", "wall")
    # 10 minutes in the first cycle, 30 in the second (from the reopening message, not the first).
    assert (first.count, sorted([first.median - 600, first.median + 600])) == (2, [600, 1800])
    resolution = result.timing("resolution", "wall")
    assert (resolution.count, resolution.median) == (1, 3600)
    assert (result.response_rate.needing_reply, result.response_rate.replied) == (2, 2)


def test_an_automation_is_no_response_but_the_person_after_it_is(sandbox_channel, office_hours):
    at = madrid(2026, 11, 25, 10)
    conversation = citizen_writes(sandbox_channel, thread_key="bot", at=at).conversation
    reply_create(
        conversation=conversation,
        author=None,
        text="Hemos recibido su mensaje.",
        kind=ReplyKind.PRIVATE,
        automated=True,
    )
    refreshed(AFTER)
    waiting = report(DAY, DAY, now=AFTER)
    assert waiting.timing("first_response", "wall").count == 0
    assert (waiting.response_rate.needing_reply, waiting.response_rate.replied) == (1, 0)

    we_answer_on_the_network(sandbox_channel, thread_key="bot", at=at + timedelta(hours=2))
    refreshed(AFTER)

    first = report(DAY, DAY, now=AFTER).timing("first_response", "wall")
    assert (first.count, first.median) == (1, 7200)


def test_a_reply_made_outside_socialdesk_counts_as_a_response(sandbox_channel, office_hours):
    answered(sandbox_channel, at=madrid(2026, 11, 25, 10), after=timedelta(minutes=25))
    refreshed(AFTER)

    result = report(DAY, DAY, now=AFTER)

    assert result.timing("first_response", "wall").median == 25 * 60
    assert result.response_rate.rate == 1.0


def test_reply_time_runs_from_the_oldest_unanswered_message(sandbox_channel, office_hours):
    thread = new_thread()
    answered(sandbox_channel, at=madrid(2026, 11, 25, 10), after=timedelta(minutes=5), thread_key=thread)
    citizen_writes(sandbox_channel, "¿Y el horario?", thread_key=thread, at=madrid(2026, 11, 25, 11))
    citizen_writes(sandbox_channel, "¿Hola?", thread_key=thread, at=madrid(2026, 11, 25, 11, 20))
    we_answer_on_the_network(sandbox_channel, thread_key=thread, at=madrid(2026, 11, 25, 12))
    refreshed(AFTER)

    reply = report(DAY, DAY, now=AFTER).timing("reply", "wall")

    assert (reply.count, reply.median, reply.p90) == (2, (300 + 3600) / 2, 300 + 0.9 * 3300)


@pytest.mark.parametrize(
    ("written", "answer", "wall", "business", "split"),
    [
        # Across the night: 16:30 → 09:30 next day is 17 hours, one of them working.
        (madrid(2026, 11, 24, 16, 30), madrid(2026, 11, 25, 9, 30), 17 * 3600, 3600, "office"),
        # Across the weekend: Friday 16:30 → Monday 09:30.
        (madrid(2026, 11, 27, 16, 30), madrid(2026, 11, 30, 9, 30), 65 * 3600, 3600, "office"),
        # Written on Saturday: nothing counts until Monday's opening.
        (madrid(2026, 11, 28, 12), madrid(2026, 11, 30, 10), 46 * 3600, 3600, "off"),
        # Across two holidays: Friday 9 October (Comunitat Valenciana) and Monday 12 October 2026.
        (madrid(2026, 10, 8, 16, 30), madrid(2026, 10, 13, 9, 30), 5 * 24 * 3600 - 7 * 3600, 3600, "office"),
    ],
    ids=["night", "weekend", "saturday", "holidays"],
)
def test_business_time_skips_nights_weekends_and_holidays(
    sandbox_channel, office_hours, written, answer, wall, business, split
):
    answered(sandbox_channel, at=written, after=answer - written)
    refreshed(AFTER)
    day = written.astimezone(madrid(2026, 1, 1).tzinfo).date()

    result = report(day - timedelta(days=1), day + timedelta(days=1), now=AFTER)

    assert result.timing("first_response", "wall", split).median == wall
    assert result.timing("first_response", "business", split).median == business
    assert result.timing("first_response", "wall", "all").count == 1


@pytest.mark.parametrize(
    ("sunday", "hours"),
    [(date(2026, 3, 29), 5), (date(2026, 10, 25), 7)],
    ids=["spring-forward", "fall-back"],
)
def test_business_time_across_both_daylight_saving_changes(sandbox_channel, sunday, hours):
    """A night shift on Sundays 00:00–06:00: the night clocks go forward it lasts five real hours,
    the night they go back seven, and a span across it measures exactly that."""
    WorkingInterval.objects.create(weekday=6, starts_at=time(0), ends_at=time(6))
    answered(
        sandbox_channel,
        at=madrid(sunday.year, sunday.month, sunday.day, 0),
        after=madrid(sunday.year, sunday.month, sunday.day, 6)
        - madrid(sunday.year, sunday.month, sunday.day, 0),
    )
    refreshed(AFTER)

    result = report(sunday, sunday, now=AFTER)

    assert result.timing("first_response", "wall").median == hours * 3600
    assert result.timing("first_response", "business", "office").median == hours * 3600


def test_a_message_late_at_night_belongs_to_its_local_day(sandbox_channel, office_hours):
    # 23:30 in Madrid on 25 November is 22:30 UTC: still the 25th here.
    answered(sandbox_channel, at=madrid(2026, 11, 25, 23, 30), after=timedelta(hours=10))
    refreshed(AFTER)

    assert report(DAY, DAY, now=AFTER).timing("first_response", "wall", "off").count == 1
    assert (
        report(DAY + timedelta(days=1), DAY + timedelta(days=1), now=AFTER)
        .timing("first_response", "wall")
        .count
        == 0
    )


def test_spam_hidden_and_no_reply_needed_are_counted_apart(
    sandbox_channel, sandbox_account, office_hours, manager
):
    at = madrid(2026, 11, 25, 10)
    answered(sandbox_channel, at=at, after=timedelta(minutes=10))
    citizen_writes(sandbox_channel, thread_key="unanswered", at=at)
    spam = citizen_writes(sandbox_channel, thread_key="spam", at=at).conversation
    conversation_mark_spam(conversation=spam, spam=True)
    thanks = citizen_writes(sandbox_channel, "¡Gracias!", thread_key="thanks", at=at).conversation
    closed(thanks, by=manager, at=at + timedelta(minutes=1), resolution=Resolution.NO_REPLY_NEEDED)
    hidden_comment(sandbox_channel, sandbox_account, at=at, by=manager)
    refreshed(AFTER)

    rate = report(DAY, DAY, now=AFTER).response_rate

    assert (rate.needing_reply, rate.replied, rate.spam, rate.hidden, rate.no_reply_needed) == (2, 1, 1, 1, 1)
    assert rate.rate == 0.5
    # Their spans do not count either.
    assert TimingFact.objects.filter(metric=TimingMetric.RESOLUTION).count() == 0
