"""The metrics benchmark's made-up desk (bench/metricsgen.py): its rows must be what inbox and
metrics.sla would have written, or the benchmark measures a desk that cannot exist."""

from collections import defaultdict
from datetime import timedelta

import pytest

from bench.metricsgen import END, MADRID, deliveries_generate, desk_generate, desk_load, desk_setup
from inbox.models import Conversation, Message, MessageDirection
from metrics.models import CareCycleFact, ReportingEvent, ReportingEventKind
from metrics.report_types import Filters
from metrics.reports import report_build
from metrics.rollups import rollups_rebuild
from scheduling.models import Delivery

CONVERSATIONS = 300


@pytest.fixture
def desk(db):
    return desk_setup(end=END, days=60)


@pytest.fixture
def loaded(desk):
    for chunk in desk_generate(desk, conversations=CONVERSATIONS, seed=3, chunk=120):
        desk_load(chunk)
    return desk


def events_by_cycle():
    cycles = defaultdict(list)
    for event in ReportingEvent.objects.order_by("occurred_at", "id"):
        cycles[(event.conversation_id, event.cycle)].append(event)
    return cycles


def test_every_cycle_opens_once_and_cycles_follow_each_other(loaded):
    cycles = events_by_cycle()
    assert Conversation.objects.count() == CONVERSATIONS
    for conversation in Conversation.objects.all():
        numbers = sorted(cycle for conversation_id, cycle in cycles if conversation_id == conversation.pk)
        assert numbers == list(range(1, conversation.cycle + 1))
    for (_conversation_id, cycle), events in cycles.items():
        openings = [e for e in events if e.kind in (ReportingEventKind.OPENED, ReportingEventKind.REOPENED)]
        assert [e.kind for e in openings] == [
            ReportingEventKind.OPENED if cycle == 1 else ReportingEventKind.REOPENED
        ]
        assert events[0] == openings[0]
        assert len([e for e in events if e.kind == ReportingEventKind.FIRST_RESPONSE]) <= 1


def test_spans_are_measured_as_the_desk_measures_them(loaded):
    calendar = loaded.calendar
    spans = ReportingEvent.objects.filter(started_at__isnull=False)
    assert spans.exists()
    for event in spans:
        assert event.wall_seconds == (event.occurred_at - event.started_at).total_seconds() >= 0
        assert event.business_seconds == calendar.business_seconds_between(
            event.started_at, event.occurred_at
        )
        assert event.started_in_office_hours == calendar.is_working_time(event.started_at)
        assert event.occurred_at < END


def test_answers_are_messages_and_the_state_matches_them(loaded):
    replies = ReportingEvent.objects.filter(kind=ReportingEventKind.REPLY).count()
    human_answers = Message.objects.filter(direction=MessageDirection.OUTBOUND, automated=False).count()
    assert 0 < replies <= human_answers
    assert Message.objects.filter(direction=MessageDirection.OUTBOUND, automated=True).exists()
    for conversation in Conversation.objects.all():
        inbound = (
            conversation.messages.filter(direction=MessageDirection.INBOUND).order_by("-created_at").first()
        )
        outbound = (
            conversation.messages.filter(direction=MessageDirection.OUTBOUND, automated=False)
            .order_by("-created_at")
            .first()
        )
        assert conversation.needs_reply == (outbound is None or inbound.created_at > outbound.created_at)


def test_breaches_are_only_where_the_due_time_passed_unanswered(loaded):
    cycles = events_by_cycle()
    breaches = ReportingEvent.objects.filter(kind=ReportingEventKind.SLA_BREACHED)
    assert breaches.exists()
    for breach in breaches:
        first = next(
            (
                e
                for e in cycles[(breach.conversation_id, breach.cycle)]
                if e.kind == ReportingEventKind.FIRST_RESPONSE
            ),
            None,
        )
        assert first is None or first.occurred_at > breach.occurred_at


def test_the_rollups_and_the_report_read_the_generated_desk(loaded):
    deliveries = deliveries_generate(loaded, seed=3)
    rollups_rebuild()

    assert CareCycleFact.objects.count() == len(events_by_cycle())
    assert Delivery.objects.filter(is_echo=True, echo_of__isnull=True).count() == 0
    last_day = END.astimezone(MADRID).date()
    first_day = (END - timedelta(days=60)).astimezone(MADRID).date()
    result = report_build(Filters(start=first_day, end=last_day), now=END, compare=False)
    rate = result.response_rate
    assert rate.needing_reply + rate.spam + rate.hidden + rate.no_reply_needed == CONVERSATIONS + sum(
        conversation.cycle - 1 for conversation in Conversation.objects.all()
    )
    assert 0.7 < rate.rate < 1
    assert sum(row.posts + row.echoes for row in result.publishing) == deliveries


def test_the_same_seed_makes_the_same_desk(desk):
    def rows(seed):
        return [
            (chunk.conversations, chunk.messages, chunk.events, chunk.tags)
            for chunk in desk_generate(desk, conversations=50, seed=seed)
        ]

    assert rows(9) == rows(9)
    assert rows(9) != rows(10)
