"""A citizen's right to erasure and the storage limit on citizens' data (inbox.privacy).

The citizen here, Zenobia Quixote, writes "quixote" into everything she can: her name, her handle,
her account id, her messages' ids and texts; the desk writes her name into its answers, notes, a
question to a colleague and a hiding reason. After an erasure no text or JSON column of any row
the desk keeps may hold the word — the sandbox network's own tables are the network's copy, not
the desk's, and are left out of the search.
"""

import json
import threading
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext

from inbox.colleagues import colleague_ask
from inbox.models import (
    ColleagueRequest,
    Contact,
    Conversation,
    DepartmentContact,
    Identity,
    Message,
    MessageDirection,
    MessageRevision,
    Note,
    Reply,
    ReplyKind,
    ReplyState,
    Resolution,
)
from inbox.privacy import (
    ERASED_PREFIX,
    ErasureRefused,
    citizen_data_retention_apply,
    contact_erase,
    network_id_key,
    network_id_keys,
    person_placeholder,
    text_placeholder,
)
from inbox.services import (
    conversation_close,
    message_hide,
    message_ingest,
    note_add,
    reply_create,
    reply_deliver,
)
from inbox.tasks import apply_citizen_data_retention
from metrics.models import ReportingEvent
from networks.base import InboundKind
from networks.models import Channel, Network, SandboxAccount, SandboxEvent, SandboxPost, WebhookEvent
from networks.services import channel_connect, channel_poll
from networks.webhooks import webhook_event_process
from socialdesk.beat import BEAT_SCHEDULE
from socialdesk.models.audit import AuditAction, AuditEvent
from tests.inbox.helpers import citizen_writes
from tests.networks.fixtures import inbound
from tests.networks.payloads import payload_text

MARKER = "quixote"
CITIZEN = {"author_id": "quixote-7781", "author_name": "Zenobia Quixote", "author_handle": "zquixote"}
OTHER = {"author_id": "oscar-1", "author_name": "Óscar Tercero", "author_handle": "oscar3"}
# The sandbox network's own record of what was said: the network's copy, not the desk's.
NETWORK_SIDE = {SandboxAccount, SandboxPost, SandboxEvent}
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def where_found(marker: str = MARKER) -> list[str]:
    """Every text or JSON column of every row the desk keeps that holds `marker` (any case)."""
    found = []
    tables = set(connection.introspection.table_names())
    for model in apps.get_models():
        ours = model.__module__.startswith(
            ("inbox.", "metrics.", "networks.", "socialdesk.", "scheduling.", "curation.")
        )
        if not ours or model in NETWORK_SIDE or model._meta.db_table not in tables:
            continue
        names = [field.attname for field in model._meta.concrete_fields if isinstance(field, TEXT_FIELDS)]
        for row in model.objects.values("pk", *names):
            for name in names:
                value = row[name]
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                if marker in text.lower():
                    found.append(f"{model._meta.label}.{name} #{row['pk']}")
    return found


def network_says(account, external_id: str, text: str, *, author: dict, thread_key: str, kind, **more):
    """The sandbox network records a citizen's message (a second one with the same id is an edit)."""
    return SandboxEvent.objects.create(
        account=account,
        external_id=external_id,
        kind=kind,
        thread_key=thread_key,
        author_id=author["author_id"],
        author_name=author["author_name"],
        author_handle=author["author_handle"],
        text=text,
        **more,
    )


def poll(channel) -> None:
    channel_poll(channel=Channel.objects.get(pk=channel.pk))


def snapshot() -> dict:
    """Every row of the inbox, as values (update times aside)."""
    tables = [Contact, Identity, Conversation, Message, MessageRevision, Reply, Note, ColleagueRequest]
    return {
        model.__name__: [
            {key: value for key, value in row.items() if key != "updated_at"}
            for row in model.objects.order_by("pk").values()
        ]
        for model in tables
    }


@pytest.fixture
def department(db):
    return DepartmentContact.objects.create(name="Servicio de Formación", email="formacion@ayto.example.org")


