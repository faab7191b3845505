"""Thin tasks: claim, fan out, call a service. The schedule is in socialdesk/beat.py."""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from networks.models import Channel, ChannelStatus
from scheduling.dispatch import (
    deliveries_claim_due,
    deliveries_claim_unknown,
    deliveries_recover_stalled,
    delivery_publish,
    delivery_reconcile,
)
from scheduling.echo import live_post_echoes_plan
from scheduling.media import images_unused_delete
from scheduling.pause import publishing_pause_expire, publishing_pause_refresh_banner
from scheduling.post_metrics import channel_metrics_collect, channels_due_for_metrics
from scheduling.timeline import channel_timeline_pick_up, channels_for_timeline

# Deliveries claimed per tick at most. With a tick a second (socialdesk/beat.py) a tick claims what
# came due in the last second, a few hundred in a burst of thousands due in the same minute; the cap
# matters after the workers were down, and keeps that tick's claiming transaction short.
DISPATCH_BATCH = 1000
# Unconfirmed deliveries looked for per reconcile round.
RECONCILE_BATCH = 100


@shared_task(name="scheduling.tasks.dispatch_due_deliveries")
def dispatch_due_deliveries() -> int:
    now = timezone.now()
    publishing_pause_expire(now=now)
    publishing_pause_refresh_banner()
    with transaction.atomic():
        delivery_ids = deliveries_claim_due(now=now, limit=DISPATCH_BATCH)
        for delivery_id in delivery_ids:
            publish_delivery.delay_on_commit(delivery_id)
    return len(delivery_ids)


@shared_task(name="scheduling.tasks.publish_delivery")
def publish_delivery(delivery_id: int) -> None:
    delivery_publish(delivery_id=delivery_id)


@shared_task(name="scheduling.tasks.reconcile_deliveries")
def reconcile_deliveries() -> int:
    now = timezone.now()
    with transaction.atomic():
        deliveries_recover_stalled(now=now)
        delivery_ids = deliveries_claim_unknown(now=now, limit=RECONCILE_BATCH)
        for delivery_id in delivery_ids:
            reconcile_delivery.delay_on_commit(delivery_id)
    return len(delivery_ids)


@shared_task(name="scheduling.tasks.reconcile_delivery")
def reconcile_delivery(delivery_id: int) -> None:
    delivery_reconcile(delivery_id=delivery_id)


@shared_task(name="scheduling.tasks.plan_echoes")
def plan_echoes(delivery_id: int) -> int:
    return len(live_post_echoes_plan(delivery_id=delivery_id, now=timezone.now()))


@shared_task(name="scheduling.tasks.collect_post_metrics")
def collect_post_metrics() -> int:
    channel_ids = channels_due_for_metrics(now=timezone.now())
    for channel_id in channel_ids:
        collect_channel_metrics.delay_on_commit(channel_id)
    return len(channel_ids)


@shared_task(name="scheduling.tasks.collect_channel_metrics")
def collect_channel_metrics(channel_id: int) -> int:
    channel = Channel.objects.filter(pk=channel_id, status=ChannelStatus.ACTIVE).first()
    return channel_metrics_collect(channel=channel, now=timezone.now()) if channel is not None else 0


@shared_task(name="scheduling.tasks.pick_up_outside_posts")
def pick_up_outside_posts() -> int:
    channel_ids = channels_for_timeline(now=timezone.now())
    for channel_id in channel_ids:
        pick_up_channel_timeline.delay_on_commit(channel_id)
    return len(channel_ids)


@shared_task(name="scheduling.tasks.pick_up_channel_timeline")
def pick_up_channel_timeline(channel_id: int) -> int:
    channel = Channel.objects.filter(pk=channel_id, status=ChannelStatus.ACTIVE).first()
    return len(channel_timeline_pick_up(channel=channel, now=timezone.now())) if channel is not None else 0


@shared_task(name="scheduling.tasks.delete_unused_images")
def delete_unused_images() -> int:
    return images_unused_delete(now=timezone.now())
