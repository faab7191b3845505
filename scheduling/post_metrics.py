"""Reading back how published posts did: each delivery's engagement figures, for the activity model.

Only deliveries published within the activity window are read. A young post still gathers
interactions hour by hour, so it is read every FRESH_REFRESH while younger than FRESH_AGE; after
that its figures barely move and once every SETTLED_REFRESH is enough. Each channel is read in
batches of METRICS_CHUNK posts; when the network says "slow down" the channel stops there and is
left alone until the time the network gave (figures already read are kept).
"""

import logging
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import F, Q, QuerySet

from networks.base import (
    AuthorizationExpired,
    ConfigurationOutdated,
    PostMetrics,
    RateLimited,
    Rejected,
    Transient,
)
from networks.models import Channel, ChannelStatus
from networks.registry import CONNECTORS, connector_for
from networks.services import channel_mark_needs_reconnect
from scheduling.activity import ACTIVITY_WINDOW
from scheduling.models import Delivery, DeliveryMetrics, DeliveryState

logger = logging.getLogger(__name__)

FRESH_AGE = timedelta(hours=48)
FRESH_REFRESH = timedelta(hours=1)
SETTLED_REFRESH = timedelta(days=1)
# Beat ticks drift by seconds: a post read at 10:00:05 must count as due at the 11:00 tick.
REFRESH_SLACK = timedelta(minutes=5)
# Posts per connector call: X's maximum ids per request.
METRICS_CHUNK = 100
# Posts read per channel per round: Mastodon answers one post per request and allows 300 requests
# in 5 minutes, which must also serve polling; the rest wait for the next round.
METRICS_PER_ROUND = 200
_PAUSE_KEY = "post-metrics:rate-limited:{channel_id}"


def deliveries_due_for_metrics(*, now: datetime) -> QuerySet[Delivery]:
    """Published deliveries of the activity window whose figures are missing or old enough to read
    again, never-read ones first, then the longest unread."""
    never_read = Q(metrics__isnull=True)
    fresh_and_stale = Q(
        published_at__gte=now - FRESH_AGE, metrics__fetched_at__lte=now - FRESH_REFRESH + REFRESH_SLACK
    )
    settled_and_stale = Q(metrics__fetched_at__lte=now - SETTLED_REFRESH + REFRESH_SLACK)
    return (
        Delivery.objects.filter(
            state=DeliveryState.PUBLISHED,
            published_at__gte=now - ACTIVITY_WINDOW,
            published_at__lte=now,
            channel__status=ChannelStatus.ACTIVE,
            channel__network__in=list(CONNECTORS),
        )
        .exclude(external_id="")
        .filter(never_read | fresh_and_stale | settled_and_stale)
        .order_by(F("metrics__fetched_at").asc(nulls_first=True), "id")
    )


def channels_due_for_metrics(*, now: datetime) -> list[int]:
    """Active channels with figures to read, except those the network asked to wait. One query."""
    channel_ids = (
        deliveries_due_for_metrics(now=now).order_by().values_list("channel_id", flat=True).distinct()
    )
    return [channel_id for channel_id in channel_ids if not _is_paused(channel_id, now=now)]


def channel_metrics_collect(*, channel: Channel, now: datetime) -> int:
    """Read the figures of the channel's due deliveries and store them; returns how many deliveries
    were looked at (read, or found gone from the network)."""
    if _is_paused(channel.pk, now=now):
        return 0
    due = list(deliveries_due_for_metrics(now=now).filter(channel=channel)[:METRICS_PER_ROUND])
    if not due:
        return 0
    connector = connector_for(channel)
    looked_at = 0
    for start in range(0, len(due), METRICS_CHUNK):
        chunk = due[start : start + METRICS_CHUNK]
        try:
            figures = connector.fetch_metrics(external_ids=[delivery.external_id for delivery in chunk])
        except RateLimited as exc:
            _pause(channel.pk, until=exc.until, now=now)
            break
        except AuthorizationExpired as exc:
            channel_mark_needs_reconnect(
                channel=channel,
                reason=exc.reason,
                configuration_outdated=isinstance(exc, ConfigurationOutdated),
            )
            break
        except (Transient, Rejected) as exc:
            logger.warning("Reading post metrics of channel %s failed: %s", channel.pk, exc.reason or exc)
            break
        delivery_metrics_store(deliveries=chunk, figures=figures, now=now)
        looked_at += len(chunk)
    return looked_at


def delivery_metrics_store(*, deliveries: list[Delivery], figures: list[PostMetrics], now: datetime) -> None:
    """Upsert the figures of `deliveries` (matched by external id). A delivery the network left out
    (deleted there) keeps the figures it had, or gets an empty row, so it is not asked again before
    its next turn; the activity model ignores rows without any interaction figure."""
    by_external_id = {delivery.external_id: delivery for delivery in deliveries}
    rows = [
        _metrics_row(by_external_id[figure.external_id], figure, now)
        for figure in figures
        if figure.external_id in by_external_id
    ]
    DeliveryMetrics.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["delivery"],
        update_fields=["impressions", "likes", "shares", "comments", "clicks", "engagement", "fetched_at"],
    )
    read = {row.delivery_id for row in rows}
    gone = [delivery for delivery in deliveries if delivery.pk not in read]
    DeliveryMetrics.objects.filter(delivery__in=gone).update(fetched_at=now)
    DeliveryMetrics.objects.bulk_create(
        [DeliveryMetrics(delivery=delivery, fetched_at=now) for delivery in gone], ignore_conflicts=True
    )


def _metrics_row(delivery: Delivery, figure: PostMetrics, now: datetime) -> DeliveryMetrics:
    interactions = (figure.likes, figure.shares, figure.comments, figure.clicks)
    return DeliveryMetrics(
        delivery=delivery,
        impressions=figure.impressions,
        likes=figure.likes,
        shares=figure.shares,
        comments=figure.comments,
        clicks=figure.clicks,
        engagement=float(sum(count for count in interactions if count is not None)),
        fetched_at=now,
    )


def _is_paused(channel_id: int, *, now: datetime) -> bool:
    until = cache.get(_PAUSE_KEY.format(channel_id=channel_id))
    return until is not None and until > now


def _pause(channel_id: int, *, until: datetime, now: datetime) -> None:
    # In the cache, not the channel: polling owns Channel.rate_limited_until, and a lost entry
    # only costs one more refused call.
    seconds = (until - now).total_seconds()
    if seconds > 0:
        cache.set(_PAUSE_KEY.format(channel_id=channel_id), until, timeout=seconds)