@pytest.fixture
def story(sandbox_account, sandbox_channel, manager, department, django_capture_on_commit_callbacks):
    """Zenobia writes privately (and edits), comments publicly; Óscar answers under her comment; the
    desk answers her in both places, hides her comment, writes notes and asks a colleague."""
    private = {"author": CITIZEN, "thread_key": "dm-quixote-7781", "kind": InboundKind.PRIVATE_MESSAGE}
    network_says(sandbox_account, "quixote-m1", "Soy Zenobia Quixote, DNI 00000000T", **private)
    poll(sandbox_channel)
    network_says(sandbox_account, "quixote-m1", "Soy Zenobia Quixote, DNI 00000000T (corregido)", **private)
    network_says(sandbox_account, "quixote-m2", "¿Me ayudan? Quixote", **private)
    public = {"thread_key": "quixote-c1", "kind": InboundKind.PUBLIC_COMMENT, "about_post": "our-post-1"}
    network_says(sandbox_account, "quixote-c1", "Pésimo servicio, firmado Quixote", author=CITIZEN, **public)
    poll(sandbox_channel)
    dm = Message.objects.get(external_id="quixote-m2").conversation
    thread = Message.objects.get(external_id="quixote-c1").conversation
    with django_capture_on_commit_callbacks(execute=True):
        reply_create(
            conversation=dm, author=manager, text="Hola Zenobia Quixote, ya está.", kind=ReplyKind.PRIVATE
        )
        reply_create(conversation=thread, author=manager, text="Lo sentimos, Quixote.", kind=ReplyKind.PUBLIC)
    network_says(
        sandbox_account, "oscar-c2", "Yo también espero", author=OTHER, in_reply_to="quixote-c1", **public
    )
    poll(sandbox_channel)
    message_hide(
        message=Message.objects.get(external_id="quixote-c1"), actor=manager, reason="Insulta, Quixote"
    )
    note_add(conversation=dm, author=manager, text="Quixote llamó por teléfono")
    note_add(conversation=thread, author=manager, text="Quixote es reincidente")
    colleague_ask(conversation=dm, contact=department, question="¿Qué le digo a Quixote?", actor=manager)
    WebhookEvent.objects.create(
        source="meta", body=json.dumps({"sender": {"id": "quixote-7781"}}), processed_at=timezone.now()
    )
    return {"dm": dm, "thread": thread, "contact": dm.contact}


def test_erasure_leaves_the_citizens_words_and_names_nowhere(story, manager):
    assert len(where_found()) > 10, "the story must put the marker in many places first"

    erased = contact_erase(contact=story["contact"], actor=manager)

    assert where_found() == []
    assert (erased.contacts, erased.identities, erased.conversations) == (1, 1, 2)
    assert erased.webhook_events == 1
    contact = Contact.objects.get(pk=story["contact"].pk)
    identity = contact.identities.get()
    assert (contact.display_name, identity.display_name, identity.handle) == (
        person_placeholder(),
        person_placeholder(),
        "",
    )
    assert identity.external_id == network_id_key("quixote-7781")


def test_the_private_conversation_is_emptied_whole(story, manager):
    contact_erase(contact=story["contact"], actor=manager)

    dm = Conversation.objects.get(pk=story["dm"].pk)
    assert {message.text for message in dm.messages.all()} == {text_placeholder()}
    assert {message.direction for message in dm.messages.all()} == {
        MessageDirection.INBOUND,
        MessageDirection.OUTBOUND,
    }
    assert all(
        message.raw == {} and message.external_id.startswith(ERASED_PREFIX) for message in dm.messages.all()
    )
    assert list(MessageRevision.objects.values_list("text", flat=True)) == [text_placeholder()]
    assert set(dm.replies.values_list("text", flat=True)) == {text_placeholder()}
    assert set(dm.notes.values_list("text", flat=True)) == {text_placeholder()}
    assert list(dm.colleague_requests.values_list("question", flat=True)) == [""]
    assert dm.thread_key == network_id_key("dm-quixote-7781")
    assert (dm.preview, dm.contact_id) == (text_placeholder(), story["contact"].pk)


def test_in_a_shared_thread_only_her_part_goes_and_the_conversation_passes_to_the_other_citizen(
    story, manager
):
    oscar = Message.objects.get(external_id="oscar-c2")

    contact_erase(contact=story["contact"], actor=manager)

    thread = Conversation.objects.get(pk=story["thread"].pk)
    oscar.refresh_from_db()
    assert (oscar.text, oscar.author.display_name) == ("Yo también espero", "Óscar Tercero")
    assert oscar.in_reply_to == network_id_key("quixote-c1")
    hers = thread.messages.exclude(pk=oscar.pk)
    assert {(message.direction, message.text) for message in hers} == {
        (MessageDirection.INBOUND, text_placeholder()),
        (MessageDirection.OUTBOUND, text_placeholder()),
    }
    assert thread.contact == oscar.author.contact
    assert thread.preview == "Yo también espero"
    assert thread.thread_key == network_id_key("quixote-c1")


