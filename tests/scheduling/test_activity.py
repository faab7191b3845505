"""The activity model (engagement per post by weekday × hour in Madrid, shrunk towards the audience's
priors) and its heatmap page."""

import itertools
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from networks.models import ChannelStatus
from scheduling.activity import (
    ACTIVITY_TIME_ZONE,
    ACTIVITY_WINDOW,
    LEARNED_MIN_POSTS,
    PRIOR_STRENGTH,
    activity_week,
    activity_week_all_channels,
)
from scheduling.models import AudienceSegment, Delivery, DeliveryMetrics, DeliveryState, Post, PostStatus
from socialdesk.models.calendar import WorkingInterval
from tests.networks.fixtures import make_sandbox_channel
from tests.socialdesk.test_layout import contrast, csp_violations, page_of

# A Thursday noon in Madrid, with the sixteen weeks before it all in winter or summer time as needed.
NOW = datetime(2026, 3, 5, 11, 0, tzinfo=UTC)
_ids = itertools.count(1)


def local(year, month, day, hour, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ACTIVITY_TIME_ZONE)


def published(channel, segment, at: datetime, engagement: float, **figures) -> Delivery:
    """A delivery published at `at` whose network reported `engagement` interactions."""
    post = Post.objects.create(text="Ofertas de empleo", segment=segment, status=PostStatus.SCHEDULED)
    delivery = Delivery.objects.create(
        post=post,
        channel=channel,
        text=post.text,
        scheduled_at=at,
        due_at=at,
        state=DeliveryState.PUBLISHED,
        published_at=at,
        external_id=f"post-{next(_ids)}",
    )
    DeliveryMetrics.objects.create(
        delivery=delivery,
        likes=figures.pop("likes", engagement),
        engagement=engagement,
        fetched_at=at,
        **figures,
    )
    return delivery


@pytest.fixture
def segment(db) -> AudienceSegment:
    return AudienceSegment.objects.create(slug="flat", name="Flat audience", priors=[])


def week_priors(base: float, **slots: float) -> list[list[float]]:
    """7 × 24 weights of `base`, with named slots like tue_20=1.0 (day abbreviation, hour)."""
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    grid = [[base] * 24 for _ in days]
    for name, weight in slots.items():
        day, hour = name.split("_")
        grid[days.index(day)][int(hour)] = weight
    return grid


# --- The model --------------------------------------------------------------------------------------


def test_average_per_post_so_posting_often_does_not_beat_posting_well(sandbox_channel, segment):
    for week in range(10):  # ten Mondays at 10:00, 5 interactions each
        published(sandbox_channel, segment, local(2026, 3, 2, 10) - timedelta(weeks=week), 5)
    published(sandbox_channel, segment, local(2026, 3, 2, 21), 20)  # one Monday at 21:00 with 20

    week = activity_week(channel=sandbox_channel, segment=segment, now=NOW)

    assert week.samples[0][10] == 10
    assert week.samples[0][21] == 1
    assert week.scores[0][21] == 1.0
    assert week.scores[0][10] < week.scores[0][21]
    assert week.total_posts == 11


def test_with_little_data_the_priors_lead_and_with_plenty_the_data_does(sandbox_channel):
    segment = AudienceSegment.objects.create(
        slug="evening", name="Evening people", priors=week_priors(0.5, tue_20=1.0, tue_9=0.2)
    )
    tuesday = local(2026, 3, 3, 0)
    published(sandbox_channel, segment, tuesday.replace(hour=9), 20)
    published(sandbox_channel, segment, tuesday.replace(hour=20), 2)

    little = activity_week(channel=sandbox_channel, segment=segment, now=NOW)

    # The documented formula, by hand: one unit of prior weight is worth 22 / (0.2 + 1.0) here.
    scale = 22 / 1.2
    morning = (20 + PRIOR_STRENGTH * scale * 0.2) / (1 + PRIOR_STRENGTH)
    evening = (2 + PRIOR_STRENGTH * scale * 1.0) / (1 + PRIOR_STRENGTH)
    assert little.scores[1][20] == 1.0
    assert little.scores[1][9] == pytest.approx(morning / evening)
    assert not little.is_learned

    for week in range(1, 20):
        published(sandbox_channel, segment, tuesday.replace(hour=9) - timedelta(weeks=week), 20)
        published(sandbox_channel, segment, tuesday.replace(hour=20) - timedelta(weeks=week % 15), 2)

    plenty = activity_week(channel=sandbox_channel, segment=segment, now=NOW)

    assert plenty.scores[1][9] == 1.0
    assert plenty.scores[1][20] < 0.5
    assert plenty.is_learned


