"""Read-only queries for the publishing pages."""

from django.db.models import QuerySet

from scheduling.models import Delivery, DeliveryState, HeldReason, PublishingPause

# What the manager must look at: stopped deliveries, and those whose publication is unconfirmed.
ATTENTION_STATES = (DeliveryState.HELD, DeliveryState.FAILED, DeliveryState.UNKNOWN)
RECENT_PAUSES = 10


def deliveries_needing_attention(*, held_reason: str = "") -> QuerySet[Delivery]:
    """Held, failed and unconfirmed deliveries, oldest time first, with channel and post. One query."""
    deliveries = Delivery.objects.filter(state__in=ATTENTION_STATES).select_related("channel", "post")
    if held_reason in HeldReason.values:
        deliveries = deliveries.filter(state=DeliveryState.HELD, held_reason=held_reason)
    return deliveries.order_by("scheduled_at", "id")


def pauses_recent() -> list[PublishingPause]:
    return list(PublishingPause.objects.select_related("started_by", "ended_by")[:RECENT_PAUSES])
