"""Colleagues' answers by e-mail: one raw RFC 5322 message in, one private note out.

The mail server either pipes each message for ``desk+<token>@…`` to ``manage.py
ingest_colleague_reply -`` or leaves it in a mailbox that beat reads over IMAP
(``colleague_mailbox_poll``, when SOCIALDESK_IMAP_URL is set). Either way ``colleague_reply_ingest``
does the work:

1. find the question: the token in the plus-address the e-mail was sent to (To, Cc, Delivered-To…),
   else in the Message-ID it answers (In-Reply-To, References);
2. take the text the colleague wrote: the text/plain part, or the HTML part reduced to text by nh3
   with every tag stripped; then cut the quoted history ("El … escribió:", "On … wrote:", Outlook's
   "De: … Enviado: …" block, "> " lines) and the signature ("-- ");
3. file it with inbox.colleagues.colleague_answer_record, which decides what it answers (only the
   contact's own address, and no automatic reply, marks the question answered) and makes the same
   e-mail delivered twice one note.

An e-mail naming no known question is refused with the reason, and nothing changes.
"""

import html
import imaplib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from urllib.parse import unquote, urlsplit

import nh3
from django.conf import settings
from django.utils.translation import gettext

from inbox.colleagues import MESSAGE_ID_PREFIX, colleague_answer_record
from inbox.models import ColleagueRequest, Note
from inbox.services import InboxRefused

logger = logging.getLogger(__name__)

# A colleague's answer is a few paragraphs; anything this big is not one (attachments are ignored).
MAX_MAIL_BYTES = 10 * 1024 * 1024
# Messages read per IMAP poll: the rest wait for the next one.
IMAP_BATCH = 50
IMAP_TIMEOUT_SECONDS = 30
_REFERENCE_SHAPE = r"[a-z0-9_-]{16,64}"
_ADDRESS_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
_THREAD_HEADERS = ("In-Reply-To", "References")


class ColleagueMailRefused(Exception):
    """The e-mail cannot be filed as a colleague's answer; the reason is in words."""


@dataclass(frozen=True)
class IngestedReply:
    colleague_request: ColleagueRequest
    note: Note | None  # None: the same answer was filed before (a second delivery)


def colleague_reply_ingest(raw: bytes) -> IngestedReply:
    if len(raw) > MAX_MAIL_BYTES:
        raise ColleagueMailRefused(gettext("The e-mail is too large to be a colleague's answer."))
    message = BytesParser(policy=policy.default).parsebytes(raw)
    token = reply_token(message)
    if token is None:
        raise ColleagueMailRefused(gettext("The e-mail does not answer any question sent to a colleague."))
    try:
        colleague_request = ColleagueRequest.objects.select_related("contact").get(token=token)
    except ColleagueRequest.DoesNotExist as exc:
        raise ColleagueMailRefused(
            gettext("No question to a colleague has this e-mail's reference.")
        ) from exc
    try:
        note = colleague_answer_record(
            colleague_request=colleague_request,
            text=reply_text(message),
            sender=parseaddr(str(message.get("From", "")))[1],
            automatic=is_automatic(message),
        )
    except InboxRefused as exc:
        raise ColleagueMailRefused(str(exc)) from exc
    return IngestedReply(colleague_request=colleague_request, note=note)


# --- Which question ----------------------------------------------------------------------------


def reply_token(message: EmailMessage) -> str | None:
    """The question's token, from the plus-address first, else from the thread's Message-IDs."""
    local, domain = settings.SOCIALDESK_REPLY_EMAIL.lower().split("@")
    plus_address = re.compile(rf"{re.escape(local)}\+({_REFERENCE_SHAPE})@{re.escape(domain)}")
    for header in _ADDRESS_HEADERS:
        for _, address in getaddresses([str(value) for value in message.get_all(header, [])]):
            found = plus_address.fullmatch(address.strip().lower())
            if found:
                return found.group(1)
    message_id = re.compile(rf"<{re.escape(MESSAGE_ID_PREFIX)}({_REFERENCE_SHAPE})@{re.escape(domain)}>")
    for header in _THREAD_HEADERS:
        for value in message.get_all(header, []):
            found = message_id.search(str(value).lower())
            if found:
                return found.group(1)
    return None


def is_automatic(message: EmailMessage) -> bool:
    """An out-of-office reply or a delivery report, as the headers declare it (RFC 3834, RFC 3464)."""
    auto_submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        auto_submitted != "no"
        or precedence in {"auto_reply", "bulk", "junk", "list"}
        or "X-Autoreply" in message
        or "X-Autorespond" in message
        or message.get_content_type() == "multipart/report"
    )


# --- What the colleague wrote ------------------------------------------------------------------


def reply_text(message: EmailMessage) -> str:
    """The new text of a reply: plain text preferred, HTML reduced to text, quoted history cut."""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    content = _decoded(body)
    if body.get_content_type() == "text/html":
        content = html_to_lines(content)
    return strip_quoted(content)


def _decoded(part: EmailMessage) -> str:
    payload = part.get_payload(decode=True) or b""
    try:
        return payload.decode(part.get_content_charset() or "utf-8", "replace")
    except LookupError:
        # An unknown charset: the bytes as UTF-8, undecodable ones replaced.
        return payload.decode("utf-8", "replace")


_LINE_BREAK_TAG = re.compile(
    r"<\s*(?:br|hr)\b[^>]*>|<\s*/\s*(?:p|div|li|tr|h[1-6]|table|ul|ol|pre)\s*>", re.I
)
# Stripping every tag; quoted mail (blockquote) and what browsers never show go with their content.
_TEXT_ONLY = nh3.Cleaner(
    tags=set(), clean_content_tags={"script", "style", "blockquote", "head", "title"}, attributes={}
)


