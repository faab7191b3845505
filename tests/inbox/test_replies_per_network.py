"""Replies from the inbox, per real network, through its connector: a citizen's message as that
network reports it is ingested, the manager answers in the desk, the send task calls the network's
documented endpoint (intercepted with the connector tests' payloads: tests/networks/payloads), and
the reply ends sent with the network's id and the conversation's first response recorded — or
failed with the reason the manager sees.

Ids, people and clocks are the connector tests' own, so each request and answer matches what the
network documents (see tests/networks/payloads/README.md).
"""

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest
import requests
import responses
import respx
import time_machine
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from responses import matchers

from inbox.models import Conversation, MessageDirection, Reply, ReplyKind, ReplyState
from inbox.services import InboxRefused, message_ingest, reply_create
from metrics.models import ReportingEvent, ReportingEventKind
from networks import youtube as youtube_module
from networks.base import InboundKind, InboundMessage
from networks.models import Network
from networks.services import channel_connect
from tests.networks.payloads import payload
from tests.networks.test_youtube import GoogleHttp
from tests.networks.test_youtube import url as youtube_url

# The connector tests' clocks: X, Mastodon and Bluesky payloads are of March, Meta, LinkedIn and
# YouTube ones of November.
MARCH = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def in_english():
    """Failure reasons in the source language the assertions quote."""
    with translation.override("en"):
        yield


def connect(network: str, *, account_id: str, credentials: dict, handle: str = "") -> object:
    return channel_connect(
        network=network,
        account_id=account_id,
        display_name="Empleo GVA",
        handle=handle,
        credentials=credentials,
    )


def citizen(channel, **fields) -> Conversation:
    """The citizen's message, as the network's connector normalizes it, ingested."""
    fields.setdefault("author_handle", "")
    return message_ingest(channel=channel, inbound=InboundMessage(**fields)).conversation


def answer(conversation, manager, text: str, capture, kind: ReplyKind = ReplyKind.PUBLIC) -> Reply:
    """The manager answers in the desk; the send task runs once the transaction commits."""
    with capture(execute=True):
        reply = reply_create(conversation=conversation, author=manager, text=text, kind=kind)
    reply.refresh_from_db()
    return reply


def assert_sent(reply: Reply, external_id: str, manager) -> None:
    assert (reply.state, reply.external_id, reply.failure_reason) == (ReplyState.SENT, external_id, "")
    assert reply.message.direction == MessageDirection.OUTBOUND
    assert reply.message.external_id == external_id
    conversation = Conversation.objects.get(pk=reply.conversation_id)
    assert conversation.needs_reply is False
    response = ReportingEvent.objects.get(
        kind=ReportingEventKind.FIRST_RESPONSE, conversation_id=conversation.pk
    )
    assert (response.actor, response.source, response.occurred_at) == (manager, "desk", reply.sent_at)
    assert response.started_at == conversation.cycle_started_at


def assert_failed_and_shown(client, reply: Reply, words: str) -> None:
    """Failed with the reason, no first response recorded, and both on the conversation page."""
    assert reply.state == ReplyState.FAILED
    assert words in reply.failure_reason
    assert reply.message is None
    assert not ReportingEvent.objects.filter(kind=ReportingEventKind.FIRST_RESPONSE).exists()
    client.cookies["django_language"] = "en"
    page = client.get(reverse("inbox:conversation", args=[reply.conversation_id])).content.decode()
    assert "reply-failed" in page
    assert escape(reply.failure_reason) in page


def form_body(call) -> dict[str, list[str]]:
    return parse_qs(call.request.body if isinstance(call.request.body, str) else call.request.body.decode())


# --- X (API v2) ----------------------------------------------------------------------------------

X_API = "https://api.twitter.com/2"
X_TOKEN = "x-user-access-token"


@pytest.fixture
def x_channel(db):
    with time_machine.travel(MARCH, tick=False):
        yield connect(
            Network.X,
            account_id="1523000000000000001",
            handle="ocupacio_gva",
            credentials={
                "access_token": X_TOKEN,
                "refresh_token": "x-refresh-token",
                "expires_at": "2026-03-05T13:30:00+00:00",
                "client_id": "x-client-id",
            },
        )


