from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from networks.models import Channel, ChannelStatus
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