def test_reporting_events_are_kept_unchanged_and_hold_no_personal_data(story, manager):
    conversation_close(conversation=story["dm"], actor=manager, resolution=Resolution.REPLIED)
    before = list(ReportingEvent.objects.order_by("pk").values())
    assert len(before) > 3, "the story must have produced reporting events"

    contact_erase(contact=story["contact"], actor=manager)

    assert list(ReportingEvent.objects.order_by("pk").values()) == before
    # Ids, kinds, times and durations; the only details are how a conversation was closed.
    assert [event["details"] for event in before if event["details"]] == [{"resolution": "replied"}]


def test_the_erasure_is_audited_with_counts_only_and_earlier_audit_labels_lose_the_words(story, manager):
    contact_erase(contact=story["contact"], actor=manager)

    event = AuditEvent.objects.get(action=AuditAction.DATA_ERASED)
    assert (event.actor, event.target_type, event.target_id) == (
        manager,
        "inbox.Contact",
        str(story["contact"].pk),
    )
    assert event.target_label == person_placeholder()
    assert event.details["why"] == "request"
    assert all(isinstance(count, int) for key, count in event.details.items() if key != "why")
    assert event.details["messages"] == Message.objects.filter(text=text_placeholder()).count()
    hidden = AuditEvent.objects.get(action=AuditAction.COMMENT_HIDDEN)
    assert (hidden.actor, hidden.details["reason"]) == (manager, text_placeholder())
    sent = AuditEvent.objects.filter(action=AuditAction.REPLY_SENT)
    assert [event.details["external_id"][: len(ERASED_PREFIX)] for event in sent] == [ERASED_PREFIX] * 2


def test_erasing_again_changes_nothing(story, manager):
    contact_erase(contact=story["contact"], actor=manager)
    after_first = snapshot()

    contact_erase(contact=story["contact"], actor=manager)

    assert snapshot() == after_first
    assert where_found() == []


def test_the_network_sending_her_messages_again_brings_nothing_back(story, manager, sandbox_channel):
    contact_erase(contact=story["contact"], actor=manager)
    counts = (Message.objects.count(), Contact.objects.count(), Identity.objects.count())
    Channel.objects.filter(pk=sandbox_channel.pk).update(inbound_cursor={})

    poll(sandbox_channel)  # every message again, as a redelivery or a poll from the start would bring

    assert (Message.objects.count(), Contact.objects.count(), Identity.objects.count()) == counts
    assert MessageRevision.objects.count() == 1
    assert where_found() == []
    assert Message.objects.get(external_id="oscar-c2").text == "Yo también espero"


def test_a_new_message_after_the_erasure_is_a_new_contact_not_linked_to_the_erased_history(story, manager):
    contact_erase(contact=story["contact"], actor=manager)

    message = message_ingest(
        channel=story["dm"].channel,
        inbound=inbound("quixote-m9", thread_key="dm-quixote-7781", text="Otra consulta", **CITIZEN),
    )

    assert message.author.external_id == "quixote-7781"
    assert message.author.contact_id != story["contact"].pk
    assert message.conversation_id != story["dm"].pk
    erased = Contact.objects.get(pk=story["contact"].pk)
    assert erased.identities.get().external_id == network_id_key("quixote-7781")


def test_an_erased_id_is_still_recognised_after_the_secret_key_is_rotated(settings):
    old_key = network_id_key("quixote-m1")
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-the-rotation-test-0123456789abcdefghij"

    assert network_id_key("quixote-m1") != old_key
    assert old_key in network_id_keys("quixote-m1")
    assert "quixote" not in old_key


