def conversations_needing_reply_count() -> int:
    return 0


def recent_inbound_messages(*, limit: int) -> list:
    return []
