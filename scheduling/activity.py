"""The activity model: when an audience segment is online on a channel, as one week of hour slots.

For each weekday × hour (Europe/Madrid wall clock, Monday first) it averages the engagement PER POST
published in that slot over the last ACTIVITY_WINDOW, so a slot where the desk posts a lot does not
outrank a slot where it posts little but well (posting habits are not audience habits). Where a
slot has few posts its estimate is pulled towards the segment's prior hours (Bayesian shrinkage):

    estimate = (engagement sum + PRIOR_STRENGTH · prior) / (posts + PRIOR_STRENGTH)

with the prior weight expressed in the channel's own engagement scale (see _prior_scale). Scores
are the estimates divided by the best one, so 1.0 is the best hour of the week. A slot with no measured post keeps
`samples == 0`: the echo planner treats it as untried.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from networks.models import Channel, ChannelStatus
from scheduling.models import AudienceSegment, Delivery, DeliveryState

DAYS = 7
HOURS = 24
# The priors and the heatmap speak the office's wall clock, whatever the server's zone.
ACTIVITY_TIME_ZONE = ZoneInfo("Europe/Madrid")
# Four months: long enough to see every hour of the week several times, short enough that last
# spring's habits (a different school term, summer hours) fade out.
ACTIVITY_WINDOW = timedelta(weeks=16)
# The prior counts as this many posts: one or two posts move a slot a little, a dozen decide it.
PRIOR_STRENGTH = 3.0
# Measured posts (all slots together) from which the week says more about this audience than the
# priors do: about one post a day for three weeks.
LEARNED_MIN_POSTS = 20

Grid = tuple[tuple[float, ...], ...]
Counts = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class ActivityWeek:
    """One week of hour slots (Monday first, Europe/Madrid): `scores[day][hour]` in 0..1 (1 = the
    best slot) and `samples[day][hour]` = posts measured in that slot (0 = untried)."""

    scores: Grid
    samples: Counts
    is_learned: bool
    total_posts: int

    def is_slot_learned(self, day: int, hour: int) -> bool:
        """The slot's own posts weigh at least as much as its prior."""
        return self.samples[day][hour] >= PRIOR_STRENGTH


# slot totals: {(weekday 0-6, hour 0-23): (engagement sum, posts)}
SlotTotals = dict[tuple[int, int], tuple[float, int]]


def activity_week(*, channel: Channel, segment: AudienceSegment | None, now: datetime) -> ActivityWeek:
    """The segment's week on one channel (segment None: every post on the channel, flat priors).
    One aggregate query."""
    totals = _slot_totals(channels=[channel], segment=segment, now=now)
    return _week_from(totals.get(channel.pk, {}), _prior_grid(segment))


def activity_week_all_channels(*, segment: AudienceSegment | None, now: datetime) -> ActivityWeek:
    """The segment's week over every active channel: the average of each channel's scores (so a
    busy channel does not drown a quiet one), with samples and posts added up. One aggregate query."""
    channels = list(Channel.objects.filter(status=ChannelStatus.ACTIVE).only("pk"))
    priors = _prior_grid(segment)
    if not channels:
        return _week_from({}, priors)
    totals = _slot_totals(channels=channels, segment=segment, now=now)
    weeks = [_week_from(totals.get(channel.pk, {}), priors) for channel in channels]
    scores = _normalised(
        [[sum(week.scores[d][h] for week in weeks) / len(weeks) for h in range(HOURS)] for d in range(DAYS)],
        fallback=priors,
    )
    samples = tuple(
        tuple(sum(week.samples[d][h] for week in weeks) for h in range(HOURS)) for d in range(DAYS)
    )
    total_posts = sum(week.total_posts for week in weeks)
    return ActivityWeek(
        scores=scores, samples=samples, is_learned=total_posts >= LEARNED_MIN_POSTS, total_posts=total_posts
    )


