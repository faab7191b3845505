"""Writes in the inbox. Ingest is idempotent: a message is stored once per (channel, external_id).

Every change that matters for response quality writes its metrics.ReportingEvent here, at the
moment it happens: opened and reopened (a citizen writes), first response and reply (a human
answer, from SocialDesk or seen on the network; automations do not count), resolved (closed).
"""

import dataclasses
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from inbox.alerts import alerts_priority_notify
from inbox.language import detect_language
from inbox.limits import reply_length
from inbox.models import (
    Contact,
    Conversation,
    ConversationStatus,
    Identity,
    Message,
    MessageDirection,
    MessageRevision,
    Note,
    PriorityWord,
    Reply,
    ReplyKind,
    ReplyState,
    Resolution,
    Tag,
)
from inbox.priority import priority_of
from inbox.privacy import contact_erased, network_id_erased, network_id_keys
from metrics.models import ReportingEventKind
from metrics.services import reporting_event_record
from networks.base import (
    AuthorizationExpired,
    ConfigurationOutdated,
    ConnectorError,
    InboundKind,
    InboundMessage,
    PublishResult,
    RateLimited,
    ReplyTarget,
    Transient,
)
from networks.models import Channel
from networks.registry import connector_for
from socialdesk.audit import audit_record
from socialdesk.models.audit import AuditAction

PREVIEW_LENGTH = 280


class InboxRefused(Exception):
    """A change the desk cannot make, with the reason in words for the manager."""


# --- Ingest --------------------------------------------------------------------------------------


def message_ingest(*, channel: Channel, inbound: InboundMessage) -> Message:
    """Store a message the network reported, however many times it reports it.

    New: threaded into the channel's Conversation with the same thread key (created if needed),
    linked to the author's Identity and Contact; a citizen's message makes the conversation need a
    reply and opens it again whatever its status. Known: a redelivery changes nothing, a changed
    text is an edit (the earlier text kept as a MessageRevision), and a deletion is recorded.
    A citizen's new priority message may queue an e-mail alert (inbox.alerts).
    """
    inbound = _storable(inbound)
    with transaction.atomic():
        existing = (
            Message.objects.select_for_update()
            .filter(channel=channel, external_id__in=network_id_keys(inbound.external_id))
            .first()
        )
        if existing is not None:
            # Erased (inbox.privacy): the network's copy must not bring the citizen's words back.
            return existing if network_id_erased(existing.external_id) else _message_update(existing, inbound)
        try:
            with transaction.atomic():
                message = _message_create(channel, inbound)
        except IntegrityError:
            # Stored meanwhile by another worker (a webhook and a poll at once): now a redelivery.
            existing = Message.objects.select_for_update().get(
                channel=channel, external_id=inbound.external_id
            )
            return _message_update(existing, inbound)
        alerts_priority_notify(message)
        return message


# Inbound fields held in columns of a fixed length, and that length.
_BOUNDED_FIELDS = {
    "external_id": Message._meta.get_field("external_id").max_length,
    "in_reply_to": Message._meta.get_field("in_reply_to").max_length,
    "thread_key": Conversation._meta.get_field("thread_key").max_length,
    "about_post": Conversation._meta.get_field("about_post").max_length,
    "author_id": Identity._meta.get_field("external_id").max_length,
    "author_name": Contact._meta.get_field("display_name").max_length,
    "author_handle": Identity._meta.get_field("handle").max_length,
}


def _storable(inbound: InboundMessage) -> InboundMessage:
    """The message as the database can hold it, so that no message is refused for ever (and with it
    every later one of its channel, as the poll stores a page whole or not at all).

    PostgreSQL refuses the NUL character in text and JSON, and a network (or a sender who pasted
    it) can put one anywhere; it never carries meaning, so it goes. Half an emoji (a lone UTF-16
    surrogate, which JSON escapes can carry when a network cuts a text short) cannot be written as
    UTF-8 at all; it becomes U+FFFD (�). Names and ids longer than their columns
    are cut, the same way every time, so a redelivery still finds the message.
    """
    changes = {
        name: _storable_text(getattr(inbound, name))[:length] for name, length in _BOUNDED_FIELDS.items()
    }
    changes["text"] = _storable_text(inbound.text)
    changes["raw"] = _storable_json(inbound.raw)
    return dataclasses.replace(inbound, **changes)