@pytest.fixture
def x_mention(x_channel):
    return citizen(
        x_channel,
        external_id="1897280000000000003",
        thread_key="1897200000000000001",
        kind=InboundKind.PUBLIC_COMMENT,
        author_id="2244994945",
        author_name="Marta Ferrer",
        author_handle="marta_vlc",
        text="@ocupacio_gva ¿Cuándo abre el plazo del curso de soldadura?",
        created_at=datetime(2026, 3, 4, 18, 5, tzinfo=UTC),
        in_reply_to="1897200000000000001",
        about_post="1897200000000000001",
    )


def test_x_public_reply_threads_under_the_citizens_post(
    x_mention, manager, django_capture_on_commit_callbacks
):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as x_api:
        create = x_api.post(
            f"{X_API}/tweets",
            status=201,
            json=payload("x", "create_tweet"),
            match=[
                matchers.json_params_matcher(
                    {
                        "text": "@marta_vlc El plazo abre el lunes.",
                        "reply": {"in_reply_to_tweet_id": "1897280000000000003"},
                    },
                    strict_match=True,
                )
            ],
        )
        reply = answer(
            x_mention, manager, "@marta_vlc El plazo abre el lunes.", django_capture_on_commit_callbacks
        )

    assert create.call_count == 1
    assert create.calls[0].request.headers["Authorization"] == f"Bearer {X_TOKEN}"
    assert_sent(reply, "1897300000000000001", manager)


def test_x_private_reply_is_a_direct_message_to_the_author(
    x_channel, manager, django_capture_on_commit_callbacks
):
    conversation = citizen(
        x_channel,
        external_id="1897295000000000002",
        thread_key="dm:1523000000000000001-2244994945",
        kind=InboundKind.PRIVATE_MESSAGE,
        author_id="2244994945",
        author_name="Marta Ferrer",
        text="Hola, he perdido la cita del SEPE, ¿cómo la recupero?",
        created_at=datetime(2026, 3, 4, 20, 10, tzinfo=UTC),
    )
    with responses.RequestsMock(assert_all_requests_are_fired=True) as x_api:
        x_api.post(
            f"{X_API}/dm_conversations/with/2244994945/messages",
            status=201,
            json=payload("x", "dm_send"),
            match=[
                matchers.json_params_matcher({"text": "Te escribimos por aquí, Marta."}, strict_match=True)
            ],
        )
        reply = answer(
            conversation,
            manager,
            "Te escribimos por aquí, Marta.",
            django_capture_on_commit_callbacks,
            ReplyKind.PRIVATE,
        )

    assert_sent(reply, "1897310000000000005", manager)


def test_x_rate_limit_fails_the_reply_with_when_to_try_again(
    x_mention, manager, manager_client, django_capture_on_commit_callbacks
):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as x_api:
        x_api.post(
            f"{X_API}/tweets",
            status=429,
            json=payload("x", "error_rate_limited"),
            headers={
                "x-rate-limit-limit": "100",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": "1772713800",
            },
        )
        reply = answer(
            x_mention, manager, "@marta_vlc El plazo abre el lunes.", django_capture_on_commit_callbacks
        )

    # 12:30 UTC, shown in the desk's time (Madrid, UTC+1 in March).
    assert_failed_and_shown(manager_client, reply, "try again after 13:30")


# --- Mastodon ------------------------------------------------------------------------------------

INSTANCE = "https://mastodon.social"


@pytest.fixture
def mastodon_mention(db):
    with time_machine.travel(MARCH, tick=False):
        channel = connect(
            Network.MASTODON,
            account_id="109348000000000001",
            handle="ocupacio_gva",
            credentials={"api_base_url": INSTANCE, "access_token": "mastodon-app-token"},
        )
        yield citizen(
            channel,
            external_id="114095000000000003",
            thread_key="114090000000000001",
            kind=InboundKind.PUBLIC_COMMENT,
            author_id="110200000000000007",
            author_name="Lucía Moreno",
            author_handle="lucia@mastodon.online",
            text="@ocupacio_gva ¿Cuándo abre el plazo del curso? Gracias & saludos",
            created_at=datetime(2026, 3, 4, 18, 5, tzinfo=UTC),
            in_reply_to="114090000000000001",
            about_post="114090000000000001",
        )