def test_without_priors_or_data_every_hour_is_equal_and_untried(sandbox_channel, segment):
    week = activity_week(channel=sandbox_channel, segment=segment, now=NOW)

    assert {score for day in week.scores for score in day} == {1.0}
    assert {samples for day in week.samples for samples in day} == {0}
    assert (week.is_learned, week.total_posts) == (False, 0)


def test_without_data_the_priors_shape_the_week(sandbox_channel):
    segment = AudienceSegment.objects.create(slug="w", name="W", priors=week_priors(0.2, fri_19=0.8))

    week = activity_week(channel=sandbox_channel, segment=segment, now=NOW)

    assert week.scores[4][19] == 1.0
    assert week.scores[0][0] == pytest.approx(0.25)


def test_only_the_last_sixteen_weeks_count(sandbox_channel, segment):
    published(sandbox_channel, segment, NOW - ACTIVITY_WINDOW + timedelta(hours=1), 8)
    published(sandbox_channel, segment, NOW - ACTIVITY_WINDOW - timedelta(hours=1), 8)
    published(sandbox_channel, segment, NOW + timedelta(hours=1), 8)  # a clock ahead of ours

    week = activity_week(channel=sandbox_channel, segment=segment, now=NOW)

    assert week.total_posts == 1
    inside = (NOW - ACTIVITY_WINDOW + timedelta(hours=1)).astimezone(ACTIVITY_TIME_ZONE)
    assert week.samples[inside.weekday()][inside.hour] == 1


def test_hours_are_madrid_wall_clock_even_on_the_night_clocks_go_back(sandbox_channel, segment):
    # 26 October 2025, a Sunday: 02:30 happens twice in Madrid, at 00:30 UTC (CEST) and 01:30 UTC (CET).
    published(sandbox_channel, segment, datetime(2025, 10, 26, 0, 30, tzinfo=UTC), 4)
    published(sandbox_channel, segment, datetime(2025, 10, 26, 1, 30, tzinfo=UTC), 6)
    # And a summer and a winter 21:00 local: 19:00 UTC and 20:00 UTC.
    published(sandbox_channel, segment, datetime(2025, 10, 24, 19, 0, tzinfo=UTC), 1)
    published(sandbox_channel, segment, datetime(2025, 10, 31, 20, 0, tzinfo=UTC), 1)

    week = activity_week(channel=sandbox_channel, segment=segment, now=datetime(2025, 11, 2, tzinfo=UTC))

    assert week.samples[6][2] == 2
    assert week.samples[6][1] == week.samples[6][3] == 0
    assert week.samples[4][21] == 2


def test_only_this_audience_on_this_channel_and_posts_with_figures_count(sandbox_channel, segment):
    other_segment = AudienceSegment.objects.create(slug="other", name="Other")
    _account, other_channel = make_sandbox_channel(handle="otro_canal", name="Otro canal")
    at = local(2026, 3, 2, 12)
    published(sandbox_channel, segment, at, 3)
    published(sandbox_channel, other_segment, at, 3)
    published(other_channel, segment, at, 3)
    # The network reported nothing for this one (deleted there): it says nothing about its hour.
    unreported = published(sandbox_channel, segment, at, 0)
    DeliveryMetrics.objects.filter(delivery=unreported).update(likes=None)
    not_out = published(sandbox_channel, segment, at, 3)
    Delivery.objects.filter(pk=not_out.pk).update(state=DeliveryState.FAILED)

    week = activity_week(channel=sandbox_channel, segment=segment, now=NOW)

    assert week.samples[0][12] == 1
    assert week.total_posts == 1


def test_one_aggregate_query_per_call(sandbox_channel, segment, django_assert_num_queries):
    for hour in range(24):
        published(sandbox_channel, segment, local(2026, 3, 2, hour), hour)

    with django_assert_num_queries(1):
        week = activity_week(channel=sandbox_channel, segment=segment, now=NOW)

    assert sum(map(sum, week.samples)) == 24


