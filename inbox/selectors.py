from inbox.models import Conversation, ConversationStatus, Message, MessageDirection


def conversations_needing_reply_count() -> int:
    return Conversation.objects.filter(status=ConversationStatus.OPEN, needs_reply=True).count()


def recent_inbound_messages(*, limit: int) -> list[Message]:
    """The citizens' latest messages, with author, channel and conversation in the same query."""
    messages = (
        Message.objects.filter(direction=MessageDirection.INBOUND, deleted=False)
        .select_related("author", "channel", "conversation")
        .order_by("-created_at", "-id")
    )
    return list(messages[:limit])
