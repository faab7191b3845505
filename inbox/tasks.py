"""Thin tasks: load by id, call a service. The schedule is in socialdesk/beat.py."""

import imaplib
import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from inbox.alerts import alert_priority_send, digests_send
from inbox.colleague_mail import colleague_mailbox_poll
from inbox.privacy import citizen_data_retention_apply
from inbox.services import conversations_wake_snoozed, replies_mark_interrupted, reply_deliver

logger = logging.getLogger(__name__)

# A reply call that has not finished after this long belongs to a worker that died: connectors
# time out well before (network timeouts are seconds).
INTERRUPTED_AFTER = timedelta(minutes=10)
# Conversations (then contacts) anonymised per transaction by the retention run, and how many such
# batches one run takes on: short transactions, and a first run over years of data spreads over days.
RETENTION_BATCH = 200
RETENTION_MAX_BATCHES = 50


@shared_task(name="inbox.tasks.send_reply")
def send_reply(reply_id: int) -> None:
    # Never retried by Celery: a second call could publish twice (the service decides what a failure means).
    reply_deliver(reply_id=reply_id)


@shared_task(name="inbox.tasks.inbox_housekeeping")
def inbox_housekeeping() -> tuple[int, int]:
    now = timezone.now()
    return (
        conversations_wake_snoozed(now=now),
        replies_mark_interrupted(sending_before=now - INTERRUPTED_AFTER),
    )


@shared_task(name="inbox.tasks.poll_colleague_mailbox")
def poll_colleague_mailbox() -> tuple[int, int] | None:
    """Colleagues' answers from the desk's mailbox, when it is read over IMAP (SOCIALDESK_IMAP_URL)."""
    if not settings.SOCIALDESK_IMAP_URL:
        return None
    try:
        polled = colleague_mailbox_poll(imap_url=settings.SOCIALDESK_IMAP_URL)
    except (imaplib.IMAP4.error, OSError) as exc:
        # The next tick tries again; the URL is not logged (it holds the password).
        logger.warning("The colleagues' mailbox could not be read: %s", exc)
        return None
    return (polled.filed, polled.refused)


@shared_task(name="inbox.tasks.send_priority_alert")
def send_priority_alert(message_id: int) -> int:
    # Not retried by Celery: a failed alert gives its conversation's slot back, and the next
    # priority message, or tomorrow's digest, tells the same.
    return alert_priority_send(message_id=message_id)


@shared_task(name="inbox.tasks.send_due_digests")
def send_due_digests() -> int:
    return digests_send(now=timezone.now())


@shared_task(name="inbox.tasks.apply_citizen_data_retention")
def apply_citizen_data_retention() -> tuple[int, int] | None:
    """Anonymise what is past SOCIALDESK_CITIZEN_DATA_RETENTION_DAYS (0: keep everything)."""
    days = settings.SOCIALDESK_CITIZEN_DATA_RETENTION_DAYS
    if not days:
        return None
    erased = citizen_data_retention_apply(
        before=timezone.now() - timedelta(days=days),
        batch_size=RETENTION_BATCH,
        max_batches=RETENTION_MAX_BATCHES,
    )
    return (erased.conversations, erased.contacts)