def test_all_channels_average_each_channels_week(sandbox_channel, segment, django_assert_num_queries):
    _account, evening_channel = make_sandbox_channel(handle="tardes", name="Tardes")
    _account, disabled_channel = make_sandbox_channel(handle="cerrado", name="Cerrado")
    disabled_channel.status = ChannelStatus.DISABLED
    disabled_channel.save()
    monday = local(2026, 3, 2, 0)
    for week in range(5):
        at = monday - timedelta(weeks=week)
        published(sandbox_channel, segment, at.replace(hour=10), 10)
        published(evening_channel, segment, at.replace(hour=21), 10)
        for channel in (sandbox_channel, evening_channel):
            published(channel, segment, at.replace(hour=3), 2)
        published(disabled_channel, segment, at.replace(hour=3), 100)

    with django_assert_num_queries(2):
        week = activity_week_all_channels(segment=segment, now=NOW)

    alone = activity_week(channel=sandbox_channel, segment=segment, now=NOW)
    assert week.samples[0][10] == week.samples[0][21] == 5
    assert week.samples[0][3] == 10  # not the disabled channel's
    assert week.total_posts == 20
    assert week.scores[0][10] == week.scores[0][21] == 1.0
    assert week.scores[0][3] < 0.5
    assert alone.scores[0][10] == 1.0
    assert alone.scores[0][21] < week.scores[0][21]
    assert all(0.0 <= score <= 1.0 for day in week.scores for score in day)


def test_learned_from_enough_posts(sandbox_channel, segment):
    for n in range(LEARNED_MIN_POSTS):
        published(sandbox_channel, segment, NOW - timedelta(days=n + 1), 2)

    week = activity_week(channel=sandbox_channel, segment=segment, now=NOW)

    assert week.is_learned
    assert week.total_posts == LEARNED_MIN_POSTS


# --- The heatmap page --------------------------------------------------------------------------------


@pytest.fixture
def office_hours(db):
    for weekday in range(5):
        WorkingInterval.objects.create(weekday=weekday, starts_at=time(9), ends_at=time(14, 30))


def cells_of(response) -> list[dict]:
    return [element for element in page_of(response).elements if element["tag"] == "td"]


@pytest.mark.parametrize("role", ["manager", "supervisor"])
def test_heatmap_page_shows_the_week_as_a_table(client, request, role, sandbox_channel, office_hours):
    segment = AudienceSegment.objects.get(slug="job-seekers")
    for week in range(int(PRIOR_STRENGTH)):
        published(sandbox_channel, segment, local(2026, 3, 2, 21) - timedelta(weeks=week), 30)
    client.force_login(request.getfixturevalue(role))

    with time_machine.travel(NOW):
        response = client.get(
            reverse("publishing:activity"), {"segment": "job-seekers", "channel": sandbox_channel.pk}
        )

    assert response.status_code == 200
    assert csp_violations(response) == []
    page = page_of(response)
    assert len(page.find("th", scope="row")) == 7
    assert len(page.find("th", scope="col")) == 25
    cells = cells_of(response)
    assert len(cells) == 7 * 24
    monday_21, monday_10, monday_14, saturday_10 = cells[21], cells[10], cells[14], cells[5 * 24 + 10]
    assert "heat-9" in monday_21["attrs"]["class"].split()
    assert re.search(r"\b100\b.*\b3\b", monday_21["attrs"]["title"])
    assert "from-priors" not in monday_21["attrs"]["class"]
    assert "from-priors" in monday_10["attrs"]["class"]
    assert "office-hours" in monday_10["attrs"]["class"] and "office-hours" in monday_14["attrs"]["class"]
    assert "office-hours" not in monday_21["attrs"]["class"]
    assert "office-hours" not in saturday_10["attrs"]["class"]
    assert all(re.fullmatch(r"heat-\d", cell["attrs"]["class"].split()[0]) for cell in cells)


def test_heatmap_for_all_channels_by_default(manager_client, sandbox_channel):
    response = manager_client.get(reverse("publishing:activity"))

    assert response.status_code == 200
    first_segment = AudienceSegment.objects.filter(is_active=True).first()
    assert f"{first_segment.name}" in response.content.decode()
    assert response.context["channel"] is None


def test_heatmap_refuses_an_unknown_channel(manager_client, sandbox_channel):
    response = manager_client.get(reverse("publishing:activity"), {"channel": "9999"})

    assert response.status_code == 400
    assert len(cells_of(response)) == 7 * 24


def test_heatmap_is_not_for_the_administrator(client, administrator):
    client.force_login(administrator)

    assert client.get(reverse("publishing:activity")).status_code == 403


def test_heat_colours_keep_their_text_readable():
    stylesheet = (Path(settings.BASE_DIR) / "static" / "css" / "scheduling.css").read_text()
    levels = re.findall(
        r"\.heat-(\d) \{ background: (#[0-9a-f]{6}); color: (#[0-9a-f]{6}); \}", stylesheet, re.I
    )

    assert [int(level) for level, _bg, _fg in levels] == list(range(10))
    for level, background, text in levels:
        assert contrast(background, text) >= 4.5, level
