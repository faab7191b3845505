"""The Instagram connector against the Graph API (Facebook Login, graph.facebook.com) as documented:
every request is intercepted at its exact URL with the pinned Graph version, method, query and
form body, and answered with a payload shaped like Meta's documentation (payloads/instagram)."""

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
from networks.instagram import InstagramConnector, normalize_webhook_entry, webhook_mentions
from networks.models import Network
from networks.registry import connector_for
from networks.services import channel_connect
from tests.networks.payloads import payload

GRAPH = "https://graph.facebook.com/v24.0"
IG = "17841405822304914"
PAGE = "104857321234999"
IGSID = "6543210987654321"
M1 = "17920238422030506"
TOKEN = "EAAGlinked-page-token"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
IMAGE = Media(
    path="cartel.jpg",
    mime_type="image/jpeg",
    alt_text="Cartel de la fira d'ocupació",
    public_url="https://empleo.example.org/media/cartel.jpg",
)


@pytest.fixture(autouse=True)
def frozen_clock_in_english():
    """A fixed now, and messages in the source language the assertions quote."""
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


@pytest.fixture
def channel(db):
    return channel_connect(
        network=Network.INSTAGRAM,
        account_id=IG,
        display_name="empleo_cv",
        handle="empleo_cv",
        credentials={"access_token": TOKEN, "page_id": PAGE},
    )


@pytest.fixture
def instagram(channel):
    return connector_for(channel)