def _mastodon_reply_target(api):
    api.get(f"{INSTANCE}/api/v1/statuses/114095000000000003", json=payload("mastodon", "status_lucia_reply"))


def test_mastodon_public_reply_mentions_the_author_in_reply_to_her_status(
    mastodon_mention, manager, django_capture_on_commit_callbacks
):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        _mastodon_reply_target(api)
        post = api.post(f"{INSTANCE}/api/v1/statuses", json=payload("mastodon", "status_our_reply"))
        reply = answer(
            mastodon_mention, manager, "El plazo abre el lunes.", django_capture_on_commit_callbacks
        )

    assert form_body(post.calls[0]) == {
        "status": ["@lucia@mastodon.online El plazo abre el lunes."],
        "in_reply_to_id": ["114095000000000003"],
        "sensitive": ["0"],
        "visibility": ["public"],
    }
    assert post.calls[0].request.headers["Idempotency-Key"]
    assert_sent(reply, "114100000000000020", manager)


def test_mastodon_rate_limit_fails_the_reply_with_when_to_try_again(
    mastodon_mention, manager, manager_client, django_capture_on_commit_callbacks
):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        _mastodon_reply_target(api)
        api.post(
            f"{INSTANCE}/api/v1/statuses",
            status=429,
            json=payload("mastodon", "error_rate_limited"),
            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-03-05T12:05:00.000Z"},
        )
        reply = answer(
            mastodon_mention, manager, "El plazo abre el lunes.", django_capture_on_commit_callbacks
        )

    assert_failed_and_shown(manager_client, reply, "try again after 13:05")


# --- Bluesky (AT Protocol) -----------------------------------------------------------------------

XRPC = "https://bsky.social/xrpc"
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
OLDER_POST = f"at://{DID}/app.bsky.feed.post/3ljwbbylxvs2c"
LUCIA_REPLY = "at://did:plc:4llrhdclvdlmmynkwsmg5tdc/app.bsky.feed.post/3ljxb44x7kc2r"


@pytest.fixture
def bluesky_reply(db):
    tokens = payload("bluesky", "session_tokens")
    session = ":::".join(
        ["ocupacio.bsky.social", DID, tokens["fresh_access"], tokens["fresh_refresh"], "https://bsky.social"]
    )
    with time_machine.travel(MARCH, tick=False):
        channel = connect(
            Network.BLUESKY,
            account_id=DID,
            handle="ocupacio.bsky.social",
            credentials={
                "handle": "ocupacio.bsky.social",
                "app_password": "abcd-efgh-ijkl-mnop",
                "session_string": session,
            },
        )
        yield citizen(
            channel,
            external_id=LUCIA_REPLY,
            thread_key=OLDER_POST,
            kind=InboundKind.PUBLIC_COMMENT,
            author_id="did:plc:4llrhdclvdlmmynkwsmg5tdc",
            author_name="Lucía Moreno",
            author_handle="lucia.bsky.social",
            text="¿Y el de inglés?",
            created_at=datetime(2026, 3, 4, 19, 0, tzinfo=UTC),
            in_reply_to=OLDER_POST,
            about_post=OLDER_POST,
        )


def test_bluesky_reply_names_the_thread_root_and_the_citizens_post(
    bluesky_reply, manager, django_capture_on_commit_callbacks
):
    with respx.mock(base_url=XRPC, assert_all_called=True, assert_all_mocked=True) as xrpc:
        xrpc.get("/app.bsky.feed.getPosts", params__eq={"uris": LUCIA_REPLY}).respond(
            200, json=payload("bluesky", "get_posts_reply_target")
        )
        create = xrpc.post("/com.atproto.repo.createRecord").respond(
            200, json=payload("bluesky", "create_record_reply")
        )
        reply = answer(
            bluesky_reply, manager, "El de inglés abre en abril.", django_capture_on_commit_callbacks
        )

    sent = json.loads(create.calls.last.request.content)
    assert (sent["repo"], sent["collection"], sent["record"]["text"]) == (
        DID,
        "app.bsky.feed.post",
        "El de inglés abre en abril.",
    )
    assert sent["record"]["reply"]["root"]["uri"] == OLDER_POST
    assert sent["record"]["reply"]["parent"]["uri"] == LUCIA_REPLY
    assert_sent(reply, f"at://{DID}/app.bsky.feed.post/3ljxkdmzqas2b", manager)


