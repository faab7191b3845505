"""Replies: queued in the composer, sent once by a task through the connector, state shown."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.translation import gettext

from inbox.models import Message, MessageDirection, Reply, ReplyKind, ReplyState
from inbox.services import (
    InboxRefused,
    replies_mark_interrupted,
    reply_create,
    reply_deliver,
    reply_kinds_allowed,
    reply_retry,
)
from metrics.models import ReportingEvent, ReportingEventKind
from networks.base import InboundKind
from networks.models import SandboxPost, SandboxPostKind
from networks.sandbox import PRIVATE_REPLY_WINDOW, sandbox_citizen_writes
from networks.services import channel_poll
from socialdesk.models.audit import AuditAction, AuditEvent
from tests.inbox.helpers import citizen_writes, fresh


@pytest.fixture
def private_conversation(sandbox_account, sandbox_channel, rng):
    """A citizen's private message on the sandbox network, polled into the inbox."""
    while True:
        event = sandbox_citizen_writes(account=sandbox_account, rng=rng)
        if event.kind == InboundKind.PRIVATE_MESSAGE:
            break
    channel_poll(channel=sandbox_channel)
    return Message.objects.get(external_id=event.external_id).conversation


def test_a_reply_is_enqueued_only_after_commit(
    private_conversation, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        reply = reply_create(
            conversation=private_conversation, author=manager, text="Buenos días", kind=ReplyKind.PRIVATE
        )
        assert reply.state == ReplyState.QUEUED
        assert not SandboxPost.objects.exists()

    assert len(callbacks) == 1
    callbacks[0]()
    reply.refresh_from_db()
    assert reply.state == ReplyState.SENT


def test_a_sent_reply_is_on_the_network_in_the_thread_and_audited(
    private_conversation, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_create(
            conversation=private_conversation,
            author=manager,
            text="Puede pedir cita en la web.",
            kind=ReplyKind.PRIVATE,
        )

    reply.refresh_from_db()
    post = SandboxPost.objects.get(kind=SandboxPostKind.PRIVATE_REPLY)
    assert (reply.state, reply.external_id, post.text) == (ReplyState.SENT, post.external_id, reply.text)
    assert reply.message.direction == MessageDirection.OUTBOUND
    conversation = fresh(private_conversation)
    assert (conversation.needs_reply, conversation.status, conversation.assignee) == (
        False,
        "waiting",
        manager,
    )
    audit = AuditEvent.objects.get(action=AuditAction.REPLY_SENT)
    assert audit.actor == manager
    response = ReportingEvent.objects.get(kind=ReportingEventKind.FIRST_RESPONSE)
    assert (response.actor, response.source) == (manager, "desk")

    # The network reports our reply when polled: it is the same message, counted once.
    channel_poll(channel=conversation.channel)
    assert Message.objects.filter(direction=MessageDirection.OUTBOUND).count() == 1
    assert ReportingEvent.objects.filter(kind=ReportingEventKind.REPLY).count() == 1


def test_a_duplicated_task_sends_nothing_twice(
    private_conversation, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_create(
            conversation=private_conversation, author=manager, text="Hola", kind=ReplyKind.PRIVATE
        )

    assert reply_deliver(reply_id=reply.pk) is None
    assert SandboxPost.objects.count() == 1


def test_a_rejected_reply_fails_with_the_reason_and_can_be_retried(
    private_conversation, manager, sandbox_account, django_capture_on_commit_callbacks
):
    sandbox_account.failure = "rejected"
    sandbox_account.save()
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_create(
            conversation=private_conversation, author=manager, text="Hola", kind=ReplyKind.PRIVATE
        )
    reply.refresh_from_db()
    assert (reply.state, reply.failure_reason) == (
        ReplyState.FAILED,
        gettext("The sandbox refused this request."),
    )
    assert not AuditEvent.objects.filter(action=AuditAction.REPLY_SENT).exists()

    sandbox_account.failure = ""
    sandbox_account.save()
    with django_capture_on_commit_callbacks(execute=True):
        reply_retry(reply=reply)

    reply.refresh_from_db()
    assert (reply.state, reply.failure_reason) == (ReplyState.SENT, "")
    assert SandboxPost.objects.count() == 1


def test_a_timeout_after_sending_is_unknown_and_the_echo_settles_it(
    private_conversation, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_create(
            conversation=private_conversation,
            author=manager,
            text="Hola [sandbox:timeout]",
            kind=ReplyKind.PRIVATE,
        )
    reply.refresh_from_db()
    assert reply.state == ReplyState.UNKNOWN
    assert SandboxPost.objects.count() == 1  # it did go out
    assert not ReportingEvent.objects.filter(kind=ReportingEventKind.REPLY).exists()

    # Never retried blindly: the next poll finds our reply on the network.
    channel_poll(channel=private_conversation.channel)

    reply.refresh_from_db()
    assert reply.state == ReplyState.SENT
    assert reply.external_id == SandboxPost.objects.get().external_id
    response = ReportingEvent.objects.get(kind=ReportingEventKind.REPLY)
    assert (response.actor, response.source) == (manager, "desk")


def test_a_sent_reply_cannot_be_retried(private_conversation, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_create(
            conversation=private_conversation, author=manager, text="Hola", kind=ReplyKind.PRIVATE
        )
    with pytest.raises(InboxRefused):
        reply_retry(reply=reply)


def test_a_reply_over_the_networks_limit_is_refused(private_conversation, manager):
    with pytest.raises(InboxRefused, match="500"):
        reply_create(
            conversation=private_conversation, author=manager, text="a" * 501, kind=ReplyKind.PRIVATE
        )
    assert not Reply.objects.exists()


def test_a_private_reply_after_the_window_is_refused(sandbox_channel, manager):
    conversation = citizen_writes(
        sandbox_channel, at=timezone.now() - PRIVATE_REPLY_WINDOW - timedelta(minutes=1)
    ).conversation
    with pytest.raises(InboxRefused):
        reply_create(conversation=conversation, author=manager, text="Hola", kind=ReplyKind.PRIVATE)
    assert not Reply.objects.exists()


def test_a_private_conversation_is_answered_privately_and_a_comment_either_way(sandbox_channel):
    private = citizen_writes(sandbox_channel).conversation
    comment = citizen_writes(sandbox_channel, thread_key="c-1", kind=InboundKind.PUBLIC_COMMENT).conversation

    assert reply_kinds_allowed(private) == [ReplyKind.PRIVATE]
    assert reply_kinds_allowed(comment) == [ReplyKind.PUBLIC, ReplyKind.PRIVATE]
    with pytest.raises(InboxRefused):
        reply_create(conversation=private, author=None, text="Hola", kind=ReplyKind.PUBLIC)


def test_a_reply_stuck_in_sending_becomes_unknown_not_resent(private_conversation, manager):
    reply = Reply.objects.create(
        conversation=private_conversation,
        answering=private_conversation.messages.get(),
        kind=ReplyKind.PRIVATE,
        text="Hola",
        author=manager,
        state=ReplyState.SENDING,
        sending_since=timezone.now() - timedelta(hours=1),
    )

    assert replies_mark_interrupted(sending_before=timezone.now() - timedelta(minutes=10)) == 1

    reply.refresh_from_db()
    assert reply.state == ReplyState.UNKNOWN
    assert reply_deliver(reply_id=reply.pk) is None
    assert not SandboxPost.objects.exists()


def test_an_expired_authorization_marks_the_channel(
    private_conversation, manager, sandbox_account, django_capture_on_commit_callbacks
):
    sandbox_account.failure = "authorization_expired"
    sandbox_account.save()
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_create(
            conversation=private_conversation, author=manager, text="Hola", kind=ReplyKind.PRIVATE
        )

    reply.refresh_from_db()
    assert reply.state == ReplyState.FAILED
    assert fresh(private_conversation).channel.status == "needs_reconnect"
