"""Asking a colleague from a conversation: the e-mail that goes, the wait the page shows, the answer
pasted back — and that the supervisor can do none of it."""

import re
import smtplib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from inbox.colleagues import colleague_ask
from inbox.models import ColleagueRequest, ColleagueRequestState, DepartmentContact, Note
from inbox.services import InboxRefused
from socialdesk.models.audit import AuditAction, AuditEvent
from tests.inbox.helpers import citizen_writes, we_answer_on_the_network

MADRID = ZoneInfo("Europe/Madrid")


@pytest.fixture(autouse=True)
def _reply_mailbox(settings):
    settings.SOCIALDESK_REPLY_EMAIL = "escritorio@ayto.example.org"
    settings.DEFAULT_FROM_EMAIL = "redes@ayto.example.org"


@pytest.fixture
def contact(db):
    return DepartmentContact.objects.create(
        name="Servicio de Formación", email="formacion@ayto.example.org", topics="cursos, becas"
    )


@pytest.fixture
def conversation(sandbox_channel):
    citizen_writes(sandbox_channel, "Primera pregunta, ya contestada")
    we_answer_on_the_network(sandbox_channel)
    return citizen_writes(sandbox_channel, "¿Cuándo empieza el curso de carretillero?").conversation


def ask_url(conversation) -> str:
    return reverse("inbox:colleague_ask", args=[conversation.pk])


def page(client, conversation) -> str:
    return client.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()


def ask(client, conversation, contact, question="¿Cuándo empieza el curso?"):
    return client.post(ask_url(conversation), {"ask-contact": contact.pk, "ask-question": question})


def test_the_form_offers_active_contacts_and_the_citizens_last_message(manager_client, conversation, contact):
    DepartmentContact.objects.create(name="Unidad cerrada", email="cerrada@ayto.example.org", is_active=False)

    response = manager_client.get(ask_url(conversation), headers={"HX-Request": "true"})

    form = response.context["ask_form"]
    assert response.status_code == 200
    assert response.templates[0].name == "inbox/_colleague_ask.html"
    assert "base.html" not in [template.name for template in response.templates]
    assert list(form.fields["contact"].queryset) == [contact]
    assert form.initial["question"] == "¿Cuándo empieza el curso de carretillero?"
    assert "Servicio de Formación — cursos, becas" in response.content.decode()


def test_without_htmx_the_form_is_a_page_of_its_own(manager_client, conversation, contact):
    response = manager_client.get(ask_url(conversation))

    assert response.status_code == 200
    assert "<main" in response.content.decode()
    assert 'name="ask-question"' in response.content.decode()


def test_asking_sends_one_plain_e_mail_that_a_reply_finds_again(
    manager_client, manager, conversation, contact
):
    response = ask(manager_client, conversation, contact, "¿Cuándo empieza el curso y dónde se inscribe?")

    assert response.status_code == 302
    asked = ColleagueRequest.objects.get()
    assert (asked.conversation, asked.contact, asked.asked_by, asked.state) == (
        conversation,
        contact,
        manager,
        ColleagueRequestState.WAITING,
    )
    assert re.fullmatch(r"[a-z0-9_-]{32}", asked.token)
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["formacion@ayto.example.org"]
    assert sent.from_email == "redes@ayto.example.org"
    assert sent.reply_to == [f"escritorio+{asked.token}@ayto.example.org"]
    assert sent.message()["Message-ID"] == f"<colleague.{asked.token}@ayto.example.org>"
    assert f"SD-{asked.pk}" in sent.subject
    assert sent.content_subtype == "plain"
    assert "¿Cuándo empieza el curso y dónde se inscribe?" in sent.body
    assert "¿Cuándo empieza el curso de carretillero?" in sent.body  # the citizen's own words