def test_a_queued_answer_is_not_sent_after_the_erasure(story, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        queued = reply_create(
            conversation=story["dm"],
            author=manager,
            text="Zenobia Quixote, otra cosa",
            kind=ReplyKind.PRIVATE,
        )

    contact_erase(contact=story["contact"], actor=manager)

    assert reply_deliver(reply_id=queued.pk) is None
    queued.refresh_from_db()
    assert (queued.state, queued.text) == (ReplyState.FAILED, text_placeholder())


def test_no_erasure_while_an_answer_is_being_sent(story, manager):
    Reply.objects.filter(conversation=story["dm"]).update(state=ReplyState.SENDING)

    with pytest.raises(ErasureRefused):
        contact_erase(contact=story["contact"], actor=manager)

    assert Contact.objects.get(pk=story["contact"].pk).display_name == "Zenobia Quixote"
    assert not AuditEvent.objects.filter(action=AuditAction.DATA_ERASED).exists()


# --- A webhook delivery, processed or still waiting ----------------------------------------------


@pytest.fixture
def page_channel(db):
    return channel_connect(
        network=Network.FACEBOOK,
        account_id="104857321234567",
        display_name="Empleo Comunitat Valenciana",
        credentials={"access_token": "page-token"},
    )


def test_a_webhook_delivered_again_after_the_erasure_does_not_bring_the_words_back(page_channel, manager):
    body = payload_text("facebook", "webhook_messenger")
    processed = WebhookEvent.objects.create(source="meta", body=body)
    webhook_event_process(event=processed)
    pending = WebhookEvent.objects.create(source="meta", body=body)  # Meta delivers it again
    citizen = Message.objects.get(external_id="m_Bq8kX2c3LlxhVDpRkQWdHk3fFtQpZ2mL9aM")
    counts = (Message.objects.count(), Contact.objects.count())

    erased = contact_erase(contact=citizen.author.contact, actor=manager)
    webhook_event_process(event=pending)

    assert erased.webhook_events == 1
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [pending.pk]
    assert (Message.objects.count(), Contact.objects.count()) == counts
    assert set(Message.objects.values_list("text", flat=True)) == {text_placeholder()}
    assert not Message.objects.filter(external_id__startswith="m_").exists()


# --- The page -----------------------------------------------------------------------------------


def conversation_page(client, conversation) -> str:
    return client.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()


def test_the_manager_confirms_on_a_page_that_says_what_happens_then_erases(manager_client, story):
    confirm_url = reverse("inbox:contact_erase_confirm", args=[story["dm"].pk])
    assert confirm_url in conversation_page(manager_client, story["dm"])

    page = manager_client.get(confirm_url)
    assert page.status_code == 200
    assert "Zenobia Quixote" in page.content.decode()
    assert gettext("This cannot be undone.") in page.content.decode()

    response = manager_client.post(reverse("inbox:contact_erase", args=[story["dm"].pk]))

    assert response.status_code == 302
    assert response.url == reverse("inbox:conversation", args=[story["dm"].pk])
    assert where_found() == []
    after = conversation_page(manager_client, story["dm"])
    assert person_placeholder() in after
    assert escape(gettext("The citizen's personal data is erased.")) in after


def test_the_page_says_so_when_an_answer_is_being_sent(manager_client, story):
    Reply.objects.filter(conversation=story["dm"]).update(state=ReplyState.SENDING)

    response = manager_client.post(reverse("inbox:contact_erase", args=[story["dm"].pk]), follow=True)

    assert gettext("An answer to this citizen is being sent right now; try again in a minute.") in (
        response.content.decode()
    )
    assert Contact.objects.get(pk=story["contact"].pk).display_name == "Zenobia Quixote"


def test_the_supervisor_can_neither_see_the_button_nor_erase(supervisor_client, story):
    assert reverse("inbox:contact_erase_confirm", args=[story["dm"].pk]) not in conversation_page(
        supervisor_client, story["dm"]
    )

    assert (
        supervisor_client.get(reverse("inbox:contact_erase_confirm", args=[story["dm"].pk])).status_code
        == 403
    )
    assert supervisor_client.post(reverse("inbox:contact_erase", args=[story["dm"].pk])).status_code == 403
    assert Contact.objects.get(pk=story["contact"].pk).display_name == "Zenobia Quixote"


def test_erasing_is_post_only(manager_client, story):
    assert manager_client.get(reverse("inbox:contact_erase", args=[story["dm"].pk])).status_code == 405
    assert Contact.objects.get(pk=story["contact"].pk).display_name == "Zenobia Quixote"


# --- The command, for requests by e-mail or on paper ---------------------------------------------


def test_the_command_erases_by_network_and_handle_and_says_what(story, manager):
    out = StringIO()

    call_command(
        "erase_contact",
        "--network",
        "sandbox",
        "--handle",
        "@ZQuixote",
        "--by",
        "marta",
        "--no-input",
        stdout=out,
    )

    assert where_found() == []
    printed = out.getvalue()
    assert f"Erased contact {story['contact'].pk}" in printed
    assert f"{Message.objects.filter(text=text_placeholder()).count()} messages" in printed
    assert AuditEvent.objects.get(action=AuditAction.DATA_ERASED).actor == manager


def test_the_command_erases_by_contact_number(story):
    call_command("erase_contact", "--contact", str(story["contact"].pk), "--no-input", stdout=StringIO())

    assert where_found() == []


def test_the_command_asks_before_erasing(story, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda question: "n")

    with pytest.raises(CommandError, match="Nothing was erased"):
        call_command("erase_contact", "--contact", str(story["contact"].pk), stdout=StringIO())

    assert Contact.objects.get(pk=story["contact"].pk).display_name == "Zenobia Quixote"


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["--network", "sandbox", "--handle", "nobody"], "Nobody with the handle"),
        (["--handle", "zquixote"], "--handle needs --network"),
        (["--contact", "999999"], "There is no contact 999999"),
        (["--network", "sandbox", "--handle", "zquixote", "--by", "ghost"], "There is no user 'ghost'"),
    ],
)
def test_the_command_says_what_is_wrong(story, arguments, problem):
    with pytest.raises(CommandError, match=problem):
        call_command("erase_contact", *arguments, "--no-input", stdout=StringIO())

    assert Contact.objects.get(pk=story["contact"].pk).display_name == "Zenobia Quixote"


