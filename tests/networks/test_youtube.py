"""The YouTube connector against the YouTube Data API v3 as documented. google-api-python-client
talks through httplib2, which `responses` cannot see: the transport is googleapiclient's
HttpMockSequence, extended to accept only the expected requests (method, URL and query) in order,
answered with payloads shaped like Google's documentation (payloads/youtube)."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httplib2
import pytest
import time_machine
from django.utils import translation
from googleapiclient.http import HttpMockSequence

from networks import youtube as youtube_module
from networks.base import (
    AuthorizationExpired,
    InboundKind,
    PostMetrics,
    PublishResult,
    RateLimited,
    RecentPost,
    Rejected,
    ReplyTarget,
    Transient,
    Unsupported,
)
from networks.models import Network
from networks.registry import connector_for
from networks.services import channel_connect
from networks.youtube import YouTubeConnector
from tests.networks.payloads import payload

API = "https://youtube.googleapis.com/youtube/v3"
TOKEN_URL = "https://oauth2.googleapis.com/token"
CH = "UCq8yJbXy0rGQW2mLk3vZkAQ"
V1 = "Xk3m9QwLr2A"
V2 = "Pz7b1NcVt0E"
A = "UgzDE2tasfmrYLyNkGt4AaABAg"
B = "UgwQn7rPq5sT3vX9yZ1AaABAg"
ACCESS_TOKEN = "ya29.a0AfB_byC7youtube-access-token"
CREDENTIALS = {
    "refresh_token": "1//0g-refresh",
    "client_id": "1234-abc.apps.googleusercontent.com",
    "client_secret": "GOCSPX-s3cr3t",
}
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class GoogleHttp(HttpMockSequence):
    """An httplib2 stand-in that answers exactly the expected requests, in order: any other
    request fails the test, and the test fails if an expected one was not made."""

    def __init__(self):
        super().__init__([])
        self.expected = []

    def expect(self, method, url, *, status=200, answer=None, raises=None):
        """Answer `method url` with `answer` (JSON) and `status`, or fail it with `raises`."""
        self.expected.append((method, url, raises))
        content = json.dumps(answer) if answer is not None else ""
        self._iterable.append(
            ({"status": str(status), "content-type": "application/json; charset=UTF-8"}, content)
        )

    def request(self, uri, method="GET", body=None, headers=None, redirections=1, connection_type=None):
        step = len(self.request_sequence)
        assert step < len(self.expected), f"request nobody expected: {method} {uri}"
        expected_method, expected_url, raises = self.expected[step]
        assert (method, _split(uri)) == (expected_method, _split(expected_url))
        if raises is not None:
            self.request_sequence.append((uri, method, body, headers))
            raise raises
        return super().request(uri, method, body, headers, redirections, connection_type)


def _split(url):
    parts = urlsplit(url)
    return parts.scheme, parts.netloc, parts.path, parse_qs(parts.query)


def url(path, *, alt="json", **query):
    """An API URL; methods without a response body (delete, setModerationStatus) send no `alt`."""
    query = {**query, "alt": alt} if alt else query
    return f"{API}/{path}?" + "&".join(f"{key}={value}" for key, value in query.items())


@pytest.fixture(autouse=True)
def frozen_clock_in_english():
    """A fixed now, and messages in the source language the assertions quote."""
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


@pytest.fixture
def channel(db):
    return channel_connect(
        network=Network.YOUTUBE, account_id=CH, display_name="Empleo CV", credentials=CREDENTIALS
    )


@pytest.fixture
def youtube(channel):
    return connector_for(channel)


@pytest.fixture
def google(monkeypatch):
    http = GoogleHttp()
    monkeypatch.setattr(youtube_module, "http_transport", lambda: http)
    yield http
    assert len(http.request_sequence) == len(http.expected), "an expected request was not made"


@pytest.fixture
def api(google):
    """Google after the refresh token was traded for an access token: the trade must carry the
    channel's refresh token and client, every API call the new access token."""
    google.expect("POST", TOKEN_URL, answer=payload("youtube", "token"))
    yield google
    _, _, token_body, token_headers = google.request_sequence[0]
    assert parse_qs(token_body) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["1//0g-refresh"],
        "client_id": ["1234-abc.apps.googleusercontent.com"],
        "client_secret": ["GOCSPX-s3cr3t"],
    }
    assert token_headers["Content-Type"] == "application/x-www-form-urlencoded"
    for _, _, _, headers in google.request_sequence[1:]:
        assert headers["authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_the_registry_gives_youtube_channels_the_youtube_connector(youtube):
    assert isinstance(youtube, YouTubeConnector)
    assert youtube.capabilities.media_required is True
    assert youtube.capabilities.link_handling == "none"
    assert youtube.capabilities.private_messages is False
    assert youtube.capabilities.hide_comments is True


def test_publish_is_not_possible_and_calls_nobody(youtube, google):
    with pytest.raises(Unsupported, match="videos"):
        youtube.publish(text="Hola", link="https://gva.es")


def test_find_recent_posts_reads_the_uploads_playlist(youtube, api):
    api.expect(
        "GET",
        url("channels", part="contentDetails", id=CH),
        answer=payload("youtube", "channels_content_details"),
    )
    api.expect(
        "GET",
        url(
            "playlistItems",
            part="snippet,contentDetails",
            playlistId="UUq8yJbXy0rGQW2mLk3vZkAQ",
            maxResults=25,
        ),
        answer=payload("youtube", "playlist_items"),
    )

    posts = youtube.find_recent_posts(since=datetime(2026, 11, 25, tzinfo=UTC))

    assert posts == [
        RecentPost(
            external_id=V1,
            url=f"https://www.youtube.com/watch?v={V1}",
            text="Cómo inscribirse en los cursos de diciembre",
            created_at=datetime(2026, 11, 27, 17, 0, tzinfo=UTC),
        )
    ]


def _threads(api, answer=None, **extra):
    api.expect(
        "GET",
        url(
            "commentThreads",
            part="snippet,replies",
            allThreadsRelatedToChannelId=CH,
            order="time",
            textFormat="plainText",
            maxResults=100,
            **extra,
        ),
        answer=answer or payload("youtube", "comment_threads"),
    )


def test_fetch_inbound_reads_threads_and_all_replies_of_threads_that_grew(youtube, api):
    _threads(api)
    api.expect(
        "GET",
        url("comments", part="snippet", parentId=B, textFormat="plainText", maxResults=100),
        answer=payload("youtube", "comments_replies"),
    )

    page = youtube.fetch_inbound(cursor={"after": "2026-11-28T09:45:00+00:00", "reply_counts": {B: 2}})

    assert [(m.external_id, m.thread_key, m.is_from_us) for m in page.messages] == [
        (f"{B}.B1c2D3e4F5gB1c2D3e4F5g", B, True),
        (f"{B}.B2c3D4e5F6hB2c3D4e5F6h", B, False),
        (A, A, False),
        (f"{A}.A1b2C3d4E5fA1b2C3d4E5f", A, True),
        (f"{B}.B3c4D5e6F7iB3c4D5e6F7i", B, False),
    ]
    reply_of_joan, top_level = page.messages[1], page.messages[2]
    assert top_level.kind == InboundKind.PUBLIC_COMMENT
    assert (top_level.author_id, top_level.author_name, top_level.author_handle) == (
        "UCl7Ucia0Moreno1xYzAbCdE",
        "@luciamoreno",
        "luciamoreno",
    )
    assert top_level.text == "¿El curso es presencial u online?"
    assert top_level.created_at == datetime(2026, 11, 28, 10, 15, tzinfo=UTC)
    assert (top_level.about_post, top_level.in_reply_to) == (V1, V1)
    assert (reply_of_joan.about_post, reply_of_joan.in_reply_to) == (V1, B)
    # The last thread on the page is older than the cursor: no second page is read.
    assert page.cursor == {
        "after": "2026-11-28T11:20:00+00:00",
        "reply_counts": {A: 1, B: 3, "UgxOldThreadK8mN2pQ4AaABAg": 0},
    }


def test_fetch_inbound_reads_the_next_page_while_threads_are_newer_than_the_cursor(youtube, api):
    last_page = payload("youtube", "comment_threads")
    del last_page["nextPageToken"]
    _threads(api)
    _threads(api, last_page, pageToken="QURTSl9pMk9OdGd2")

    page = youtube.fetch_inbound(cursor={"after": "2026-11-20T00:00:00+00:00", "reply_counts": {A: 1, B: 3}})

    # The first page's last thread (25 November) is newer than the cursor, so the next page is read;
    # it has no nextPageToken, so reading stops there.
    assert {m.external_id for m in page.messages} >= {A, B, "UgxOldThreadK8mN2pQ4AaABAg"}


def test_reply_inserts_a_comment_under_the_top_level_comment(youtube, api):
    api.expect("POST", url("comments", part="snippet"), answer=payload("youtube", "comment_inserted"))
    target = ReplyTarget(
        kind=InboundKind.PUBLIC_COMMENT,
        thread_key=A,
        external_id=f"{A}.A1b2C3d4E5fA1b2C3d4E5f",
        author_id="UCx",
    )

    result = youtube.reply(target=target, text="Sí, hay grupos de mañana y de tarde.")

    assert result == PublishResult(external_id=f"{A}.A9z8Y7x6W5vA9z8Y7x6W5v", url="")
    assert json.loads(api.request_sequence[1][2]) == {
        "snippet": {"parentId": A, "textOriginal": "Sí, hay grupos de mañana y de tarde."}
    }


@pytest.mark.parametrize(
    ("method", "status"), [("hide_comment", "heldForReview"), ("unhide_comment", "published")]
)
def test_hide_and_unhide_set_the_moderation_status(youtube, api, method, status):
    api.expect("POST", url("comments/setModerationStatus", alt="", id=A, moderationStatus=status), status=204)

    getattr(youtube, method)(external_id=A)


def test_delete_a_comment_and_delete_it_again(youtube, api):
    api.expect("DELETE", url("comments", alt="", id=A), status=204)
    api.expect(
        "DELETE",
        url("comments", alt="", id=A),
        status=404,
        answer=payload("youtube", "error_comment_not_found"),
    )

    youtube.delete(external_id=A)
    youtube.delete(external_id=A)


def test_fetch_metrics_turns_string_counters_into_numbers(youtube, api):
    api.expect(
        "GET",
        url("videos", part="statistics", id=f"{V1},{V2}", maxResults=50),
        answer=payload("youtube", "videos_statistics"),
    )

    assert youtube.fetch_metrics(external_ids=[V1, V2]) == [
        PostMetrics(external_id=V1, impressions=1520, likes=48, shares=None, comments=12),
        PostMetrics(external_id=V2, impressions=300, likes=None, shares=None, comments=0),
    ]


# --- errors -----------------------------------------------------------------------------------------


def test_spent_quota_is_rate_limited_until_midnight_pacific(youtube, api):
    _threads_error(api, 403, "error_quota")

    with pytest.raises(RateLimited, match="midnight") as caught:
        youtube.fetch_inbound(cursor={})

    # 12:00 UTC on 28 November is 04:00 in California (PST, UTC-8): the quota returns at 08:00 UTC on the 29th.
    assert caught.value.until == datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def test_a_rate_limit_pauses_a_minute(youtube, api):
    _threads_error(api, 403, "error_rate_limit")

    with pytest.raises(RateLimited) as caught:
        youtube.fetch_inbound(cursor={})

    assert caught.value.until == NOW + timedelta(minutes=1)


def _threads_error(api, status, error):
    api.expect(
        "GET",
        url(
            "commentThreads",
            part="snippet,replies",
            allThreadsRelatedToChannelId=CH,
            order="time",
            textFormat="plainText",
            maxResults=100,
        ),
        status=status,
        answer=payload("youtube", error),
    )


def test_a_refused_refresh_token_means_authorization_expired(youtube, google):
    google.expect("POST", TOKEN_URL, status=400, answer=payload("youtube", "token_invalid_grant"))

    with pytest.raises(AuthorizationExpired, match="7 days"):
        youtube.fetch_inbound(cursor={})


def test_a_channel_without_a_refresh_token_needs_reconnecting_without_calling_google(google, db):
    channel = channel_connect(network=Network.YOUTUBE, account_id=CH, display_name="Empleo", credentials={})

    with pytest.raises(AuthorizationExpired):
        connector_for(channel).fetch_inbound(cursor={})


def test_an_access_token_refused_by_the_api_means_authorization_expired(youtube, api):
    _threads_error(api, 401, "error_unauthorized")

    with pytest.raises(AuthorizationExpired):
        youtube.fetch_inbound(cursor={})


@pytest.mark.parametrize(
    ("error", "words"),
    [
        ("error_comments_disabled", "Comments are turned off"),
        ("error_insufficient_permissions", "more permissions"),
    ],
)
def test_refusals_mean_rejected_with_youtube_words(youtube, api, error, words):
    api.expect("POST", url("comments", part="snippet"), status=403, answer=payload("youtube", error))
    target = ReplyTarget(kind=InboundKind.PUBLIC_COMMENT, thread_key=A, external_id=A, author_id="UCx")

    with pytest.raises(Rejected, match=words) as caught:
        youtube.reply(target=target, text="Hola")

    assert "<" not in caught.value.reason


def test_a_backend_error_after_a_reply_is_transient_and_may_have_been_posted(youtube, api):
    api.expect(
        "POST", url("comments", part="snippet"), status=503, answer=payload("youtube", "error_backend")
    )
    target = ReplyTarget(kind=InboundKind.PUBLIC_COMMENT, thread_key=A, external_id=A, author_id="UCx")

    with pytest.raises(Transient) as caught:
        youtube.reply(target=target, text="Hola")

    assert caught.value.request_sent is True


def test_google_sign_in_unavailable_is_transient(youtube, google):
    google.expect("POST", TOKEN_URL, status=503, answer={"error": "temporarily_unavailable"})

    with pytest.raises(Transient):
        youtube.fetch_inbound(cursor={})


@pytest.mark.parametrize(
    ("failure", "request_sent"),
    [(httplib2.ServerNotFoundError("Unable to find the server"), False), (TimeoutError("timed out"), True)],
)
def test_no_answer_is_transient_and_says_whether_the_reply_may_be_out(youtube, api, failure, request_sent):
    api.expect("POST", url("comments", part="snippet"), raises=failure)
    target = ReplyTarget(kind=InboundKind.PUBLIC_COMMENT, thread_key=A, external_id=A, author_id="UCx")

    with pytest.raises(Transient) as caught:
        youtube.reply(target=target, text="Hola")

    assert caught.value.request_sent is request_sent
