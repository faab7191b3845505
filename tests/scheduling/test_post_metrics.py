"""Reading back the figures of published posts: which are due, how they are stored, and what a
network's "slow down" or a dead token does to the round."""

from datetime import UTC, datetime, timedelta

import pytest
import responses
import time_machine
from django.utils import timezone
from responses import matchers

from networks.models import ChannelStatus, Network, SandboxFailure
from networks.services import channel_connect
from scheduling.activity import ACTIVITY_WINDOW, activity_week
from scheduling.dispatch import deliveries_claim_due, delivery_publish
from scheduling.models import Delivery, DeliveryMetrics, DeliveryState, Post, PostStatus
from scheduling.post_metrics import (
    FRESH_AGE,
    channel_metrics_collect,
    channels_due_for_metrics,
    deliveries_due_for_metrics,
)
from scheduling.tasks import collect_post_metrics
from socialdesk.beat import BEAT_SCHEDULE
from socialdesk.celery import app
from tests.networks.fixtures import make_sandbox_channel
from tests.networks.payloads import payload

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
X_API = "https://api.twitter.com/2"
X_TOKEN = "x-user-access-token"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def published_on_sandbox(make_delivery, *texts: str) -> list[Delivery]:
    """Deliveries published through the dispatcher on the sandbox network, as in production."""
    deliveries = [make_delivery(text) for text in texts]
    deliveries_claim_due(now=timezone.now(), limit=10)
    for delivery in deliveries:
        delivery_publish(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.PUBLISHED
    return deliveries


def published_at(channel, external_id: str, at: datetime, **fields) -> Delivery:
    post = Post.objects.create(text=f"Post {external_id}", status=PostStatus.SCHEDULED)
    return Delivery.objects.create(
        post=post,
        channel=channel,
        text=post.text,
        scheduled_at=at,
        due_at=at,
        state=fields.pop("state", DeliveryState.PUBLISHED),
        published_at=at,
        external_id=external_id,
        **fields,
    )


def read_at(delivery: Delivery, at: datetime) -> None:
    DeliveryMetrics.objects.create(delivery=delivery, likes=1, engagement=1, fetched_at=at)


# --- Sandbox ---------------------------------------------------------------------------------------


def test_figures_are_stored_with_engagement_the_sum_of_interactions(make_delivery, sandbox, sandbox_channel):
    deliveries = published_on_sandbox(make_delivery, "Curso de carretillero", "Feria de empleo en Elche")

    with time_machine.travel(NOW + timedelta(hours=5), tick=False):
        looked_at = channel_metrics_collect(channel=sandbox_channel, now=timezone.now())
        reported = {
            m.external_id: m for m in sandbox.fetch_metrics(external_ids=[d.external_id for d in deliveries])
        }

    assert looked_at == 2
    for delivery in deliveries:
        stored, figures = DeliveryMetrics.objects.get(delivery=delivery), reported[delivery.external_id]
        assert (stored.impressions, stored.likes, stored.shares, stored.comments, stored.clicks) == (
            figures.impressions,
            figures.likes,
            figures.shares,
            figures.comments,
            figures.clicks,
        )
        assert stored.engagement == figures.likes + figures.shares + figures.comments + figures.clicks
        assert stored.impressions > 0
        assert stored.fetched_at == NOW + timedelta(hours=5)


def test_a_fresh_post_is_read_again_an_hour_later_into_the_same_row(make_delivery, sandbox_channel):
    (delivery,) = published_on_sandbox(make_delivery, "Ayudas a la contratación")
    channel_metrics_collect(channel=sandbox_channel, now=timezone.now())
    first = DeliveryMetrics.objects.get(delivery=delivery)

    with time_machine.travel(NOW + timedelta(minutes=30), tick=False):
        assert channel_metrics_collect(channel=sandbox_channel, now=timezone.now()) == 0
    with time_machine.travel(NOW + timedelta(hours=6), tick=False):
        assert channel_metrics_collect(channel=sandbox_channel, now=timezone.now()) == 1

    again = DeliveryMetrics.objects.get(delivery=delivery)
    assert again.pk == first.pk
    assert again.impressions > first.impressions
    assert again.fetched_at == NOW + timedelta(hours=6)


def test_fresh_posts_hourly_older_ones_daily_only_inside_the_window(sandbox_channel):
    hour, day = timedelta(hours=1), timedelta(days=1)
    never_read = published_at(sandbox_channel, "never-read", NOW - 3 * day)
    fresh_read_long_ago = published_at(sandbox_channel, "fresh-stale", NOW - 5 * hour)
    read_at(fresh_read_long_ago, NOW - hour)
    fresh_read_just_now = published_at(sandbox_channel, "fresh-recent", NOW - 5 * hour)
    read_at(fresh_read_just_now, NOW - 20 * timedelta(minutes=1))
    old_read_today = published_at(sandbox_channel, "old-today", NOW - FRESH_AGE - hour)
    read_at(old_read_today, NOW - 2 * hour)
    old_read_yesterday = published_at(sandbox_channel, "old-yesterday", NOW - 10 * day)
    read_at(old_read_yesterday, NOW - day)
    published_at(sandbox_channel, "too-old", NOW - ACTIVITY_WINDOW - hour)
    published_at(sandbox_channel, "", NOW - hour, state=DeliveryState.PUBLISHED)
    published_at(sandbox_channel, "failed", NOW - hour, state=DeliveryState.FAILED)

    due = list(deliveries_due_for_metrics(now=NOW))

    assert due == [never_read, old_read_yesterday, fresh_read_long_ago]


def test_a_rate_limited_channel_stops_and_waits(make_delivery, sandbox_account, sandbox_channel):
    published_on_sandbox(make_delivery, "Oferta de empleo público")
    sandbox_account.failure = SandboxFailure.RATE_LIMITED
    sandbox_account.save()

    assert channel_metrics_collect(channel=sandbox_channel, now=timezone.now()) == 0

    assert not DeliveryMetrics.objects.exists()
    assert channels_due_for_metrics(now=timezone.now()) == []
    sandbox_account.failure = ""
    sandbox_account.save()
    later = timezone.now() + timedelta(minutes=3)  # the sandbox asks for two minutes
    assert channels_due_for_metrics(now=later) == [sandbox_channel.pk]
    assert channel_metrics_collect(channel=sandbox_channel, now=later) == 1


def test_an_expired_token_marks_the_channel_for_reconnecting(make_delivery, sandbox_account, sandbox_channel):
    published_on_sandbox(make_delivery, "Taller de entrevistas")
    sandbox_account.failure = SandboxFailure.AUTHORIZATION_EXPIRED
    sandbox_account.save()

    channel_metrics_collect(channel=sandbox_channel, now=timezone.now())

    sandbox_channel.refresh_from_db()
    assert sandbox_channel.status == ChannelStatus.NEEDS_RECONNECT
    assert not DeliveryMetrics.objects.exists()


def test_the_beat_task_reads_every_channel_with_figures_due(
    make_delivery, sandbox_channel, django_capture_on_commit_callbacks
):
    published_on_sandbox(make_delivery, "Becas de formación")
    _account, other_channel = make_sandbox_channel(handle="otro_canal", name="Otro canal")
    post = Post.objects.create(text="Otro post", status=PostStatus.SCHEDULED)
    other = Delivery.objects.create(
        post=post, channel=other_channel, text="Otro post", scheduled_at=NOW, due_at=NOW
    )
    deliveries_claim_due(now=NOW, limit=10)
    delivery_publish(delivery_id=other.pk)

    with django_capture_on_commit_callbacks(execute=True):
        assert collect_post_metrics() == 2

    assert DeliveryMetrics.objects.count() == 2
    assert BEAT_SCHEDULE["collect-post-metrics"]["task"] == collect_post_metrics.name
    assert collect_post_metrics.name in app.tasks


def test_collected_figures_feed_the_activity_model(make_delivery, post, sandbox_channel):
    published_on_sandbox(make_delivery, "Cita previa sin esperas")

    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        channel_metrics_collect(channel=sandbox_channel, now=timezone.now())
        week = activity_week(channel=sandbox_channel, segment=post.segment, now=timezone.now())

    local_now = timezone.localtime(NOW)
    assert week.samples[local_now.weekday()][local_now.hour] == 1


# --- X, intercepted at its documented endpoint -----------------------------------------------------


@pytest.fixture
def x_channel(db):
    return channel_connect(
        network=Network.X,
        account_id="1523000000000000001",
        display_name="Ocupació GVA",
        handle="ocupacio_gva",
        credentials={
            "access_token": X_TOKEN,
            "refresh_token": "x-refresh-token",
            "expires_at": "2026-03-05T13:30:00+00:00",
            "client_id": "x-client-id",
        },
    )


@pytest.fixture
def x_api():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
        for call in mock.calls:
            assert call.request.headers["Authorization"] == f"Bearer {X_TOKEN}"


def public_metrics_of(ids: str):
    return [matchers.query_param_matcher({"ids": ids, "tweet.fields": "public_metrics"}, strict_match=True)]


def test_x_public_metrics_are_stored_and_a_post_x_no_longer_has_is_not_asked_again(x_channel, x_api):
    kept = published_at(x_channel, "1897200000000000001", NOW - timedelta(hours=3))
    gone = published_at(x_channel, "1897100000000000009", NOW - timedelta(hours=3))
    x_api.get(
        f"{X_API}/tweets",
        json=payload("x", "tweets_public_metrics"),
        match=public_metrics_of("1897200000000000001,1897100000000000009"),
    )

    assert channel_metrics_collect(channel=x_channel, now=NOW) == 2

    stored = DeliveryMetrics.objects.get(delivery=kept)
    assert (stored.impressions, stored.likes, stored.shares, stored.comments, stored.clicks) == (
        4810,
        57,
        14,
        4,
        None,
    )
    assert stored.engagement == 57 + 14 + 4
    empty = DeliveryMetrics.objects.get(delivery=gone)
    assert (empty.likes, empty.shares, empty.comments, empty.clicks, empty.fetched_at) == (
        None,
        None,
        None,
        None,
        NOW,
    )
    assert list(deliveries_due_for_metrics(now=NOW)) == []
    week = activity_week(channel=x_channel, segment=None, now=NOW)
    assert week.total_posts == 1


def test_x_rate_limit_keeps_what_was_read_and_stops_the_channel(x_channel, x_api, monkeypatch):
    monkeypatch.setattr("scheduling.post_metrics.METRICS_CHUNK", 1)
    first = published_at(x_channel, "1897200000000000001", NOW - timedelta(hours=3))
    published_at(x_channel, "1897100000000000009", NOW - timedelta(hours=3))
    published_at(x_channel, "1897000000000000001", NOW - timedelta(hours=3))
    x_api.get(
        f"{X_API}/tweets",
        json=payload("x", "tweets_public_metrics"),
        match=public_metrics_of("1897200000000000001"),
    )
    x_api.get(
        f"{X_API}/tweets",
        status=429,
        json=payload("x", "error_rate_limited"),
        headers={
            "x-rate-limit-limit": "15",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": "1772713800",
        },
        match=public_metrics_of("1897100000000000009"),
    )

    assert channel_metrics_collect(channel=x_channel, now=NOW) == 1

    assert len(x_api.calls) == 2  # the third post was not asked for
    assert list(DeliveryMetrics.objects.values_list("delivery_id", flat=True)) == [first.pk]
    assert channels_due_for_metrics(now=NOW + timedelta(minutes=29)) == []
    assert channels_due_for_metrics(now=NOW + timedelta(minutes=31)) == [x_channel.pk]