def html_to_lines(markup: str) -> str:
    """The text of an HTML e-mail, keeping its line breaks (where quotes and signatures start)."""
    markup = _LINE_BREAK_TAG.sub(lambda tag: "\n" + tag.group(0), markup)
    return html.unescape(_TEXT_ONLY.clean(markup)).replace("\xa0", " ")


# "On Mon, 3 Feb 2025 at 10:00, Marta <…> wrote:", "El lun, 3 feb 2025 a las 10:00, Marta (<…>)
# escribió:", "El dl., 3 de febr. … va escriure:" — often wrapped over two or three lines.
_ATTRIBUTION_START = re.compile(r"^\s*(on|el|le|am)\s", re.I)
_ATTRIBUTION_END = re.compile(
    r"(wrote|escribió|escribio|va escriure|ha escrit|a écrit|schrieb)\s*:\s*$", re.I
)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(original message|mensaje original|missatge original|forwarded message|"
    r"mensaje reenviado|missatge reenviat)\s*-{2,}\s*$",
    re.I,
)
_RULE = re.compile(r"^\s*_{10,}\s*$")
# Outlook's block: "De: Marta <…>" then "Enviado: …" / "Sent: …" / "Fecha: …" (labels in bold in HTML).
_HEADER_FROM = re.compile(r"^\s*\**(from|de)\s*:", re.I)
_HEADER_NEXT = re.compile(
    r"^\s*\**(sent|date|enviado|enviado el|fecha|data|enviat|to|para|per a|subject|asunto|assumpte)\s*:", re.I
)
_SIGNATURE = re.compile(r"^--\s?$")
_SENT_FROM_DEVICE = re.compile(
    r"^\s*(sent from my|enviado desde mi|enviat des del meu|get outlook for|obtener outlook para)\b", re.I
)


def strip_quoted(text: str) -> str:
    """The lines written above the quoted history, without "> " lines and without the signature."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _history_starts(lines, index) or _SIGNATURE.match(line):
            break
        if line.lstrip().startswith(">") or _SENT_FROM_DEVICE.match(line):
            continue
        kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def _history_starts(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _ORIGINAL_MESSAGE.match(line) or _RULE.match(line) or _ATTRIBUTION_END.search(line):
        return True
    following = lines[index + 1 : index + 4]
    # A wrapped attribution: its first line has the date, the very next one ends "escribió:".
    if _ATTRIBUTION_START.match(line) and re.search(r"\d", line) and following:
        return bool(_ATTRIBUTION_END.search(following[0]))
    if _HEADER_FROM.match(line):
        return any(_HEADER_NEXT.match(next_line) for next_line in following)
    return False


# --- The mailbox over IMAP ---------------------------------------------------------------------


@dataclass
class MailboxPoll:
    filed: int = 0
    refused: int = 0


def colleague_mailbox_poll(
    *, imap_url: str, connect: Callable[..., imaplib.IMAP4] | None = None, limit: int = IMAP_BATCH
) -> MailboxPoll:
    """Read the unseen messages of the desk's mailbox and file each as a colleague's answer.

    A message is marked seen only once it is filed or refused, so one left by a crash or a failed
    fetch is read again next time (filing it twice makes one note). A refused one is also flagged,
    for a person to look at in the mailbox. ``connect`` defaults to ``imaplib.IMAP4_SSL``; tests
    pass a fake.
    """
    where = urlsplit(imap_url)
    result = MailboxPoll()
    imap = (connect or imaplib.IMAP4_SSL)(
        where.hostname, where.port or imaplib.IMAP4_SSL_PORT, timeout=IMAP_TIMEOUT_SECONDS
    )
    try:
        imap.login(unquote(where.username or ""), unquote(where.password or ""))
        _mailbox_select(imap, unquote(where.path.lstrip("/")) or "INBOX")
        for uid in _unseen(imap)[:limit]:
            filed = _mailbox_message_file(imap, uid)
            if filed is True:
                result.filed += 1
            elif filed is False:
                result.refused += 1
    finally:
        try:
            imap.logout()
        except (imaplib.IMAP4.error, OSError):
            logger.info("The IMAP server closed the connection before logout.")
    return result


def _mailbox_select(imap: imaplib.IMAP4, mailbox: str) -> None:
    status, _ = imap.select(mailbox)
    if status != "OK":
        raise imaplib.IMAP4.error(f"the mailbox {mailbox!r} cannot be opened")


def _unseen(imap: imaplib.IMAP4) -> list[bytes]:
    status, found = imap.uid("SEARCH", None, "UNSEEN")
    return (found[0] or b"").split() if status == "OK" and found else []


def _mailbox_message_file(imap: imaplib.IMAP4, uid: bytes) -> bool | None:
    """True: filed; False: refused (and flagged); None: not fetched, left unseen for the next poll."""
    status, fetched = imap.uid("FETCH", uid, "(BODY.PEEK[])")
    raw = _message_bytes(fetched) if status == "OK" else b""
    if not raw:
        return None
    try:
        colleague_reply_ingest(raw)
    except ColleagueMailRefused as exc:
        logger.warning("Mailbox message %s is not a colleague's answer: %s", uid.decode(), exc)
        imap.uid("STORE", uid, "+FLAGS", "(\\Seen \\Flagged)")
        return False
    imap.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    return True


def _message_bytes(fetched: list) -> bytes:
    """The message out of a FETCH response: [(b'1 (UID 7 BODY[] {123}', b'<message>'), b')']."""
    for part in fetched or []:
        if isinstance(part, tuple) and len(part) == 2:
            return part[1]
    return b""
