"""message_ingest: an upsert by (channel, external_id), threading, identities, reopening."""

from datetime import timedelta

from django.utils import timezone

from inbox.models import Contact, Conversation, ConversationStatus, Identity, Message, MessageDirection
from inbox.selectors import conversations_needing_reply_count
from inbox.services import message_ingest
from networks.base import InboundKind
from tests.networks.fixtures import inbound, make_sandbox_channel


def test_a_new_message_starts_a_conversation_with_a_contact(sandbox_channel):
    message = message_ingest(channel=sandbox_channel, inbound=inbound(about_post="post-9"))

    conversation = message.conversation
    assert message.direction == MessageDirection.INBOUND
    assert message.text == "Hola, ¿cómo pido cita previa?"
    assert message.raw == {"id": "m-1", "text": "Hola, ¿cómo pido cita previa?"}
    assert (conversation.channel, conversation.thread_key) == (sandbox_channel, "t-1")
    assert conversation.kind == InboundKind.PRIVATE_MESSAGE
    assert conversation.about_post == "post-9"
    assert conversation.status == ConversationStatus.OPEN
    assert conversation.needs_reply is True
    assert conversation.last_message_at == conversation.last_inbound_at == message.created_at
    identity = message.author
    assert (identity.network, identity.external_id, identity.handle) == ("sandbox", "citizen-1", "lucia")
    assert conversation.contact == identity.contact
    assert identity.contact.display_name == "Lucía Moreno"


def test_a_redelivery_changes_nothing(sandbox_channel, django_assert_num_queries):
    first = message_ingest(channel=sandbox_channel, inbound=inbound())
    snapshot = (
        list(Message.objects.values()),
        list(Conversation.objects.values()),
        list(Identity.objects.values()),
    )

    # One locked read inside a savepoint: no write at all.
    with django_assert_num_queries(3):
        again = message_ingest(channel=sandbox_channel, inbound=inbound())

    assert again.pk == first.pk
    assert snapshot == (
        list(Message.objects.values()),
        list(Conversation.objects.values()),
        list(Identity.objects.values()),
    )


def test_the_same_id_on_another_channel_is_another_message(db):
    _, one = make_sandbox_channel("uno")
    _, two = make_sandbox_channel("dos")
    message_ingest(channel=one, inbound=inbound())
    message_ingest(channel=two, inbound=inbound())
    assert Message.objects.count() == 2
    assert Conversation.objects.count() == 2
    assert Identity.objects.count() == 1  # the same citizen on the same network


def test_an_edit_updates_the_text_and_says_so(sandbox_channel):
    message_ingest(channel=sandbox_channel, inbound=inbound())

    edited = message_ingest(
        channel=sandbox_channel, inbound=inbound(text="Hola, ¿cómo cambio la cita previa?")
    )

    assert Message.objects.count() == 1
    assert edited.text == "Hola, ¿cómo cambio la cita previa?"
    assert edited.edited is True
    assert edited.edited_at is not None
    assert Message.objects.get().raw["text"] == "Hola, ¿cómo cambio la cita previa?"


def test_a_deletion_is_recorded_and_a_later_redelivery_does_not_undo_it(sandbox_channel):
    message_ingest(channel=sandbox_channel, inbound=inbound())
    message_ingest(channel=sandbox_channel, inbound=inbound(deleted=True))
    message_ingest(channel=sandbox_channel, inbound=inbound(deleted=True))

    message = Message.objects.get()
    assert message.deleted is True
    assert message.deleted_at is not None
    assert message.text == "Hola, ¿cómo pido cita previa?"


def test_messages_with_the_same_thread_key_share_a_conversation(sandbox_channel):
    message_ingest(channel=sandbox_channel, inbound=inbound("m-1"))
    message_ingest(channel=sandbox_channel, inbound=inbound("m-2", text="¿Hola?"))
    message_ingest(channel=sandbox_channel, inbound=inbound("m-3", thread_key="t-2", author_id="citizen-2"))

    assert Conversation.objects.count() == 2
    assert Conversation.objects.get(thread_key="t-1").messages.count() == 2
    assert Contact.objects.count() == 2


def test_our_reply_reported_by_the_network_answers_the_conversation(sandbox_channel):
    asked = timezone.now() - timedelta(minutes=5)
    message_ingest(channel=sandbox_channel, inbound=inbound(created_at=asked))

    ours = message_ingest(
        channel=sandbox_channel,
        inbound=inbound(
            "m-ours",
            author_id="sbx-us",
            author_name="Empleo",
            text="Puede pedirla en la web.",
            is_from_us=True,
        ),
    )

    conversation = Conversation.objects.get()
    assert ours.direction == MessageDirection.OUTBOUND
    assert ours.author is None
    assert Identity.objects.count() == 1  # our own account is not a citizen
    assert conversation.needs_reply is False
    assert conversation.status == ConversationStatus.WAITING
    assert conversation.last_outbound_at == ours.created_at
    assert conversations_needing_reply_count() == 0


def test_an_older_message_arriving_late_does_not_undo_a_newer_reply(sandbox_channel):
    now = timezone.now()
    message_ingest(channel=sandbox_channel, inbound=inbound("m-1", created_at=now - timedelta(minutes=10)))
    message_ingest(
        channel=sandbox_channel,
        inbound=inbound("m-ours", is_from_us=True, created_at=now - timedelta(minutes=2)),
    )

    message_ingest(channel=sandbox_channel, inbound=inbound("m-0", created_at=now - timedelta(minutes=20)))

    conversation = Conversation.objects.get()
    assert conversation.needs_reply is False
    assert conversation.last_message_at == now - timedelta(minutes=2)


def test_a_new_message_reopens_a_closed_conversation(sandbox_channel):
    message_ingest(channel=sandbox_channel, inbound=inbound("m-1"))
    Conversation.objects.update(status=ConversationStatus.CLOSED, needs_reply=False)
    assert conversations_needing_reply_count() == 0

    message_ingest(channel=sandbox_channel, inbound=inbound("m-2", text="Sigo sin cita."))

    conversation = Conversation.objects.get()
    assert conversation.status == ConversationStatus.OPEN
    assert conversation.needs_reply is True
    assert conversations_needing_reply_count() == 1


def test_a_redelivered_old_message_does_not_reopen_a_closed_conversation(sandbox_channel):
    message_ingest(channel=sandbox_channel, inbound=inbound("m-1"))
    Conversation.objects.update(status=ConversationStatus.CLOSED, needs_reply=False)

    message_ingest(channel=sandbox_channel, inbound=inbound("m-1"))

    assert Conversation.objects.get().status == ConversationStatus.CLOSED


def test_a_renamed_citizen_keeps_one_identity_with_the_new_name(sandbox_channel):
    message_ingest(channel=sandbox_channel, inbound=inbound("m-1"))
    message_ingest(
        channel=sandbox_channel, inbound=inbound("m-2", author_name="Lucía M.", author_handle="lucia_m")
    )

    identity = Identity.objects.get()
    assert (identity.display_name, identity.handle) == ("Lucía M.", "lucia_m")
    assert Message.objects.filter(author=identity).count() == 2
