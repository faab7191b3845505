"""A colleague's answer by e-mail: found by its token, cut down to what the colleague wrote, filed
once as a note; the pipe command and the IMAP poll around it."""

import io
import sys
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.html import escape

from inbox.colleague_mail import (
    ColleagueMailRefused,
    colleague_mailbox_poll,
    colleague_reply_ingest,
    reply_text,
    strip_quoted,
)
from inbox.colleagues import colleague_ask
from inbox.models import ColleagueRequestState, DepartmentContact, Note
from inbox.tasks import poll_colleague_mailbox
from socialdesk.beat import BEAT_SCHEDULE
from tests.inbox.helpers import citizen_writes


@pytest.fixture(autouse=True)
def _reply_mailbox(settings):
    settings.SOCIALDESK_REPLY_EMAIL = "desk@example.org"


@pytest.fixture
def asked(sandbox_channel, manager):
    conversation = citizen_writes(sandbox_channel, "¿Cuándo empieza el curso?").conversation
    contact = DepartmentContact.objects.create(name="Formación", email="Formacion@Ayto.example.org")
    return colleague_ask(
        conversation=conversation, contact=contact, question="¿Cuándo empieza?", actor=manager
    )


def reply(
    asked,
    body: str,
    *,
    to: str | None = None,
    sender: str = "Pepa Formación <formacion@ayto.example.org>",
    in_reply_to: str = "",
    html: str | None = None,
    message_id: str | None = None,
    **headers,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to if to is not None else f"desk+{asked.token}@example.org"
    message["Subject"] = "RE: Consulta de la oficina de redes sociales"
    message["Message-ID"] = message_id or make_msgid(domain="ayto.example.org")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    if body:
        message.set_content(body)
    if html is not None:
        if body:
            message.add_alternative(html, subtype="html")
        else:
            message.set_content(html, subtype="html")
    return message.as_bytes()


GMAIL_SPANISH = """Hola Marta,

El curso empieza el 3 de marzo y la inscripción es en la web.

Un saludo,
Pepa

El lun, 3 feb 2025 a las 10:00, Oficina de redes sociales (<desk+{token}@example.org>)
escribió:

> Hola, Formación:
>
> ¿Cuándo empieza?
"""

OUTLOOK_SPANISH = """Sí, el plazo acaba el viernes 14.
--
Pepa García
Servicio de Formación · Tel. 960 000 000

________________________________
De: Oficina de redes sociales <desk@example.org>
Enviado: lunes, 3 de febrero de 2025 10:00
Para: Formación <formacion@ayto.example.org>
Asunto: Consulta de la oficina de redes sociales (ref. SD-1)

Hola, Formación: ¿Cuándo empieza?
"""


def note_of(asked) -> Note:
    return Note.objects.get(conversation=asked.conversation)


# --- What the colleague wrote -------------------------------------------------------------------


def test_a_gmail_reply_in_spanish_keeps_only_the_new_text(asked):
    filed = colleague_reply_ingest(reply(asked, GMAIL_SPANISH.format(token=asked.token)))

    asked.refresh_from_db()
    note = note_of(asked)
    assert filed.note == note
    assert note.text.splitlines()[0].startswith(("Answer from Formación", "Respuesta de Formación"))
    assert note.text.split("\n", 1)[1] == (
        "Hola Marta,\n\nEl curso empieza el 3 de marzo y la inscripción es en la web.\n\nUn saludo,\nPepa"
    )
    assert (asked.state, asked.answer_note) == (ColleagueRequestState.ANSWERED, note)
    assert note.author is None


def test_an_outlook_reply_loses_its_signature_and_the_original_message(asked):
    colleague_reply_ingest(reply(asked, OUTLOOK_SPANISH))

    assert note_of(asked).text.split("\n", 1)[1] == "Sí, el plazo acaba el viernes 14."


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("Sí.\n\nOn Mon, 3 Feb 2025 at 10:00, Desk <desk@example.org> wrote:\n> question", "Sí."),
        ("Sí.\n\nEl dl., 3 de febr. 2025, a les 10:00, Desk (<desk@example.org>) va escriure:\n> x", "Sí."),
        ("Sí.\n\n-----Mensaje original-----\nDe: Desk\nEnviado: lunes\n\nquestion", "Sí."),
        ("Respuesta\n> cita intercalada\nsigue la respuesta", "Respuesta\nsigue la respuesta"),
        ("Vale.\n\nEnviado desde mi iPhone", "Vale."),
        ("Vale.\r\n-- \r\nPepa", "Vale."),
    ],
)
def test_quoted_history_and_signatures_are_cut(written, kept):
    assert strip_quoted(written) == kept


