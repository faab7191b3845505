"""metrics.ReportingEvent is written when things happen, with wall-clock and business seconds."""

from datetime import UTC, datetime, time, timedelta

import pytest

from inbox.models import Resolution
from inbox.services import conversation_close, conversation_reopen
from metrics.models import AppendOnlyError, ReportingEvent, ReportingEventKind
from socialdesk.models import WorkingInterval
from tests.inbox.helpers import citizen_writes, fresh, we_answer_on_the_network

# Wednesday 25 November 2026, Madrid is UTC+1: 13:00 local is 12:00 UTC.
WEDNESDAY_1300 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def office_hours(db):
    """Monday to Friday, 09:00–14:00 in Europe/Madrid."""
    WorkingInterval.objects.bulk_create(
        WorkingInterval(weekday=day, starts_at=time(9), ends_at=time(14)) for day in range(5)
    )


def kinds(conversation) -> list[tuple[str, int]]:
    return list(
        ReportingEvent.objects.filter(conversation_id=conversation.pk)
        .order_by("id")
        .values_list("kind", "cycle")
    )


def test_a_citizens_first_message_opens_the_conversation(sandbox_channel, office_hours):
    message = citizen_writes(sandbox_channel, at=WEDNESDAY_1300)

    event = ReportingEvent.objects.get()
    assert event.kind == ReportingEventKind.OPENED
    assert (event.conversation_id, event.channel_id, event.network) == (
        message.conversation_id,
        sandbox_channel.pk,
        "sandbox",
    )
    assert event.occurred_at == WEDNESDAY_1300
    assert event.in_office_hours is True
    assert event.wall_seconds is None and event.business_seconds is None
    # A second message in the same cycle opens nothing new.
    citizen_writes(sandbox_channel, "¿Hola?", at=WEDNESDAY_1300 + timedelta(minutes=5))
    assert ReportingEvent.objects.count() == 1


def test_a_reply_seen_on_the_network_is_a_response_with_business_seconds(sandbox_channel, office_hours):
    conversation = citizen_writes(sandbox_channel, at=WEDNESDAY_1300).conversation
    citizen_writes(sandbox_channel, "¿Alguien?", at=WEDNESDAY_1300 + timedelta(minutes=30))

    # 15:00 in Madrid: two hours later, one of them in office hours (the office closes at 14:00).
    we_answer_on_the_network(sandbox_channel, at=WEDNESDAY_1300 + timedelta(hours=2))

    first, reply = ReportingEvent.objects.filter(
        kind__in=[ReportingEventKind.FIRST_RESPONSE, ReportingEventKind.REPLY]
    ).order_by("id")
    assert first.kind == ReportingEventKind.FIRST_RESPONSE
    assert (first.wall_seconds, first.business_seconds) == (7200, 3600)
    assert first.started_at == WEDNESDAY_1300
    assert first.source == "network" and first.actor is None
    assert first.in_office_hours is False
    # Reply time runs from the oldest unanswered message, which is the first one here too.
    assert (reply.kind, reply.wall_seconds, reply.business_seconds) == (ReportingEventKind.REPLY, 7200, 3600)
    assert fresh(conversation).awaiting_since is None


def test_a_second_reply_is_a_reply_but_not_a_first_response(sandbox_channel, office_hours):
    conversation = citizen_writes(sandbox_channel, at=WEDNESDAY_1300).conversation
    we_answer_on_the_network(sandbox_channel, at=WEDNESDAY_1300 + timedelta(minutes=10))
    citizen_writes(sandbox_channel, "Gracias, ¿y el horario?", at=WEDNESDAY_1300 + timedelta(minutes=20))
    we_answer_on_the_network(sandbox_channel, "De 9 a 14.", at=WEDNESDAY_1300 + timedelta(minutes=50))
    # Our follow-up with nothing unanswered is no response to anything.
    we_answer_on_the_network(sandbox_channel, "¡Buen día!", at=WEDNESDAY_1300 + timedelta(minutes=51))

    assert kinds(conversation) == [
        ("opened", 1),
        ("first_response", 1),
        ("reply", 1),
        ("reply", 1),
    ]
    last_reply = ReportingEvent.objects.filter(kind=ReportingEventKind.REPLY).last()
    assert last_reply.wall_seconds == 30 * 60


def test_an_automation_is_not_a_response(sandbox_channel, office_hours, manager):
    from inbox.models import ReplyKind
    from inbox.services import reply_create

    conversation = citizen_writes(sandbox_channel).conversation

    reply_create(
        conversation=conversation,
        author=None,
        text="Hemos recibido su mensaje.",
        kind=ReplyKind.PRIVATE,
        automated=True,
    )

    conversation = fresh(conversation)
    assert kinds(conversation) == [("opened", 1)]
    assert conversation.needs_reply is True  # still waiting for a person
    assert conversation.awaiting_since is not None


def test_a_reopen_starts_a_new_care_cycle(sandbox_channel, office_hours, manager):
    conversation = citizen_writes(sandbox_channel, at=WEDNESDAY_1300).conversation
    we_answer_on_the_network(sandbox_channel, at=WEDNESDAY_1300 + timedelta(minutes=10))
    conversation_close(conversation=conversation, actor=manager, resolution=Resolution.REPLIED)

    citizen_writes(sandbox_channel, "Otra pregunta", at=WEDNESDAY_1300 + timedelta(days=1))
    we_answer_on_the_network(sandbox_channel, at=WEDNESDAY_1300 + timedelta(days=1, minutes=5))

    assert kinds(conversation) == [
        ("opened", 1),
        ("first_response", 1),
        ("reply", 1),
        ("resolved", 1),
        ("reopened", 2),
        ("first_response", 2),
        ("reply", 2),
    ]
    second_first = ReportingEvent.objects.filter(kind=ReportingEventKind.FIRST_RESPONSE, cycle=2).get()
    assert second_first.wall_seconds == 5 * 60  # from the reopening message, not the first cycle
    resolved = ReportingEvent.objects.get(kind=ReportingEventKind.RESOLVED)
    assert resolved.actor == manager
    assert resolved.details == {"resolution": "replied"}
    assert resolved.started_at == WEDNESDAY_1300
    conversation = fresh(conversation)
    assert (conversation.cycle, conversation.status, conversation.resolution) == (2, "waiting", "")


def test_the_manager_reopening_starts_a_new_cycle_too(sandbox_channel, manager):
    conversation = citizen_writes(sandbox_channel).conversation
    conversation_close(conversation=conversation, actor=manager, resolution=Resolution.NO_REPLY_NEEDED)

    conversation_reopen(conversation=conversation, actor=manager)

    assert kinds(conversation) == [("opened", 1), ("resolved", 1), ("reopened", 2)]
    assert fresh(conversation).status == "open"


def test_reporting_events_are_append_only(sandbox_channel):
    citizen_writes(sandbox_channel)
    event = ReportingEvent.objects.get()

    event.kind = ReportingEventKind.REPLY
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
