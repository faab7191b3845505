"""Citizens' personal data: the right to erasure and the storage limit (GDPR articles 17 and 5(1)(e)).

Erasing keeps the rows and empties them, so the desk's figures stay true and nothing points at a
row that is gone: names become "Erased person", the citizen's words (messages, their earlier
versions, our answers to them, private notes and questions to colleagues on those conversations)
become a placeholder, raw network payloads are emptied, and stored webhook deliveries that mention
the citizen are deleted. metrics.ReportingEvent rows are left alone: they hold ids, kinds, times and
durations only.

A network id that could lead back to the citizen (their account id, their messages' ids, a thread
key made of them) is kept as a keyed one-way hash, ``erased:<HMAC-SHA256>``, never as itself:
inbox.services.message_ingest looks a message up by its id *or* that hash, so a webhook the network
delivers again, or a poll that meets an old message, finds the erased row and changes nothing,
while the id itself is stored nowhere. The prefix also marks what is erased already, which makes
every step here idempotent. A citizen who writes again after an erasure is a new contact: nothing
links the new message to the erased history (and a private answer needs the account's real id).
"""

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext

from inbox.models import (
    ColleagueRequest,
    Contact,
    Conversation,
    ConversationStatus,
    Identity,
    Message,
    MessageDirection,
    MessageRevision,
    Note,
    Reply,
    ReplyState,
)
from networks.models import WebhookEvent
from socialdesk.audit import audit_record
from socialdesk.models.audit import AuditAction, AuditEvent

logger = logging.getLogger(__name__)

ERASED_PREFIX = "erased:"
_KEY_SALT = "inbox.privacy.network_id"
# Rows written per statement when many messages are erased at once.
_BULK_BATCH = 500
# Ids looked for in one query over the stored webhook deliveries.
_IDS_PER_QUERY = 50


class ErasureRefused(Exception):
    """An erasure that cannot be done right now, with the reason in words for the manager."""


# --- Network ids kept as keyed hashes ------------------------------------------------------------


def network_id_key(value: str, *, secret: str | None = None) -> str:
    """What an erased network id is kept as (an empty or already erased id stays as it is)."""
    if not value or network_id_erased(value):
        return value
    digest = salted_hmac(_KEY_SALT, value, secret=secret, algorithm="sha256").hexdigest()
    return ERASED_PREFIX + digest


def network_id_keys(value: str) -> list[str]:
    """The id itself and its erased form under SECRET_KEY and every SECRET_KEY_FALLBACKS, so a
    rotated key still recognises what was erased under the old one."""
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return [value, *(network_id_key(value, secret=secret) for secret in secrets)]


def network_id_erased(value: str) -> bool:
    return value.startswith(ERASED_PREFIX)


# A contact is erased when its identities are: contact_erase hashes every one of them, and a citizen
# who writes again afterwards arrives as a new identity of a new contact.
ERASED_CONTACT = Q(identities__external_id__startswith=ERASED_PREFIX)


def contact_erased(contact: Contact) -> bool:
    return Contact.objects.filter(ERASED_CONTACT, pk=contact.pk).exists()


def person_placeholder() -> str:
    return gettext("Erased person")


def text_placeholder() -> str:
    return gettext("Text erased to protect personal data")


# --- What an erasure changed ---------------------------------------------------------------------


@dataclass
class Erased:
    """How many rows an erasure or a retention run emptied: counts only, so it can go into the
    audit log and the logs as it is."""

    contacts: int = 0
    identities: int = 0
    conversations: int = 0
    messages: int = 0
    revisions: int = 0
    replies: int = 0
    notes: int = 0
    colleague_questions: int = 0
    webhook_events: int = 0
    audit_events: int = 0

    def as_details(self) -> dict[str, int]:
        return asdict(self)

    def __str__(self) -> str:
        return ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in asdict(self).items())


@dataclass
class _Wipe:
    """What one transaction emptied, with what it needs to find the copies elsewhere."""

    erased: Erased = field(default_factory=Erased)
    # The network ids as they were, to find the webhook deliveries that mention them.
    raw_ids: set[str] = field(default_factory=set)
    message_pks: set[int] = field(default_factory=set)
    reply_pks: set[int] = field(default_factory=set)
    conversation_pks: set[int] = field(default_factory=set)
    request_pks: set[int] = field(default_factory=set)


# --- The right to erasure ------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureScope:
    """What erasing a contact reaches, for the confirmation page."""

    identities: list[Identity]
    conversations: int
    messages: int


def contact_erasure_scope(contact: Contact) -> ErasureScope:
    return ErasureScope(
        identities=list(contact.identities.all()),
        conversations=_contact_conversations(contact).count(),
        messages=Message.objects.filter(author__contact=contact).count(),
    )