def test_bluesky_rate_limit_fails_the_reply_with_when_to_try_again(
    bluesky_reply, manager, manager_client, django_capture_on_commit_callbacks
):
    with respx.mock(base_url=XRPC, assert_all_called=True, assert_all_mocked=True) as xrpc:
        xrpc.get("/app.bsky.feed.getPosts", params__eq={"uris": LUCIA_REPLY}).respond(
            200, json=payload("bluesky", "get_posts_reply_target")
        )
        xrpc.post("/com.atproto.repo.createRecord").respond(
            429,
            json=payload("bluesky", "error_rate_limited"),
            headers={"RateLimit-Limit": "5000", "RateLimit-Remaining": "0", "RateLimit-Reset": "1772713800"},
        )
        reply = answer(
            bluesky_reply, manager, "El de inglés abre en abril.", django_capture_on_commit_callbacks
        )

    assert_failed_and_shown(manager_client, reply, "try again after 13:30")


# --- Meta: Facebook Pages and Instagram (Graph API) ----------------------------------------------

GRAPH = "https://graph.facebook.com/v24.0"
PAGE = "104857321234567"
PAGE_TOKEN = "EAAGpage-access-token"
PSID = "7654321098765432"


def graph_form(token: str, **fields):
    return matchers.urlencoded_params_matcher({"access_token": token, **fields})


def graph_query(token: str, **fields):
    return matchers.query_param_matcher({"access_token": token, **fields}, strict_match=True)


@pytest.fixture
def facebook_channel(db):
    with time_machine.travel(NOVEMBER, tick=False):
        yield connect(Network.FACEBOOK, account_id=PAGE, credentials={"access_token": PAGE_TOKEN})


def test_facebook_public_reply_comments_under_the_citizens_comment(
    facebook_channel, manager, django_capture_on_commit_callbacks
):
    comment = citizen(
        facebook_channel,
        external_id="122150000000000002_1122334455660001",
        thread_key="122150000000000002_1122334455660001",
        kind=InboundKind.PUBLIC_COMMENT,
        author_id="9988776655443322",
        author_name="Lucía Moreno",
        text="¿Cuándo se abre el plazo para el curso de soldadura?",
        created_at=datetime(2026, 11, 28, 11, 2, tzinfo=UTC),
        in_reply_to=f"{PAGE}_122150000000000002",
        about_post=f"{PAGE}_122150000000000002",
    )
    with responses.RequestsMock(assert_all_requests_are_fired=True) as graph:
        graph.post(
            f"{GRAPH}/122150000000000002_1122334455660001/comments",
            json=payload("facebook", "comment_reply"),
            match=[graph_form(PAGE_TOKEN, message="El plazo se abre el lunes 1.")],
        )
        reply = answer(comment, manager, "El plazo se abre el lunes 1.", django_capture_on_commit_callbacks)

    assert_sent(reply, "122150000000000002_1122334455669999", manager)


@pytest.fixture
def messenger_message(facebook_channel):
    return citizen(
        facebook_channel,
        external_id="m_Bq8kX2c3LlxhVDpRkQWdHk3fFtQpZ2mL9aM",
        thread_key=f"dm:{PSID}",
        kind=InboundKind.PRIVATE_MESSAGE,
        author_id=PSID,
        author_name="Joan Ferrer",
        text="I per a les persones aturades de llarga durada?",
        created_at=datetime(2026, 11, 28, 11, 50, tzinfo=UTC),
    )