def _storable_text(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Pairs of surrogates become the character they stand for; a lone one becomes U+FFFD.
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _storable_json(value):
    if isinstance(value, str):
        return _storable_text(value)
    if isinstance(value, dict):
        return {_storable_text(str(key)): _storable_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_storable_json(item) for item in value]
    return value


def _message_create(channel: Channel, inbound: InboundMessage) -> Message:
    identity = None if inbound.is_from_us else _identity_upsert(network=channel.network, inbound=inbound)
    conversation, created = Conversation.objects.select_for_update().get_or_create(
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
        language="" if inbound.is_from_us else detect_language(inbound.text),
        raw=inbound.raw,
    )
    if inbound.deleted:
        return message
    actor, source = None, "network"
    if inbound.is_from_us:
        # Our own reply echoed back: if it is one whose sending ended "unknown", it did go out.
        reply = _unknown_reply_matching(conversation, message)
        if reply is not None:
            actor, source = reply.author, "desk"
            message.automated = reply.automated
            message.save(update_fields=["automated"])
    _conversation_note(
        conversation,
        message,
        identity,
        about_post=inbound.about_post,
        created=created,
        actor=actor,
        source=source,
    )
    return message


def _unknown_reply_matching(conversation: Conversation, message: Message) -> Reply | None:
    reply = (
        conversation.replies.filter(state=ReplyState.UNKNOWN, text=message.text, message__isnull=True)
        .select_related("author")
        .first()
    )
    if reply is not None:
        reply.state = ReplyState.SENT
        reply.external_id = message.external_id
        reply.message = message
        reply.sent_at = message.created_at
        reply.failure_reason = ""
        reply.save(update_fields=["state", "external_id", "message", "sent_at", "failure_reason"])
    return reply


def _conversation_note(
    conversation: Conversation,
    message: Message,
    identity: Identity | None,
    *,
    about_post: str,
    created: bool = False,
    actor=None,
    source: str = "network",
) -> None:
    def latest(current, candidate):
        return candidate if current is None or candidate > current else current

    at = message.created_at
    events: list[dict] = []
    conversation.last_message_at = latest(conversation.last_message_at, at)
    if message.direction == MessageDirection.INBOUND:
        conversation.last_inbound_at = latest(conversation.last_inbound_at, at)
        if conversation.contact_id is None:
            conversation.contact = identity.contact
        if created or conversation.cycle_started_at is None:
            conversation.cycle_started_at = at
            events.append({"kind": ReportingEventKind.OPENED, "occurred_at": at})
        elif conversation.status == ConversationStatus.CLOSED:
            # A new care cycle: its own first response and resolution.
            events.append(
                {"kind": ReportingEventKind.REOPENED, "occurred_at": at, "started_at": conversation.closed_at}
            )
            conversation.cycle += 1
            conversation.cycle_started_at = at
            conversation.cycle_first_response_at = None
            conversation.resolution = ""
            conversation.closed_at = None
        answered_already = conversation.last_outbound_at is not None and at <= conversation.last_outbound_at
        if conversation.awaiting_since is None and not answered_already:
            conversation.awaiting_since = at
        # Closed, snoozed or waiting: a citizen writing again puts it back in front of the manager.
        conversation.status = ConversationStatus.OPEN
        conversation.snoozed_until = None
        if at >= conversation.last_inbound_at:
            conversation.preview = message.text[:PREVIEW_LENGTH]
            conversation.language = message.language or conversation.language
    elif not message.automated:
        conversation.last_outbound_at = latest(conversation.last_outbound_at, at)
        if conversation.awaiting_since is not None and at >= conversation.awaiting_since:
            events.extend(_response_events(conversation, at))
    conversation.needs_reply = conversation.last_inbound_at is not None and (
        conversation.last_outbound_at is None or conversation.last_inbound_at > conversation.last_outbound_at
    )
    answered = message.direction == MessageDirection.OUTBOUND and not conversation.needs_reply
    if answered and conversation.status == ConversationStatus.OPEN:
        # Answered (from SocialDesk or from the network's own app): now it is the citizen's turn.
        conversation.status = ConversationStatus.WAITING
    if not conversation.about_post:
        conversation.about_post = about_post
    _priority_refresh(conversation)
    conversation.save()
    for event in events:
        reporting_event_record(conversation=conversation, actor=actor, source=source, **event)


def _response_events(conversation: Conversation, at: datetime) -> list[dict]:
    """A human answer: the cycle's first response (from the cycle's start) and a reply (from the
    oldest unanswered message). Called only while something is unanswered."""
    events = []
    if conversation.cycle_first_response_at is None:
        conversation.cycle_first_response_at = at
        events.append(
            {
                "kind": ReportingEventKind.FIRST_RESPONSE,
                "occurred_at": at,
                "started_at": conversation.cycle_started_at,
            }
        )
    events.append(
        {"kind": ReportingEventKind.REPLY, "occurred_at": at, "started_at": conversation.awaiting_since}
    )
    conversation.awaiting_since = None
    return events


def _priority_refresh(conversation: Conversation) -> None:
    if conversation.awaiting_since is None:
        conversation.priority, conversation.priority_reasons = 0, []
        return
    texts = list(
        conversation.messages.filter(
            direction=MessageDirection.INBOUND, deleted=False, created_at__gte=conversation.awaiting_since
        ).values_list("text", flat=True)
    )
    conversation.priority, conversation.priority_reasons = priority_of(
        texts=texts,
        words=PriorityWord.objects.values_list("term", "category", "weight"),
        unanswered=len(texts),
    )


def _message_update(message: Message, inbound: InboundMessage) -> Message:
    now = timezone.now()
    if inbound.deleted:
        if not message.deleted:
            message.deleted = True
            message.deleted_at = now
            message.save(update_fields=["deleted", "deleted_at"])
    elif inbound.text != message.text:
        # The citizen edited it on the network: the desk keeps what it said before.
        MessageRevision.objects.create(message=message, text=message.text, replaced_at=now)
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


# --- Working a conversation ----------------------------------------------------------------------


def _locked(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_for_update().select_related("channel").get(pk=conversation.pk)


def conversation_close(*, conversation: Conversation, actor, resolution: Resolution) -> Conversation:
    """Close the care cycle: after a reply, or because none is needed (thanks, a like, chatter)."""
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.status == ConversationStatus.CLOSED:
            return conversation
        now = timezone.now()
        conversation.status = ConversationStatus.CLOSED
        conversation.resolution = resolution
        conversation.closed_at = now
        conversation.snoozed_until = None
        conversation.awaiting_since = None
        _priority_refresh(conversation)
        conversation.save()
        reporting_event_record(
            kind=ReportingEventKind.RESOLVED,
            conversation=conversation,
            occurred_at=now,
            started_at=conversation.cycle_started_at,
            actor=actor,
            details={"resolution": resolution},
        )
    return conversation


def conversation_reopen(*, conversation: Conversation, actor) -> Conversation:
    """Back to the queue; from closed it starts a new care cycle, as a citizen's message would."""
    with transaction.atomic():
        conversation = _locked(conversation)
        now = timezone.now()
        was_closed = conversation.status == ConversationStatus.CLOSED
        if was_closed:
            closed_at = conversation.closed_at
            conversation.cycle += 1
            conversation.cycle_started_at = now
            conversation.cycle_first_response_at = None
            conversation.resolution = ""
            conversation.closed_at = None
            if conversation.needs_reply:
                conversation.awaiting_since = now
        conversation.status = ConversationStatus.OPEN
        conversation.snoozed_until = None
        conversation.save()
        if was_closed:
            reporting_event_record(
                kind=ReportingEventKind.REOPENED,
                conversation=conversation,
                occurred_at=now,
                started_at=closed_at,
                actor=actor,
            )
    return conversation


def conversation_snooze(*, conversation: Conversation, until: datetime | None) -> Conversation:
    """Out of the queue until `until`, or (None) until the citizen writes again."""
    if until is not None and until <= timezone.now():
        raise InboxRefused(gettext("Choose a moment in the future."))
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.status == ConversationStatus.CLOSED:
            raise InboxRefused(gettext("A closed conversation cannot be snoozed."))
        conversation.status = ConversationStatus.SNOOZED
        conversation.snoozed_until = until
        conversation.save(update_fields=["status", "snoozed_until", "updated_at"])
    return conversation


def conversation_wait_for_citizen(*, conversation: Conversation) -> Conversation:
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.status == ConversationStatus.CLOSED:
            raise InboxRefused(gettext("Reopen the conversation first."))
        conversation.status = ConversationStatus.WAITING
        conversation.snoozed_until = None
        conversation.save(update_fields=["status", "snoozed_until", "updated_at"])
    return conversation


def conversations_wake_snoozed(*, now: datetime) -> int:
    """Snoozed conversations whose time has come go back to the queue. Returns how many."""
    return Conversation.objects.filter(
        status=ConversationStatus.SNOOZED, snoozed_until__isnull=False, snoozed_until__lte=now
    ).update(status=ConversationStatus.OPEN, snoozed_until=None, updated_at=now)


def conversation_assign(*, conversation: Conversation, user) -> Conversation:
    Conversation.objects.filter(pk=conversation.pk).update(assignee=user, updated_at=timezone.now())
    conversation.assignee = user
    return conversation


def conversation_tag(*, conversation: Conversation, name: str) -> Tag:
    name = " ".join(name.split())
    if not name:
        raise InboxRefused(gettext("A tag needs a name."))
    tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
    conversation.tags.add(tag)
    return tag


def conversation_untag(*, conversation: Conversation, tag: Tag) -> None:
    conversation.tags.remove(tag)


def conversation_mark_spam(*, conversation: Conversation, spam: bool) -> Conversation:
    Conversation.objects.filter(pk=conversation.pk).update(spam=spam, updated_at=timezone.now())
    conversation.spam = spam
    return conversation


def note_add(*, conversation: Conversation, author, text: str) -> Note:
    text = text.strip()
    if not text:
        raise InboxRefused(gettext("The note is empty."))
    return Note.objects.create(conversation=conversation, author=author, text=text)


# --- Moderation ----------------------------------------------------------------------------------


def message_hide(*, message: Message, actor, reason: str, hidden: bool = True, request=None) -> Message:
    """Hide (or show again) a citizen's public comment on the network, for a reason that is recorded."""
    reason = reason.strip()
    if not reason:
        raise InboxRefused(gettext("Say why."))
    channel = message.channel
    connector = connector_for(channel)
    if not connector.capabilities.hide_comments:
        raise InboxRefused(gettext("This network does not allow hiding comments."))
    if (
        message.direction != MessageDirection.INBOUND
        or message.conversation.kind != InboundKind.PUBLIC_COMMENT
    ):
        raise InboxRefused(gettext("Only a citizen's public comment can be hidden."))
    try:
        if hidden:
            connector.hide_comment(external_id=message.external_id)
        else:
            connector.unhide_comment(external_id=message.external_id)
    except ConnectorError as exc:
        raise InboxRefused(gettext("The network refused: %(reason)s") % {"reason": exc.reason}) from exc
    message.hidden = hidden
    message.hidden_reason = reason
    message.save(update_fields=["hidden", "hidden_reason"])
    audit_record(
        action=AuditAction.COMMENT_HIDDEN if hidden else AuditAction.COMMENT_UNHIDDEN,
        actor=actor,
        target=message,
        details={"reason": reason, "conversation": message.conversation_id, "network": channel.network},
        request=request,
    )
    return message


# --- Replies -------------------------------------------------------------------------------------


def reply_kinds_allowed(conversation: Conversation) -> list[ReplyKind]:
    capabilities = connector_for(conversation.channel).capabilities
    if conversation.kind == InboundKind.PRIVATE_MESSAGE:
        return [ReplyKind.PRIVATE]
    kinds = [ReplyKind.PUBLIC]
    if capabilities.private_messages:
        kinds.append(ReplyKind.PRIVATE)
    return kinds


def reply_window_closes_at(conversation: Conversation) -> datetime | None:
    """When the network stops accepting a private answer (None: it sets no window)."""
    window = connector_for(conversation.channel).capabilities.private_reply_window
    if window is None or conversation.last_inbound_at is None:
        return None
    return conversation.last_inbound_at + window


def reply_create(
    *, conversation: Conversation, author, text: str, kind: ReplyKind, automated: bool = False
) -> Reply:
    """Queue an answer to the citizen's latest message; a worker sends it once the transaction commits."""
    from inbox.tasks import send_reply

    text = text.strip()
    capabilities = connector_for(conversation.channel).capabilities
    if not text:
        raise InboxRefused(gettext("The reply is empty."))
    length = reply_length(conversation.channel.network, text)
    if length > capabilities.max_length:
        raise InboxRefused(
            gettext("The reply is %(length)d long; this network allows %(limit)d.")
            % {"length": length, "limit": capabilities.max_length}
        )
    if kind not in reply_kinds_allowed(conversation):
        raise InboxRefused(gettext("This network does not allow that kind of reply here."))
    if kind == ReplyKind.PRIVATE:
        closes_at = reply_window_closes_at(conversation)
        if closes_at is not None and closes_at <= timezone.now():
            raise InboxRefused(gettext("The network's time to answer this citizen privately has run out."))
    answering = (
        conversation.messages.filter(direction=MessageDirection.INBOUND, deleted=False)
        .order_by("-created_at", "-id")
        .first()
    )
    if answering is None:
        raise InboxRefused(gettext("There is no message from the citizen to answer."))
    with transaction.atomic():
        reply = Reply.objects.create(
            conversation=conversation,
            answering=answering,
            kind=kind,
            text=text,
            author=author,
            automated=automated,
        )
        if author is not None and conversation.assignee_id is None:
            conversation_assign(conversation=conversation, user=author)
        send_reply.delay_on_commit(reply.pk)
    return reply


def reply_retry(*, reply: Reply) -> Reply:
    """Send a failed reply again, or one whose fate is unknown once the manager has looked: a
    person's decision, never automatic."""
    from inbox.tasks import send_reply

    with transaction.atomic():
        claimed = Reply.objects.filter(pk=reply.pk, state__in=[ReplyState.FAILED, ReplyState.UNKNOWN]).update(
            state=ReplyState.QUEUED, failure_reason=""
        )
        if not claimed:
            raise InboxRefused(gettext("This reply is not waiting for a retry."))
        send_reply.delay_on_commit(reply.pk)
    reply.refresh_from_db()
    return reply


def reply_deliver(*, reply_id: int) -> Reply | None:
    """Call the network once for a queued reply. The claim queued → sending is a conditional
    update, so a duplicated task finds nothing to do and nothing is sent twice."""
    claimed = Reply.objects.filter(pk=reply_id, state=ReplyState.QUEUED).update(
        state=ReplyState.SENDING, sending_since=timezone.now()
    )
    if not claimed:
        return None
    reply = Reply.objects.select_related("conversation__channel", "answering", "author").get(pk=reply_id)
    conversation = reply.conversation
    answering = reply.answering
    target = ReplyTarget(
        kind=InboundKind.PRIVATE_MESSAGE if reply.kind == ReplyKind.PRIVATE else conversation.kind,
        thread_key=conversation.thread_key,
        external_id=answering.external_id,
        author_id=answering.author.external_id if answering.author else "",
    )
    try:
        result = connector_for(conversation.channel).reply(target=target, text=reply.text)
    except Transient as exc:
        if exc.request_sent:
            return _reply_end(
                reply, ReplyState.UNKNOWN, exc.reason or gettext("The network did not answer in time.")
            )
        return _reply_end(reply, ReplyState.FAILED, exc.reason or gettext("The network is unavailable."))
    except RateLimited as exc:
        until = timezone.localtime(exc.until).strftime("%H:%M")
        return _reply_end(
            reply,
            ReplyState.FAILED,
            gettext("Too many requests: try again after %(time)s.") % {"time": until},
        )
    except AuthorizationExpired as exc:
        # networks.services imports this module (ingest): import it when needed, not at load time.
        from networks.services import channel_mark_needs_reconnect

        channel_mark_needs_reconnect(
            channel=conversation.channel,
            reason=exc.reason,
            configuration_outdated=isinstance(exc, ConfigurationOutdated),
        )
        return _reply_end(reply, ReplyState.FAILED, exc.reason)
    except ConnectorError as exc:
        return _reply_end(reply, ReplyState.FAILED, exc.reason)
    return _reply_sent(reply, result)


def _reply_end(reply: Reply, state: ReplyState, reason: str) -> Reply:
    Reply.objects.filter(pk=reply.pk, state=ReplyState.SENDING).update(state=state, failure_reason=reason)
    reply.state, reply.failure_reason = state, reason
    return reply


def _reply_sent(reply: Reply, result: PublishResult) -> Reply:
    conversation = reply.conversation
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.filter(channel=conversation.channel, external_id=result.external_id).first()
        if message is None:
            message = Message.objects.create(
                channel=conversation.channel,
                external_id=result.external_id,
                conversation=conversation,
                direction=MessageDirection.OUTBOUND,
                text=reply.text,
                in_reply_to=reply.answering.external_id,
                created_at=now,
                automated=reply.automated,
                raw={"url": result.url},
            )
            _conversation_note(
                _locked(conversation), message, None, about_post="", actor=reply.author, source="desk"
            )
        Reply.objects.filter(pk=reply.pk).update(
            state=ReplyState.SENT,
            external_id=result.external_id,
            message=message,
            sent_at=now,
            failure_reason="",
        )
        if not reply.automated:
            audit_record(
                action=AuditAction.REPLY_SENT,
                actor=reply.author,
                target=conversation,
                details={"reply": reply.pk, "external_id": result.external_id, "kind": reply.kind},
            )
    reply.refresh_from_db()
    return reply


def replies_mark_interrupted(*, sending_before: datetime) -> int:
    """Replies stuck in `sending` (the worker died during the call) may or may not have gone out:
    they become unknown for the manager to check, never resent blindly. Returns how many."""
    return Reply.objects.filter(state=ReplyState.SENDING, sending_since__lt=sending_before).update(
        state=ReplyState.UNKNOWN,
        failure_reason=gettext("The sending was interrupted; check the network before sending it again."),
    )


# --- Contacts ------------------------------------------------------------------------------------


def contact_merge(*, contact: Contact, other: Contact) -> Contact:
    """The manager says two contacts are one citizen: `other`'s identities and conversations move
    to `contact`, and `other` goes. Undone per identity with identity_detach."""
    if contact.pk == other.pk:
        raise InboxRefused(gettext("That is the same contact."))
    if contact_erased(contact) or contact_erased(other):
        raise InboxRefused(gettext("An erased contact cannot be merged with another."))
    with transaction.atomic():
        Identity.objects.filter(contact=other).update(contact=contact)
        Conversation.objects.filter(contact=other).update(contact=contact)
        other.delete()
    return contact


def identity_detach(*, identity: Identity) -> Contact:
    """Undo a merge for one identity: it becomes a contact of its own again, taking along the
    conversations it started."""
    with transaction.atomic():
        identity = Identity.objects.select_for_update().select_related("contact").get(pk=identity.pk)
        old = identity.contact
        if old.identities.count() == 1:
            raise InboxRefused(gettext("This identity is the contact's only one."))
        contact = Contact.objects.create(display_name=identity.display_name or identity.handle)
        identity.contact = contact
        identity.save(update_fields=["contact", "updated_at"])
        started = Message.objects.filter(author=identity, direction=MessageDirection.INBOUND).values(
            "conversation_id"
        )
        Conversation.objects.filter(contact=old, pk__in=started).update(contact=contact)
    return contact