def test_the_e_mail_carries_the_first_name_and_no_contact_details_of_the_citizen(
    manager_client, conversation, contact
):
    ask(manager_client, conversation, contact)

    sent = mail.outbox[0]
    whole = sent.message().as_string() + sent.body
    assert "Lucía" in sent.body
    assert "Moreno" not in whole  # the surname
    assert "@lucia" not in whole and "citizen-1" not in whole  # handle and id on the network
    assert "Primera pregunta" not in whole  # earlier messages stay in the desk


def test_the_e_mail_is_in_the_desks_language_whatever_the_managers(manager_client, conversation, contact):
    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    ask(manager_client, conversation, contact)

    reference = f"SD-{ColleagueRequest.objects.get().pk}"
    with translation.override("es"):
        spanish = gettext("Question from the social media desk (ref. %(reference)s)") % {
            "reference": reference
        }
    assert mail.outbox[0].subject == spanish


def test_asking_is_audited_as_a_question_to_a_colleague(manager_client, manager, conversation, contact):
    ask(manager_client, conversation, contact)

    event = AuditEvent.objects.get(action=AuditAction.COLLEAGUE_ASKED)
    assert (event.actor, event.target_type) == (manager, "inbox.ColleagueRequest")
    assert event.details["kind"] == "question_to_colleague"
    assert event.details["to"] == "formacion@ayto.example.org"


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({})


def test_when_the_mail_server_refuses_nothing_is_left_waiting(
    manager_client, conversation, contact, settings
):
    settings.EMAIL_BACKEND = "tests.inbox.test_colleagues.RefusingBackend"

    response = ask(manager_client, conversation, contact)

    assert response.status_code == 400
    assert response.context["ask_form"].non_field_errors()
    assert not ColleagueRequest.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.COLLEAGUE_ASKED).exists()


@pytest.mark.parametrize("question", ["", "   "])
def test_an_empty_question_is_refused(manager_client, conversation, contact, question):
    response = ask(manager_client, conversation, contact, question)

    assert response.status_code == 400
    assert not ColleagueRequest.objects.exists()
    assert mail.outbox == []


def test_a_contact_out_of_use_cannot_be_asked(manager, conversation, contact):
    contact.is_active = False
    contact.save()

    with pytest.raises(InboxRefused):
        colleague_ask(conversation=conversation, contact=contact, question="¿Algo?", actor=manager)
    assert mail.outbox == []


def test_the_conversation_shows_whom_it_waits_for_since_when(manager_client, manager, conversation, contact):
    asked_at = datetime(2025, 2, 3, 10, 0, tzinfo=MADRID)
    with time_machine.travel(asked_at, tick=False):
        colleague_ask(conversation=conversation, contact=contact, question="¿<b>Cuándo</b>?", actor=manager)

    with time_machine.travel(asked_at + timedelta(hours=3, minutes=5), tick=False):
        html = page(manager_client, conversation)

    waiting = re.search(r'<p class="colleague-waiting">(.*?)</p>', html, re.S).group(1)
    assert "Servicio de Formación" in waiting
    assert "10:00" in waiting
    assert re.search(r"3\s+horas", waiting)
    assert escape("¿<b>Cuándo</b>?") in html  # the question, escaped
    assert "<b>Cuándo</b>" not in html


def test_the_manager_stops_waiting(manager_client, manager, conversation, contact):
    asked = colleague_ask(conversation=conversation, contact=contact, question="¿Algo?", actor=manager)

    manager_client.post(reverse("inbox:colleague_cancel", args=[conversation.pk, asked.pk]))

    asked.refresh_from_db()
    assert asked.state == ColleagueRequestState.CANCELLED
    assert 'class="colleague-waiting"' not in page(manager_client, conversation)