def _messenger_window(graph, answer_name: str):
    graph.get(
        f"{GRAPH}/{PAGE}/conversations",
        json=payload("facebook", answer_name),
        match=[
            graph_query(
                PAGE_TOKEN, platform="messenger", user_id=PSID, fields="messages.limit(25){from,created_time}"
            )
        ],
    )


def test_messenger_private_reply_uses_the_send_api_within_the_window(
    messenger_message, manager, django_capture_on_commit_callbacks
):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as graph:
        _messenger_window(graph, "conversation_with_person")
        graph.post(
            f"{GRAPH}/{PAGE}/messages",
            json=payload("facebook", "send_message"),
            match=[
                graph_form(
                    PAGE_TOKEN,
                    recipient=f'{{"id":"{PSID}"}}',
                    messaging_type="RESPONSE",
                    message='{"text":"Sí, también para ellas."}',
                )
            ],
        )
        reply = answer(
            messenger_message,
            manager,
            "Sí, también para ellas.",
            django_capture_on_commit_callbacks,
            ReplyKind.PRIVATE,
        )

    assert_sent(reply, "m_Ee5kX2c3LlxhVDpRkQWdHk3fFtQpZ2mL9aM", manager)


def test_messenger_after_24_hours_is_refused_before_anything_is_sent(messenger_message, manager):
    with (
        time_machine.travel(datetime(2026, 11, 29, 11, 51, tzinfo=UTC), tick=False),
        responses.RequestsMock(assert_all_requests_are_fired=True) as graph,
    ):
        with pytest.raises(InboxRefused, match="run out"):
            reply_create(conversation=messenger_message, author=manager, text="Hola", kind=ReplyKind.PRIVATE)
        assert len(graph.calls) == 0

    assert not Reply.objects.exists()


def test_messenger_window_closed_on_the_network_fails_the_reply_before_sending(
    messenger_message, manager, manager_client, django_capture_on_commit_callbacks
):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as graph:
        _messenger_window(graph, "conversation_with_person_stale")
        reply = answer(
            messenger_message, manager, "Hola", django_capture_on_commit_callbacks, ReplyKind.PRIVATE
        )
        assert [call.request.method for call in graph.calls] == ["GET"]  # the message was never sent

    assert_failed_and_shown(manager_client, reply, "24 hours")


IG = "17841405822304914"
IG_PAGE = "104857321234999"
IG_TOKEN = "EAAGlinked-page-token"
IGSID = "6543210987654321"


@pytest.fixture
def instagram_channel(db):
    with time_machine.travel(NOVEMBER, tick=False):
        yield connect(
            Network.INSTAGRAM,
            account_id=IG,
            handle="empleo_cv",
            credentials={"access_token": IG_TOKEN, "page_id": IG_PAGE},
        )


def test_instagram_comment_reply_goes_under_the_comment(
    instagram_channel, manager, django_capture_on_commit_callbacks
):
    comment = citizen(
        instagram_channel,
        external_id="17858893269000001",
        thread_key="17858893269000001",
        kind=InboundKind.PUBLIC_COMMENT,
        author_id="17841400000000001",
        author_name="lucia.moreno",
        author_handle="lucia.moreno",
        text="A quina hora obri la fira?",
        created_at=datetime(2026, 11, 28, 11, 0, tzinfo=UTC),
        in_reply_to="17920238422030506",
        about_post="17920238422030506",
    )
    with responses.RequestsMock(assert_all_requests_are_fired=True) as graph:
        graph.post(
            f"{GRAPH}/17858893269000001/replies",
            json=payload("instagram", "comment_reply"),
            match=[graph_form(IG_TOKEN, message="Obrim a les 10 h.")],
        )
        reply = answer(comment, manager, "Obrim a les 10 h.", django_capture_on_commit_callbacks)

    assert_sent(reply, "17858893269000003", manager)


@pytest.fixture
def instagram_direct(instagram_channel):
    return citizen(
        instagram_channel,
        external_id="aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OjM0MDI4MjM2Njg0MTcxMDMwMDk0OTEyODE1NzE4NjQ2MDMxMzAyMA",
        thread_key=f"dm:{IGSID}",
        kind=InboundKind.PRIVATE_MESSAGE,
        author_id=IGSID,
        author_name="marta.gil",
        author_handle="marta.gil",
        text="Hola, necessite informació sobre el curs de carretoner.",
        created_at=datetime(2026, 11, 28, 11, 50, tzinfo=UTC),
    )


