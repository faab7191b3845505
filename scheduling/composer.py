"""The composer: one post, a text variant per channel, measured the way each network counts, with
the image each network takes checked before anything is sent, then handed to its channels as
deliveries (now, at a time) or kept as a draft."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext

from curation.models import Topic
from lib.text_limits import grapheme_count, mastodon_length, text_with_link, x_weighted_length
from networks import bluesky, facebook, linkedin, x
from networks.base import Capabilities, LengthUnit, LinkHandling
from networks.models import Channel, Network
from networks.registry import CONNECTORS
from scheduling.deliveries import delivery_schedule
from scheduling.media import ImageFacts
from scheduling.models import AudienceSegment, EchoRule, Post, PostStatus
from socialdesk.audit import audit_record
from socialdesk.models.audit import AuditAction

# Networks whose arithmetic is not plain characters or graphemes (URLs weigh 23, and more).
SPECIAL_LENGTHS: dict[str, Callable[[str], int]] = {
    Network.X: x_weighted_length,
    Network.MASTODON: mastodon_length,
}


@dataclass(frozen=True)
class ImageRule:
    """What a network's connector takes as a post's image, from the connector modules' own limits,
    so a refusal is shown in the composer instead of arriving from the network after publishing."""

    mime_types: frozenset[str] | None = None  # None: every image the composer accepts
    max_bytes: int | None = None
    # The network downloads the file itself from SOCIALDESK_PUBLIC_URL (Instagram).
    fetched_from_public_url: bool = False


IMAGE_RULES: dict[str, ImageRule] = {
    Network.X: ImageRule(mime_types=x.IMAGE_TYPES, max_bytes=x.MAX_IMAGE_BYTES),
    Network.BLUESKY: ImageRule(max_bytes=bluesky.MAX_IMAGE_BYTES),
    Network.FACEBOOK: ImageRule(mime_types=facebook.IMAGE_TYPES),
    Network.LINKEDIN: ImageRule(mime_types=linkedin.IMAGE_TYPES),
    # networks.instagram publishes JPEG only, from a public address.
    Network.INSTAGRAM: ImageRule(mime_types=frozenset({"image/jpeg"}), fetched_from_public_url=True),
    # Videos only, which SocialDesk does not upload.
    Network.YOUTUBE: ImageRule(mime_types=frozenset()),
}


@dataclass(frozen=True)
class VariantCheck:
    channel: Channel
    length: int
    limit: int
    problems: list[str] = field(default_factory=list)
    # Where the link goes on this network and how it counts; "" when there is no link.
    link_note: str = ""

    @property
    def remaining(self) -> int:
        return self.limit - self.length


def variant_check(*, channel: Channel, text: str, link: str, image: ImageFacts | None = None) -> VariantCheck:
    """How long `text` is as the channel's network counts it (with the link where that network puts
    it in the text), against its limit, and what would stop it being published (the image too)."""
    capabilities = CONNECTORS[channel.network].capabilities
    body = published_body(capabilities, text=text, link=link, has_image=image is not None)
    if channel.network in SPECIAL_LENGTHS:
        length = SPECIAL_LENGTHS[channel.network](body)
    elif capabilities.length_unit == LengthUnit.GRAPHEMES:
        length = grapheme_count(body)
    else:
        length = len(body)
    network = channel.get_network_display()
    problems = []
    if not text.strip():
        problems.append(gettext("The text is empty."))
    if length > capabilities.max_length:
        problems.append(
            gettext("%(excess)d characters too long for %(network)s.")
            % {"excess": length - capabilities.max_length, "network": network}
        )
    problems += image_problems(channel=channel, image=image)
    return VariantCheck(
        channel=channel,
        length=length,
        limit=capabilities.max_length,
        problems=problems,
        link_note=link_note(capabilities, has_image=image is not None) if link else "",
    )


def published_body(capabilities: Capabilities, *, text: str, link: str, has_image: bool) -> str:
    """The text as the connector sends it, link included where its network puts the link in it
    (see each connector's publish: a link card cannot go with an image, so the link joins the text)."""
    if not link:
        return text
    if capabilities.link_handling == LinkHandling.IN_TEXT:
        return text_with_link(text, link)
    if capabilities.link_handling == LinkHandling.NOT_CLICKABLE or (
        capabilities.link_handling == LinkHandling.SEPARATE and has_image
    ):
        return text_with_link(text, link, separator="\n\n")
    return text


def link_note(capabilities: Capabilities, *, has_image: bool) -> str:
    handling = capabilities.link_handling
    if handling == LinkHandling.IN_TEXT and capabilities.link_length:
        return gettext(
            "The link goes at the end of the text and counts as %(count)s characters, however long."
        ) % {"count": capabilities.link_length}
    if handling == LinkHandling.IN_TEXT:
        return gettext("The link goes at the end of the text and counts as written.")
    if handling == LinkHandling.SEPARATE and not has_image:
        return gettext("The link is shown apart from the text, as a preview card; it does not count.")
    if handling == LinkHandling.SEPARATE:
        return gettext(
            "With an image there is no link card: the link goes at the end of the text and counts."
        )
    if handling == LinkHandling.NOT_CLICKABLE:
        return gettext("The link goes at the end of the text and counts, but it cannot be clicked there.")
    return gettext("This network cannot share a link: it is left out.")


def image_problems(*, channel: Channel, image: ImageFacts | None) -> list[str]:
    """What in the image (or its absence) the channel's network would refuse."""
    rule = IMAGE_RULES.get(channel.network, ImageRule())
    network = channel.get_network_display()
    if rule.mime_types is not None and not rule.mime_types:
        return [
            gettext("%(network)s only takes videos, which SocialDesk does not upload.") % {"network": network}
        ]
    if image is None:
        if CONNECTORS[channel.network].capabilities.media_required:
            return [gettext("%(network)s needs an image: add one below.") % {"network": network}]
        return []
    problems = []
    if rule.mime_types is not None and image.mime_type not in rule.mime_types:
        problems.append(
            gettext("%(network)s does not take %(format)s images; save it as JPEG and choose it again.")
            % {"network": network, "format": image.mime_type.removeprefix("image/").upper()}
        )
    if rule.max_bytes is not None and image.size > rule.max_bytes:
        problems.append(
            gettext("The image is %(size)s and %(network)s takes up to %(limit)s: make it smaller.")
            % {
                "size": filesizeformat(image.size),
                "network": network,
                "limit": filesizeformat(rule.max_bytes),
            }
        )
    if rule.fetched_from_public_url and not settings.SOCIALDESK_PUBLIC_URL:
        problems.append(
            gettext(
                "%(network)s fetches the image from SocialDesk's public address, and none is set: "
                "ask the administrator to set SOCIALDESK_PUBLIC_URL."
            )
            % {"network": network}
        )
    return problems


def channel_default_segment(channel: Channel) -> AudienceSegment | None:
    """The audience the channel's echo rule names as its default, if it is still in use."""
    rule = EchoRule.objects.filter(channel=channel).select_related("default_segment").first()
    segment = rule.default_segment if rule is not None else None
    return segment if segment is not None and segment.is_active else None


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
    topic: Topic | None = None,
    segment: AudienceSegment | None = None,
    image: str = "",
    image_alt_text: str = "",
) -> Post:
    """Save the post (a new one, or the draft being finished) with its topic, audience and image
    (the storage name of an image checked and stored by scheduling.media, or "" for none) and,
    unless it stays a draft, one delivery per channel with that channel's text at `at` (None: now)."""
    post = post or Post(created_by=actor if actor is not None and actor.is_authenticated else None)
    post.text, post.link, post.topic, post.segment = text, link, topic, segment
    post.image = image
    post.image_alt_text = image_alt_text if post.image else ""
    post.status = PostStatus.DRAFT if draft else PostStatus.SCHEDULED
    post.save()
    if not draft:
        when = at or timezone.now()
        for channel, variant in variants.items():
            delivery_schedule(post=post, channel=channel, text=variant, at=when)
        audit_record(
            action=AuditAction.POST_PUBLISHED,
            actor=actor,
            target=post,
            details={"at": when.isoformat(), "live": at is None, "channels": [c.pk for c in variants]},
        )
    return post