def test_the_command_refuses_a_handle_two_contacts_share(sandbox_channel):
    citizen_writes(sandbox_channel, thread_key="a", author_id="x-1", author_name="Ana", author_handle="ana")
    Identity.objects.create(
        contact=Contact.objects.create(display_name="Ana bis"),
        network="sandbox",
        external_id="x-2",
        handle="ana",
    )

    with pytest.raises(CommandError, match="Several contacts"):
        call_command(
            "erase_contact", "--network", "sandbox", "--handle", "ana", "--no-input", stdout=StringIO()
        )


# --- Storage limitation --------------------------------------------------------------------------

RETENTION = timedelta(days=730)


def closed_conversation(channel, manager, *, author_id: str, name: str, thread_key: str) -> Conversation:
    message = citizen_writes(
        channel, f"Mensaje de {name}", thread_key=thread_key, author_id=author_id, author_name=name
    )
    note_add(conversation=message.conversation, author=manager, text=f"Nota sobre {name}")
    return conversation_close(
        conversation=message.conversation, actor=manager, resolution=Resolution.NO_REPLY_NEEDED
    )


def test_retention_anonymises_conversations_closed_longer_ago_then_contacts_with_nothing_left(
    sandbox_channel, manager, settings
):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        old = closed_conversation(
            sandbox_channel, manager, author_id="old-1", name="Quixote Viejo", thread_key="t-old"
        )
    with time_machine.travel(start + timedelta(days=10), tick=False):
        recent = closed_conversation(
            sandbox_channel, manager, author_id="new-1", name="Reciente", thread_key="t-new"
        )
    with time_machine.travel(start + timedelta(days=5), tick=False):
        still_open = citizen_writes(
            sandbox_channel, "Abierta", thread_key="t-open", author_id="open-1", author_name="Abierta"
        )
    events_before = list(ReportingEvent.objects.order_by("pk").values())

    with time_machine.travel(start + RETENTION + timedelta(days=1), tick=False):
        assert apply_citizen_data_retention.delay().get() == (1, 1)

    assert where_found() == []
    old = Conversation.objects.get(pk=old.pk)
    assert (
        set(old.messages.values_list("text", flat=True))
        == set(old.notes.values_list("text", flat=True))
        == {text_placeholder()}
    )
    assert old.contact.display_name == person_placeholder()
    assert Conversation.objects.get(pk=recent.pk).messages.get().text == "Mensaje de Reciente"
    assert Message.objects.get(pk=still_open.pk).text == "Abierta"
    assert Contact.objects.get(pk=recent.contact_id).display_name == "Reciente"
    assert list(ReportingEvent.objects.order_by("pk").values()) == events_before
    audit = AuditEvent.objects.get(action=AuditAction.DATA_ERASED)
    assert (audit.actor, audit.details["why"], audit.details["conversations"]) == (None, "retention", 1)


