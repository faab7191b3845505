from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext

from networks.models import Channel, ChannelStatus, WebhookEvent
from networks.oauth import reconnect_url
from networks.tokens import access_ending_at


def channels_needing_attention_count() -> int:
    """Channels to reconnect, and active channels whose last check went wrong."""
    return Channel.objects.filter(
        Q(status=ChannelStatus.NEEDS_RECONNECT) | (Q(status=ChannelStatus.ACTIVE) & ~Q(last_error=""))
    ).count()


@dataclass(frozen=True)
class ChannelRow:
    """One account on the channels page, in the words the page shows."""

    channel: Channel
    status_label: str
    rate_limited_until: datetime | None  # only while the limit lasts
    access_ends_at: datetime | None  # access that cannot be renewed ends soon: reconnect before
    reconnect_url: str  # "" where the account cannot be connected again from here


def channel_rows() -> list[ChannelRow]:
    now = timezone.now()
    rows = []
    for channel in Channel.objects.all():
        if channel.status == ChannelStatus.NEEDS_RECONNECT and channel.configuration_outdated:
            status_label = gettext("Settings out of date")
        else:
            status_label = channel.get_status_display()
        limited = channel.rate_limited_until
        rows.append(
            ChannelRow(
                channel=channel,
                status_label=status_label,
                rate_limited_until=limited if limited and limited > now and channel.status == ChannelStatus.ACTIVE else None,
                access_ends_at=access_ending_at(channel),
                reconnect_url=reconnect_url(channel),
            )
        )
    return rows


# How far back the channels page looks for deliveries that could not be read.
UNREAD_DELIVERIES_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class UnreadDeliveries:
    """Deliveries a network pushed that could not be read in full, per source, for the channels page."""

    source_label: str
    count: int
    latest_at: datetime
    latest_error: str


def webhook_deliveries_unread(*, now: datetime | None = None) -> list[UnreadDeliveries]:
    """Per webhook source, how many deliveries of the last UNREAD_DELIVERIES_WINDOW were closed with
    an error, and the latest of them (one query, and one more for each source that has some)."""
    since = (now or timezone.now()) - UNREAD_DELIVERIES_WINDOW
    failed = WebhookEvent.objects.filter(received_at__gte=since, processed_at__isnull=False).exclude(error="")
    counts = failed.values("source").annotate(n=Count("id")).order_by("source").values_list("source", "n")
    rows = []
    for source, count in counts:
        latest = failed.filter(source=source).order_by("-received_at", "-id").first()
        rows.append(
            UnreadDeliveries(
                source_label=latest.get_source_display(),
                count=count,
                latest_at=latest.received_at,
                latest_error=latest.error,
            )
        )
    return rows
