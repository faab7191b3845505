"""Posts the manager made outside SocialDesk (from the network's own app, on her phone): picked up
from each channel's own timeline, recorded as a published delivery so their figures feed the
activity model, and offered for echoing (or echoed at once where the channel's rule says so).

A network post is recorded once per channel, whatever the number of runs or workers: the database
refuses a second delivery with the same (channel, external id). The cursor (`timeline_checked_at`)
only moves after a successful read, and always keeps TIMELINE_OVERLAP behind, so a post the
network lists late is still seen. Posts that may be one of our own deliveries still on its way
(sending, or waiting for reconciliation) are left for a later run, so one of ours is never taken
for an outside post.
"""

import logging
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Min, Q, QuerySet
from django.db.models.functions import Coalesce

from inbox.models import Message
from networks.base import (
    AuthorizationExpired,
    ConfigurationOutdated,
    RateLimited,
    RecentPost,
    Rejected,
    Transient,
)
from networks.models import Channel, ChannelStatus
from networks.registry import CONNECTORS, connector_for
from networks.services import channel_mark_needs_reconnect
from scheduling.dispatch import CLOCK_SKEW
from scheduling.echo import echoes_plan
from scheduling.models import (
    AudienceSegment,
    Delivery,
    DeliveryState,
    EchoRule,
    EchoState,
    Post,
    PostOrigin,
    PostStatus,
)
from socialdesk.audit import audit_record
from socialdesk.business_calendar import business_calendar
from socialdesk.models.audit import AuditAction

logger = logging.getLogger(__name__)

# The first read of a channel looks back this far: a weekend's posts, not the account's history.
FIRST_LOOK_BACK = timedelta(hours=48)
# A post younger than this waits for the next run: X, Mastodon and Bluesky list the account's
# replies to citizens in its timeline too. The connectors mark those the network calls replies
# (RecentPost.is_reply); for any it does not, inbox polling (every 1–2 minutes there) must have read
# them back first so they are recognised as replies.
PICKUP_SETTLE = timedelta(minutes=5)
# Networks list a new post a little late and clocks differ: every read goes back this much before
# the previous one ended (re-reading is harmless, a post is recorded once). At least PICKUP_SETTLE,
# so a post left for later is read again.
TIMELINE_OVERLAP = timedelta(minutes=10)
_PAUSE_KEY = "timeline:rate-limited:{channel_id}"


class OutsidePostNotOffered(Exception):
    """The post is no longer waiting for the manager's decision (echoed or dismissed meanwhile)."""


def channels_for_timeline(*, now: datetime) -> list[int]:
    """Active channels whose timeline may be read now (not waiting out a rate limit)."""
    channel_ids = Channel.objects.filter(status=ChannelStatus.ACTIVE, network__in=list(CONNECTORS)).exclude(
        rate_limited_until__gt=now
    )
    return [
        channel_id
        for channel_id in channel_ids.values_list("id", flat=True)
        if not _is_paused(channel_id, now=now)
    ]


def channel_timeline_pick_up(*, channel: Channel, now: datetime) -> list[Delivery]:
    """Record the channel's posts made outside SocialDesk since its cursor; returns the new ones.

    On a network error nothing is recorded and the cursor stays where it was, so the next run reads
    the same posts again."""
    rule, _created = EchoRule.objects.select_related("default_segment").get_or_create(channel=channel)
    since = rule.timeline_checked_at or now - FIRST_LOOK_BACK
    recent = _timeline_read(channel, since=since, now=now)
    if recent is None:
        return []
    # Read after the timeline: a post of ours listed there was sent after its delivery said so.
    defer_from = _defer_from(channel, now=now)
    replies = _our_replies(channel, recent)
    picked_up = []
    for post in sorted(recent, key=lambda post: post.created_at):
        if post.is_reply or post.created_at >= defer_from or post.external_id in replies:
            continue
        delivery = _outside_post_record(channel=channel, rule=rule, recent=post, now=now)
        if delivery is not None:
            picked_up.append(delivery)
    cursor = min(now - TIMELINE_OVERLAP, defer_from)
    _cursor_advance(rule, cursor=max(cursor, since))
    return picked_up


