"""Getting deliveries onto the networks exactly once: claim, publish, reconcile.

The flow of one delivery: `scheduled` → claimed (`sending`, in the claiming transaction) → the
network is called ONCE → `published` with its id and URL. What can go wrong and what follows:

- rate limited, or a transient error before the network took the request: `scheduled` again at
  the network's reset time or after a backoff, at most MAX_ATTEMPTS calls, then `failed`;
- rejected (permanent): `failed` with the network's reason, for the manager to fix and retry;
- authorization expired: `held` and the channel is marked as needing reconnection;
- a timeout after sending, or a worker that died after `sent_at` was committed: `unknown`, and
  reconcile looks for the post on the network (found → `published`; still missing after
  RECONCILE_GIVE_UP → `held`, the manager checks before anything is sent again);
- found due more than SOCIALDESK_MAX_LATENESS_MINUTES late (workers were down), or the channel
  is not active: `held` for the manager. During the emergency pause: back to `scheduled`.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from networks.base import (
    AuthorizationExpired,
    ConfigurationOutdated,
    RateLimited,
    RecentPost,
    Rejected,
    Transient,
)
from networks.models import Channel, ChannelStatus
from networks.registry import connector_for
from networks.services import channel_mark_needs_reconnect
from scheduling.echo import echo_plan_after_publish
from scheduling.media import post_media
from scheduling.models import (
    Delivery,
    DeliveryState,
    HeldReason,
    PublishingPause,
)
from scheduling.pause import publishing_pause_open

# Calls to the network for one delivery before it is given up as failed (rate limits included).
MAX_ATTEMPTS = 5
# Wait after a transient error: doubles from the base with each attempt, up to the cap.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(minutes=15)
# Far longer than any connector's request timeout: a delivery still `sending` this long after its
# claim belongs to a task that was lost (worker killed), not to one still talking to the network.
SENDING_TIMEOUT = timedelta(minutes=5)
# Networks take a moment to list a new post; reconcile looks this often, and gives up after the
# last figure (the manager then checks by hand).
RECONCILE_INTERVAL = timedelta(seconds=30)
RECONCILE_GIVE_UP = timedelta(minutes=15)
# Clocks differ between us and the network: reconcile looks back this much further than sent_at.
CLOCK_SKEW = timedelta(minutes=2)


def max_lateness() -> timedelta:
    return timedelta(minutes=settings.SOCIALDESK_MAX_LATENESS_MINUTES)


def deliveries_claim_due(*, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` due deliveries (`scheduled → sending`) in one transaction; rows another
    dispatcher holds are skipped, so no delivery is claimed twice. Nothing is claimed during the
    emergency pause. Call it inside the transaction that enqueues the publishing on commit."""
    if publishing_pause_open() is not None:
        return []
    with transaction.atomic():
        due = (
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(state=DeliveryState.SCHEDULED, due_at__lte=now)
            .order_by("due_at", "id")
        )
        delivery_ids = list(due.values_list("id", flat=True)[:limit])
        Delivery.objects.filter(id__in=delivery_ids).update(
            state=DeliveryState.SENDING, claimed_at=now, sent_at=None, updated_at=now
        )
    return delivery_ids


def delivery_publish(*, delivery_id: int) -> None:
    """Publish one claimed delivery: re-check everything, call the network once, record the outcome.

    Safe to run again for the same delivery (a redelivered task): only a `sending` row whose
    network call has not started is sent; one whose call started is reconciled instead."""
    delivery = _start_sending(delivery_id)
    if delivery is None:
        return
    connector = connector_for(delivery.channel)
    try:
        result = connector.publish(text=delivery.text, link=delivery.post.link, media=post_media(delivery.post))
    except RateLimited as exc:
        _retry_later(delivery, at=exc.until, error=_rate_limited_message(exc))
    except Transient as exc:
        if exc.request_sent:
            _mark_unknown(delivery, error=exc.reason)
        else:
            _retry_later(delivery, at=timezone.now() + _backoff(delivery.attempts), error=exc.reason)
    except Rejected as exc:
        _finish(
            delivery, state=DeliveryState.FAILED, last_error=exc.reason or gettext("The network refused it.")
        )
    except AuthorizationExpired as exc:
        _hold(delivery, reason=HeldReason.RECONNECT, error=exc.reason, only_if=DeliveryState.SENDING)
        channel_mark_needs_reconnect(
            channel=delivery.channel,
            reason=exc.reason,
            configuration_outdated=isinstance(exc, ConfigurationOutdated),
        )
    else:
        _mark_published(delivery, external_id=result.external_id, url=result.url, at=timezone.now())


