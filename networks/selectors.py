def channels_needing_attention_count() -> int:
    return 0
