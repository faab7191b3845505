"""Asking a colleague: a hard question forwarded by e-mail to a department contact, and the answer
filed back on the conversation as a private note.

The e-mail goes out with ``Reply-To: desk+<token>@…`` and a Message-ID holding the same token, so
the colleague only has to press "reply": inbox.colleague_mail finds the question again by either.
The token is lower case because some mail servers fold the case of the address they deliver to.

Data minimisation: the e-mail carries the manager's question, the text of the citizen's latest
message and, of the citizen, only the first name. Never the citizen's handles, network ids, other
conversations or any contact detail: the colleague needs the question, not the person. The
manager can edit the question before it goes.

Answers are filed by ``colleague_answer_record`` whatever way they come (e-mail or pasted). An answer
from an address other than the contact's, or an automatic reply (out of office), is kept as a note
saying so, and the question stays waiting: it is never lost, and never taken for the answer.
"""

import logging
import secrets
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from inbox.models import (
    ColleagueRequest,
    ColleagueRequestState,
    Conversation,
    DepartmentContact,
    Message,
    MessageDirection,
    Note,
)
from inbox.services import InboxRefused
from socialdesk.audit import audit_record
from socialdesk.models.audit import AuditAction

logger = logging.getLogger(__name__)

# 24 random bytes: 32 characters, about 160 bits once folded to lower case.
TOKEN_BYTES = 24
MESSAGE_ID_PREFIX = "colleague."
REFERENCE_PREFIX = "SD"
QUESTION_MAX_LENGTH = 5000
ANSWER_MAX_LENGTH = 20_000


# --- Reading ------------------------------------------------------------------------------------


def citizen_last_message(conversation: Conversation) -> Message | None:
    return (
        conversation.messages.filter(direction=MessageDirection.INBOUND, deleted=False)
        .order_by("-created_at", "-id")
        .first()
    )


def colleague_question_default(conversation: Conversation) -> str:
    """The question as the form first shows it: what the citizen last wrote."""
    message = citizen_last_message(conversation)
    return message.text if message else ""


def department_contacts_active() -> list[DepartmentContact]:
    return list(DepartmentContact.objects.filter(is_active=True))


def colleague_requests_of(conversation: Conversation) -> list[ColleagueRequest]:
    return list(conversation.colleague_requests.select_related("contact", "asked_by"))


def colleague_reference(colleague_request: ColleagueRequest) -> str:
    return f"{REFERENCE_PREFIX}-{colleague_request.pk}"


def colleague_reply_address(token: str) -> str:
    local, domain = settings.SOCIALDESK_REPLY_EMAIL.split("@")
    return f"{local}+{token}@{domain}"


def colleague_message_id(token: str) -> str:
    domain = settings.SOCIALDESK_REPLY_EMAIL.split("@")[1]
    return f"<{MESSAGE_ID_PREFIX}{token}@{domain}>"


def _first_name(conversation: Conversation) -> str:
    name = conversation.contact.display_name.strip() if conversation.contact else ""
    return name.split()[0].lstrip("@") if name else ""


# --- Asking -------------------------------------------------------------------------------------


def colleague_ask(
    *, conversation: Conversation, contact: DepartmentContact, question: str, actor, request=None
) -> ColleagueRequest:
    """Send ``question`` to ``contact`` by e-mail and wait for the answer.

    The request is saved before the e-mail goes (the e-mail names its reference) and deleted again
    if the mail server refuses it, so "waiting" always means an e-mail left. Sending happens outside
    any transaction: a slow mail server must not hold the database's write lock.
    """
    question = question.strip()
    if not question:
        raise InboxRefused(gettext("Write the question for your colleague."))
    if len(question) > QUESTION_MAX_LENGTH:
        raise InboxRefused(gettext("The question is too long."))
    if not contact.is_active:
        raise InboxRefused(gettext("That contact is no longer in use."))
    colleague_request = ColleagueRequest.objects.create(
        conversation=conversation,
        contact=contact,
        question=question,
        asked_by=actor,
        token=secrets.token_urlsafe(TOKEN_BYTES).lower(),
    )
    try:
        _question_email(colleague_request).send()
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("Question %s to a colleague not sent: %s", colleague_request.pk, exc)
        colleague_request.delete()
        raise InboxRefused(gettext("The e-mail could not be sent; try again later.")) from exc
    audit_record(
        action=AuditAction.COLLEAGUE_ASKED,
        actor=actor,
        target=colleague_request,
        details={
            "kind": "question_to_colleague",
            "conversation": conversation.pk,
            "to": contact.email,
            "reference": colleague_reference(colleague_request),
        },
        request=request,
    )
    return colleague_request


