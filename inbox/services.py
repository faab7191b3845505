"""Writes in the inbox. Ingest is idempotent: a message is stored once per (channel, external_id)."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from inbox.models import Contact, Conversation, ConversationStatus, Identity, Message, MessageDirection
from networks.base import InboundMessage
from networks.models import Channel


def message_ingest(*, channel: Channel, inbound: InboundMessage) -> Message:
    """Store a message the network reported, however many times it reports it.

    New: threaded into the channel's Conversation with the same thread key (created if needed),
    linked to the author's Identity and Contact; a citizen's message makes the conversation need a
    reply and opens it again whatever its status. Known: a redelivery changes nothing, a changed
    text is an edit, and a deletion is recorded.
    """
    with transaction.atomic():
        existing = (
            Message.objects.select_for_update()
            .filter(channel=channel, external_id=inbound.external_id)
            .first()
        )
        if existing is not None:
            return _message_update(existing, inbound)
        try:
            with transaction.atomic():
                return _message_create(channel, inbound)
        except IntegrityError:
            # Stored meanwhile by another worker (a webhook and a poll at once): now a redelivery.
            existing = Message.objects.select_for_update().get(
                channel=channel, external_id=inbound.external_id
            )
            return _message_update(existing, inbound)


def _message_create(channel: Channel, inbound: InboundMessage) -> Message:
    identity = None if inbound.is_from_us else _identity_upsert(network=channel.network, inbound=inbound)
    conversation, _ = Conversation.objects.select_for_update().get_or_create(
        channel=channel,
        thread_key=inbound.thread_key,
        defaults={"kind": inbound.kind, "about_post": inbound.about_post},
    )
    now = timezone.now()
    message = Message.objects.create(
        channel=channel,
        external_id=inbound.external_id,
        conversation=conversation,
        direction=MessageDirection.OUTBOUND if inbound.is_from_us else MessageDirection.INBOUND,
        author=identity,
        text=inbound.text,
        in_reply_to=inbound.in_reply_to,
        created_at=inbound.created_at,
        deleted=inbound.deleted,
        deleted_at=now if inbound.deleted else None,
        raw=inbound.raw,
    )
    if not inbound.deleted:
        _conversation_note(conversation, message, identity, about_post=inbound.about_post)
    return message


def _conversation_note(
    conversation: Conversation, message: Message, identity: Identity | None, *, about_post: str
) -> None:
    def latest(current, candidate):
        return candidate if current is None or candidate > current else current

    conversation.last_message_at = latest(conversation.last_message_at, message.created_at)
    if message.direction == MessageDirection.INBOUND:
        conversation.last_inbound_at = latest(conversation.last_inbound_at, message.created_at)
        if conversation.contact_id is None:
            conversation.contact = identity.contact
        # Closed, snoozed or waiting: a citizen writing again puts it back in front of the manager.
        conversation.status = ConversationStatus.OPEN
    else:
        conversation.last_outbound_at = latest(conversation.last_outbound_at, message.created_at)
    conversation.needs_reply = conversation.last_inbound_at is not None and (
        conversation.last_outbound_at is None or conversation.last_inbound_at > conversation.last_outbound_at
    )
    answered = message.direction == MessageDirection.OUTBOUND and not conversation.needs_reply
    if answered and conversation.status == ConversationStatus.OPEN:
        # Answered (from SocialDesk or from the network's own app): now it is the citizen's turn.
        conversation.status = ConversationStatus.WAITING
    if not conversation.about_post:
        conversation.about_post = about_post
    conversation.save()


def _message_update(message: Message, inbound: InboundMessage) -> Message:
    now = timezone.now()
    if inbound.deleted:
        if not message.deleted:
            message.deleted = True
            message.deleted_at = now
            message.save(update_fields=["deleted", "deleted_at"])
    elif inbound.text != message.text:
        message.text = inbound.text
        message.edited = True
        message.edited_at = now
        message.raw = inbound.raw
        message.save(update_fields=["text", "edited", "edited_at", "raw"])
    return message


def _identity_upsert(*, network: str, inbound: InboundMessage) -> Identity:
    identity = (
        Identity.objects.select_related("contact")
        .filter(network=network, external_id=inbound.author_id)
        .first()
    )
    if identity is None:
        try:
            with transaction.atomic():
                contact = Contact.objects.create(display_name=inbound.author_name or inbound.author_handle)
                return Identity.objects.create(
                    contact=contact,
                    network=network,
                    external_id=inbound.author_id,
                    display_name=inbound.author_name,
                    handle=inbound.author_handle,
                )
        except IntegrityError:
            return Identity.objects.select_related("contact").get(
                network=network, external_id=inbound.author_id
            )
    if (identity.display_name, identity.handle) != (inbound.author_name, inbound.author_handle):
        # Citizens rename themselves; the desk shows the name they use now.
        identity.display_name = inbound.author_name
        identity.handle = inbound.author_handle
        identity.save(update_fields=["display_name", "handle", "updated_at"])
    return identity
