"""The X connector against X's documented HTTP API: every request is intercepted at its exact URL,
method, query and body; every answer is shaped like X's documentation (payloads/x)."""

import base64
import json
from datetime import UTC, datetime

import pytest
import requests
import responses
import time_machine
from responses import matchers
from urllib3.exceptions import MaxRetryError, NewConnectionError

from networks.base import (
    AuthorizationExpired,
    InboundKind,
    Media,
    PostMetrics,
    PublishResult,
    RateLimited,
    RecentPost,
    Rejected,
    ReplyTarget,
    Transient,
)
from networks.models import Network
from networks.registry import connector_for
from networks.services import channel_connect
from networks.x import XConnector
from tests.networks.payloads import payload

API = "https://api.twitter.com/2"
ACCOUNT_ID = "1523000000000000001"
TOKEN = "x-user-access-token"
NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
TWEET_FIELDS = "author_id,created_at,conversation_id,in_reply_to_user_id,referenced_tweets"
OWN_TWEET_FIELDS = "created_at,conversation_id,in_reply_to_user_id,referenced_tweets"
# The smallest valid PNG: one transparent pixel.
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def channel(db):
    return channel_connect(
        network=Network.X,
        account_id=ACCOUNT_ID,
        display_name="Ocupació GVA",
        handle="ocupacio_gva",
        credentials={
            "access_token": TOKEN,
            "refresh_token": "x-refresh-token",
            "expires_at": "2026-03-05T13:30:00+00:00",
            "client_id": "x-client-id",
        },
    )


@pytest.fixture
def x(channel):
    return connector_for(channel)


