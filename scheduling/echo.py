"""Echoes: off-hours repeats of a post that went out while the audience was at work.

- ``echoes_plan`` plans the echoes of one published delivery on its channel, following the
  channel's ``EchoRule``: the slots come from ``scheduling.echo_planner`` (the audience's activity
  week, the business calendar's off-hours, the gap to everything else on the channel) and the words
  from ``scheduling.echo_text``. Each echo is a scheduled ``Delivery`` the dispatcher publishes like
  any other, so the emergency pause holds echoes too; planning during a pause is fine.
- ``echo_plan_after_publish`` is the dispatcher's hook: a delivery composed in SocialDesk that has
  just been published queues ``plan_echoes``, which plans its echoes when it went out during
  working hours (``live_post_echoes_plan``).
- ``echo_rule_update`` is the manager's change to a channel's rule, recorded in the audit log.
"""

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from networks.models import Channel, ChannelStatus
from scheduling.activity import ACTIVITY_TIME_ZONE, activity_week
from scheduling.echo_planner import EchoSlot, echo_slots_choose
from scheduling.echo_text import echo_texts_vary
from scheduling.media import post_image_facts
from scheduling.models import Delivery, DeliveryState, EchoRule, EchoState, Post, PostOrigin
from socialdesk.audit import audit_record
from socialdesk.business_calendar import business_calendar
from socialdesk.models.audit import AuditAction

# How far ahead echoes may go: a week holds every weekday's evening once, and a post older than that
# is no longer news.
ECHO_HORIZON = timedelta(days=7)
# Deliveries that are, or are going to be, on the channel: every echo keeps the gap from each.
OCCUPYING_STATES = (
    DeliveryState.SCHEDULED,
    DeliveryState.SENDING,
    DeliveryState.PUBLISHED,
    DeliveryState.UNKNOWN,
)
# The fields of an EchoRule the manager changes on the echo rules page.
RULE_FIELDS = (
    "is_enabled",
    "echoes_per_post",
    "min_gap_minutes",
    "exploration_share",
    "auto_echo_outside_posts",
    "default_segment",
)


def echo_rule_for(channel: Channel) -> EchoRule:
    """The channel's echo rule; a channel nobody configured gets the defaults."""
    rule, _created = EchoRule.objects.get_or_create(channel=channel)
    return rule


def echoes_plan(*, delivery: Delivery, now: datetime) -> list[Delivery]:
    """Plan the echoes of a published delivery on its channel and return them.

    Nothing is planned for an echo, for a delivery that is not published, or when the channel's
    rule is off. Planning is done once per delivery: the row is locked while planning, and a
    delivery that already has echoes (even ones the manager dropped since) gets its echoes back
    and no new ones, so two workers or a redelivered task never plan twice."""
    with transaction.atomic():
        original = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("channel", "post__segment")
            .filter(pk=delivery.pk)
            .first()
        )
        if original is None or original.is_echo or original.state != DeliveryState.PUBLISHED:
            return []
        planned = list(original.echoes.order_by("scheduled_at", "id"))
        if planned:
            return planned
        rule = echo_rule_for(original.channel)
        if not rule.asks_for_echoes:
            return []
        slots = _slots_choose(original=original, rule=rule, now=now)
        texts = echo_texts_vary(
            channel=original.channel,
            text=original.text,
            link=original.post.link,
            count=len(slots),
            image=post_image_facts(original.post),
        )
        echoes = Delivery.objects.bulk_create(
            _echo(original, slot=slot, text=text) for slot, text in zip(slots, texts, strict=False)
        )
        if echoes:
            Post.objects.filter(pk=original.post_id).update(echo_state=EchoState.PLANNED)
    return echoes


def echo_plan_after_publish(delivery: Delivery) -> None:
    """Called by the dispatcher when a delivery has been marked published: queue the planning of
    its echoes once the transaction commits, if planning could give anything. Judged without a
    query from what publishing loaded (the post, and the channel's echo rule when one was saved:
    the defaults otherwise); the task checks everything again, working hours included."""
    if delivery.state != DeliveryState.PUBLISHED or delivery.is_echo:
        return
    if delivery.post.origin != PostOrigin.DESK or not _loaded_rule(delivery.channel).asks_for_echoes:
        return
    # Imported here: scheduling.tasks imports the dispatcher, which imports this module.
    from scheduling.tasks import plan_echoes

    plan_echoes.delay_on_commit(delivery.pk)