def _question_email(colleague_request: ColleagueRequest) -> EmailMessage:
    """The e-mail to the colleague, in the desk's language, plain text only."""
    conversation = colleague_request.conversation
    citizen = citizen_last_message(conversation)
    asker = colleague_request.asked_by
    with translation.override(settings.LANGUAGE_CODE):
        reference = colleague_reference(colleague_request)
        first_name = _first_name(conversation)
        paragraphs = [
            gettext("Hello, %(name)s:") % {"name": colleague_request.contact.name},
            gettext(
                "%(asker)s, from the social media desk, needs your help to answer a person who wrote "
                "to us on %(network)s."
            )
            % {
                "asker": (asker.get_full_name() or asker.get_username()) if asker else gettext("The desk"),
                "network": conversation.channel.get_network_display(),
            },
            gettext("The question:") + "\n" + colleague_request.question,
        ]
        if citizen is not None:
            heading = (
                gettext("What %(first_name)s wrote:") % {"first_name": first_name}
                if first_name
                else gettext("What the person wrote:")
            )
            paragraphs.append(heading + "\n" + citizen.text)
        paragraphs += [
            gettext(
                "Just reply to this e-mail, writing above the quoted text. Your answer reaches the "
                "conversation as a private note for the desk; the person never sees it as it is."
            ),
            gettext("Reference: %(reference)s") % {"reference": reference},
        ]
        subject = gettext("Question from the social media desk (ref. %(reference)s)") % {
            "reference": reference
        }
    return EmailMessage(
        subject=subject,
        body="\n\n".join(paragraphs) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[colleague_request.contact.email],
        reply_to=[colleague_reply_address(colleague_request.token)],
        headers={"Message-ID": colleague_message_id(colleague_request.token)},
    )


def colleague_request_cancel(*, colleague_request: ColleagueRequest) -> ColleagueRequest:
    """Stop waiting (the manager found the answer elsewhere). An answer arriving later is still filed."""
    with transaction.atomic():
        colleague_request = ColleagueRequest.objects.select_for_update().get(pk=colleague_request.pk)
        if colleague_request.state != ColleagueRequestState.WAITING:
            raise InboxRefused(gettext("That question is not waiting any more."))
        colleague_request.state = ColleagueRequestState.CANCELLED
        colleague_request.save(update_fields=["state"])
    return colleague_request


# --- Answers ------------------------------------------------------------------------------------


def colleague_answer_record(
    *,
    colleague_request: ColleagueRequest,
    text: str,
    author=None,
    sender: str = "",
    automatic: bool = False,
) -> Note | None:
    """File a colleague's answer as a private note; None when the very same note is there already.

    ``sender`` is the e-mail's From address (empty when the manager pastes the answer). Only an
    answer from the contact's own address (case ignored), not automatic, answers the question; any
    other is filed flagged and the question keeps waiting. The same e-mail delivered twice makes
    one note: the note's text is compared, under a lock on the request.
    """
    text = text.strip()[:ANSWER_MAX_LENGTH]
    if not text:
        raise InboxRefused(gettext("The answer is empty."))
    contact = colleague_request.contact
    expected = not automatic and (not sender or sender.strip().lower() == contact.email.lower())
    with translation.override(settings.LANGUAGE_CODE):
        if automatic:
            heading = gettext(
                "Automatic reply to the question for %(contact)s (still waiting for the answer):"
            )
        elif not expected:
            heading = gettext(
                "Answer to the question for %(contact)s, but from an unexpected sender (%(sender)s): "
                "check it before relying on it."
            )
        else:
            heading = gettext("Answer from %(contact)s:")
        note_text = heading % {"contact": contact.name, "sender": sender} + "\n" + text
    with transaction.atomic():
        colleague_request = ColleagueRequest.objects.select_for_update().get(pk=colleague_request.pk)
        if Note.objects.filter(conversation_id=colleague_request.conversation_id, text=note_text).exists():
            return None
        note = Note.objects.create(
            conversation_id=colleague_request.conversation_id, author=author, text=note_text
        )
        if expected and colleague_request.answer_note_id is None:
            colleague_request.state = ColleagueRequestState.ANSWERED
            colleague_request.answered_at = timezone.now()
            colleague_request.answer_note = note
            colleague_request.save(update_fields=["state", "answered_at", "answer_note"])
    return note


def colleague_answer_paste(*, colleague_request: ColleagueRequest, text: str, actor) -> Note:
    """The manager pastes the answer the colleague gave by phone, chat or a lost e-mail."""
    note = colleague_answer_record(colleague_request=colleague_request, text=text, author=actor)
    if note is None:
        raise InboxRefused(gettext("That answer is already in the notes."))
    return note