def _instagram_window(graph, answer_name: str):
    graph.get(
        f"{GRAPH}/{IG_PAGE}/conversations",
        json=payload("instagram", answer_name),
        match=[
            graph_query(
                IG_TOKEN, platform="instagram", user_id=IGSID, fields="messages.limit(25){from,created_time}"
            )
        ],
    )


def test_instagram_direct_reply_within_the_window(
    instagram_direct, manager, django_capture_on_commit_callbacks
):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as graph:
        _instagram_window(graph, "conversation_with_person")
        graph.post(
            f"{GRAPH}/{IG_PAGE}/messages",
            json=payload("instagram", "send_message"),
            match=[
                graph_form(
                    IG_TOKEN,
                    recipient=f'{{"id":"{IGSID}"}}',
                    message='{"text":"Et passe l\'enllaç del curs."}',
                )
            ],
        )
        reply = answer(
            instagram_direct,
            manager,
            "Et passe l'enllaç del curs.",
            django_capture_on_commit_callbacks,
            ReplyKind.PRIVATE,
        )

    assert_sent(reply, payload("instagram", "send_message")["message_id"], manager)


def test_instagram_direct_refused_by_meta_for_the_window_fails_with_its_reason(
    instagram_direct, manager, manager_client, django_capture_on_commit_callbacks
):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as graph:
        _instagram_window(graph, "conversation_with_person")
        graph.post(
            f"{GRAPH}/{IG_PAGE}/messages", status=400, json=payload("instagram", "error_outside_window")
        )
        reply = answer(
            instagram_direct, manager, "Hola", django_capture_on_commit_callbacks, ReplyKind.PRIVATE
        )

    assert_failed_and_shown(manager_client, reply, "24 hours")


# --- LinkedIn (versioned REST API) ---------------------------------------------------------------

LINKEDIN_API = "https://api.linkedin.com/rest"
ORG = "urn:li:organization:5515715"
SHARE = "urn:li:share:7400000000000000001"
ACTIVITY = "urn:li:activity:7400000000000000100"
COMMENT = f"urn:li:comment:({ACTIVITY},7400000000000000201)"
LINKEDIN_TOKEN = "AQVlinkedin-member-token"


@pytest.fixture
def linkedin_comment(db):
    with time_machine.travel(NOVEMBER, tick=False):
        channel = connect(
            Network.LINKEDIN, account_id="5515715", credentials={"access_token": LINKEDIN_TOKEN}
        )
        yield citizen(
            channel,
            external_id=COMMENT,
            thread_key=COMMENT,
            kind=InboundKind.PUBLIC_COMMENT,
            author_id="urn:li:person:A1b2C3d4E5",
            author_name="Lucía Moreno",
            text="¿Sirve también para mayores de 45 años?",
            created_at=datetime(2026, 11, 28, 9, 15, tzinfo=UTC),
            in_reply_to=SHARE,
            about_post=SHARE,
        )


def _linkedin_comments_url() -> str:
    return f"{LINKEDIN_API}/socialActions/{requests.utils.quote(COMMENT, safe='')}/comments"


def test_linkedin_reply_goes_under_the_comment_as_the_organization(
    linkedin_comment, manager, django_capture_on_commit_callbacks
):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        create = api.post(
            _linkedin_comments_url(),
            status=201,
            json=payload("linkedin", "comment_created"),
            match=[
                matchers.json_params_matcher(
                    {
                        "actor": ORG,
                        "object": ACTIVITY,
                        "message": {"text": "Sí, sin límite de edad."},
                        "parentComment": COMMENT,
                    }
                )
            ],
        )
        reply = answer(
            linkedin_comment, manager, "Sí, sin límite de edad.", django_capture_on_commit_callbacks
        )

    headers = create.calls[0].request.headers
    assert (headers["Authorization"], headers["LinkedIn-Version"]) == (f"Bearer {LINKEDIN_TOKEN}", "202511")
    assert_sent(reply, f"urn:li:comment:({ACTIVITY},7400000000000000299)", manager)