def _measured_deliveries(*, channels: Iterable[Channel], segment: AudienceSegment | None, now: datetime):
    deliveries = Delivery.objects.filter(
        channel__in=channels,
        state=DeliveryState.PUBLISHED,
        published_at__gte=now - ACTIVITY_WINDOW,
        published_at__lt=now,
        metrics__isnull=False,
    ).exclude(
        # A post the network reports no interaction figure for tells nothing about its hour.
        Q(metrics__likes__isnull=True)
        & Q(metrics__shares__isnull=True)
        & Q(metrics__comments__isnull=True)
        & Q(metrics__clicks__isnull=True)
    )
    if segment is not None:
        deliveries = deliveries.filter(post__segment=segment)
    return deliveries


def _slot_totals(
    *, channels: Sequence[Channel], segment: AudienceSegment | None, now: datetime
) -> dict[int, SlotTotals]:
    """{channel id: slot totals}, grouped in the database by the local weekday and hour."""
    rows = (
        _measured_deliveries(channels=channels, segment=segment, now=now)
        .annotate(
            weekday=ExtractIsoWeekDay("published_at", tzinfo=ACTIVITY_TIME_ZONE),
            hour=ExtractHour("published_at", tzinfo=ACTIVITY_TIME_ZONE),
        )
        .values("channel_id", "weekday", "hour")
        .annotate(engagement=Sum("metrics__engagement"), posts=Count("id"))
        .order_by()
        .values_list("channel_id", "weekday", "hour", "engagement", "posts")
    )
    totals: dict[int, SlotTotals] = defaultdict(dict)
    for channel_id, iso_weekday, hour, engagement, posts in rows:
        totals[channel_id][(iso_weekday - 1, hour)] = (float(engagement or 0.0), posts)
    return totals


def _prior_grid(segment: AudienceSegment | None) -> Grid:
    """The segment's prior weights, or a flat week when it has none (or they are malformed)."""
    priors = segment.priors if segment is not None else None
    valid = (
        isinstance(priors, list)
        and len(priors) == DAYS
        and all(isinstance(day, list) and len(day) == HOURS for day in priors)
        and all(isinstance(weight, int | float) and weight >= 0 for day in priors for weight in day)
        and any(weight > 0 for day in priors for weight in day)
    )
    if not valid:
        return tuple(tuple(1.0 for _ in range(HOURS)) for _ in range(DAYS))
    return tuple(tuple(float(weight) for weight in day) for day in priors)


def _week_from(totals: SlotTotals, priors: Grid) -> ActivityWeek:
    total_posts = sum(posts for _engagement, posts in totals.values())
    scale = _prior_scale(totals, priors)
    estimates = []
    for day in range(DAYS):
        row = []
        for hour in range(HOURS):
            engagement, posts = totals.get((day, hour), (0.0, 0))
            prior = scale * priors[day][hour]
            row.append((engagement + PRIOR_STRENGTH * prior) / (posts + PRIOR_STRENGTH))
        estimates.append(row)
    samples = tuple(
        tuple(totals.get((day, hour), (0.0, 0))[1] for hour in range(HOURS)) for day in range(DAYS)
    )
    return ActivityWeek(
        scores=_normalised(estimates, fallback=priors),
        samples=samples,
        is_learned=total_posts >= LEARNED_MIN_POSTS,
        total_posts=total_posts,
    )


def _prior_scale(totals: SlotTotals, priors: Grid) -> float:
    """What one unit of prior weight is worth in this channel's engagement: the factor with which
    the priors, at the slots where posts were measured, add up to the engagement measured there.
    Matching at those slots (not on the average hour) keeps a channel that only ever posts at its
    best hours from inflating the hours it never tried."""
    engagement = sum(engagement for engagement, _posts in totals.values())
    expected = sum(posts * priors[day][hour] for (day, hour), (_engagement, posts) in totals.items())
    if expected > 0:
        return engagement / expected
    posts = sum(posts for _engagement, posts in totals.values())
    mean_weight = sum(map(sum, priors)) / (DAYS * HOURS)
    return (engagement / posts if posts else 1.0) / mean_weight


def _normalised(values: Sequence[Sequence[float]], *, fallback: Grid) -> Grid:
    """Divided by the best slot, so the best is 1.0; all zeros (nothing engaged anywhere) says
    nothing about the hours, so the priors' shape stands in."""
    best = max(max(row) for row in values)
    if best <= 0:
        values, best = fallback, max(max(row) for row in fallback)
    return tuple(tuple(min(max(value / best, 0.0), 1.0) for value in row) for row in values)
