"""Thin tasks: load by id, call a service. The schedule is in socialdesk/beat.py."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from inbox.services import conversations_wake_snoozed, replies_mark_interrupted, reply_deliver

# A reply call that has not finished after this long belongs to a worker that died: connectors
# time out well before (network timeouts are seconds).
INTERRUPTED_AFTER = timedelta(minutes=10)


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