@pytest.fixture
def graph():
    """Only registered requests exist and each must be called; afterwards, no request went
    unanswered and every one carried the token."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
        unanswered = [call.request.url for call in mock.calls if isinstance(call.response, Exception)]
        assert not unanswered, f"requests nobody intercepted: {unanswered}"
        for call in mock.calls:
            sent = parse_qs(call.request.url.partition("?")[2])
            if call.request.method == "POST":
                sent.update(parse_qs(call.request.body))
            assert sent["access_token"] == [TOKEN]


def query(**params):
    return matchers.query_param_matcher({"access_token": TOKEN, **params}, strict_match=True)


def form(**params):
    return matchers.urlencoded_params_matcher({"access_token": TOKEN, **params})


def _publishing_limit(graph, answer="publishing_limit"):
    graph.get(
        f"{GRAPH}/{IG}/content_publishing_limit",
        json=payload("instagram", answer),
        match=[query(fields="quota_usage,config")],
    )


def test_the_registry_gives_instagram_channels_the_instagram_connector(instagram):
    assert isinstance(instagram, InstagramConnector)
    assert instagram.capabilities.media_required is True
    assert instagram.capabilities.max_length == 2200
    assert instagram.capabilities.link_handling == "not_clickable"
    assert instagram.capabilities.private_reply_window == timedelta(hours=24)


def test_publish_checks_the_limit_creates_a_container_then_publishes_it(instagram, graph):
    _publishing_limit(graph)
    graph.post(
        f"{GRAPH}/{IG}/media",
        json=payload("instagram", "container"),
        match=[
            form(
                image_url="https://empleo.example.org/media/cartel.jpg",
                caption="Fira d'ocupació dissabte\n\nhttps://gva.es/fira",
                alt_text="Cartel de la fira d'ocupació",
            )
        ],
    )
    graph.post(
        f"{GRAPH}/{IG}/media_publish",
        json=payload("instagram", "media_publish"),
        match=[form(creation_id="17889615691921648")],
    )
    graph.get(
        f"{GRAPH}/{M1}", json=payload("instagram", "media_permalink"), match=[query(fields="permalink")]
    )

    result = instagram.publish(text="Fira d'ocupació dissabte", link="https://gva.es/fira", media=[IMAGE])

    assert result == PublishResult(external_id=M1, url="https://www.instagram.com/p/DAbCdEfGhIj/")


def test_a_caption_that_already_carries_the_link_keeps_it_once(instagram, graph):
    _publishing_limit(graph)
    graph.post(f"{GRAPH}/{IG}/media", json=payload("instagram", "container"))
    graph.post(f"{GRAPH}/{IG}/media_publish", json=payload("instagram", "media_publish"))
    graph.get(f"{GRAPH}/{M1}", json=payload("instagram", "media_permalink"))

    result = instagram.publish(text="Fira https://gva.es/fira dissabte", link="https://gva.es/fira", media=[IMAGE])

    assert result.external_id == M1
    sent = parse_qs(graph.calls[1].request.body)  # the container: after the publishing-limit check
    assert sent["caption"] == ["Fira https://gva.es/fira dissabte"]


def test_a_failed_permalink_read_does_not_undo_a_published_post(instagram, graph):
    _publishing_limit(graph)
    graph.post(f"{GRAPH}/{IG}/media", json=payload("instagram", "container"))
    graph.post(f"{GRAPH}/{IG}/media_publish", json=payload("instagram", "media_publish"))
    graph.get(f"{GRAPH}/{M1}", status=500, json=payload("instagram", "error_transient"))

    assert instagram.publish(text="Hola", media=[IMAGE]) == PublishResult(external_id=M1, url="")


def test_a_full_publishing_quota_is_rate_limited_until_the_oldest_post_turns_a_day_old(instagram, graph):
    _publishing_limit(graph, "publishing_limit_full")
    graph.get(f"{GRAPH}/{IG}/media", json=payload("instagram", "media_recent"))

    with pytest.raises(RateLimited, match="50") as caught:
        instagram.publish(text="Hola", media=[IMAGE])

    # The oldest post of the last 24 hours went out yesterday at 15:00.
    assert caught.value.until == datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("media", "words"),
    [
        ([], "needs an image"),
        ([Media(path="cartel.jpg", mime_type="image/jpeg")], "public address"),
        ([Media(path="cartel.png", mime_type="image/png", public_url="https://e.org/c.png")], "JPEG"),
        ([IMAGE, IMAGE], "one image"),
    ],
)
def test_publish_refuses_what_instagram_cannot_take_without_calling_meta(instagram, graph, media, words):
    with pytest.raises(Rejected, match=words):
        instagram.publish(text="Hola", media=media)


def test_find_recent_posts_lists_the_account_media(instagram, graph):
    since = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    graph.get(
        f"{GRAPH}/{IG}/media",
        json=payload("instagram", "media_recent"),
        match=[query(fields="id,caption,timestamp,permalink", since=str(int(since.timestamp())), limit="25")],
    )

    assert instagram.find_recent_posts(since=since) == [
        RecentPost(
            external_id=M1,
            url="https://www.instagram.com/p/DAbCdEfGhIj/",
            text="Fira d'ocupació a València aquest dissabte. Enllaç a la bio.",
            created_at=datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
        )
    ]


def test_fetch_inbound_returns_comments_replies_tags_and_direct_messages(instagram, graph):
    graph.get(
        f"{GRAPH}/{IG}/media",
        json=payload("instagram", "media_for_comments"),
        match=[query(fields="id,timestamp,comments_count", limit="10")],
    )
    graph.get(
        f"{GRAPH}/{M1}/comments",
        json=payload("instagram", "comments"),
        match=[
            query(
                fields="id,text,timestamp,username,from,parent_id,replies{id,text,timestamp,username,from,parent_id}",
                limit="50",
            )
        ],
    )
    graph.get(
        f"{GRAPH}/{IG}/tags",
        json=payload("instagram", "tags"),
        match=[query(fields="id,caption,username,timestamp,permalink", limit="25")],
    )
    graph.get(
        f"{GRAPH}/{PAGE}/conversations",
        json=payload("instagram", "conversations"),
        match=[
            query(
                platform="instagram",
                fields="participants,updated_time,messages.limit(25){id,message,from,created_time}",
                limit="25",
            )
        ],
    )
    cursor = {
        "comments_after": "2026-11-28T09:00:00+00:00",
        "mentions_after": "2026-11-27T00:00:00+00:00",
        "messages_after": "2026-11-28T09:00:00+00:00",
    }

    page = instagram.fetch_inbound(cursor=cursor)

    assert [(m.external_id, m.kind, m.thread_key, m.is_from_us) for m in page.messages] == [
        ("17895695668004550", InboundKind.MENTION, "17895695668004550", False),
        ("17858893269000001", InboundKind.PUBLIC_COMMENT, "17858893269000001", False),
        ("17858893269000002", InboundKind.PUBLIC_COMMENT, "17858893269000001", True),
        (
            "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OjM0MDI4MjM2Njg0MTcxMDMwMDk0OTEyODE1NzE4NjQ2MDMxMzAyMA",
            InboundKind.PRIVATE_MESSAGE,
            f"dm:{IGSID}",
            False,
        ),
    ]
    tag, comment, reply, direct = page.messages
    assert (tag.author_handle, tag.text) == ("joan.ferrer", "Gràcies @empleo_cv per la fira d'ocupació!")
    assert (comment.author_id, comment.author_handle) == ("17841400000000001", "lucia.moreno")
    assert comment.text == "A quina hora obri la fira?"
    assert (comment.about_post, comment.in_reply_to) == (M1, M1)
    assert (reply.about_post, reply.in_reply_to) == (M1, "17858893269000001")
    assert (direct.author_id, direct.author_handle) == (IGSID, "marta.gil")
    assert direct.created_at == datetime(2026, 11, 28, 11, 50, tzinfo=UTC)
    assert page.cursor == {
        "comments_after": "2026-11-28T11:30:00+00:00",
        "mentions_after": "2026-11-28T09:30:00+00:00",
        "messages_after": "2026-11-28T11:50:00+00:00",
    }


def test_fetch_inbound_without_the_linked_page_needs_reconnecting(graph, db):
    channel = channel_connect(
        network=Network.INSTAGRAM,
        account_id=IG,
        display_name="empleo_cv",
        credentials={"access_token": TOKEN},
    )
    instagram = connector_for(channel)

    with pytest.raises(AuthorizationExpired, match="Facebook Page"):
        instagram.fetch_inbound(cursor={})


def test_fetch_mention_in_a_comment(instagram, graph):
    graph.get(
        f"{GRAPH}/{IG}",
        json=payload("instagram", "mentioned_comment"),
        match=[query(fields="mentioned_comment.comment_id(17873440459141021){id,text,timestamp,username}")],
    )

    mention = instagram.fetch_mention(media_id="17887498072083520", comment_id="17873440459141021")

    assert mention.kind == InboundKind.MENTION
    assert (mention.external_id, mention.thread_key) == ("17873440459141021", "17873440459141021")
    assert mention.text == "@empleo_cv ¿sabéis si hay cursos de valenciano?"
    assert mention.author_handle == "pere.soler"
    assert mention.in_reply_to == "17887498072083520"
    assert mention.created_at == datetime(2026, 11, 28, 11, 45, tzinfo=UTC)


def test_fetch_mention_in_a_caption(instagram, graph):
    graph.get(
        f"{GRAPH}/{IG}",
        json=payload("instagram", "mentioned_media"),
        match=[
            query(
                fields="mentioned_media.media_id(17887498072083520){id,caption,timestamp,username,permalink}"
            )
        ],
    )

    mention = instagram.fetch_mention(media_id="17887498072083520")

    assert (mention.external_id, mention.text) == (
        "17887498072083520",
        "Con @empleo_cv en la feria de empleo",
    )
    assert mention.in_reply_to == ""


def test_reply_to_a_comment_goes_under_its_top_level_comment(instagram, graph):
    graph.post(
        f"{GRAPH}/17858893269000001/replies",
        json=payload("instagram", "comment_reply"),
        match=[form(message="Obrim a les 10 h.")],
    )
    target = ReplyTarget(
        kind=InboundKind.PUBLIC_COMMENT,
        thread_key="17858893269000001",
        external_id="17865799348089039",
        author_id="17841400000000001",
    )

    assert instagram.reply(target=target, text="Obrim a les 10 h.") == PublishResult(
        external_id="17858893269000003", url=""
    )


def test_answering_a_mention_is_refused(instagram, graph):
    target = ReplyTarget(kind=InboundKind.MENTION, thread_key="1", external_id="1", author_id="pere.soler")

    with pytest.raises(Rejected):
        instagram.reply(target=target, text="Hola")


DIRECT_TARGET = ReplyTarget(
    kind=InboundKind.PRIVATE_MESSAGE, thread_key=f"dm:{IGSID}", external_id="aWdf", author_id=IGSID
)


def _window_check(graph, answer):
    graph.get(
        f"{GRAPH}/{PAGE}/conversations",
        json=payload("instagram", answer),
        match=[query(platform="instagram", user_id=IGSID, fields="messages.limit(25){from,created_time}")],
    )


def test_direct_reply_within_the_window(instagram, graph):
    _window_check(graph, "conversation_with_person")
    graph.post(
        f"{GRAPH}/{PAGE}/messages",
        json=payload("instagram", "send_message"),
        match=[form(recipient=f'{{"id":"{IGSID}"}}', message='{"text":"Et passe l\'enllaç del curs."}')],
    )

    result = instagram.reply(target=DIRECT_TARGET, text="Et passe l'enllaç del curs.")

    assert result.external_id.startswith("aWdfZAG1faXRlbToxOklHTWVzc2FnZA")


def test_direct_reply_outside_the_window_is_refused_before_sending(instagram, graph):
    _window_check(graph, "conversation_with_person_stale")

    with pytest.raises(Rejected, match="24 hours"):
        instagram.reply(target=DIRECT_TARGET, text="Hola")


def test_direct_reply_refused_by_meta_for_the_window(instagram, graph):
    _window_check(graph, "conversation_with_person")
    graph.post(f"{GRAPH}/{PAGE}/messages", status=400, json=payload("instagram", "error_outside_window"))

    with pytest.raises(Rejected, match="24 hours"):
        instagram.reply(target=DIRECT_TARGET, text="Hola")


@pytest.mark.parametrize(("method", "value"), [("hide_comment", "true"), ("unhide_comment", "false")])
def test_hide_and_unhide_a_comment(instagram, graph, method, value):
    graph.post(f"{GRAPH}/17858893269000001", json=payload("instagram", "success"), match=[form(hide=value)])

    getattr(instagram, method)(external_id="17858893269000001")
    assert len(graph.calls) == 1


def test_delete_and_delete_again(instagram, graph):
    graph.delete(f"{GRAPH}/17858893269000002", json=payload("instagram", "success"), match=[query()])
    graph.delete(f"{GRAPH}/17858893269000002", status=400, json=payload("instagram", "error_missing_object"))

    instagram.delete(external_id="17858893269000002")
    instagram.delete(external_id="17858893269000002")
    assert len(graph.calls) == 2


def test_fetch_metrics_reads_counts_and_each_insight_apart(instagram, graph):
    graph.get(
        f"{GRAPH}/{M1}",
        json=payload("instagram", "media_counts"),
        match=[query(fields="like_count,comments_count")],
    )
    graph.get(
        f"{GRAPH}/{M1}/insights", json=payload("instagram", "insights_views"), match=[query(metric="views")]
    )
    graph.get(
        f"{GRAPH}/{M1}/insights", json=payload("instagram", "insights_shares"), match=[query(metric="shares")]
    )

    assert instagram.fetch_metrics(external_ids=[M1]) == [
        PostMetrics(external_id=M1, impressions=2450, likes=120, shares=6, comments=8)
    ]


def test_fetch_metrics_keeps_the_counts_when_an_insight_is_refused(instagram, graph):
    graph.get(f"{GRAPH}/{M1}", json=payload("instagram", "media_counts"))
    graph.get(
        f"{GRAPH}/{M1}/insights",
        status=400,
        json=payload("instagram", "error_invalid_metric"),
        match=[query(metric="views")],
    )
    graph.get(
        f"{GRAPH}/{M1}/insights", json=payload("instagram", "insights_shares"), match=[query(metric="shares")]
    )
    graph.get(f"{GRAPH}/17920238422030999", status=400, json=payload("instagram", "error_missing_object"))

    assert instagram.fetch_metrics(external_ids=[M1, "17920238422030999"]) == [
        PostMetrics(external_id=M1, impressions=None, likes=120, shares=6, comments=8)
    ]


# --- errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("error", ["error_rate_limited_business", "error_rate_limited_app"])
def test_rate_limits_mean_rate_limited(instagram, graph, error):
    graph.get(f"{GRAPH}/{IG}/content_publishing_limit", status=400, json=payload("instagram", error))

    with pytest.raises(RateLimited) as caught:
        instagram.publish(text="Hola", media=[IMAGE])

    assert caught.value.until == NOW + timedelta(hours=1)


def test_an_invalid_token_means_authorization_expired(instagram, graph):
    graph.get(f"{GRAPH}/{IG}/media", status=400, json=payload("instagram", "error_token_invalid"))

    with pytest.raises(AuthorizationExpired, match="removed"):
        instagram.fetch_inbound(cursor={})


def test_an_image_meta_cannot_fetch_is_rejected_with_its_words(instagram, graph):
    _publishing_limit(graph)
    graph.post(f"{GRAPH}/{IG}/media", status=400, json=payload("instagram", "error_media_fetch"))

    with pytest.raises(Rejected, match="could not be fetched"):
        instagram.publish(text="Hola", media=[IMAGE])


@pytest.mark.parametrize("error", ["error_not_ready", "error_transient"])
def test_a_container_not_ready_or_a_graph_hiccup_is_transient_and_nothing_went_out(instagram, graph, error):
    _publishing_limit(graph)
    graph.post(f"{GRAPH}/{IG}/media", json=payload("instagram", "container"))
    graph.post(f"{GRAPH}/{IG}/media_publish", status=400, json=payload("instagram", error))

    with pytest.raises(Transient) as caught:
        instagram.publish(text="Hola", media=[IMAGE])

    assert caught.value.request_sent is False


def test_a_lost_answer_to_media_publish_may_have_published(instagram, graph):
    _publishing_limit(graph)
    graph.post(f"{GRAPH}/{IG}/media", json=payload("instagram", "container"))
    graph.post(f"{GRAPH}/{IG}/media_publish", body=requests.ReadTimeout())

    with pytest.raises(Transient) as caught:
        instagram.publish(text="Hola", media=[IMAGE])

    assert caught.value.request_sent is True
    graph.calls.reset()  # the interrupted call has no answer to check


# --- webhooks -----------------------------------------------------------------------------------------


def test_webhook_comment_becomes_a_reply_in_its_thread():
    [entry] = payload("instagram", "webhook_comment")["entry"]

    [message] = normalize_webhook_entry(entry)

    assert message.external_id == "17865799348089039"
    assert message.thread_key == "17858893269000001"
    assert message.kind == InboundKind.PUBLIC_COMMENT
    assert (message.author_id, message.author_handle) == ("17841400000000001", "lucia.moreno")
    assert message.text == "Moltes gràcies!"
    assert (message.about_post, message.in_reply_to) == (M1, "17858893269000001")
    assert message.created_at == datetime(2026, 11, 28, 11, 40, tzinfo=UTC)


def test_webhook_direct_message_is_threaded_by_the_person():
    [entry] = payload("instagram", "webhook_messaging")["entry"]

    [message] = normalize_webhook_entry(entry)

    assert message.kind == InboundKind.PRIVATE_MESSAGE
    assert message.thread_key == f"dm:{IGSID}"
    assert message.author_id == IGSID
    assert message.text == "Hola, necessite informació sobre el curs de carretoner."


def test_webhook_mentions_are_listed_for_fetching_not_normalized():
    [entry] = payload("instagram", "webhook_mentions")["entry"]

    assert normalize_webhook_entry(entry) == []
    assert webhook_mentions(entry) == [
        {"media_id": "17887498072083520", "comment_id": "17873440459141021"},
        {"media_id": "17887498072083521", "comment_id": ""},
    ]
