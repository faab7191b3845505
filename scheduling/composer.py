"""The composer: one post, a text variant per channel, measured the way each network counts, then
handed to its channels as deliveries (now, at a time) or kept as a draft."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from lib.text_limits import grapheme_count, mastodon_length, text_with_link, x_weighted_length
from networks.base import LengthUnit, LinkHandling
from networks.models import Channel, Network
from networks.registry import CONNECTORS
from scheduling.deliveries import delivery_schedule
from scheduling.models import Post, PostStatus

# Networks whose arithmetic is not plain characters or graphemes (URLs weigh 23, and more).
SPECIAL_LENGTHS: dict[str, Callable[[str], int]] = {
    Network.X: x_weighted_length,
    Network.MASTODON: mastodon_length,
}


@dataclass(frozen=True)
class VariantCheck:
    channel: Channel
    length: int
    limit: int
    problems: list[str] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return self.limit - self.length


def variant_check(*, channel: Channel, text: str, link: str) -> VariantCheck:
    """How long `text` is as the channel's network counts it (with the link where that network puts
    it in the text), against its limit, and what would stop it being published."""
    capabilities = CONNECTORS[channel.network].capabilities
    body = text_with_link(text, link) if capabilities.link_handling == LinkHandling.IN_TEXT else text
    if channel.network in SPECIAL_LENGTHS:
        length = SPECIAL_LENGTHS[channel.network](body)
    elif capabilities.length_unit == LengthUnit.GRAPHEMES:
        length = grapheme_count(body)
    else:
        length = len(body)
    problems = []
    if not text.strip():
        problems.append(gettext("The text is empty."))
    if length > capabilities.max_length:
        problems.append(
            gettext("%(excess)d characters too long for %(network)s.")
            % {"excess": length - capabilities.max_length, "network": channel.get_network_display()}
        )
    if capabilities.media_required:
        problems.append(
            gettext("%(network)s needs an image or a video, which this composer cannot attach yet.")
            % {"network": channel.get_network_display()}
        )
    return VariantCheck(channel=channel, length=length, limit=capabilities.max_length, problems=problems)


@transaction.atomic
def post_compose(
    *,
    text: str,
    link: str,
    variants: dict[Channel, str],
    at: datetime | None,
    draft: bool,
    actor,
    post: Post | None = None,
    topic=None,
) -> Post:
    """Save the post (a new one, or the draft being finished) and, unless it stays a draft, one
    delivery per channel with that channel's text at `at` (None: now)."""
    post = post or Post(created_by=actor if actor is not None and actor.is_authenticated else None)
    post.text, post.link, post.topic = text, link, topic
    post.status = PostStatus.DRAFT if draft else PostStatus.SCHEDULED
    post.save()
    if not draft:
        when = at or timezone.now()
        for channel, variant in variants.items():
            delivery_schedule(post=post, channel=channel, text=variant, at=when)
    return post
