"""The manager's changes to deliveries: schedule one, publish or reschedule one that waits for her
(held, failed — after fixing the text), drop one. Claiming and publishing are in scheduling.dispatch."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from networks.models import Channel
from scheduling.models import Delivery, DeliveryState, Post

# The states in which a delivery is the manager's to change: nothing is in flight to the network.
CHANGEABLE_STATES = (DeliveryState.SCHEDULED, DeliveryState.HELD, DeliveryState.FAILED)
# What the calendar lets her move or drop: waiting for its time, or held for her decision (a failed
# one is fixed first, on the attention page).
MOVABLE_STATES = (DeliveryState.SCHEDULED, DeliveryState.HELD)


class DeliveryNotChangeable(Exception):
    """The delivery is being published or is already done; it cannot be changed now."""


class DeliveryTimeInPast(ValueError):
    """A delivery cannot be moved to a time that has passed: moving one must never publish it."""


def delivery_schedule(
    *, post: Post, channel: Channel, text: str, at: datetime, echo_of: Delivery | None = None
) -> Delivery:
    """One post on one channel at `at` (now or earlier: as soon as the dispatcher ticks)."""
    if not text.strip():
        raise ValueError("A delivery needs a text.")
    return Delivery.objects.create(
        post=post,
        channel=channel,
        text=text,
        scheduled_at=at,
        due_at=at,
        is_echo=echo_of is not None,
        echo_of=echo_of,
    )


def delivery_reschedule(
    *, delivery: Delivery, at: datetime | None = None, text: str | None = None
) -> Delivery:
    """Send it again at `at` (None: now), with a corrected text if given: the fix-and-retry of a
    failed delivery, the "publish" or "reschedule" of a held one. Attempts start again from zero."""
    if text is not None and not text.strip():
        raise ValueError("A delivery needs a text.")
    at = at or timezone.now()
    with transaction.atomic():
        locked = _lock_changeable(delivery)
        locked.state = DeliveryState.SCHEDULED
        locked.scheduled_at = at
        locked.due_at = at
        locked.held_reason = ""
        locked.last_error = ""
        locked.attempts = 0
        locked.claimed_at = None
        locked.sent_at = None
        if text is not None:
            locked.text = text
        locked.save()
    return locked


def delivery_move(
    *, delivery: Delivery, at: datetime, text: str | None = None, now: datetime | None = None
) -> Delivery:
    """Move a waiting (scheduled or held) delivery to a later time, with a corrected text if given.

    A time that has passed is refused, so a move never sends anything at once; during the emergency
    pause the delivery simply waits, scheduled, like every other."""
    if at <= (now or timezone.now()):
        raise DeliveryTimeInPast(at.isoformat())
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.state not in MOVABLE_STATES:
            raise DeliveryNotChangeable(locked.get_state_display())
        return delivery_reschedule(delivery=locked, at=at, text=text)


def delivery_cancel(*, delivery: Delivery) -> Delivery:
    """Drop it: it will not be published."""
    with transaction.atomic():
        locked = _lock_changeable(delivery)
        locked.state = DeliveryState.CANCELLED
        locked.save(update_fields=["state", "updated_at"])
    return locked


def _lock_changeable(delivery: Delivery) -> Delivery:
    locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if locked.state not in CHANGEABLE_STATES:
        raise DeliveryNotChangeable(locked.get_state_display())
    return locked
