"""Access tokens renewed before they end, under a lock, when a connector is made for the channel."""

import base64
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses
import time_machine
from django.db import connection, connections
from django.urls import reverse
from django.utils import translation
from responses import matchers

from networks.models import Channel, ChannelStatus, Network
from networks.registry import connector_for
from networks.services import channel_connect
from networks.tokens import REFRESH_MARGIN, access_ending_at, channel_credentials_refresh

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
X_TOKEN = "https://api.twitter.com/2/oauth2/token"
LINKEDIN_TOKEN = "https://www.linkedin.com/oauth/v2/accessToken"
BASIC = "Basic " + base64.b64encode(b"x-client-id:x-client-secret").decode()
RENEWED = {
    "token_type": "bearer",
    "expires_in": 7200,
    "access_token": "x-access-2",
    "scope": "tweet.read tweet.write users.read offline.access",
    "refresh_token": "x-refresh-2",
}


@pytest.fixture(autouse=True)
def x_app(settings):
    settings.SOCIALDESK_X_CLIENT_ID = "x-client-id"
    settings.SOCIALDESK_X_CLIENT_SECRET = "x-client-secret"
    settings.SOCIALDESK_LINKEDIN_CLIENT_ID = "li-client-id"
    settings.SOCIALDESK_LINKEDIN_CLIENT_SECRET = "li-client-secret"


@pytest.fixture(autouse=True)
def frozen_clock_in_english():
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


def x_channel(*, ends_in: timedelta, client_id: str = "x-client-id") -> Channel:
    return channel_connect(
        network=Network.X,
        account_id="1460000000000000000",
        display_name="Ocupació GVA",
        handle="ocupaciogva",
        credentials={
            "access_token": "x-access-1",
            "refresh_token": "x-refresh-1",
            "expires_at": (NOW + ends_in).isoformat(),
            "client_id": client_id,
        },
    )


def x_refresh_answer(x, **answer):
    x.post(
        X_TOKEN,
        match=[
            matchers.header_matcher({"Authorization": BASIC}),
            matchers.urlencoded_params_matcher(
                {"grant_type": "refresh_token", "refresh_token": "x-refresh-1", "client_id": "x-client-id"}
            ),
        ],
        **answer,
    )


def test_a_token_ending_soon_is_renewed_before_the_connector_uses_it(db):
    channel = x_channel(ends_in=timedelta(minutes=20))
    with responses.RequestsMock() as x:
        x_refresh_answer(x, json=RENEWED)

        connector = connector_for(channel)

    assert connector.channel.credentials == {
        "access_token": "x-access-2",
        "refresh_token": "x-refresh-2",
        "expires_at": (NOW + timedelta(hours=2)).isoformat(),
        "client_id": "x-client-id",
    }
    assert Channel.objects.get(pk=channel.pk).credentials["refresh_token"] == "x-refresh-2"
    assert connector._client().bearer_token == "x-access-2"


def test_a_token_with_time_left_is_left_alone(db):
    channel = x_channel(ends_in=REFRESH_MARGIN + timedelta(minutes=1))

    with responses.RequestsMock(assert_all_requests_are_fired=False) as x:
        connector_for(channel)
        assert len(x.calls) == 0

    assert channel.credentials["access_token"] == "x-access-1"


def test_a_worker_holding_old_credentials_takes_the_ones_another_worker_saved(db):
    channel = x_channel(ends_in=timedelta(minutes=5))
    stale = Channel.objects.get(pk=channel.pk)
    with responses.RequestsMock() as x:
        x_refresh_answer(x, json=RENEWED)
        channel_credentials_refresh(channel=channel)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as x:
        channel_credentials_refresh(channel=stale)
        assert len(x.calls) == 0  # the spent refresh token is not sent again

    assert stale.credentials["access_token"] == "x-access-2"


@pytest.mark.parametrize(
    ("status", "answer", "words"),
    [
        (
            400,
            {"error": "invalid_request", "error_description": "Value passed for the token was invalid."},
            "Value passed for the token was invalid.",
        ),
        (400, {"error": "invalid_grant"}, "invalid_grant"),
        (
            401,
            {"error": "unauthorized_client", "error_description": "Missing valid authorization header"},
            "Missing valid authorization header",
        ),
    ],
)
def test_a_refused_renewal_needs_reconnecting_and_the_page_says_why(
    client, administrator, status, answer, words
):
    channel = x_channel(ends_in=timedelta(minutes=5))
    with responses.RequestsMock() as x:
        x_refresh_answer(x, status=status, json=answer)
        channel_credentials_refresh(channel=channel)

    channel.refresh_from_db()
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    assert f"X refused to renew the access token: {words}" in channel.last_error
    assert channel.credentials["refresh_token"] == "x-refresh-1"
    client.force_login(administrator)
    page = client.get(reverse("networks:channels"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Needs reconnecting" in page
    assert words in page


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 503, "json": {"title": "Service Unavailable"}},
        {"status": 429, "json": {}},
        {"body": requests.ConnectionError("down")},
    ],
    ids=["503", "429", "unreachable"],
)
def test_a_network_that_cannot_renew_now_leaves_the_token_for_the_next_use(db, caplog, answer):
    channel = x_channel(ends_in=timedelta(minutes=5))
    with responses.RequestsMock() as x:
        x_refresh_answer(x, **answer)
        channel_credentials_refresh(channel=channel)

    channel.refresh_from_db()
    assert channel.status == ChannelStatus.ACTIVE
    assert channel.credentials["access_token"] == "x-access-1"
    assert "next use tries again" in caplog.text
    assert "x-refresh-1" not in caplog.text


