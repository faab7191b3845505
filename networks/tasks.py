"""Thin tasks: claim, fan out, call a service. The schedule is in socialdesk/beat.py."""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from networks.models import Channel, ChannelStatus, WebhookEvent
from networks.sandbox import sandbox_simulate_due_citizens
from networks.services import channel_poll, channels_claim_due_for_poll
from networks.webhooks import webhook_event_process, webhook_events_purge, webhook_events_retry

# Channels claimed per beat tick: the rest wait for the next tick, so one tick stays short.
POLL_CLAIM_BATCH = 200


@shared_task(name="networks.tasks.sandbox_simulate_citizens")
def sandbox_simulate_citizens() -> int:
    return sandbox_simulate_due_citizens()


@shared_task(name="networks.tasks.poll_due_channels")
def poll_due_channels() -> int:
    with transaction.atomic():
        channel_ids = channels_claim_due_for_poll(now=timezone.now(), limit=POLL_CLAIM_BATCH)
        for channel_id in channel_ids:
            poll_channel.delay_on_commit(channel_id)
    return len(channel_ids)


@shared_task(name="networks.tasks.poll_channel")
def poll_channel(channel_id: int) -> None:
    channel = Channel.objects.filter(pk=channel_id, status=ChannelStatus.ACTIVE).first()
    if channel is not None:
        channel_poll(channel=channel)


@shared_task(name="networks.tasks.process_webhook_event")
def process_webhook_event(event_id: int) -> int:
    event = WebhookEvent.objects.filter(pk=event_id).first()
    return webhook_event_process(event=event) if event is not None else 0


@shared_task(name="networks.tasks.purge_webhook_events")
def purge_webhook_events() -> int:
    """Deliveries left unprocessed are processed again, then those past their retention deleted;
    returns how many were deleted."""
    now = timezone.now()
    webhook_events_retry(now=now)
    return webhook_events_purge(now=now)
