"""A conversation: thread, context, statuses, tags, notes, composer, moderation — and who may change it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from inbox.models import CannedReply, ConversationStatus, Note, ReplyState
from inbox.services import conversation_snooze
from inbox.tasks import inbox_housekeeping
from networks.base import InboundKind
from networks.models import SandboxEvent
from socialdesk.models.audit import AuditAction, AuditEvent
from tests.inbox.helpers import citizen_writes, fresh
from tests.networks.fixtures import make_sandbox_channel


def page_url(conversation) -> str:
    return reverse("inbox:conversation", args=[conversation.pk])


@pytest.fixture
def conversation(sandbox_channel):
    return citizen_writes(sandbox_channel, "Hola, ¿cómo pido cita previa?").conversation


def test_the_thread_is_escaped_and_keeps_emoji_and_right_to_left_text(manager_client, sandbox_channel):
    text = '<script>alert("x")</script> שלום 👋🏽 cita'
    conversation = citizen_writes(sandbox_channel, text, about_post="post-42").conversation

    response = manager_client.get(page_url(conversation))

    page = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert" not in page
    assert escape(text) in page
    assert 'class="text" dir="auto"' in page
    assert "post-42" in page  # the post of ours it is about


def test_the_citizens_history_across_channels_is_beside_the_conversation(manager_client, sandbox_channel):
    _, other_channel = make_sandbox_channel("otra", "Otra cuenta")
    first = citizen_writes(sandbox_channel, "Primera pregunta").conversation
    second = citizen_writes(other_channel, "Segunda pregunta", thread_key="t-2").conversation

    response = manager_client.get(page_url(second))

    assert response.context["history"] == [first]
    assert "Primera pregunta" in response.content.decode()


def test_a_private_message_shows_the_time_left_to_answer(manager_client, sandbox_channel):
    conversation = citizen_writes(
        sandbox_channel, at=timezone.now() - timedelta(days=6, hours=20)
    ).conversation

    page = manager_client.get(page_url(conversation)).content.decode()

    assert response_window(page)


def response_window(page: str) -> bool:
    return 'class="reply-window"' in page and "horas" in page


def test_the_manager_closes_snoozes_and_reopens(manager_client, conversation):
    manager_client.post(reverse("inbox:close", args=[conversation.pk]), {"resolution": "no_reply_needed"})
    conversation = fresh(conversation)
    assert (conversation.status, conversation.resolution) == (ConversationStatus.CLOSED, "no_reply_needed")

    manager_client.post(reverse("inbox:reopen", args=[conversation.pk]))
    assert fresh(conversation).status == ConversationStatus.OPEN

    until = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    manager_client.post(reverse("inbox:snooze", args=[conversation.pk]), {"until": until})
    conversation = fresh(conversation)
    assert conversation.status == ConversationStatus.SNOOZED
    assert conversation.snoozed_until > timezone.now()

    manager_client.post(reverse("inbox:wait", args=[conversation.pk]))
    assert fresh(conversation).status == ConversationStatus.WAITING


def test_a_snooze_ends_at_its_time(conversation):
    conversation_snooze(conversation=conversation, until=timezone.now() + timedelta(minutes=1))
    conversation.__class__.objects.filter(pk=conversation.pk).update(
        snoozed_until=timezone.now() - timedelta(seconds=1)
    )

    assert inbox_housekeeping() == (1, 0)
    assert fresh(conversation).status == ConversationStatus.OPEN


def test_a_snooze_until_the_citizen_writes_ends_when_they_do(sandbox_channel, conversation):
    conversation_snooze(conversation=conversation, until=None)
    assert inbox_housekeeping() == (0, 0)
    assert fresh(conversation).status == ConversationStatus.SNOOZED

    citizen_writes(sandbox_channel, "¿Hola?")

    assert fresh(conversation).status == ConversationStatus.OPEN


def test_tags_and_private_notes(manager_client, manager, conversation):
    manager_client.post(reverse("inbox:tag_add", args=[conversation.pk]), {"name": "  Garantía   juvenil "})
    manager_client.post(reverse("inbox:tag_add", args=[conversation.pk]), {"name": "garantía juvenil"})
    tag = fresh(conversation).tags.get()
    assert tag.name == "Garantía juvenil"

    manager_client.post(reverse("inbox:note_add", args=[conversation.pk]), {"text": "Ya llamó ayer <b>x</b>"})
    note = Note.objects.get()
    assert (note.author, note.text) == (manager, "Ya llamó ayer <b>x</b>")
    page = manager_client.get(page_url(conversation)).content.decode()
    assert escape("Ya llamó ayer <b>x</b>") in page and "Garantía juvenil" in page

    manager_client.post(reverse("inbox:tag_remove", args=[conversation.pk, tag.pk]))
    assert not fresh(conversation).tags.exists()


def test_the_priority_reason_is_shown(manager_client, sandbox_channel):
    conversation = citizen_writes(sandbox_channel, "Vull presentar una queixa").conversation
    citizen_writes(sandbox_channel, "Hola?")
    citizen_writes(sandbox_channel, "Hola??")

    conversation = fresh(conversation)
    assert conversation.priority == 20 + 2 * 5
    page = manager_client.get(page_url(conversation)).content.decode()
    assert "queixa" in page
    assert "3 mensajes sin respuesta" in page


def test_replying_from_the_page_sends_and_shows_the_state(
    manager_client, sandbox_account, sandbox_channel, rng, django_capture_on_commit_callbacks
):
    from networks.sandbox import sandbox_citizen_writes
    from networks.services import channel_poll

    event = sandbox_citizen_writes(account=sandbox_account, rng=rng)
    channel_poll(channel=sandbox_channel)
    conversation = sandbox_channel.conversations.get()
    kind = "private" if event.kind == InboundKind.PRIVATE_MESSAGE else "public"

    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("inbox:reply", args=[conversation.pk]), {"kind": kind, "text": "Buenos días 👋"}
        )

    assert response.status_code == 302
    reply = conversation.replies.get()
    assert reply.state == ReplyState.SENT
    page = manager_client.get(page_url(conversation)).content.decode()
    assert "Buenos días 👋" in page


def test_a_failed_reply_shows_its_reason_and_a_retry(
    manager_client, sandbox_account, conversation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(
            reverse("inbox:reply", args=[conversation.pk]),
            {"kind": "private", "text": "Hola [sandbox:rejected]"},
        )
    reply = conversation.replies.get()
    assert reply.state == ReplyState.FAILED

    page = manager_client.get(page_url(conversation)).content.decode()
    assert escape(reply.failure_reason) in page
    assert reverse("inbox:reply_retry", args=[conversation.pk, reply.pk]) in page


def test_a_too_long_reply_is_refused_on_the_page(manager_client, conversation):
    response = manager_client.post(
        reverse("inbox:reply", args=[conversation.pk]), {"kind": "private", "text": "a" * 501}
    )
    assert response.status_code == 400
    assert not conversation.replies.exists()
    assert 'data-max-length="500"' in response.content.decode()


def test_canned_replies_are_searched_and_filled_in(manager_client, conversation, settings):
    settings.SOCIALDESK_CONTACT_URL = "https://empleo.example/cita"
    CannedReply.objects.create(
        title="Cita previa", keywords="cita turno", text="Hola {nombre}, pida cita en {enlace} {otro}"
    )
    CannedReply.objects.create(title="Cursos", keywords="formación", text="Vea los cursos")

    response = manager_client.get(reverse("inbox:canned", args=[conversation.pk]), {"q": "turno"})

    page = response.content.decode()
    assert "Hola Lucía Moreno, pida cita en https://empleo.example/cita {otro}" in page
    assert "Vea los cursos" not in page


def test_hiding_a_comment_needs_a_reason_and_is_audited(manager_client, sandbox_account, sandbox_channel):
    event = SandboxEvent.objects.create(
        account=sandbox_account,
        external_id="c-77",
        kind=InboundKind.PUBLIC_COMMENT,
        thread_key="c-77",
        author_id="citizen-9",
        author_name="Troll",
        author_handle="troll",
        text="Insultos",
        created_at=timezone.now(),
    )
    from networks.services import channel_poll

    channel_poll(channel=sandbox_channel)
    message = sandbox_channel.messages.get(external_id="c-77")
    hide = reverse("inbox:hide", args=[message.conversation_id, message.pk])

    manager_client.post(hide, {"reason": "  "})
    event.refresh_from_db()
    assert event.hidden is False

    manager_client.post(hide, {"reason": "Insultos a otra persona"})
    event.refresh_from_db()
    message.refresh_from_db()
    assert event.hidden is True
    assert (message.hidden, message.hidden_reason) == (True, "Insultos a otra persona")
    audit = AuditEvent.objects.get(action=AuditAction.COMMENT_HIDDEN)
    assert audit.details["reason"] == "Insultos a otra persona"
    assert manager_client.get(reverse("inbox:queue"), {"view": "spam"}).context["page"].object_list[0] == (
        message.conversation
    )

    manager_client.post(
        reverse("inbox:unhide", args=[message.conversation_id, message.pk]), {"reason": "Error"}
    )
    event.refresh_from_db()
    assert event.hidden is False
    assert AuditEvent.objects.filter(action=AuditAction.COMMENT_UNHIDDEN).count() == 1


def test_a_private_message_cannot_be_hidden(manager_client, conversation):
    message = conversation.messages.get()
    manager_client.post(reverse("inbox:hide", args=[conversation.pk, message.pk]), {"reason": "Spam"})
    message.refresh_from_db()
    assert message.hidden is False
    assert not AuditEvent.objects.filter(action=AuditAction.COMMENT_HIDDEN).exists()


def test_spam_is_marked_and_unmarked(manager_client, conversation):
    manager_client.post(reverse("inbox:spam", args=[conversation.pk]))
    assert fresh(conversation).spam is True
    manager_client.post(reverse("inbox:not_spam", args=[conversation.pk]))
    assert fresh(conversation).spam is False


POST_ROUTES = [
    ("inbox:reply", {"kind": "private", "text": "Hola"}),
    ("inbox:close", {"resolution": "replied"}),
    ("inbox:reopen", {}),
    ("inbox:snooze", {"until": ""}),
    ("inbox:wait", {}),
    ("inbox:assign", {}),
    ("inbox:spam", {}),
    ("inbox:not_spam", {}),
    ("inbox:tag_add", {"name": "x"}),
    ("inbox:note_add", {"text": "x"}),
]


@pytest.mark.parametrize(("name", "data"), POST_ROUTES, ids=[name for name, _ in POST_ROUTES])
def test_the_supervisor_reads_but_every_change_is_403(supervisor_client, conversation, name, data):
    before = (fresh(conversation).status, fresh(conversation).spam)

    response = supervisor_client.post(reverse(name, args=[conversation.pk]), data)

    assert response.status_code == 403
    assert (fresh(conversation).status, fresh(conversation).spam) == before
    assert not conversation.replies.exists() and not Note.objects.exists()


def test_the_supervisor_cannot_hide_retry_or_untag(supervisor_client, manager, conversation):
    from inbox.models import Reply, ReplyKind, Tag

    message = conversation.messages.get()
    tag = Tag.objects.create(name="x")
    reply = Reply.objects.create(
        conversation=conversation,
        answering=message,
        kind=ReplyKind.PRIVATE,
        text="x",
        author=manager,
        state="failed",
    )
    for url in (
        reverse("inbox:hide", args=[conversation.pk, message.pk]),
        reverse("inbox:unhide", args=[conversation.pk, message.pk]),
        reverse("inbox:reply_retry", args=[conversation.pk, reply.pk]),
        reverse("inbox:tag_remove", args=[conversation.pk, tag.pk]),
    ):
        assert supervisor_client.post(url, {"reason": "x"}).status_code == 403


def test_the_supervisor_sees_the_page_without_the_forms(supervisor_client, conversation):
    response = supervisor_client.get(page_url(conversation))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Hola, ¿cómo pido cita previa?" in page
    assert reverse("inbox:reply", args=[conversation.pk]) not in page
    assert reverse("inbox:close", args=[conversation.pk]) not in page


@pytest.mark.parametrize("who", ["administrator", "outsider"])
def test_who_may_not_read_the_desk_cannot_open_a_conversation(client, request, conversation, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(page_url(conversation)).status_code == 403
    assert (
        client.post(reverse("inbox:close", args=[conversation.pk]), {"resolution": "replied"}).status_code
        == 403
    )


def test_an_unknown_conversation_is_404(manager_client, db):
    assert manager_client.get(reverse("inbox:conversation", args=[999])).status_code == 404