def _timeline_read(channel: Channel, *, since: datetime, now: datetime) -> list[RecentPost] | None:
    """The channel's posts since `since`; None when the network could not be read (a rate limit
    pauses the channel until the time the network gave, a dead token marks it for reconnecting)."""
    if _is_paused(channel.pk, now=now):
        return None
    try:
        return connector_for(channel).find_recent_posts(since=since)
    except RateLimited as exc:
        _pause(channel.pk, until=exc.until, now=now)
    except AuthorizationExpired as exc:
        channel_mark_needs_reconnect(
            channel=channel, reason=exc.reason, configuration_outdated=isinstance(exc, ConfigurationOutdated)
        )
    except (Transient, Rejected) as exc:
        logger.warning("Reading the timeline of channel %s failed: %s", channel.pk, exc.reason or exc)
    return None


def outside_posts_offered() -> QuerySet[Delivery]:
    """The outside posts waiting for the manager's decision, newest first, with their post,
    audience and channel (one query)."""
    return (
        Delivery.objects.filter(
            is_echo=False, post__origin=PostOrigin.NETWORK, post__echo_state=EchoState.OFFERED
        )
        .select_related("post__segment", "channel")
        .order_by("-published_at", "-id")
    )


def outside_post_echo(
    *, post: Post, segment: AudienceSegment | None, now: datetime, actor=None, request=None
) -> list[Delivery]:
    """The manager's "echo it": the post is for `segment`, and its echoes are planned (recorded in
    the audit log as posts scheduled). When no echo can be planned (no free off-hours slot, echoes
    off on the channel) the post stays offered and the empty list says so."""
    with transaction.atomic():
        locked = _lock_offered(post)
        locked.segment = segment
        locked.save(update_fields=["segment"])
        delivery = Delivery.objects.get(post=locked, is_echo=False)
        echoes = echoes_plan(delivery=delivery, now=now)
        if echoes:
            Post.objects.filter(pk=locked.pk).update(echo_state=EchoState.PLANNED)
            audit_record(
                action=AuditAction.POST_PUBLISHED,
                actor=actor,
                target=locked,
                details={
                    "echoes_of_outside_post": delivery.pk,
                    "at": [echo.scheduled_at.isoformat() for echo in echoes],
                    "channels": [delivery.channel_id],
                },
                request=request,
            )
    return echoes


def outside_post_dismiss(*, post: Post) -> Post:
    """The manager's "don't echo": the post stays recorded (its figures still count), unechoed."""
    with transaction.atomic():
        locked = _lock_offered(post)
        locked.echo_state = EchoState.DISMISSED
        locked.save(update_fields=["echo_state"])
    return locked


def _lock_offered(post: Post) -> Post:
    locked = Post.objects.select_for_update().get(pk=post.pk)
    if locked.origin != PostOrigin.NETWORK or locked.echo_state != EchoState.OFFERED:
        raise OutsidePostNotOffered(locked.get_echo_state_display())
    return locked


def _defer_from(channel: Channel, *, now: datetime) -> datetime:
    """Posts created from this moment on are left for a later run: they are too new for the inbox
    to have recognised our own replies among them, or they may be one of our deliveries that is on
    the network without its id recorded yet (sending after the call started, or unconfirmed)."""
    in_flight = Delivery.objects.filter(channel=channel).filter(
        Q(state=DeliveryState.SENDING, sent_at__isnull=False) | Q(state=DeliveryState.UNKNOWN)
    )
    oldest_sent = in_flight.aggregate(at=Min(Coalesce("sent_at", "claimed_at", "due_at")))["at"]
    settled = now - PICKUP_SETTLE
    # The same look-back as the reconcile step, which searches from sent_at minus the clock skew.
    return min(settled, oldest_sent - CLOCK_SKEW) if oldest_sent is not None else settled


