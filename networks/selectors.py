from django.db.models import Q

from networks.models import Channel, ChannelStatus


def channels_needing_attention_count() -> int:
    """Channels to reconnect, and active channels whose last check went wrong."""
    return Channel.objects.filter(
        Q(status=ChannelStatus.NEEDS_RECONNECT) | (Q(status=ChannelStatus.ACTIVE) & ~Q(last_error=""))
    ).count()