def test_tokens_of_another_x_app_need_reconnecting_without_calling_x(db):
    channel = x_channel(ends_in=timedelta(minutes=5), client_id="an-old-client-id")

    with responses.RequestsMock(assert_all_requests_are_fired=False) as x:
        channel_credentials_refresh(channel=channel)
        assert len(x.calls) == 0

    channel.refresh_from_db()
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    assert "SOCIALDESK_X_CLIENT_ID" in channel.last_error


def test_a_channel_that_is_not_active_is_not_renewed(db):
    channel = x_channel(ends_in=timedelta(minutes=5))
    Channel.objects.filter(pk=channel.pk).update(status=ChannelStatus.NEEDS_RECONNECT)
    channel.refresh_from_db()

    with responses.RequestsMock(assert_all_requests_are_fired=False) as x:
        channel_credentials_refresh(channel=channel)
        assert len(x.calls) == 0


def test_youtube_needs_nothing_here(db):
    channel = channel_connect(
        network=Network.YOUTUBE,
        account_id="UCq3Ci-h945sbEYXpVlw7rJg",
        display_name="LABORA",
        credentials={"refresh_token": "1//r", "client_id": "c", "client_secret": "s"},
    )

    with responses.RequestsMock(assert_all_requests_are_fired=False) as google:
        channel_credentials_refresh(channel=channel)
        assert len(google.calls) == 0


# --- LinkedIn: 60 days, usually without a refresh token -----------------------------------------


def linkedin_channel(account_id: str = "5515715", **credentials) -> Channel:
    return channel_connect(
        network=Network.LINKEDIN,
        account_id=account_id,
        display_name="LABORA",
        credentials={"access_token": "li-access", **credentials},
    )


def test_linkedin_access_ending_within_two_weeks_is_announced(client, administrator):
    channel = linkedin_channel(expires_at=(NOW + timedelta(days=10)).isoformat())
    far = linkedin_channel("5515716", expires_at=(NOW + timedelta(days=40)).isoformat())

    assert access_ending_at(channel) == NOW + timedelta(days=10)
    assert access_ending_at(far) is None
    client.force_login(administrator)
    page = client.get(reverse("networks:channels"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert (
        "LinkedIn gives access for a limited time: it ends on 15 Mar 2026, 13:00. Reconnect the channel before then."
        in page
    )


def test_linkedin_access_that_ended_needs_reconnecting_before_any_call(db):
    channel = linkedin_channel(expires_at=(NOW - timedelta(minutes=1)).isoformat())

    with responses.RequestsMock(assert_all_requests_are_fired=False) as linkedin:
        connector_for(channel)
        assert len(linkedin.calls) == 0

    channel.refresh_from_db()
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    assert "its access ended on" in channel.last_error
    assert access_ending_at(channel) is None


def test_linkedin_access_ending_in_minutes_is_still_used(db):
    channel = linkedin_channel(expires_at=(NOW + timedelta(minutes=5)).isoformat())

    connector_for(channel)

    channel.refresh_from_db()
    assert channel.status == ChannelStatus.ACTIVE


def test_linkedin_with_a_refresh_token_is_renewed(db):
    refresh_ends = (NOW + timedelta(days=300)).isoformat()
    channel = linkedin_channel(
        expires_at=(NOW + timedelta(minutes=5)).isoformat(),
        refresh_token="li-refresh",
        refresh_token_expires_at=refresh_ends,
    )
    with responses.RequestsMock() as linkedin:
        linkedin.post(
            LINKEDIN_TOKEN,
            json={
                "access_token": "li-access-2",
                "expires_in": 5184000,
                "refresh_token": "li-refresh",
                "refresh_token_expires_in": 25919000,
            },
            match=[
                matchers.urlencoded_params_matcher(
                    {
                        "grant_type": "refresh_token",
                        "refresh_token": "li-refresh",
                        "client_id": "li-client-id",
                        "client_secret": "li-client-secret",
                    }
                )
            ],
        )
        channel_credentials_refresh(channel=channel)

    credentials = Channel.objects.get(pk=channel.pk).credentials
    assert credentials["access_token"] == "li-access-2"
    assert credentials["expires_at"] == (NOW + timedelta(days=60)).isoformat()
    assert access_ending_at(channel) is None


# --- two workers at once ------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_renewing_at_once_spend_the_refresh_token_once():
    """Both workers hold the channel with a token about to end. The first takes the row lock and
    asks X; while X answers, the second is waiting on the lock (seen in pg_stat_activity). Once the
    first commits, the second reads the renewed credentials and calls nobody."""
    channel = x_channel(ends_in=timedelta(minutes=5))
    holders = [Channel.objects.get(pk=channel.pk) for _ in range(2)]
    all_loaded = threading.Barrier(2)
    failures: list[BaseException] = []

    def second_worker_is_waiting(request):
        deadline = time.monotonic() + 10
        # This worker's own connection, inside its transaction: clear the activity snapshot each time.
        with connections["default"].cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    return 200, {}, json.dumps(RENEWED)
        raise AssertionError("the second worker never waited for the lock")

    def worker(channel):
        try:
            all_loaded.wait(timeout=10)
            channel_credentials_refresh(channel=channel)
        except BaseException as exc:  # reported to the test's own thread below
            failures.append(exc)
        finally:
            connection.close()

    with responses.RequestsMock() as x:
        x.add_callback(
            responses.POST, X_TOKEN, callback=second_worker_is_waiting, content_type="application/json"
        )
        threads = [threading.Thread(target=worker, args=(holder,)) for holder in holders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(x.calls) == 1

    assert not failures, failures
    assert [holder.credentials["access_token"] for holder in holders] == ["x-access-2", "x-access-2"]
    assert Channel.objects.get(pk=channel.pk).credentials["refresh_token"] == "x-refresh-2"
