"""Thin tasks: claim, fan out, call a service. The schedule is in socialdesk/beat.py."""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from scheduling.dispatch import (
    deliveries_claim_due,
    deliveries_claim_unknown,
    deliveries_recover_stalled,
    delivery_publish,
    delivery_reconcile,
)
from scheduling.pause import publishing_pause_expire, publishing_pause_refresh_banner

# Deliveries claimed per tick: enough for a burst of thousands due in the same minute (two
# workers publish a few hundred a second on the sandbox), small enough to keep one tick short.
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