def _start_sending(delivery_id: int) -> Delivery | None:
    """Commit `sent_at` before the network is called, or decide why it may not be called.

    The usual case costs two queries: one conditional UPDATE that checks everything at once and
    commits `sent_at`, then one read of the row with its channel, post and echo rule. A row the
    UPDATE leaves alone goes through the locked path, which finds out why. None when the network
    may not be called."""
    now = timezone.now()
    if _sending_begin(delivery_id, now=now):
        return _delivery_for_publishing(delivery_id)
    return _start_sending_locked(delivery_id)


def _sending_begin(delivery_id: int, *, now: datetime) -> bool:
    """Set `sent_at` on the delivery if it may be sent now: still `sending` and not started by
    another run, not overdue, its channel active, no emergency pause. One statement, so two runs
    of the same task never both start the call, and the pause is read as the row is written."""
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            _SENDING_BEGIN_SQL,
            [
                adapt(now),
                adapt(now),
                delivery_id,
                DeliveryState.SENDING.value,
                adapt(now - max_lateness()),
                ChannelStatus.ACTIVE.value,
            ],
        )
        return cursor.rowcount == 1


# Written out rather than built by the ORM: it runs once per publication, and building this UPDATE
# with its two subqueries costs the worker ten times the CPU that running it does (about 1 ms
# against 0.1 ms on the bench's database). Plain SQL that SQLite and PostgreSQL both run.
_SENDING_BEGIN_SQL = f"""
    UPDATE {Delivery._meta.db_table}
    SET sent_at = %s, attempts = attempts + 1, updated_at = %s
    WHERE id = %s AND state = %s AND sent_at IS NULL AND due_at >= %s
      AND channel_id IN (SELECT id FROM {Channel._meta.db_table} WHERE status = %s)
      AND NOT EXISTS (SELECT 1 FROM {PublishingPause._meta.db_table} WHERE is_open)
"""  # noqa: S608 (table names from the models, values as parameters)


def _delivery_for_publishing(delivery_id: int) -> Delivery | None:
    # The echo rule comes along so the echo hook decides without a query (scheduling.echo.echo_plan_after_publish).
    return Delivery.objects.select_related("channel__echo_rule", "post").filter(pk=delivery_id).first()


def _start_sending_locked(delivery_id: int) -> Delivery | None:
    """Lock the row, decide whether the network may be called, and commit `sent_at` before it is."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("channel__echo_rule", "post")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.state != DeliveryState.SENDING:
            return None
        now = timezone.now()
        if delivery.sent_at is not None:
            # A run before this one reached the network call; if it is long gone, look before
            # anything else. If it is recent, that run is most likely still talking to the network.
            if now - delivery.sent_at >= SENDING_TIMEOUT:
                _mark_unknown(delivery, error=gettext("The worker stopped while publishing it."))
            return None
        if publishing_pause_open() is not None:
            _update(delivery, state=DeliveryState.SCHEDULED, claimed_at=None)
            return None
        if now - delivery.due_at > max_lateness():
            _hold(delivery, reason=HeldReason.OVERDUE, error="")
            return None
        if delivery.channel.status != ChannelStatus.ACTIVE:
            _hold(delivery, reason=HeldReason.RECONNECT, error=delivery.channel.last_error)
            return None
        _update(delivery, sent_at=now, attempts=delivery.attempts + 1)
    return delivery


def deliveries_recover_stalled(*, now: datetime) -> int:
    """Rows left in `sending` by a lost task: never sent → due again; maybe sent → `unknown`."""
    stalled = Delivery.objects.filter(state=DeliveryState.SENDING, claimed_at__lt=now - SENDING_TIMEOUT)
    requeued = stalled.filter(sent_at__isnull=True).update(
        state=DeliveryState.SCHEDULED, claimed_at=None, updated_at=now
    )
    unknown = stalled.filter(sent_at__isnull=False).update(
        state=DeliveryState.UNKNOWN,
        due_at=now,
        last_error=gettext("The worker stopped while publishing it."),
        updated_at=now,
    )
    return requeued + unknown


def deliveries_claim_unknown(*, now: datetime, limit: int) -> list[int]:
    """Claim unconfirmed deliveries due for a look; their next look moves ahead in the same
    transaction so two reconcile rounds never look for the same delivery at once."""
    with transaction.atomic():
        due = (
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(state=DeliveryState.UNKNOWN, due_at__lte=now)
            .order_by("due_at", "id")
        )
        delivery_ids = list(due.values_list("id", flat=True)[:limit])
        Delivery.objects.filter(id__in=delivery_ids).update(due_at=now + RECONCILE_INTERVAL, updated_at=now)
    return delivery_ids


def delivery_reconcile(*, delivery_id: int) -> None:
    """Look on the network for an unconfirmed delivery: found → published (never sent again);
    not found after RECONCILE_GIVE_UP → held for the manager; otherwise look again later."""
    delivery = (
        Delivery.objects.select_related("channel__echo_rule", "post")
        .filter(pk=delivery_id, state=DeliveryState.UNKNOWN)
        .first()
    )
    if delivery is None:
        return
    sent_at = delivery.sent_at or delivery.claimed_at or delivery.due_at
    try:
        recent = connector_for(delivery.channel).find_recent_posts(since=sent_at - CLOCK_SKEW)
    except (RateLimited, Transient):
        return  # the claim already moved the next look ahead
    except AuthorizationExpired as exc:
        _hold(delivery, reason=HeldReason.UNCONFIRMED, error=exc.reason, only_if=DeliveryState.UNKNOWN)
        channel_mark_needs_reconnect(
            channel=delivery.channel,
            reason=exc.reason,
            configuration_outdated=isinstance(exc, ConfigurationOutdated),
        )
        return
    except Rejected as exc:
        _hold(delivery, reason=HeldReason.UNCONFIRMED, error=exc.reason, only_if=DeliveryState.UNKNOWN)
        return
    found = _find_on_network(delivery, recent)
    if found is not None:
        _mark_published(delivery, external_id=found.external_id, url=found.url, at=found.created_at)
    elif timezone.now() - sent_at >= RECONCILE_GIVE_UP:
        _hold(
            delivery,
            reason=HeldReason.UNCONFIRMED,
            error=gettext(
                "The network did not answer in time and the post is not on it. Check the channel "
                "before publishing it again."
            ),
            only_if=DeliveryState.UNKNOWN,
        )


def _find_on_network(delivery: Delivery, recent: list[RecentPost]) -> RecentPost | None:
    """The channel's recent post carrying this delivery's text and not claimed by another delivery.
    A reply of the account's that quotes the text is not it: deliveries are never replies."""
    text = " ".join(delivery.text.split())
    candidates = [
        post for post in recent if not post.is_reply and text and text in " ".join(post.text.split())
    ]
    if not candidates:
        return None
    taken = set(
        Delivery.objects.filter(
            channel_id=delivery.channel_id, external_id__in=[post.external_id for post in candidates]
        ).values_list("external_id", flat=True)
    )
    # Oldest first: the first copy on the network is the one this delivery made.
    return next((post for post in reversed(candidates) if post.external_id not in taken), None)