def test_linkedin_throttling_fails_the_reply_until_midnight_utc(
    linkedin_comment, manager, manager_client, django_capture_on_commit_callbacks
):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        api.post(_linkedin_comments_url(), status=429, json=payload("linkedin", "error_throttled"))
        reply = answer(
            linkedin_comment, manager, "Sí, sin límite de edad.", django_capture_on_commit_callbacks
        )

    # Midnight UTC is 01:00 in Madrid in November.
    assert_failed_and_shown(manager_client, reply, "try again after 01:00")


# --- YouTube (Data API v3) -----------------------------------------------------------------------

YOUTUBE_THREAD = "UgzDE2tasfmrYLyNkGt4AaABAg"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"


@pytest.fixture
def youtube_comment(db):
    with time_machine.travel(NOVEMBER, tick=False):
        channel = connect(
            Network.YOUTUBE,
            account_id="UCq8yJbXy0rGQW2mLk3vZkAQ",
            credentials={
                "refresh_token": "1//0g-refresh",
                "client_id": "1234-abc.apps.googleusercontent.com",
                "client_secret": "GOCSPX-s3cr3t",
            },
        )
        yield citizen(
            channel,
            external_id=YOUTUBE_THREAD,
            thread_key=YOUTUBE_THREAD,
            kind=InboundKind.PUBLIC_COMMENT,
            author_id="UCl7Ucia0Moreno1xYzAbCdE",
            author_name="@luciamoreno",
            author_handle="luciamoreno",
            text="¿El curso es presencial u online?",
            created_at=datetime(2026, 11, 28, 10, 15, tzinfo=UTC),
            in_reply_to="Xk3m9QwLr2A",
            about_post="Xk3m9QwLr2A",
        )


@pytest.fixture
def google(monkeypatch):
    """Google's token endpoint, then the API: only the expected requests, in order."""
    http = GoogleHttp()
    monkeypatch.setattr(youtube_module, "http_transport", lambda: http)
    http.expect("POST", GOOGLE_TOKEN_URL, answer=payload("youtube", "token"))
    yield http
    assert len(http.request_sequence) == len(http.expected), "an expected request was not made"


def test_youtube_reply_inserts_a_comment_under_the_thread(
    youtube_comment, google, manager, django_capture_on_commit_callbacks
):
    google.expect(
        "POST", youtube_url("comments", part="snippet"), answer=payload("youtube", "comment_inserted")
    )

    reply = answer(
        youtube_comment, manager, "Sí, hay grupos de mañana y de tarde.", django_capture_on_commit_callbacks
    )

    _, _, body, headers = google.request_sequence[1]
    assert json.loads(body) == {
        "snippet": {"parentId": YOUTUBE_THREAD, "textOriginal": "Sí, hay grupos de mañana y de tarde."}
    }
    assert headers["authorization"].startswith("Bearer ")
    assert_sent(reply, f"{YOUTUBE_THREAD}.A9z8Y7x6W5vA9z8Y7x6W5v", manager)


def test_youtube_comments_turned_off_fail_the_reply_with_youtubes_words(
    youtube_comment, google, manager, manager_client, django_capture_on_commit_callbacks
):
    google.expect(
        "POST",
        youtube_url("comments", part="snippet"),
        status=403,
        answer=payload("youtube", "error_comments_disabled"),
    )

    reply = answer(youtube_comment, manager, "Hola", django_capture_on_commit_callbacks)

    assert_failed_and_shown(manager_client, reply, "Comments are turned off")


def test_every_network_with_a_connector_is_covered_here():
    """A network added to the desk gets its reply test in this file too."""
    covered = {Network.X, Network.MASTODON, Network.BLUESKY, Network.FACEBOOK, Network.INSTAGRAM}
    covered |= {
        Network.LINKEDIN,
        Network.YOUTUBE,
        Network.SANDBOX,
    }  # the sandbox: tests/inbox/test_replies.py
    assert set(Network.values) == covered