def test_a_pasted_answer_becomes_a_note_and_answers_the_question(
    manager_client, manager, conversation, contact
):
    asked = colleague_ask(conversation=conversation, contact=contact, question="¿Algo?", actor=manager)

    manager_client.post(
        reverse("inbox:colleague_paste", args=[conversation.pk, asked.pk]),
        {"text": "  Empieza el 3 de marzo <script>x</script>  "},
    )

    asked.refresh_from_db()
    note = Note.objects.get(conversation=conversation)
    assert asked.state == ColleagueRequestState.ANSWERED
    assert asked.answer_note == note
    assert asked.answered_at is not None
    assert note.author == manager
    heading = note.text.splitlines()[0]
    assert "Servicio de Formación" in heading and heading.endswith(":")
    assert note.text.endswith("Empieza el 3 de marzo <script>x</script>")
    html = page(manager_client, conversation)
    assert escape("Empieza el 3 de marzo <script>x</script>") in html
    assert "<script>x</script>" not in html
    assert 'class="colleague-waiting"' not in html


def test_an_empty_paste_changes_nothing(manager_client, manager, conversation, contact):
    asked = colleague_ask(conversation=conversation, contact=contact, question="¿Algo?", actor=manager)

    manager_client.post(reverse("inbox:colleague_paste", args=[conversation.pk, asked.pk]), {"text": "  "})

    asked.refresh_from_db()
    assert asked.state == ColleagueRequestState.WAITING
    assert not Note.objects.exists()


def test_a_request_of_another_conversation_is_not_found(manager_client, manager, sandbox_channel, contact):
    first = citizen_writes(sandbox_channel, "Uno", thread_key="t-a").conversation
    second = citizen_writes(sandbox_channel, "Dos", thread_key="t-b").conversation
    asked = colleague_ask(conversation=first, contact=contact, question="¿Algo?", actor=manager)

    response = manager_client.post(reverse("inbox:colleague_cancel", args=[second.pk, asked.pk]))

    assert response.status_code == 404
    asked.refresh_from_db()
    assert asked.state == ColleagueRequestState.WAITING


def test_the_supervisor_sees_the_wait_but_cannot_ask_paste_or_cancel(
    supervisor_client, manager, conversation, contact
):
    asked = colleague_ask(conversation=conversation, contact=contact, question="¿Algo?", actor=manager)
    mail.outbox.clear()

    html = page(supervisor_client, conversation)
    assert 'class="colleague-waiting"' in html
    assert ask_url(conversation) not in html
    assert reverse("inbox:colleague_paste", args=[conversation.pk, asked.pk]) not in html

    assert supervisor_client.get(ask_url(conversation)).status_code == 403
    assert ask(supervisor_client, conversation, contact).status_code == 403
    paste = reverse("inbox:colleague_paste", args=[conversation.pk, asked.pk])
    assert supervisor_client.post(paste, {"text": "Sí"}).status_code == 403
    cancel = reverse("inbox:colleague_cancel", args=[conversation.pk, asked.pk])
    assert supervisor_client.post(cancel).status_code == 403

    asked.refresh_from_db()
    assert asked.state == ColleagueRequestState.WAITING
    assert (ColleagueRequest.objects.count(), Note.objects.count(), len(mail.outbox)) == (1, 0, 0)


@pytest.fixture
def admin_client(client, administrator):
    administrator.is_staff = True
    administrator.save()
    client.force_login(administrator)
    return client


def test_the_administrator_keeps_the_address_book_in_the_admin(admin_client):
    response = admin_client.post(
        reverse("admin:inbox_departmentcontact_add"),
        {
            "name": "Servicio de Empleo",
            "email": "empleo@ayto.example.org",
            "topics": "ofertas",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    assert DepartmentContact.objects.get().email == "empleo@ayto.example.org"
    assert admin_client.get(reverse("admin:inbox_answer_changelist")).status_code == 200


def test_the_manager_does_not_reach_the_admin_address_book(manager_client, manager):
    manager.is_staff = True
    manager.save()

    response = manager_client.get(reverse("admin:inbox_departmentcontact_changelist"))

    assert response.status_code in {302, 403}