def _backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def _rate_limited_message(exc: RateLimited) -> str:
    return exc.reason or gettext("The network asked to wait before publishing more.")


def _update(delivery: Delivery, **changes) -> None:
    for name, value in changes.items():
        setattr(delivery, name, value)
    delivery.save(update_fields=[*changes, "updated_at"])


def _transition(delivery: Delivery, *, only_if: tuple[str, ...], **changes) -> bool:
    """Apply `changes` only while the row is still in one of the `only_if` states (a manager's
    action or the stalled sweep may have moved it meanwhile)."""
    changes["updated_at"] = timezone.now()
    changed = Delivery.objects.filter(pk=delivery.pk, state__in=only_if).update(**changes)
    if changed:
        for name, value in changes.items():
            setattr(delivery, name, value)
    return bool(changed)


def _retry_later(delivery: Delivery, *, at: datetime, error: str) -> None:
    if delivery.attempts >= MAX_ATTEMPTS:
        message = gettext("The network failed %(count)d times in a row (%(reason)s).") % {
            "count": delivery.attempts,
            "reason": error or gettext("no reason given"),
        }
        _finish(delivery, state=DeliveryState.FAILED, last_error=message)
        return
    _transition(
        delivery,
        only_if=(DeliveryState.SENDING,),
        state=DeliveryState.SCHEDULED,
        due_at=at,
        claimed_at=None,
        sent_at=None,
        last_error=error,
    )


def _finish(delivery: Delivery, *, state: str, last_error: str) -> None:
    _transition(delivery, only_if=(DeliveryState.SENDING,), state=state, last_error=last_error)


def _mark_unknown(delivery: Delivery, *, error: str) -> None:
    _transition(
        delivery,
        only_if=(DeliveryState.SENDING,),
        state=DeliveryState.UNKNOWN,
        due_at=timezone.now() + RECONCILE_INTERVAL,
        last_error=error,
    )


def _hold(delivery: Delivery, *, reason: str, error: str, only_if: str = DeliveryState.SENDING) -> None:
    _transition(delivery, only_if=(only_if,), state=DeliveryState.HELD, held_reason=reason, last_error=error)


def _mark_published(delivery: Delivery, *, external_id: str, url: str, at: datetime) -> None:
    # Also from `unknown`: the stalled sweep may have given up on a call that did come back.
    _transition(
        delivery,
        only_if=(DeliveryState.SENDING, DeliveryState.UNKNOWN),
        state=DeliveryState.PUBLISHED,
        external_id=external_id,
        url=url,
        published_at=at,
        last_error="",
    )
    echo_plan_after_publish(delivery)