def contact_erase(*, contact: Contact, actor, request=None) -> Erased:
    """Erase everything the desk holds about one citizen, on every network, in one transaction.

    A conversation only the citizen wrote in is emptied whole. In a thread others wrote in too
    (replies under our post), the citizen's messages and our answers to them are emptied, and the
    conversation passes to the next citizen who wrote there; the others' messages stay. Private
    notes and questions to colleagues on every such conversation are emptied too: they may name
    the citizen. Running it again changes nothing more. ErasureRefused while one of our answers is
    being sent to the network (its text would come back with the network's confirmation).
    """
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        identities = list(contact.identities.select_for_update())
        conversations = list(
            Conversation.objects.select_for_update()
            .filter(pk__in=_contact_conversations(contact).values("pk"))
            .order_by("pk")
        )
        if Reply.objects.filter(conversation__in=conversations, state=ReplyState.SENDING).exists():
            raise ErasureRefused(
                gettext("An answer to this citizen is being sent right now; try again in a minute.")
            )
        wipe = _Wipe()
        for conversation in conversations:
            if _written_by_others(conversation, identities):
                _conversation_wipe_citizen(conversation, identities, contact, wipe)
            else:
                _conversation_wipe(conversation, wipe)
        _identities_wipe(identities, wipe)
        contact.display_name = person_placeholder()
        contact.save(update_fields=["display_name", "updated_at"])
        wipe.erased.contacts = 1
        _copies_forget(wipe)
        audit_record(
            action=AuditAction.DATA_ERASED,
            actor=actor,
            target=contact,
            details={"why": "request", **wipe.erased.as_details()},
            request=request,
        )
    return wipe.erased


def _contact_conversations(contact: Contact):
    written_in = Message.objects.filter(author__contact=contact).values("conversation_id")
    return Conversation.objects.filter(Q(contact=contact) | Q(pk__in=written_in))


def _written_by_others(conversation: Conversation, identities: list[Identity]) -> bool:
    return (
        conversation.messages.filter(direction=MessageDirection.INBOUND)
        .exclude(author__in=identities)
        .exists()
    )


def _conversation_wipe(conversation: Conversation, wipe: _Wipe) -> None:
    """Empty a whole conversation: every message, answer, note and question to a colleague."""
    _messages_wipe(list(conversation.messages.all()), wipe)
    _replies_wipe(list(conversation.replies.select_for_update()), wipe)
    _notes_and_questions_wipe(conversation, wipe)
    wipe.raw_ids.add(conversation.thread_key)
    # Hashed even when the network gave no key: the hash is what marks the conversation erased.
    conversation.thread_key = network_id_key(conversation.thread_key or f"conversation-{conversation.pk}")
    has_citizen_words = conversation.messages.filter(direction=MessageDirection.INBOUND).exists()
    conversation.preview = text_placeholder() if has_citizen_words else ""
    _conversation_save(conversation, wipe)


def _conversation_wipe_citizen(
    conversation: Conversation, identities: list[Identity], contact: Contact, wipe: _Wipe
) -> None:
    """Empty the citizen's part of a thread others wrote in too."""
    theirs = list(conversation.messages.filter(direction=MessageDirection.INBOUND, author__in=identities))
    their_ids = {message.external_id for message in theirs if not network_id_erased(message.external_id)}
    their_ids |= {
        identity.external_id for identity in identities if not network_id_erased(identity.external_id)
    }
    replies = list(conversation.replies.select_for_update().filter(answering__in=theirs))
    answers = conversation.messages.filter(direction=MessageDirection.OUTBOUND).filter(
        Q(in_reply_to__in=their_ids) | Q(reply__in=replies)
    )
    _messages_wipe([*theirs, *answers], wipe)
    _replies_wipe(replies, wipe)
    _notes_and_questions_wipe(conversation, wipe)
    pointing = list(conversation.messages.filter(in_reply_to__in=their_ids))
    for message in pointing:
        message.in_reply_to = network_id_key(message.in_reply_to)
    Message.objects.bulk_update(pointing, ["in_reply_to"], batch_size=_BULK_BATCH)
    # Looked for inside the key too: networks build keys from ids ("dm:<account id>").
    if any(raw_id in conversation.thread_key for raw_id in their_ids):
        wipe.raw_ids.add(conversation.thread_key)
        conversation.thread_key = network_id_key(conversation.thread_key)
    latest = (
        conversation.messages.filter(direction=MessageDirection.INBOUND)
        .order_by("-created_at", "-id")
        .first()
    )
    conversation.preview = latest.text[: Conversation._meta.get_field("preview").max_length] if latest else ""
    if conversation.contact_id == contact.pk:
        conversation.contact = _next_citizen(conversation, identities)
    _conversation_save(conversation, wipe)