def test_retention_is_idempotent_and_works_in_batches(sandbox_channel, manager):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for number in range(5):
            closed_conversation(
                sandbox_channel,
                manager,
                author_id=f"c-{number}",
                name=f"Quixote {number}",
                thread_key=f"t-{number}",
            )
    cutoff = start + timedelta(seconds=1)

    first = citizen_data_retention_apply(before=cutoff, batch_size=2, max_batches=2)
    assert (first.conversations, first.contacts) == (4, 4)
    assert len(where_found()) > 0

    second = citizen_data_retention_apply(before=cutoff, batch_size=2, max_batches=2)
    assert (second.conversations, second.contacts) == (1, 1)
    assert where_found() == []

    unchanged = snapshot()
    third = citizen_data_retention_apply(before=cutoff, batch_size=2, max_batches=2)
    assert (third.conversations, third.contacts) == (0, 0)
    assert snapshot() == unchanged
    assert AuditEvent.objects.filter(action=AuditAction.DATA_ERASED).count() == 2


def test_a_contact_with_a_conversation_still_kept_keeps_the_name(sandbox_channel, manager):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        old = closed_conversation(sandbox_channel, manager, author_id="q-1", name="Quixote", thread_key="t-a")
    with time_machine.travel(start + timedelta(days=400), tick=False):
        closed_conversation(sandbox_channel, manager, author_id="q-1", name="Quixote", thread_key="t-b")

    citizen_data_retention_apply(before=start + timedelta(days=1), batch_size=10, max_batches=1)

    assert Conversation.objects.get(pk=old.pk).messages.get().text == text_placeholder()
    assert Contact.objects.get(pk=old.contact_id).display_name == "Quixote"


def test_retention_also_takes_conversations_left_open_and_silent_since_before(sandbox_channel, manager):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        forgotten = citizen_writes(
            sandbox_channel, "¿Alguien me contesta?", thread_key="t-1", author_id="f-1", author_name="Olvidada"
        ).conversation
    with time_machine.travel(start + timedelta(days=3), tick=False):
        active = citizen_writes(
            sandbox_channel, "Sigo aquí", thread_key="t-2", author_id="a-1", author_name="Activa"
        ).conversation

    erased = citizen_data_retention_apply(before=start + timedelta(days=1), batch_size=10, max_batches=1)

    assert (erased.conversations, erased.contacts) == (1, 1)
    assert Conversation.objects.get(pk=forgotten.pk).messages.get().text == text_placeholder()
    assert Contact.objects.get(pk=forgotten.contact_id).display_name == person_placeholder()
    assert Conversation.objects.get(pk=active.pk).messages.get().text == "Sigo aquí"


def test_retention_zero_keeps_everything(sandbox_channel, manager, settings):
    settings.SOCIALDESK_CITIZEN_DATA_RETENTION_DAYS = 0
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        closed_conversation(sandbox_channel, manager, author_id="q-1", name="Quixote", thread_key="t-a")

    with time_machine.travel(start + timedelta(days=5000), tick=False):
        assert apply_citizen_data_retention.delay().get() is None

    assert len(where_found()) > 0


def test_retention_runs_daily_from_beat():
    entry = BEAT_SCHEDULE["apply-citizen-data-retention"]

    assert entry["task"] == apply_citizen_data_retention.name
    assert entry["schedule"] == 24 * 3600


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_retention_skips_a_conversation_another_worker_holds_and_takes_it_next_time(sandbox_channel, manager):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        busy = closed_conversation(
            sandbox_channel, manager, author_id="q-1", name="Quixote", thread_key="t-a"
        )
        free = closed_conversation(
            sandbox_channel, manager, author_id="q-2", name="Quixote Dos", thread_key="t-b"
        )
    holding, release = threading.Event(), threading.Event()

    def worker_holding_it():
        try:
            with transaction.atomic():
                list(Conversation.objects.select_for_update().filter(pk=busy.pk))
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=worker_holding_it)
    thread.start()
    try:
        assert holding.wait(10)
        first = citizen_data_retention_apply(
            before=start + timedelta(seconds=1), batch_size=10, max_batches=1
        )
    finally:
        release.set()
        thread.join()

    assert first.conversations == 1
    assert Conversation.objects.get(pk=free.pk).thread_key.startswith(ERASED_PREFIX)
    assert Conversation.objects.get(pk=busy.pk).thread_key == "t-a"
    citizen_data_retention_apply(before=start + timedelta(seconds=1), batch_size=10, max_batches=1)
    assert where_found() == []
