"""A reply's length in its network's own arithmetic (lib.text_limits)."""

from lib.text_limits import grapheme_count, mastodon_length, x_weighted_length
from networks.models import Network

_MEASURES = {
    Network.X: x_weighted_length,
    Network.MASTODON: mastodon_length,
    Network.BLUESKY: grapheme_count,
}


def reply_length(network: str, text: str) -> int:
    return _MEASURES.get(network, len)(text)