def _next_citizen(conversation: Conversation, identities: list[Identity]) -> Contact | None:
    first_other = (
        conversation.messages.filter(direction=MessageDirection.INBOUND, author__isnull=False)
        .exclude(author__in=identities)
        .select_related("author__contact")
        .order_by("created_at", "id")
        .first()
    )
    return first_other.author.contact if first_other else None


def _conversation_save(conversation: Conversation, wipe: _Wipe) -> None:
    # Imported here: inbox.services imports this module for the erased network ids.
    from inbox.services import _priority_refresh

    # The priority's reasons name the words found in the citizen's text: count them again.
    _priority_refresh(conversation)
    conversation.save(
        update_fields=["thread_key", "preview", "priority", "priority_reasons", "contact", "updated_at"]
    )
    wipe.conversation_pks.add(conversation.pk)
    wipe.erased.conversations += 1


def _messages_wipe(messages: list[Message], wipe: _Wipe) -> None:
    text = text_placeholder()
    for message in messages:
        wipe.raw_ids.add(message.external_id)
        message.external_id = network_id_key(message.external_id)
        message.in_reply_to = network_id_key(message.in_reply_to)
        message.text = text
        message.raw = {}
        message.hidden_reason = ""
    Message.objects.bulk_update(
        messages, ["external_id", "in_reply_to", "text", "raw", "hidden_reason"], batch_size=_BULK_BATCH
    )
    wipe.message_pks |= {message.pk for message in messages}
    wipe.erased.messages += len(messages)
    wipe.erased.revisions += MessageRevision.objects.filter(message__in=messages).update(text=text)


def _replies_wipe(replies: list[Reply], wipe: _Wipe) -> None:
    """Our answers quote and name the citizen. One still queued is not sent any more."""
    for reply in replies:
        reply.text = text_placeholder()
        reply.external_id = network_id_key(reply.external_id)
        reply.failure_reason = ""
        if reply.state == ReplyState.QUEUED:
            reply.state = ReplyState.FAILED
            reply.failure_reason = gettext("Not sent: the citizen's data was erased.")
    Reply.objects.bulk_update(
        replies, ["text", "external_id", "failure_reason", "state"], batch_size=_BULK_BATCH
    )
    wipe.reply_pks |= {reply.pk for reply in replies}
    wipe.erased.replies += len(replies)


def _notes_and_questions_wipe(conversation: Conversation, wipe: _Wipe) -> None:
    wipe.erased.notes += Note.objects.filter(conversation=conversation).update(text=text_placeholder())
    questions = ColleagueRequest.objects.filter(conversation=conversation)
    wipe.request_pks |= set(questions.values_list("pk", flat=True))
    wipe.erased.colleague_questions += questions.update(question="")


def _identities_wipe(identities: list[Identity], wipe: _Wipe) -> None:
    for identity in identities:
        wipe.raw_ids.add(identity.external_id)
        # Hashed even when the network gave no id: the hash is what marks the identity erased.
        identity.external_id = network_id_key(identity.external_id or f"identity-{identity.pk}")
        identity.display_name = person_placeholder()
        identity.handle = ""
    Identity.objects.bulk_update(
        identities, ["external_id", "display_name", "handle"], batch_size=_BULK_BATCH
    )
    wipe.erased.identities += len(identities)


# --- Copies elsewhere: webhook deliveries and the audit log --------------------------------------


def _copies_forget(wipe: _Wipe) -> None:
    _webhook_events_forget(wipe)
    _audit_events_redact(wipe)


def _webhook_events_forget(wipe: _Wipe) -> None:
    """Delete processed webhook deliveries that mention an erased id (they are kept 30 days for
    inquiries only). One not processed yet is left to be processed: it may carry other citizens'
    messages, and the erased ones in it find their erased rows and change nothing."""
    raw_ids = sorted(raw_id for raw_id in wipe.raw_ids if raw_id and not network_id_erased(raw_id))
    for start in range(0, len(raw_ids), _IDS_PER_QUERY):
        # As JSON strings, quotes included, so a short id does not match inside a longer one.
        mentions = reduce(
            or_, (Q(body__contains=f'"{raw_id}"') for raw_id in raw_ids[start : start + _IDS_PER_QUERY])
        )
        deleted, _ = WebhookEvent.objects.filter(mentions, processed_at__isnull=False).delete()
        wipe.erased.webhook_events += deleted