def _our_replies(channel: Channel, recent: list[RecentPost]) -> set[str]:
    """The recent posts the inbox knows as the account's answers to citizens (sent from the desk
    or read back by polling), in case the network listed one without marking it as a reply."""
    external_ids = [post.external_id for post in recent]
    return set(
        Message.objects.filter(channel=channel, external_id__in=external_ids).values_list(
            "external_id", flat=True
        )
    )


def _outside_post_record(
    *, channel: Channel, rule: EchoRule, recent: RecentPost, now: datetime
) -> Delivery | None:
    """One network post as a Post (origin: network) with its published Delivery, echoed or offered
    as the rule says; None when the channel already has a delivery for it (ours, an echo, or one
    recorded by an earlier or concurrent run)."""
    if Delivery.objects.filter(channel=channel, external_id=recent.external_id).exists():
        return None
    echo_state = EchoState.OFFERED if rule.asks_for_echoes else EchoState.NONE
    try:
        with transaction.atomic():
            post = Post.objects.create(
                text=recent.text,
                status=PostStatus.SCHEDULED,
                origin=PostOrigin.NETWORK,
                segment=rule.default_segment,
                echo_state=echo_state,
                created_at=recent.created_at,
            )
            delivery = Delivery.objects.create(
                post=post,
                channel=channel,
                text=recent.text,
                state=DeliveryState.PUBLISHED,
                external_id=recent.external_id,
                url=_link_to_network(recent.url),
                scheduled_at=recent.created_at,
                due_at=recent.created_at,
                published_at=recent.created_at,
            )
            # As for posts from the desk, only a live post made during working hours is echoed by
            # itself; one she made on a Saturday evening waits on the page for her to decide.
            if (
                echo_state == EchoState.OFFERED
                and rule.auto_echo_outside_posts
                and business_calendar().is_working_time(recent.created_at)
            ):
                _echoes_plan_or_offer(delivery, now=now)
    except IntegrityError:
        return None  # another run recorded it between our check and our insert
    return delivery


def _link_to_network(url: str) -> str:
    """The post's address as the page may link it: web addresses only, within the field's size."""
    max_length = Delivery._meta.get_field("url").max_length
    return url if url.startswith(("https://", "http://")) and len(url) <= max_length else ""


def _echoes_plan_or_offer(delivery: Delivery, *, now: datetime) -> None:
    """The channel echoes outside posts without asking: plan them now. When nothing can be planned,
    or the planner fails (logged), the post stays offered to the manager rather than being lost."""
    try:
        with transaction.atomic():
            if echoes_plan(delivery=delivery, now=now):
                Post.objects.filter(pk=delivery.post_id).update(echo_state=EchoState.PLANNED)
    except Exception:
        logger.exception(
            "Planning the echoes of delivery %s failed; the post is offered instead.", delivery.pk
        )


def _cursor_advance(rule: EchoRule, *, cursor: datetime) -> None:
    # Never backwards: a slower concurrent run must not undo a faster one's progress.
    EchoRule.objects.filter(pk=rule.pk).filter(
        Q(timeline_checked_at__isnull=True) | Q(timeline_checked_at__lt=cursor)
    ).update(timeline_checked_at=cursor)


def _is_paused(channel_id: int, *, now: datetime) -> bool:
    until = cache.get(_PAUSE_KEY.format(channel_id=channel_id))
    return until is not None and until > now


def _pause(channel_id: int, *, until: datetime, now: datetime) -> None:
    # In the cache, not the channel: polling owns Channel.rate_limited_until, and a lost entry
    # only costs one more refused call.
    seconds = (until - now).total_seconds()
    if seconds > 0:
        cache.set(_PAUSE_KEY.format(channel_id=channel_id), until, timeout=seconds)