def test_an_answer_that_merely_starts_with_el_and_a_date_is_kept():
    assert strip_quoted("El 3 de marzo.\n\nEl lun, 3 feb 2025, Desk\nescribió:\n> x") == "El 3 de marzo."


def test_an_html_only_reply_is_reduced_to_safe_text(asked, manager_client):
    html = (
        "<html><head><style>p{color:red}</style><title>t</title></head><body>"
        "<div dir='ltr'>La respuesta es <b>sí</b> &amp; pronto: &lt;b&gt;ya&lt;/b&gt;<br>Segunda línea"
        "<script>alert(1)</script><img src=x onerror=alert(2)></div><br>"
        "<div class='gmail_quote'><div dir='ltr' class='gmail_attr'>El lun, 3 feb 2025 a las 10:00, Desk "
        "(&lt;desk@example.org&gt;) escribió:<br></div><blockquote class='gmail_quote'>Texto citado</blockquote>"
        "</div></body></html>"
    )

    colleague_reply_ingest(reply(asked, "", html=html))

    answer = note_of(asked).text.split("\n", 1)[1]
    assert answer == "La respuesta es sí & pronto: <b>ya</b>\nSegunda línea"
    page = manager_client.get(reverse("inbox:conversation", args=[asked.conversation_id])).content.decode()
    assert escape("<b>ya</b>") in page
    assert "<b>ya</b>" not in page


def test_the_plain_part_is_preferred_to_the_html_one(asked):
    colleague_reply_ingest(reply(asked, "Texto plano", html="<p>Texto HTML</p>"))

    assert note_of(asked).text.endswith("Texto plano")


def test_an_unknown_charset_does_not_lose_the_answer(asked):
    raw = reply(asked, "placeholder").replace(b'charset="utf-8"', b'charset="x-nonsense"')

    colleague_reply_ingest(raw)

    assert note_of(asked).text.endswith("placeholder")


def test_a_latin1_quoted_printable_reply_is_decoded(asked):
    raw = (
        f"From: formacion@ayto.example.org\r\nTo: desk+{asked.token}@example.org\r\n"
        "Subject: RE\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\nS=ED, la inscripci=F3n ya est=E1 abierta.\r\n"
    ).encode("ascii")

    colleague_reply_ingest(raw)

    assert note_of(asked).text.endswith("Sí, la inscripción ya está abierta.")


# --- Which question, and whether it answers it -------------------------------------------------


def test_the_thread_headers_find_the_question_when_the_address_lost_its_token(asked):
    message_id = mail.outbox[0].message()["Message-ID"]

    colleague_reply_ingest(reply(asked, "Sí.", to="desk@example.org", in_reply_to=message_id))

    asked.refresh_from_db()
    assert asked.state == ColleagueRequestState.ANSWERED


def test_the_token_survives_a_mail_server_that_changes_the_address_case(asked):
    colleague_reply_ingest(reply(asked, "Sí.", to=f"DESK+{asked.token.upper()}@EXAMPLE.ORG"))

    asked.refresh_from_db()
    assert asked.state == ColleagueRequestState.ANSWERED


def test_the_same_e_mail_delivered_twice_makes_one_note(asked):
    raw = reply(asked, "Sí, empieza el lunes.")

    first = colleague_reply_ingest(raw)
    second = colleague_reply_ingest(raw)

    assert first.note is not None and second.note is None
    assert Note.objects.filter(conversation=asked.conversation).count() == 1


def test_a_later_different_answer_is_added_without_changing_the_first(asked):
    colleague_reply_ingest(reply(asked, "Empieza el lunes."))
    colleague_reply_ingest(reply(asked, "Corrijo: empieza el martes."))

    asked.refresh_from_db()
    notes = list(Note.objects.filter(conversation=asked.conversation))
    assert len(notes) == 2
    assert asked.answer_note == notes[0]