def _audit_events_redact(wipe: _Wipe) -> None:
    """The audit log keeps who did what and when about an erased message, conversation or question
    to a colleague, but not the words: its label is written again from the emptied row, a hiding
    reason is emptied and a reply's network id hashed."""
    labels = {
        "inbox.Message": {str(pk): str(row) for pk, row in _rows(Message.objects.all(), wipe.message_pks)},
        "inbox.Conversation": {
            str(pk): str(row)
            for pk, row in _rows(Conversation.objects.select_related("channel"), wipe.conversation_pks)
        },
        "inbox.ColleagueRequest": {
            str(pk): str(row)
            for pk, row in _rows(ColleagueRequest.objects.select_related("contact"), wipe.request_pks)
        },
    }
    targets = [Q(target_type=kind, target_id__in=list(by_pk)) for kind, by_pk in labels.items() if by_pk]
    if not targets:
        return
    events = AuditEvent.objects.filter(reduce(or_, targets)).exclude(action=AuditAction.DATA_ERASED)
    for event in events:
        details = dict(event.details)
        if "reason" in details and event.target_type == "inbox.Message":
            details["reason"] = text_placeholder()
        if details.get("reply") in wipe.reply_pks and details.get("external_id"):
            details["external_id"] = network_id_key(str(details["external_id"]))
        label = labels[event.target_type][event.target_id][:200]
        # The one change ever made to an audit event: the log must not keep what erasure removed.
        AuditEvent.objects.filter(pk=event.pk).update(target_label=label, details=details)
        wipe.erased.audit_events += 1


def _rows(queryset, pks: set[int]):
    return ((row.pk, row) for row in queryset.filter(pk__in=pks)) if pks else ()


# --- Storage limitation --------------------------------------------------------------------------


def citizen_data_retention_apply(*, before: datetime, batch_size: int, max_batches: int) -> Erased:
    """Anonymise, as an erasure does, the conversations closed before `before`, and those left
    unclosed whose last message is older than that (nobody answers a citizen years later, and an
    open status must not keep their words for ever); then the contacts with nothing left but
    erased rows. Works in batches of `batch_size`, each its own
    transaction, claimed with skip_locked so two runs never take the same rows; stops after
    `max_batches` of each (the next run goes on). Idempotent: an erased row is never claimed again."""
    erased = Erased()
    for claim in (_retention_conversations_batch, _retention_contacts_batch):
        for _ in range(max_batches):
            done = claim(before=before, batch_size=batch_size)
            for name, count in done.as_details().items():
                setattr(erased, name, getattr(erased, name) + count)
            if done.conversations + done.contacts < batch_size:
                break
    if erased.conversations or erased.contacts:
        audit_record(action=AuditAction.DATA_ERASED, details={"why": "retention", **erased.as_details()})
    logger.info("Citizen data retention: erased %s.", erased)
    return erased


def _retention_conversations_batch(*, before: datetime, batch_size: int) -> Erased:
    sending = Reply.objects.filter(conversation=OuterRef("pk"), state=ReplyState.SENDING)
    closed_long_ago = Q(status=ConversationStatus.CLOSED, closed_at__lt=before)
    silent_long_since = ~Q(status=ConversationStatus.CLOSED) & Q(last_message_at__lt=before)
    with transaction.atomic():
        conversations = list(
            Conversation.objects.select_for_update(skip_locked=True)
            .filter(closed_long_ago | silent_long_since)
            .exclude(thread_key__startswith=ERASED_PREFIX)
            .exclude(Exists(sending))
            .order_by("closed_at", "pk")[:batch_size]
        )
        wipe = _Wipe()
        for conversation in conversations:
            _conversation_wipe(conversation, wipe)
        _copies_forget(wipe)
    return wipe.erased


def _retention_contacts_batch(*, before: datetime, batch_size: int) -> Erased:
    """Contacts whose every conversation and message is erased, and who still have a name."""
    live_identity = Identity.objects.filter(contact=OuterRef("pk")).exclude(
        external_id__startswith=ERASED_PREFIX
    )
    live_conversation = Conversation.objects.filter(contact=OuterRef("pk")).exclude(
        thread_key__startswith=ERASED_PREFIX
    )
    live_message = Message.objects.filter(author__contact=OuterRef("pk")).exclude(
        external_id__startswith=ERASED_PREFIX
    )
    with transaction.atomic():
        contacts = list(
            Contact.objects.select_for_update(skip_locked=True)
            .filter(Exists(live_identity))
            .exclude(Exists(live_conversation))
            .exclude(Exists(live_message))
            .order_by("pk")[:batch_size]
        )
        wipe = _Wipe()
        for contact in contacts:
            _identities_wipe(list(contact.identities.select_for_update()), wipe)
            contact.display_name = person_placeholder()
            contact.save(update_fields=["display_name", "updated_at"])
        wipe.erased.contacts = len(contacts)
        _copies_forget(wipe)
    return wipe.erased
