"""The Facebook Page connector against the Graph API as documented: every request is intercepted
at its exact URL (with the pinned Graph version), method, query and form body, and answered with a
payload shaped like Meta's documentation (payloads/facebook), always with a Content-Type header,
which facebook-sdk reads unconditionally."""

import hashlib
import hmac
import traceback
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import requests
import responses
import time_machine
from django.utils import translation
from responses import matchers

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
from networks.facebook import FacebookConnector, normalize_webhook_entry
from networks.models import Network
from networks.registry import connector_for
from networks.services import channel_connect
from tests.networks.payloads import payload

GRAPH = "https://graph.facebook.com/v24.0"
PAGE = "104857321234567"
P1 = f"{PAGE}_122150000000000001"
P2 = f"{PAGE}_122150000000000002"
PSID = "7654321098765432"
TOKEN = "EAAGpage-access-token"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture(autouse=True)
def frozen_clock_in_english():
    """A fixed now, and messages in the source language the assertions quote."""
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


@pytest.fixture
def channel(db):
    return channel_connect(
        network=Network.FACEBOOK,
        account_id=PAGE,
        display_name="Empleo Comunitat",
        credentials={"access_token": TOKEN},
    )


@pytest.fixture
def facebook(channel):
    return connector_for(channel)


@pytest.fixture
def graph():
    """The Graph API: only registered requests exist and each must be called. Afterwards, no
    request went unanswered and every one carried the Page token."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
        unanswered = [call.request.url for call in mock.calls if isinstance(call.response, Exception)]
        assert not unanswered, f"requests nobody intercepted: {unanswered}"
        for call in mock.calls:
            sent = {**parse_qs(call.request.url.partition("?")[2])}
            if call.request.method == "POST" and isinstance(call.request.body, str):
                sent.update(parse_qs(call.request.body))
            if call.request.method == "POST" and isinstance(call.request.body, bytes):
                assert TOKEN.encode() in call.request.body
            else:
                assert sent["access_token"] == [TOKEN]


def query(**params):
    return matchers.query_param_matcher({"access_token": TOKEN, **params}, strict_match=True)


def form(**params):
    return matchers.urlencoded_params_matcher({"access_token": TOKEN, **params})


def test_the_registry_gives_facebook_channels_the_facebook_connector(facebook):
    assert isinstance(facebook, FacebookConnector)
    assert facebook.capabilities.private_messages is True
    assert facebook.capabilities.hide_comments is True
    assert facebook.capabilities.media_required is False
    assert facebook.capabilities.private_reply_window == timedelta(hours=24)


def test_publish_text_with_link_posts_to_the_page_feed(facebook, graph):
    graph.post(
        f"{GRAPH}/{PAGE}/feed",
        json=payload("facebook", "publish_feed"),
        match=[form(message="Nueva oferta de empleo público", link="https://gva.es/ofertas/40")],
    )

    result = facebook.publish(text="Nueva oferta de empleo público", link="https://gva.es/ofertas/40")

    assert result == PublishResult(external_id=P1, url=f"https://www.facebook.com/{P1}")


def test_publish_text_alone_sends_no_link(facebook, graph):
    graph.post(
        f"{GRAPH}/{PAGE}/feed", json=payload("facebook", "publish_feed"), match=[form(message="Bon dia!")]
    )

    assert facebook.publish(text="Bon dia!").external_id == P1


def test_with_the_app_secret_every_call_carries_its_proof(channel, graph, settings):
    settings.META_APP_SECRET = "meta-app-secret"
    proof = hmac.new(b"meta-app-secret", TOKEN.encode(), hashlib.sha256).hexdigest()
    graph.post(
        f"{GRAPH}/{PAGE}/feed",
        json=payload("facebook", "publish_feed"),
        match=[form(message="Hola"), matchers.query_param_matcher({"appsecret_proof": proof})],
    )

    connector_for(channel).publish(text="Hola")

    assert len(graph.calls) == 1


def test_the_graph_version_comes_from_the_setting(facebook, graph, settings):
    settings.SOCIALDESK_GRAPH_API_VERSION = "v25.0"
    graph.post(
        f"https://graph.facebook.com/v25.0/{PAGE}/feed",
        json=payload("facebook", "publish_feed"),
        match=[form(message="Hola")],
    )

    facebook.publish(text="Hola")
    assert len(graph.calls) == 1


def test_publish_photo_uploads_the_file_with_the_text_and_link(facebook, graph, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "cartel.png").write_bytes(PIXEL_PNG)
    graph.post(f"{GRAPH}/{PAGE}/photos", json=payload("facebook", "publish_photo"))

    result = facebook.publish(
        text="Cursos de diciembre",
        link="https://gva.es/cursos",
        media=[Media(path="cartel.png", mime_type="image/png", alt_text="Cartel de los cursos")],
    )

    assert result == PublishResult(external_id=P2, url=f"https://www.facebook.com/{P2}")
    sent = graph.calls[0].request
    assert sent.headers["Content-Type"].startswith("multipart/form-data")
    assert PIXEL_PNG in sent.body
    assert b'name="source"' in sent.body
    assert b"Cursos de diciembre\n\nhttps://gva.es/cursos" in sent.body


def test_a_photo_text_that_already_carries_the_link_keeps_it_once(facebook, graph, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "cartel.png").write_bytes(PIXEL_PNG)
    graph.post(f"{GRAPH}/{PAGE}/photos", json=payload("facebook", "publish_photo"))

    facebook.publish(
        text="Cursos https://gva.es/cursos #Formación",
        link="https://gva.es/cursos",
        media=[Media(path="cartel.png", mime_type="image/png", alt_text="Cartel de los cursos")],
    )

    sent = graph.calls[0].request.body
    assert b"Cursos https://gva.es/cursos #Formaci" in sent and sent.count(b"https://gva.es/cursos") == 1


@pytest.mark.parametrize(
    "media",
    [
        [Media(path="a.png", mime_type="image/png"), Media(path="b.png", mime_type="image/png")],
        [Media(path="clip.mp4", mime_type="video/mp4")],
    ],
)
def test_publish_refuses_what_it_cannot_send_without_calling_meta(facebook, graph, media):
    with pytest.raises(Rejected):
        facebook.publish(text="Hola", media=media)


def test_find_recent_posts_lists_published_posts_since(facebook, graph):
    since = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    graph.get(
        f"{GRAPH}/{PAGE}/published_posts",
        json=payload("facebook", "published_posts"),
        match=[
            query(
                fields="id,message,created_time,permalink_url", since=str(int(since.timestamp())), limit="25"
            )
        ],
    )

    posts = facebook.find_recent_posts(since=since)

    assert posts == [
        RecentPost(
            external_id=P2,
            url=f"https://www.facebook.com/{PAGE}/posts/122150000000000002",
            text="Abierta la inscripción a los cursos de formación para el empleo de diciembre.",
            created_at=datetime(2026, 11, 28, 10, 30, tzinfo=UTC),
        ),
        RecentPost(
            external_id=P1,
            url=f"https://www.facebook.com/{PAGE}/posts/122150000000000001",
            text="Nueva oferta de empleo público: 40 plazas de auxiliar administrativo.",
            created_at=datetime(2026, 11, 27, 16, 5, tzinfo=UTC),
        ),
    ]


def test_find_recent_posts_follows_the_after_cursor_of_paging_next(facebook, graph):
    since = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    first, second = payload("facebook", "published_posts"), payload("facebook", "published_posts")
    first["data"], second["data"] = first["data"][:1], second["data"][1:]
    first["paging"]["next"] = f"{GRAPH}/{PAGE}/published_posts?limit=25&after=QVFIUkRtY1hVbGhB"
    fields = {
        "fields": "id,message,created_time,permalink_url",
        "since": str(int(since.timestamp())),
        "limit": "25",
    }
    graph.get(f"{GRAPH}/{PAGE}/published_posts", json=first, match=[query(**fields)])
    graph.get(
        f"{GRAPH}/{PAGE}/published_posts", json=second, match=[query(**fields, after="QVFIUkRtY1hVbGhB")]
    )

    posts = facebook.find_recent_posts(since=since)

    assert [post.external_id for post in posts] == [P2, P1]


def _inbound_requests(
    graph, *, posts="published_posts_updated", comments="comments", conversations="conversations"
):
    graph.get(
        f"{GRAPH}/{PAGE}/published_posts",
        json=payload("facebook", posts),
        match=[query(fields="id,updated_time", limit="25")],
    )
    if comments:
        graph.get(
            f"{GRAPH}/{P2}/comments",
            json=payload("facebook", comments),
            match=[
                query(
                    fields="id,message,from,created_time,parent{id}",
                    filter="stream",
                    order="reverse_chronological",
                    limit="100",
                )
            ],
        )
    graph.get(
        f"{GRAPH}/{PAGE}/conversations",
        json=payload("facebook", conversations),
        match=[
            query(
                platform="messenger",
                fields="participants,updated_time,messages.limit(25){id,message,from,created_time}",
                limit="25",
            )
        ],
    )


def test_fetch_inbound_returns_new_comments_and_messenger_messages_oldest_first(facebook, graph):
    _inbound_requests(graph)
    cursor = {"comments_after": "2026-11-28T09:00:00+00:00", "messages_after": "2026-11-28T10:00:00+00:00"}

    page = facebook.fetch_inbound(cursor=cursor)

    assert [(m.external_id, m.kind, m.thread_key, m.is_from_us) for m in page.messages] == [
        (
            "122150000000000002_1122334455660001",
            InboundKind.PUBLIC_COMMENT,
            "122150000000000002_1122334455660001",
            False,
        ),
        ("m_Aa1kX2c3LlxhVDpRkQWdHk3fFtQpZ2mL9aM", InboundKind.PRIVATE_MESSAGE, f"dm:{PSID}", True),
        (
            "122150000000000002_1122334455660002",
            InboundKind.PUBLIC_COMMENT,
            "122150000000000002_1122334455660001",
            False,
        ),
        (
            "122150000000000002_1122334455667788",
            InboundKind.PUBLIC_COMMENT,
            "122150000000000002_1122334455660001",
            True,
        ),
        ("m_Bq8kX2c3LlxhVDpRkQWdHk3fFtQpZ2mL9aM", InboundKind.PRIVATE_MESSAGE, f"dm:{PSID}", False),
    ]
    top_level, _, reply, _, private = page.messages
    assert top_level.author_id == "9988776655443322"
    assert top_level.author_name == "Lucía Moreno"
    assert top_level.text == "¿Cuándo se abre el plazo para el curso de soldadura?"
    assert top_level.created_at == datetime(2026, 11, 28, 11, 2, tzinfo=UTC)
    assert (top_level.about_post, top_level.in_reply_to) == (P2, P2)
    assert (reply.about_post, reply.in_reply_to) == (P2, "122150000000000002_1122334455660001")
    assert private.author_id == PSID
    assert private.author_name == "Joan Ferrer"
    assert private.text == "I per a les persones aturades de llarga durada?"
    assert private.raw["conversation_id"] == "t_10161234567890123"
    assert page.cursor == {
        "comments_after": "2026-11-28T11:40:12+00:00",
        "messages_after": "2026-11-28T11:50:00+00:00",
    }


def test_fetch_inbound_the_first_time_looks_three_days_back_and_keeps_that_cursor(facebook, graph):
    graph.get(
        f"{GRAPH}/{PAGE}/published_posts",
        json={"data": [], "paging": {"cursors": {"before": "a", "after": "b"}}},
        match=[query(fields="id,updated_time", limit="25")],
    )
    graph.get(f"{GRAPH}/{PAGE}/conversations", json={"data": []})

    page = facebook.fetch_inbound(cursor={})

    assert page.messages == []
    assert page.cursor == {
        "comments_after": "2026-11-25T12:00:00+00:00",
        "messages_after": "2026-11-25T12:00:00+00:00",
    }


def test_reply_to_a_comment_comments_under_it(facebook, graph):
    graph.post(
        f"{GRAPH}/122150000000000002_1122334455660001/comments",
        json=payload("facebook", "comment_reply"),
        match=[form(message="El plazo se abre el lunes 1.")],
    )
    target = ReplyTarget(
        kind=InboundKind.PUBLIC_COMMENT,
        thread_key="122150000000000002_1122334455660001",
        external_id="122150000000000002_1122334455660001",
        author_id="9988776655443322",
    )

    result = facebook.reply(target=target, text="El plazo se abre el lunes 1.")

    assert result == PublishResult(external_id="122150000000000002_1122334455669999", url="")


PRIVATE_TARGET = ReplyTarget(
    kind=InboundKind.PRIVATE_MESSAGE,
    thread_key=f"dm:{PSID}",
    external_id="m_Bq8kX2c3LlxhVDpRkQWdHk3fFtQpZ2mL9aM",
    author_id=PSID,
)


def _window_check(graph, answer):
    graph.get(
        f"{GRAPH}/{PAGE}/conversations",
        json=payload("facebook", answer),
        match=[query(platform="messenger", user_id=PSID, fields="messages.limit(25){from,created_time}")],
    )


def test_messenger_reply_within_the_window_uses_the_send_api(facebook, graph):
    _window_check(graph, "conversation_with_person")
    graph.post(
        f"{GRAPH}/{PAGE}/messages",
        json=payload("facebook", "send_message"),
        match=[
            form(
                recipient=f'{{"id":"{PSID}"}}',
                messaging_type="RESPONSE",
                message='{"text":"Sí, también para ellas."}',
            )
        ],
    )

    result = facebook.reply(target=PRIVATE_TARGET, text="Sí, también para ellas.")

    assert result == PublishResult(external_id="m_Ee5kX2c3LlxhVDpRkQWdHk3fFtQpZ2mL9aM", url="")


def test_messenger_reply_outside_the_window_is_refused_before_sending(facebook, graph):
    _window_check(graph, "conversation_with_person_stale")

    with pytest.raises(Rejected, match="24 hours"):
        facebook.reply(target=PRIVATE_TARGET, text="Hola")

    assert [call.request.method for call in graph.calls] == ["GET"]


def test_messenger_refusing_the_window_itself_gives_the_same_clear_reason(facebook, graph):
    _window_check(graph, "conversation_with_person")
    graph.post(f"{GRAPH}/{PAGE}/messages", status=400, json=payload("facebook", "error_outside_window"))

    with pytest.raises(Rejected, match="24 hours"):
        facebook.reply(target=PRIVATE_TARGET, text="Hola")


@pytest.mark.parametrize(("method", "value"), [("hide_comment", "true"), ("unhide_comment", "false")])
def test_hide_and_unhide_a_comment(facebook, graph, method, value):
    graph.post(
        f"{GRAPH}/122150000000000002_1122334455660002",
        json=payload("facebook", "success"),
        match=[form(is_hidden=value)],
    )

    getattr(facebook, method)(external_id="122150000000000002_1122334455660002")
    assert len(graph.calls) == 1


def test_delete_a_post(facebook, graph):
    graph.delete(f"{GRAPH}/{P1}", json=payload("facebook", "success"), match=[query()])

    facebook.delete(external_id=P1)
    assert len(graph.calls) == 1


def test_deleting_a_post_that_is_already_gone_is_fine(facebook, graph):
    graph.delete(f"{GRAPH}/{P1}", status=400, json=payload("facebook", "error_missing_object"))

    facebook.delete(external_id=P1)
    assert len(graph.calls) == 1


def test_fetch_metrics_tolerates_a_retired_insights_metric_and_skips_deleted_posts(facebook, graph):
    fields = "shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"
    graph.get(f"{GRAPH}/{P1}", json=payload("facebook", "post_counts"), match=[query(fields=fields)])
    graph.get(
        f"{GRAPH}/{P1}/insights",
        json=payload("facebook", "insights_views"),
        match=[query(metric="post_total_media_view_unique", period="lifetime")],
    )
    graph.get(
        f"{GRAPH}/{P1}/insights",
        status=400,
        json=payload("facebook", "error_invalid_metric"),
        match=[query(metric="post_clicks", period="lifetime")],
    )
    gone = f"{PAGE}_122150000000000009"
    graph.get(f"{GRAPH}/{gone}", status=400, json=payload("facebook", "error_missing_object"))

    metrics = facebook.fetch_metrics(external_ids=[P1, gone])

    assert metrics == [
        PostMetrics(external_id=P1, impressions=1520, likes=37, shares=4, comments=12, clicks=None)
    ]


def test_fetch_metrics_of_a_post_nobody_shared_counts_zero_shares(facebook, graph):
    graph.get(f"{GRAPH}/{P2}", json=payload("facebook", "post_counts_unshared"))
    graph.get(
        f"{GRAPH}/{P2}/insights",
        json=payload("facebook", "insights_views"),
        match=[query(metric="post_total_media_view_unique", period="lifetime")],
    )
    graph.get(
        f"{GRAPH}/{P2}/insights",
        json=payload("facebook", "insights_clicks"),
        match=[query(metric="post_clicks", period="lifetime")],
    )

    assert facebook.fetch_metrics(external_ids=[P2]) == [
        PostMetrics(external_id=P2, impressions=1520, likes=0, shares=0, comments=0, clicks=88)
    ]


# --- errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        "error_rate_limited_app",
        "error_rate_limited_user",
        "error_rate_limited_page",
        "error_rate_limited_custom",
        "error_rate_limited_business",
    ],
)
def test_rate_limit_codes_mean_rate_limited_for_a_rolling_hour(facebook, graph, error):
    graph.post(f"{GRAPH}/{PAGE}/feed", status=400, json=payload("facebook", error))

    with pytest.raises(RateLimited) as caught:
        facebook.publish(text="Hola")

    assert caught.value.until == NOW + timedelta(hours=1)


def test_rate_limited_until_the_time_meta_estimates(facebook, graph):
    usage = (
        '{"104857321234567":[{"type":"pages","call_count":100,"total_cputime":25,"total_time":30,'
        '"estimated_time_to_regain_access":17}]}'
    )
    graph.get(
        f"{GRAPH}/{PAGE}/published_posts",
        status=400,
        json=payload("facebook", "error_rate_limited_business"),
        headers={"X-Business-Use-Case-Usage": usage},
    )

    with pytest.raises(RateLimited) as caught:
        facebook.fetch_inbound(cursor={})

    assert caught.value.until == NOW + timedelta(minutes=17)


@pytest.mark.parametrize(
    ("error", "words"), [("error_token_expired", "expired"), ("error_password_changed", "password")]
)
def test_an_invalid_token_means_authorization_expired(facebook, graph, error, words):
    graph.post(f"{GRAPH}/{PAGE}/feed", status=400, json=payload("facebook", error))

    with pytest.raises(AuthorizationExpired, match=words):
        facebook.publish(text="Hola")


def test_a_channel_without_a_token_needs_reconnecting_without_calling_meta(graph, db):
    channel = channel_connect(
        network=Network.FACEBOOK, account_id=PAGE, display_name="Empleo", credentials={}
    )

    with pytest.raises(AuthorizationExpired):
        connector_for(channel).publish(text="Hola")


@pytest.mark.parametrize(
    ("error", "words"),
    [
        ("error_duplicate", "duplicate"),
        ("error_policy", "policies"),
        ("error_bad_param", "UTF-8"),
    ],
)
def test_permanent_refusals_mean_rejected_with_the_network_words(facebook, graph, error, words):
    graph.post(f"{GRAPH}/{PAGE}/feed", status=400, json=payload("facebook", error))

    with pytest.raises(Rejected, match=words) as caught:
        facebook.publish(text="Hola")

    assert not isinstance(caught.value, Transient)


@pytest.mark.parametrize("error", ["error_transient", "error_unknown"])
def test_graph_codes_1_and_2_are_transient(facebook, graph, error):
    graph.post(f"{GRAPH}/{PAGE}/feed", status=500, json=payload("facebook", error))

    with pytest.raises(Transient) as caught:
        facebook.publish(text="Hola")

    assert caught.value.request_sent is False


def test_a_server_error_page_after_a_write_may_have_published(facebook, graph):
    graph.post(f"{GRAPH}/{PAGE}/feed", status=502, body="<html>Bad Gateway</html>", content_type="text/html")

    with pytest.raises(Transient) as caught:
        facebook.publish(text="Hola")

    assert caught.value.request_sent is True


@pytest.mark.parametrize(
    ("failure", "request_sent"), [(requests.ConnectTimeout(), False), (requests.ReadTimeout(), True)]
)
def test_no_answer_is_transient_and_says_whether_the_post_may_be_out(facebook, graph, failure, request_sent):
    graph.post(f"{GRAPH}/{PAGE}/feed", body=failure)

    with pytest.raises(Transient) as caught:
        facebook.publish(text="Hola")

    assert caught.value.request_sent is request_sent
    graph.calls.reset()  # the interrupted call has no answer to check


def test_a_transport_failure_never_carries_the_token_into_a_traceback(facebook, graph):
    # requests repeats the URL in its message, and facebook-sdk puts the token in the URL.
    graph.post(
        f"{GRAPH}/{PAGE}/feed",
        body=requests.ReadTimeout(f"Read timed out. (url: /v24.0/{PAGE}/feed?access_token={TOKEN})"),
    )

    with pytest.raises(Transient) as caught:
        facebook.publish(text="Hola")

    assert TOKEN not in "".join(traceback.format_exception(caught.value))
    graph.calls.reset()


# --- webhooks -----------------------------------------------------------------------------------------


def test_webhook_page_comment_becomes_a_public_comment():
    [entry] = payload("facebook", "webhook_comment")["entry"]

    [message] = normalize_webhook_entry(entry)

    assert message.external_id == "122150000000000002_1122334455660001"
    assert message.thread_key == "122150000000000002_1122334455660001"
    assert message.kind == InboundKind.PUBLIC_COMMENT
    assert (message.author_id, message.author_name) == ("9988776655443322", "Lucía Moreno")
    assert message.text == "¿Cuándo se abre el plazo para el curso de soldadura?"
    assert message.created_at == datetime(2026, 11, 28, 11, 2, tzinfo=UTC)
    assert (message.about_post, message.in_reply_to) == (P2, P2)
    assert message.is_from_us is False
    assert message.deleted is False


def test_webhook_removed_reply_is_threaded_under_its_comment_and_marked_deleted():
    [entry] = payload("facebook", "webhook_comment_reply_removed")["entry"]

    [message] = normalize_webhook_entry(entry)  # the reaction in the same entry is not a message

    assert message.thread_key == "122150000000000002_1122334455660001"
    assert message.in_reply_to == "122150000000000002_1122334455660001"
    assert message.deleted is True


def test_webhook_messenger_events_give_messages_and_echoes_in_the_person_thread():
    [entry] = payload("facebook", "webhook_messenger")["entry"]

    received, echo = normalize_webhook_entry(entry)  # the read receipt is not a message

    assert received.external_id == "m_Bq8kX2c3LlxhVDpRkQWdHk3fFtQpZ2mL9aM"
    assert received.kind == InboundKind.PRIVATE_MESSAGE
    assert received.thread_key == echo.thread_key == f"dm:{PSID}"
    assert received.author_id == PSID
    assert received.created_at == datetime(2026, 11, 28, 12, 10, tzinfo=UTC)
    assert received.is_from_us is False
    assert echo.is_from_us is True
    assert echo.text == "Sí, también."