@pytest.mark.parametrize(
    "to",
    ["desk+unknowntoken000000000000000@example.org", "desk@example.org", "otro+{token}@example.org"],
)
def test_an_e_mail_for_no_known_question_is_refused_and_changes_nothing(asked, to):
    with pytest.raises(ColleagueMailRefused):
        colleague_reply_ingest(reply(asked, "Hola", to=to.format(token=asked.token)))

    asked.refresh_from_db()
    assert asked.state == ColleagueRequestState.WAITING
    assert not Note.objects.exists()


def test_a_forged_sender_is_filed_flagged_and_does_not_answer_the_question(asked):
    colleague_reply_ingest(reply(asked, "Respuesta falsa", sender="intruso@evil.example"))

    asked.refresh_from_db()
    note = note_of(asked)
    assert asked.state == ColleagueRequestState.WAITING
    assert asked.answer_note is None
    assert "intruso@evil.example" in note.text.splitlines()[0]
    assert note.text.endswith("Respuesta falsa")


def test_the_contacts_address_matches_whatever_its_case(asked):
    colleague_reply_ingest(reply(asked, "Sí.", sender="FORMACION@ayto.EXAMPLE.org"))

    asked.refresh_from_db()
    assert asked.state == ColleagueRequestState.ANSWERED


def test_an_out_of_office_reply_is_noted_and_the_question_keeps_waiting(asked):
    colleague_reply_ingest(reply(asked, "Estaré fuera hasta el lunes.", Auto_Submitted="auto-replied"))

    asked.refresh_from_db()
    assert asked.state == ColleagueRequestState.WAITING
    assert note_of(asked).text.endswith("Estaré fuera hasta el lunes.")


def test_an_answer_to_a_cancelled_question_is_still_filed(asked):
    asked.state = ColleagueRequestState.CANCELLED
    asked.save()

    colleague_reply_ingest(reply(asked, "Perdón por el retraso: sí."))

    asked.refresh_from_db()
    assert asked.state == ColleagueRequestState.ANSWERED


def test_an_empty_reply_is_refused(asked):
    with pytest.raises(ColleagueMailRefused):
        colleague_reply_ingest(reply(asked, "> solo la cita\n"))

    assert not Note.objects.exists()


def test_reply_text_of_a_message_without_body_is_empty():
    message = EmailMessage()
    message["Subject"] = "vacío"

    assert reply_text(message) == ""


# --- The pipe command ----------------------------------------------------------------------------


def test_the_command_files_an_e_mail_from_a_file(asked, tmp_path):
    path = tmp_path / "answer.eml"
    path.write_bytes(reply(asked, "Sí, desde el archivo."))
    out = io.StringIO()

    call_command("ingest_colleague_reply", str(path), stdout=out)

    assert note_of(asked).text.endswith("Sí, desde el archivo.")
    assert "Filed" in out.getvalue()


def test_the_command_reads_standard_input(asked, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(reply(asked, "Sí, por la tubería."))))

    call_command("ingest_colleague_reply", "-", stdout=io.StringIO())

    assert note_of(asked).text.endswith("Sí, por la tubería.")


def test_the_command_refuses_with_the_status_that_bounces(asked, tmp_path):
    path = tmp_path / "stray.eml"
    path.write_bytes(reply(asked, "Hola", to="desk@example.org"))

    with pytest.raises(CommandError) as refused:
        call_command("ingest_colleague_reply", str(path))

    assert refused.value.returncode == 65
    assert not Note.objects.exists()


# --- The IMAP poll (a fake IMAP4 server object is injected: no socket is opened) ------------------


