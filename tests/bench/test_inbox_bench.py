"""The inbox benchmark's generated desk and webhook deliveries: the bench is only as honest as these."""

import json
import re
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.models import Count, Max, Min

from bench.bench_inbox import deliveries
from bench.inboxgen import PAGE_ID, Scale, inbox_generate
from inbox.models import Contact, Conversation, ConversationStatus, Identity, Message, MessageDirection
from inbox.selectors import queue_page
from networks.facebook import normalize_webhook_entry

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
TINY = Scale(messages=200, conversations=40, contacts=30)


@pytest.fixture
def tiny_desk(db, manager):
    return inbox_generate(scale=TINY, now=NOW, assignee_id=manager.pk)


def _orphans(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_the_asked_numbers_of_rows_are_loaded(tiny_desk):
    assert (tiny_desk.messages, tiny_desk.conversations, tiny_desk.contacts) == (200, 40, 30)
    assert Message.objects.count() == 200
    assert Conversation.objects.count() == 40
    assert Contact.objects.count() == 30
    assert Identity.objects.count() == tiny_desk.identities >= 30
    per_conversation = Conversation.objects.annotate(n=Count("messages")).values_list("n", flat=True)
    assert min(per_conversation) >= 1 and sum(per_conversation) == 200


@pytest.mark.postgres
def test_every_foreign_key_points_at_a_row(tiny_desk):
    # The COPY may skip the row-by-row checks: look for dangling ids instead.
    assert (
        _orphans(
            "SELECT COUNT(*) FROM inbox_message m LEFT JOIN inbox_conversation c ON c.id = m.conversation_id "
            "WHERE c.id IS NULL"
        )
        == 0
    )
    assert (
        _orphans(
            "SELECT COUNT(*) FROM inbox_message m LEFT JOIN inbox_identity i ON i.id = m.author_id "
            "WHERE m.author_id IS NOT NULL AND i.id IS NULL"
        )
        == 0
    )
    assert (
        _orphans(
            "SELECT COUNT(*) FROM inbox_conversation c LEFT JOIN inbox_contact p ON p.id = c.contact_id "
            "WHERE p.id IS NULL"
        )
        == 0
    )
    assert (
        _orphans(
            "SELECT COUNT(*) FROM inbox_identity i LEFT JOIN inbox_contact p ON p.id = i.contact_id WHERE p.id IS NULL"
        )
        == 0
    )
    assert (
        _orphans(
            "SELECT COUNT(*) FROM inbox_conversation_tags t LEFT JOIN inbox_conversation c ON c.id = t.conversation_id "
            "WHERE c.id IS NULL"
        )
        == 0
    )


@pytest.mark.postgres
def test_messages_and_their_conversation_agree(tiny_desk):
    for conversation in Conversation.objects.all():
        messages = list(conversation.messages.order_by("created_at", "id"))
        inbound = [message for message in messages if message.direction == MessageDirection.INBOUND]
        answers = [m for m in messages if m.direction == MessageDirection.OUTBOUND and not m.automated]
        assert messages[0].direction == MessageDirection.INBOUND
        assert conversation.last_message_at == messages[-1].created_at
        assert conversation.last_inbound_at == inbound[-1].created_at
        assert conversation.last_outbound_at == (answers[-1].created_at if answers else None)
        assert conversation.needs_reply == (not answers or inbound[-1].created_at > answers[-1].created_at)
        assert conversation.preview == inbound[-1].text[:280]
        assert {message.author.contact_id for message in inbound} == {conversation.contact_id}
        assert {message.channel_id for message in messages} == {conversation.channel_id}
        if conversation.status == ConversationStatus.CLOSED:
            assert conversation.closed_at is not None and conversation.awaiting_since is None


@pytest.mark.postgres
def test_the_needs_reply_queue_and_search_read_the_generated_desk(tiny_desk, manager):
    shown = {conversation.pk for conversation in queue_page(user=manager).object_list}
    waiting = Conversation.objects.filter(status=ConversationStatus.OPEN, needs_reply=True, spam=False)
    assert shown == set(waiting.values_list("pk", flat=True))
    # A word some citizen wrote, searched the way the manager searches: Spanish full text.
    message = Message.objects.filter(direction=MessageDirection.INBOUND, language="es").first()
    word = max(re.findall(r"\w+", message.text), key=len)
    found = {conversation.pk for conversation in queue_page(user=manager, view="all", q=word).object_list}
    assert message.conversation_id in found


@pytest.mark.postgres
def test_the_dropped_indexes_are_back_and_new_rows_get_fresh_ids(tiny_desk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'message_search_vector_idx'")
        assert "gin (search_vector)" in cursor.fetchone()[0]
    highest = Contact.objects.aggregate(Max("id"))["id__max"]
    assert Contact.objects.create(display_name="Nueva").pk > highest


@pytest.mark.postgres
def test_three_years_of_conversations_mostly_closed(db):
    inbox_generate(scale=Scale(messages=3000, conversations=600, contacts=450), now=NOW)
    span = Message.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    statuses = Counter(Conversation.objects.values_list("status", flat=True))
    assert (NOW - span["first"]).days > 2 * 365 and span["last"] < NOW
    assert statuses[ConversationStatus.CLOSED] > 0.8 * 600
    assert 0 < statuses[ConversationStatus.OPEN] < 0.1 * 600
    assert set(Message.objects.values_list("language", flat=True)) == {"es", "ca", ""}


def test_a_tenth_of_the_deliveries_are_repeats_of_the_same_bytes():
    batch = deliveries(PAGE_ID, 1000, duplicate_share=0.1, seed=3)
    bodies = Counter(delivery.body for delivery in batch)

    assert len(batch) == 1000
    assert len({delivery.external_id for delivery in batch}) == len(bodies) == 900
    assert sum(copies - 1 for copies in bodies.values()) == 100


def test_each_delivery_is_one_message_meta_would_send():
    for delivery in deliveries(PAGE_ID, 200, duplicate_share=0, seed=5):
        payload = json.loads(delivery.body)
        (entry,) = payload["entry"]
        messages = normalize_webhook_entry(entry)
        assert (payload["object"], entry["id"]) == ("page", PAGE_ID)
        assert [message.external_id for message in messages] == [delivery.external_id]
        assert not messages[0].is_from_us and messages[0].text