def _loaded_rule(channel: Channel) -> EchoRule:
    try:
        return channel.echo_rule
    except EchoRule.DoesNotExist:
        return EchoRule(channel=channel)


def live_post_echoes_plan(*, delivery_id: int, now: datetime) -> list[Delivery]:
    """Plan the echoes of a delivery composed in SocialDesk, if it went out during working hours
    (when the audience is at work; one published in the evening already reached it)."""
    delivery = Delivery.objects.select_related("post").filter(pk=delivery_id).first()
    if (
        delivery is None
        or delivery.is_echo
        or delivery.published_at is None
        or delivery.post.origin != PostOrigin.DESK
        or not business_calendar().is_working_time(delivery.published_at)
    ):
        return []
    return echoes_plan(delivery=delivery, now=now)


def echo_rule_update(*, channel: Channel, values: dict, actor, request=None) -> EchoRule:
    """Save the manager's changes to the channel's echo rule (the RULE_FIELDS in ``values``); the
    audit log records each changed field with its old and new value."""
    with transaction.atomic():
        rule, _created = EchoRule.objects.select_for_update().get_or_create(channel=channel)
        changes = {}
        for name in RULE_FIELDS:
            before, after = getattr(rule, name), values[name]
            if before != after:
                changes[name] = [_audit_value(before), _audit_value(after)]
                setattr(rule, name, after)
        if changes:
            rule.save()
            audit_record(
                action=AuditAction.ECHO_RULE_CHANGED,
                actor=actor,
                target=rule,
                details={"changes": changes},
                request=request,
            )
    return rule


def echo_rules_by_channel() -> list[tuple[Channel, EchoRule]]:
    """Every channel in use (not disabled) with its echo rule; an unsaved rule with the defaults
    where none was configured (reading the page writes nothing). One query."""
    channels = Channel.objects.exclude(status=ChannelStatus.DISABLED).select_related(
        "echo_rule__default_segment"
    )
    return [(channel, _rule_or_default(channel)) for channel in channels]


def _slots_choose(*, original: Delivery, rule: EchoRule, now: datetime) -> list[EchoSlot]:
    segment = original.post.segment or rule.default_segment
    week = activity_week(channel=original.channel, segment=segment, now=now)
    min_gap = timedelta(minutes=rule.min_gap_minutes)
    taken = _channel_times(original.channel, since=now - min_gap, until=now + ECHO_HORIZON + min_gap)
    if original.published_at is not None:
        taken.append(original.published_at)  # a post made outside SocialDesk may be older than `since`
    return echo_slots_choose(
        windows=business_calendar().off_hours_windows(now, now + ECHO_HORIZON),
        scores=week.scores,
        samples=week.samples,
        taken=taken,
        count=rule.echoes_per_post,
        min_gap=min_gap,
        exploration_share=min(max(rule.exploration_share, 0.0), 1.0),
        # Seeded by the delivery: planning it again (in a test, after a rollback) explores the same way.
        rng=random.Random(original.pk),  # noqa: S311 (choosing hours, not security)
        tz=ACTIVITY_TIME_ZONE,
        audience=segment.name if segment is not None else "",
    )


def _channel_times(channel: Channel, *, since: datetime, until: datetime) -> list[datetime]:
    """When the channel's deliveries between ``since`` and ``until`` went or will go out."""
    rows = (
        Delivery.objects.filter(channel=channel, state__in=OCCUPYING_STATES)
        .filter(
            Q(published_at__range=(since, until)) | Q(published_at__isnull=True, due_at__range=(since, until))
        )
        .values_list("published_at", "due_at")
    )
    return [published_at or due_at for published_at, due_at in rows]


def _echo(original: Delivery, *, slot: EchoSlot, text: str) -> Delivery:
    return Delivery(
        post_id=original.post_id,
        channel_id=original.channel_id,
        text=text,
        scheduled_at=slot.at,
        due_at=slot.at,
        state=DeliveryState.SCHEDULED,
        is_echo=True,
        echo_of=original,
        is_exploration=slot.is_exploration,
        echo_score=slot.score,
        echo_audience=slot.audience,
    )


def _audit_value(value):
    """A rule value as the audit log's JSON keeps it (an audience by its code)."""
    return getattr(value, "slug", value)


def _rule_or_default(channel: Channel) -> EchoRule:
    try:
        return channel.echo_rule
    except EchoRule.DoesNotExist:
        return EchoRule(channel=channel)