class FakeImap:
    """Speaks the part of imaplib.IMAP4 the poll uses, over a dict of uid -> (raw, flags)."""

    def __init__(
        self, messages: dict[bytes, bytes], seen: set[bytes] = frozenset(), failing: set[bytes] = frozenset()
    ):
        self.messages = messages
        self.failing = failing
        self.flags: dict[bytes, set[str]] = {uid: ({"\\Seen"} if uid in seen else set()) for uid in messages}
        self.calls: list[tuple] = []

    def connect(self, host, port, timeout=None):
        self.calls.append(("connect", host, port))
        return self

    def login(self, user, password):
        self.calls.append(("login", user, password))
        return ("OK", [b"logged in"])

    def select(self, mailbox):
        self.calls.append(("select", mailbox))
        return ("OK", [str(len(self.messages)).encode()])

    def uid(self, command, *args):
        if command == "SEARCH":
            unseen = [uid for uid, flags in self.flags.items() if "\\Seen" not in flags]
            return ("OK", [b" ".join(unseen)])
        if command == "FETCH":
            uid = args[0]
            self.calls.append(("fetch", uid))
            if uid in self.failing:
                return ("NO", [b"try again later"])
            raw = self.messages[uid]
            return ("OK", [(b"1 (UID " + uid + b" BODY[] {" + str(len(raw)).encode() + b"}", raw), b")"])
        if command == "STORE":
            uid, _, flags = args
            self.flags[uid].update(flags.strip("()").split())
            return ("OK", [])
        raise AssertionError(f"unexpected command {command}")

    def logout(self):
        self.calls.append(("logout",))


IMAP_URL = "imaps://desk%40example.org:p%40ss%3Aword@imap.example.org/Respuestas"


def test_the_poll_files_unseen_answers_and_flags_what_it_cannot_file(asked):
    server = FakeImap(
        {
            b"7": reply(asked, "Sí, por IMAP."),
            b"8": reply(asked, "Publicidad", to="desk@example.org"),
            b"9": reply(asked, "Ya leído antes"),
        },
        seen={b"9"},
    )

    polled = colleague_mailbox_poll(imap_url=IMAP_URL, connect=server.connect)

    assert (polled.filed, polled.refused) == (1, 1)
    assert note_of(asked).text.endswith("Sí, por IMAP.")
    assert server.flags[b"7"] == {"\\Seen"}
    assert server.flags[b"8"] == {"\\Seen", "\\Flagged"}
    assert ("fetch", b"9") not in server.calls
    assert server.calls[:3] == [
        ("connect", "imap.example.org", 993),
        ("login", "desk@example.org", "p@ss:word"),
        ("select", "Respuestas"),
    ]
    assert server.calls[-1] == ("logout",)


def test_a_message_the_server_fails_to_give_stays_unseen_for_the_next_poll(asked):
    server = FakeImap({b"3": reply(asked, "Sí.")}, failing={b"3"})

    polled = colleague_mailbox_poll(imap_url=IMAP_URL, connect=server.connect)

    assert (polled.filed, polled.refused) == (0, 0)
    assert server.flags[b"3"] == set()
    assert not Note.objects.exists()


def test_the_poll_reads_at_most_a_batch(asked):
    server = FakeImap({str(uid).encode(): reply(asked, f"Respuesta {uid}") for uid in range(1, 6)})

    polled = colleague_mailbox_poll(imap_url=IMAP_URL, connect=server.connect, limit=2)

    assert polled.filed == 2
    assert sum("\\Seen" in flags for flags in server.flags.values()) == 2


def test_the_beat_task_polls_only_when_a_mailbox_is_configured(asked, settings, monkeypatch):
    server = FakeImap({b"1": reply(asked, "Sí, desde beat.")})
    monkeypatch.setattr("imaplib.IMAP4_SSL", server.connect)

    settings.SOCIALDESK_IMAP_URL = ""
    assert poll_colleague_mailbox() is None
    assert server.calls == []

    settings.SOCIALDESK_IMAP_URL = IMAP_URL
    assert poll_colleague_mailbox() == (1, 0)
    assert note_of(asked).text.endswith("Sí, desde beat.")
    assert BEAT_SCHEDULE["poll-colleague-mailbox"]["task"] == poll_colleague_mailbox.name


def test_an_unreachable_mailbox_is_logged_not_raised(db, settings, monkeypatch, caplog):
    def refuse(host, port, timeout=None):
        raise ConnectionRefusedError("no IMAP here")

    monkeypatch.setattr("imaplib.IMAP4_SSL", refuse)
    settings.SOCIALDESK_IMAP_URL = IMAP_URL

    assert poll_colleague_mailbox() is None
    assert "could not be read" in caplog.text
    assert "p%40ss" not in caplog.text
