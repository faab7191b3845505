"""Read-only queries for the home page: what needs the manager now."""

from dataclasses import dataclass, field

from socialdesk.access import Capability, user_can


@dataclass
class HomeSummary:
    needs_reply: int | None = None
    recent_messages: list = field(default_factory=list)
    channels_needing_attention: int | None = None
    new_items: int | None = None  # in the reading queue
    sources_needing_attention: int | None = None


def home_summary(*, user) -> HomeSummary:
    summary = HomeSummary()
    if user_can(user, Capability.READ_DESK):
        from inbox.selectors import conversations_needing_reply_count, recent_inbound_messages

        summary.needs_reply = conversations_needing_reply_count()
        summary.recent_messages = recent_inbound_messages(limit=10)

        from curation.models import ItemState
        from curation.selectors import queue_counts, sources_needing_attention_count

        summary.new_items = queue_counts()[ItemState.NEW]
        summary.sources_needing_attention = sources_needing_attention_count()
    if user_can(user, Capability.VIEW_CHANNELS):
        from networks.selectors import channels_needing_attention_count

        summary.channels_needing_attention = channels_needing_attention_count()
    return summary