@pytest.fixture
def api():
    """X's API: only the registered requests exist, and every registered one must be called.
    Afterwards every request must have carried the user's OAuth 2.0 token as a Bearer token."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
        for call in mock.calls:
            assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"


def query(**params):
    return matchers.query_param_matcher(params, strict_match=True)


def body(expected):
    return matchers.json_params_matcher(expected, strict_match=True)


def test_the_registry_gives_x_channels_the_x_connector(x):
    assert isinstance(x, XConnector)
    assert x.capabilities.max_length == 280
    assert x.capabilities.link_length == 23
    assert x.capabilities.private_messages is True
    assert x.capabilities.duplicate_text_rejected is True


def test_publish_text_with_link(x, api):
    api.post(
        f"{API}/tweets",
        status=201,
        json=payload("x", "create_tweet"),
        match=[body({"text": "Abierta la convocatoria de ayudas a la contratación https://gva.es/ayudas"})],
    )

    result = x.publish(
        text="Abierta la convocatoria de ayudas a la contratación", link="https://gva.es/ayudas"
    )

    assert result == PublishResult(
        external_id="1897300000000000001", url="https://x.com/ocupacio_gva/status/1897300000000000001"
    )


def test_publish_keeps_a_link_already_in_the_text_once(x, api):
    api.post(
        f"{API}/tweets",
        status=201,
        json=payload("x", "create_tweet"),
        match=[body({"text": "Ayudas: https://gva.es/ayudas"})],
    )

    x.publish(text="Ayudas: https://gva.es/ayudas", link="https://gva.es/ayudas")
    assert len(api.calls) == 1


def test_publish_image_uploads_it_through_v2_with_alt_text(x, api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "cartel.png").write_bytes(PIXEL_PNG)
    api.post(
        f"{API}/media/upload",
        json=payload("x", "media_upload"),
        match=[
            body(
                {
                    "media": base64.b64encode(PIXEL_PNG).decode("ascii"),
                    "media_category": "tweet_image",
                    "media_type": "image/png",
                }
            )
        ],
    )
    api.post(
        f"{API}/media/metadata",
        json=payload("x", "media_metadata"),
        match=[
            body(
                {
                    "id": "1897299000000000001",
                    "metadata": {"alt_text": {"text": "Cartel de la feria de empleo de Valencia"}},
                }
            )
        ],
    )
    api.post(
        f"{API}/tweets",
        status=201,
        json=payload("x", "create_tweet"),
        match=[body({"text": "Feria de empleo", "media": {"media_ids": ["1897299000000000001"]}})],
    )

    result = x.publish(
        text="Feria de empleo",
        media=[
            Media(
                path="cartel.png", mime_type="image/png", alt_text="Cartel de la feria de empleo de Valencia"
            )
        ],
    )

    assert result.external_id == "1897300000000000001"
    assert [call.request.url for call in api.calls] == [
        f"{API}/media/upload",
        f"{API}/media/metadata",
        f"{API}/tweets",
    ]


def test_publish_refuses_a_file_x_does_not_take_before_calling_x(x, api):
    with pytest.raises(Rejected, match="video/mp4"):
        x.publish(text="Vídeo", media=[Media(path="clip.mp4", mime_type="video/mp4")])


def test_publish_too_long_is_rejected_before_calling_x(x, api):
    # 258 characters of text + a space + a URL counted as 23 = 282 > 280.
    with pytest.raises(Rejected, match="282"):
        x.publish(text="a" * 258, link="https://gva.es/una-direccion-muy-larga-que-t-co-acorta")
    assert len(api.calls) == 0


def test_publish_at_exactly_280_weighted_characters_goes_out(x, api):
    text = "a" * 256
    api.post(
        f"{API}/tweets",
        status=201,
        json=payload("x", "create_tweet"),
        match=[body({"text": f"{text} https://gva.es/una-direccion-muy-larga-que-t-co-acorta"})],
    )

    x.publish(text=text, link="https://gva.es/una-direccion-muy-larga-que-t-co-acorta")
    assert len(api.calls) == 1


def test_find_recent_posts_reads_the_own_timeline_and_marks_the_replies(x, api):
    api.get(
        f"{API}/users/{ACCOUNT_ID}/tweets",
        json=payload("x", "users_tweets"),
        match=[
            query(
                start_time="2026-03-04T00:00:00Z",
                exclude="retweets",
                max_results="100",
                **{"tweet.fields": OWN_TWEET_FIELDS},
            )
        ],
    )

    posts = x.find_recent_posts(since=datetime(2026, 3, 4, tzinfo=UTC))

    assert posts == [
        RecentPost(
            external_id="1897250000000000002",
            url="https://x.com/ocupacio_gva/status/1897250000000000002",
            text="@marta_vlc Hola Marta, puedes pedir cita en https://t.co/XyZ0987654",
            created_at=datetime(2026, 3, 4, 16, 20, tzinfo=UTC),
            is_reply=True,
        ),
        RecentPost(
            external_id="1897200000000000001",
            url="https://x.com/ocupacio_gva/status/1897200000000000001",
            text="Nuevo curso gratuito de soldadura en Alicante https://t.co/QwErTy1234",
            created_at=datetime(2026, 3, 4, 9, 0, tzinfo=UTC),
        ),
    ]


def _inbound_lists(
    api, *, mentions_query, search_query, dm_query, mentions="mentions", search="search_recent"
):
    api.get(
        f"{API}/users/{ACCOUNT_ID}/mentions", json=payload("x", mentions), match=[query(**mentions_query)]
    )
    if search_query is not None:
        api.get(f"{API}/tweets/search/recent", json=payload("x", search), match=[query(**search_query)])
    api.get(f"{API}/dm_events", json=payload("x", "dm_events"), match=[query(**dm_query)])


LIST_FIELDS = {
    "max_results": "100",
    "tweet.fields": TWEET_FIELDS,
    "expansions": "author_id",
    "user.fields": "username,name",
}
DM_FIELDS = {
    "event_types": "MessageCreate",
    "dm_event.fields": "id,text,event_type,created_at,sender_id,dm_conversation_id",
    "expansions": "sender_id",
    "user.fields": "username,name",
    "max_results": "100",
}


def test_first_fetch_reads_mentions_thread_replies_and_direct_messages(x, api):
    api.get(
        f"{API}/users/{ACCOUNT_ID}/tweets",
        json=payload("x", "users_tweets"),
        match=[
            query(
                start_time="2026-02-26T12:00:00Z",
                exclude="retweets",
                max_results="100",
                **{"tweet.fields": OWN_TWEET_FIELDS},
            )
        ],
    )
    _inbound_lists(
        api,
        mentions_query=LIST_FIELDS,
        search_query={
            "query": "conversation_id:1897200000000000001 OR conversation_id:1897240000000000001",
            **LIST_FIELDS,
        },
        dm_query=DM_FIELDS,
    )

    page = x.fetch_inbound(cursor={})

    assert [(m.external_id, m.kind, m.thread_key, m.author_handle) for m in page.messages] == [
        ("1897260000000000001", InboundKind.MENTION, "1897260000000000001", "jordipuig"),
        ("1897280000000000003", InboundKind.PUBLIC_COMMENT, "1897200000000000001", "marta_vlc"),
        ("1897290000000000004", InboundKind.PUBLIC_COMMENT, "1897200000000000001", "vsoler"),
        (
            "1897294000000000001",
            InboundKind.PRIVATE_MESSAGE,
            "dm:1523000000000000001-2244994945",
            "marta_vlc",
        ),
        (
            "1897295000000000002",
            InboundKind.PRIVATE_MESSAGE,
            "dm:1523000000000000001-2244994945",
            "marta_vlc",
        ),
    ]
    comment = page.messages[1]
    assert comment.author_id == "2244994945"
    assert comment.author_name == "Marta Ferrer"
    assert comment.text == "@ocupacio_gva ¿Cuándo abre el plazo del curso de soldadura?"
    assert comment.created_at == datetime(2026, 3, 4, 18, 5, tzinfo=UTC)
    assert comment.in_reply_to == "1897200000000000001"
    assert comment.about_post == "1897200000000000001"
    assert comment.is_from_us is False
    assert comment.raw["tweet"]["id"] == "1897280000000000003"
    assert page.messages[2].in_reply_to == "1897280000000000003"
    assert page.messages[0].about_post == ""
    dm = page.messages[4]
    assert dm.text == "Hola, he perdido la cita del SEPE, ¿cómo la recupero?"
    assert dm.author_id == "2244994945"
    assert dm.created_at == datetime(2026, 3, 4, 20, 10, tzinfo=UTC)
    assert page.cursor == {
        "own_since": "1897250000000000002",
        "threads": {
            "1897240000000000001": "2026-03-04T16:20:00.000Z",
            "1897200000000000001": "2026-03-04T09:00:00.000Z",
        },
        "mentions_since": "1897280000000000003",
        "search_since": "1897290000000000004",
        "dm_since": "1897295000000000002",
    }
    json.dumps(page.cursor)  # the cursor is stored in a JSONField


def test_next_fetch_continues_from_the_cursor_and_forgets_threads_older_than_the_search_window(x, api):
    cursor = {
        "own_since": "1897250000000000002",
        "threads": {
            "1897200000000000001": "2026-03-04T09:00:00.000Z",
            "1896000000000000001": "2026-02-20T09:00:00.000Z",
        },
        "mentions_since": "1897280000000000003",
        "search_since": "1897290000000000004",
        "dm_since": "1897293000000000009",
    }
    api.get(
        f"{API}/users/{ACCOUNT_ID}/tweets",
        json=payload("x", "users_tweets_empty"),
        match=[
            query(
                since_id="1897250000000000002",
                exclude="retweets",
                max_results="100",
                **{"tweet.fields": OWN_TWEET_FIELDS},
            )
        ],
    )
    _inbound_lists(
        api,
        mentions_query={"since_id": "1897280000000000003", **LIST_FIELDS},
        mentions="mentions_empty",
        search_query={
            "query": "conversation_id:1897200000000000001",
            "since_id": "1897290000000000004",
            **LIST_FIELDS,
        },
        search="search_recent_empty",
        dm_query=DM_FIELDS,
    )
    # The first DM page is all new and has a next page: read on until an event already seen.
    api.get(
        f"{API}/dm_events",
        json=payload("x", "dm_events_older"),
        match=[query(pagination_token="18LAA5FFPEKJA52PQHNS", **DM_FIELDS)],
    )

    page = x.fetch_inbound(cursor=cursor)

    assert [m.external_id for m in page.messages] == ["1897294000000000001", "1897295000000000002"]
    assert page.cursor["threads"] == {"1897200000000000001": "2026-03-04T09:00:00.000Z"}
    assert page.cursor["dm_since"] == "1897295000000000002"
    assert page.cursor["mentions_since"] == "1897280000000000003"


def test_public_reply_threads_under_the_message(x, api):
    api.post(
        f"{API}/tweets",
        status=201,
        json=payload("x", "create_tweet"),
        match=[
            body(
                {
                    "text": "@marta_vlc El plazo abre el lunes.",
                    "reply": {"in_reply_to_tweet_id": "1897280000000000003"},
                }
            )
        ],
    )

    result = x.reply(
        target=ReplyTarget(
            kind=InboundKind.PUBLIC_COMMENT,
            thread_key="1897200000000000001",
            external_id="1897280000000000003",
            author_id="2244994945",
        ),
        text="@marta_vlc El plazo abre el lunes.",
    )

    assert result.external_id == "1897300000000000001"


def test_private_reply_is_a_direct_message_to_the_author(x, api):
    api.post(
        f"{API}/dm_conversations/with/2244994945/messages",
        status=201,
        json=payload("x", "dm_send"),
        match=[body({"text": "Te escribimos por aquí, Marta."})],
    )

    result = x.reply(
        target=ReplyTarget(
            kind=InboundKind.PRIVATE_MESSAGE,
            thread_key="dm:1523000000000000001-2244994945",
            external_id="1897295000000000002",
            author_id="2244994945",
        ),
        text="Te escribimos por aquí, Marta.",
    )

    assert result == PublishResult(
        external_id="1897310000000000005", url="https://x.com/messages/1523000000000000001-2244994945"
    )


def test_reply_refused_by_the_february_2026_rule_is_rejected_with_x_words(x, api):
    api.post(f"{API}/tweets", status=403, json=payload("x", "error_reply_not_allowed"))

    with pytest.raises(Rejected) as refused:
        x.reply(
            target=ReplyTarget(
                kind=InboundKind.PUBLIC_COMMENT,
                thread_key="1",
                external_id="1897290000000000004",
                author_id="7",
            ),
            text="Hola",
        )

    assert "not been mentioned" in refused.value.reason


def test_hide_and_unhide_a_reply(x, api):
    api.put(
        f"{API}/tweets/1897290000000000004/hidden",
        json=payload("x", "hide_reply"),
        match=[body({"hidden": True})],
    )
    api.put(
        f"{API}/tweets/1897290000000000004/hidden",
        json=payload("x", "unhide_reply"),
        match=[body({"hidden": False})],
    )

    x.hide_comment(external_id="1897290000000000004")
    x.unhide_comment(external_id="1897290000000000004")

    assert [call.request.method for call in api.calls] == ["PUT", "PUT"]


def test_delete(x, api):
    api.delete(f"{API}/tweets/1897300000000000001", json=payload("x", "delete_tweet"))

    x.delete(external_id="1897300000000000001")

    assert len(api.calls) == 1


def test_deleting_a_post_x_no_longer_has_is_fine(x, api):
    api.delete(f"{API}/tweets/1897100000000000009", status=404, json=payload("x", "error_not_found"))

    x.delete(external_id="1897100000000000009")
    assert len(api.calls) == 1


def test_fetch_metrics_reads_public_metrics_and_leaves_out_missing_posts(x, api):
    api.get(
        f"{API}/tweets",
        json=payload("x", "tweets_public_metrics"),
        match=[query(ids="1897200000000000001,1897100000000000009", **{"tweet.fields": "public_metrics"})],
    )

    metrics = x.fetch_metrics(external_ids=["1897200000000000001", "1897100000000000009"])

    assert metrics == [
        PostMetrics(
            external_id="1897200000000000001", impressions=4810, likes=57, shares=14, comments=4, clicks=None
        )
    ]


# --- errors --------------------------------------------------------------------------------------


def test_rate_limited_until_the_reset_header(x, api):
    api.post(
        f"{API}/tweets",
        status=429,
        json=payload("x", "error_rate_limited"),
        headers={
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": "1772713800",
        },
    )

    with pytest.raises(RateLimited) as limited:
        x.publish(text="Hola")

    assert limited.value.until == datetime(2026, 3, 5, 12, 30, tzinfo=UTC)


def test_usage_cap_without_reset_header_waits_a_day(x, api):
    api.get(f"{API}/tweets", status=429, json=payload("x", "error_usage_capped"))

    with pytest.raises(RateLimited) as limited:
        x.fetch_metrics(external_ids=["1897200000000000001"])

    assert limited.value.until == datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
    assert "Usage cap exceeded" in limited.value.reason


def test_unauthorized_means_authorization_expired(x, api):
    api.get(f"{API}/users/{ACCOUNT_ID}/tweets", status=401, json=payload("x", "error_unauthorized"))

    with pytest.raises(AuthorizationExpired):
        x.find_recent_posts(since=datetime(2026, 3, 4, tzinfo=UTC))


def test_a_channel_without_token_needs_reconnecting_without_calling_x(channel, api):
    channel.credentials = {}
    channel.save()

    with pytest.raises(AuthorizationExpired):
        connector_for(channel).publish(text="Hola")


def test_duplicate_content_is_rejected_with_x_words(x, api):
    api.post(f"{API}/tweets", status=403, json=payload("x", "error_duplicate"))

    with pytest.raises(Rejected) as refused:
        x.publish(text="Hola")

    assert refused.value.reason == "You are not allowed to create a Tweet with duplicate content."


def test_invalid_media_is_rejected(x, api):
    api.post(f"{API}/tweets", status=400, json=payload("x", "error_invalid_request"))

    with pytest.raises(Rejected) as refused:
        x.publish(text="Hola")

    assert refused.value.reason == "One or more parameters to your request was invalid."


def test_server_error_on_publish_is_transient_and_may_have_posted(x, api):
    api.post(f"{API}/tweets", status=503, json=payload("x", "error_service_unavailable"))

    with pytest.raises(Transient) as failed:
        x.publish(text="Hola")

    assert failed.value.request_sent is True


def test_server_error_on_a_read_is_transient(x, api):
    api.get(f"{API}/tweets", status=503, json=payload("x", "error_service_unavailable"))

    with pytest.raises(Transient) as failed:
        x.fetch_metrics(external_ids=["1"])

    assert failed.value.request_sent is False


def test_refused_connection_is_transient_and_nothing_was_sent(x, api):
    refused = requests.ConnectionError(MaxRetryError(None, "/2/tweets", NewConnectionError(None, "refused")))
    api.post(f"{API}/tweets", body=refused)

    with pytest.raises(Transient) as failed:
        x.publish(text="Hola")

    assert failed.value.request_sent is False


def test_timeout_after_sending_is_transient_and_may_have_posted(x, api):
    api.post(f"{API}/tweets", body=requests.ReadTimeout("read timed out"))

    with pytest.raises(Transient) as failed:
        x.publish(text="Hola")

    assert failed.value.request_sent is True
