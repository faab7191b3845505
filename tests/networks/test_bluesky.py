"""The Bluesky connector against the XRPC API: atproto talks httpx, so respx intercepts every request
at its exact method, URL and query; bodies are checked field by field; every answer is shaped like the
lexicon's output (payloads/bluesky), with real-looking JWTs because the SDK reads their ``exp``."""

import base64
import json
from datetime import UTC, datetime

import httpx
import pytest
import respx
import time_machine

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
    Unsupported,
)
from networks.bluesky import BlueskyConnector
from networks.models import Channel, Network
from networks.registry import connector_for
from networks.services import channel_connect
from tests.networks.payloads import payload

XRPC = "https://bsky.social/xrpc"
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
HANDLE = "ocupacio.bsky.social"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
TOKENS = payload("bluesky", "session_tokens")
NEW_SESSION = payload("bluesky", "create_session")
REFRESHED = payload("bluesky", "refresh_session")
OLDER_POST = f"at://{DID}/app.bsky.feed.post/3ljwbbylxvs2c"
PUBLISHED_POST = f"at://{DID}/app.bsky.feed.post/3ljxkcqbd2k2a"
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def session_string(access: str, refresh: str = TOKENS["fresh_refresh"]) -> str:
    return ":::".join([HANDLE, DID, access, refresh, "https://bsky.social"])


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def connect(credentials: dict) -> Channel:
    return channel_connect(
        network=Network.BLUESKY,
        account_id=DID,
        display_name="Ocupació GVA",
        handle=HANDLE,
        credentials=credentials,
    )


@pytest.fixture
def channel(db):
    return connect(
        {
            "handle": HANDLE,
            "app_password": APP_PASSWORD,
            "session_string": session_string(TOKENS["fresh_access"]),
        }
    )


@pytest.fixture
def bluesky(channel):
    return connector_for(channel)


@pytest.fixture
def xrpc():
    """The entryway/PDS: a request to anything not registered fails the test, and every registered
    route must be called."""
    with respx.mock(base_url=XRPC, assert_all_called=True, assert_all_mocked=True) as mock:
        yield mock


def sent_json(route) -> dict:
    return json.loads(route.calls.last.request.content)


def bearer(route) -> str:
    return route.calls.last.request.headers["Authorization"]


def stored_session(channel) -> str:
    return Channel.objects.get(pk=channel.pk).credentials["session_string"]


def post_record(text: str, **more) -> dict:
    return {
        "$type": "app.bsky.feed.post",
        "createdAt": "2026-03-05T12:00:00+00:00",
        "text": text,
        "langs": ["es"],
        **more,
    }


def test_the_registry_gives_bluesky_channels_the_bluesky_connector(bluesky):
    assert isinstance(bluesky, BlueskyConnector)
    assert bluesky.capabilities.max_length == 300
    assert bluesky.capabilities.length_unit == "graphemes"
    assert bluesky.capabilities.private_messages is False


def test_publish_text_with_a_link_facet_over_utf8_bytes(bluesky, xrpc):
    route = xrpc.post("/com.atproto.repo.createRecord").respond(200, json=payload("bluesky", "create_record"))

    result = bluesky.publish(
        text="Abierta la convocatoria de ayudas a la contratación", link="https://gva.es/ayudas"
    )

    assert result == PublishResult(
        external_id=PUBLISHED_POST, url=f"https://bsky.app/profile/{HANDLE}/post/3ljxkcqbd2k2a"
    )
    assert bearer(route) == f"Bearer {TOKENS['fresh_access']}"
    assert sent_json(route) == {
        "repo": DID,
        "collection": "app.bsky.feed.post",
        "validate": True,
        "record": post_record(
            "Abierta la convocatoria de ayudas a la contratación https://gva.es/ayudas",
            facets=[
                {
                    "$type": "app.bsky.richtext.facet",
                    # "ó" is two bytes: the URL starts at byte 53, not at character 52.
                    "index": {"$type": "app.bsky.richtext.facet#byteSlice", "byteStart": 53, "byteEnd": 74},
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://gva.es/ayudas"}],
                }
            ],
        ),
    }


def test_publish_image_with_alt_text(bluesky, xrpc, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "cartel.png").write_bytes(PIXEL_PNG)
    upload = xrpc.post("/com.atproto.repo.uploadBlob").respond(200, json=payload("bluesky", "upload_blob"))
    create = xrpc.post("/com.atproto.repo.createRecord").respond(
        200, json=payload("bluesky", "create_record")
    )

    bluesky.publish(
        text="Feria de empleo",
        media=[Media(path="cartel.png", mime_type="image/png", alt_text="Cartel de la feria de empleo")],
    )

    assert upload.calls.last.request.content == PIXEL_PNG
    assert upload.calls.last.request.headers["Content-Type"] == "image/png"
    assert bearer(upload) == f"Bearer {TOKENS['fresh_access']}"
    assert sent_json(create)["record"]["embed"] == {
        "$type": "app.bsky.embed.images",
        "images": [
            {
                "$type": "app.bsky.embed.images#image",
                "alt": "Cartel de la feria de empleo",
                "image": payload("bluesky", "upload_blob")["blob"],
            }
        ],
    }


def test_an_image_over_one_megabyte_is_rejected_before_calling_bluesky(bluesky, xrpc, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "big.png").write_bytes(b"\x89PNG" + b"\0" * 1_000_000)

    with pytest.raises(Rejected):
        bluesky.publish(text="Feria", media=[Media(path="big.png", mime_type="image/png")])


def test_length_is_counted_in_graphemes(bluesky, xrpc):
    # "é" written as e + combining accent: 600 code points, 300 graphemes.
    text = "e\u0301" * 300
    route = xrpc.post("/com.atproto.repo.createRecord").respond(200, json=payload("bluesky", "create_record"))

    bluesky.publish(text=text)

    assert sent_json(route)["record"]["text"] == text
    with pytest.raises(Rejected, match="301"):
        bluesky.publish(text=text + "!")


def test_without_a_stored_session_the_app_password_opens_one_and_it_is_stored(db, xrpc):
    channel = connect({"handle": HANDLE, "app_password": APP_PASSWORD})
    login = xrpc.post("/com.atproto.server.createSession").respond(200, json=NEW_SESSION)
    create = xrpc.post("/com.atproto.repo.createRecord").respond(
        200, json=payload("bluesky", "create_record")
    )

    connector_for(channel).publish(text="Hola")

    assert sent_json(login) == {"identifier": HANDLE, "password": APP_PASSWORD}
    assert "Authorization" not in login.calls.last.request.headers
    assert bearer(create) == f"Bearer {NEW_SESSION['accessJwt']}"
    assert stored_session(channel) == ":::".join(
        [HANDLE, DID, NEW_SESSION["accessJwt"], NEW_SESSION["refreshJwt"], XRPC]
    )
    raw_column = Channel.objects.filter(pk=channel.pk).values_list("credentials_encrypted", flat=True).get()
    assert NEW_SESSION["accessJwt"] not in raw_column


def test_an_access_token_about_to_expire_is_refreshed_and_the_new_session_stored(db, xrpc):
    channel = connect(
        {
            "handle": HANDLE,
            "app_password": APP_PASSWORD,
            "session_string": session_string(TOKENS["expiring_access"]),
        }
    )
    refresh = xrpc.post("/com.atproto.server.refreshSession").respond(200, json=REFRESHED)
    create = xrpc.post("/com.atproto.repo.createRecord").respond(
        200, json=payload("bluesky", "create_record")
    )

    connector_for(channel).publish(text="Hola")

    assert bearer(refresh) == f"Bearer {TOKENS['fresh_refresh']}"
    assert bearer(create) == f"Bearer {REFRESHED['accessJwt']}"
    assert REFRESHED["refreshJwt"] in stored_session(channel)


def test_a_spent_refresh_token_falls_back_to_the_app_password(db, xrpc):
    channel = connect(
        {
            "handle": HANDLE,
            "app_password": APP_PASSWORD,
            "session_string": session_string(TOKENS["expiring_access"]),
        }
    )
    xrpc.post("/com.atproto.server.refreshSession").respond(
        400, json=payload("bluesky", "error_expired_token")
    )
    xrpc.post("/com.atproto.server.createSession").respond(200, json=NEW_SESSION)
    create = xrpc.post("/com.atproto.repo.createRecord").respond(
        200, json=payload("bluesky", "create_record")
    )

    connector_for(channel).publish(text="Hola")

    assert create.call_count == 1
    assert bearer(create) == f"Bearer {NEW_SESSION['accessJwt']}"
    assert NEW_SESSION["refreshJwt"] in stored_session(channel)


def test_a_revoked_app_password_means_authorization_expired(db, xrpc):
    channel = connect({"handle": HANDLE, "app_password": APP_PASSWORD})
    xrpc.post("/com.atproto.server.createSession").respond(
        401, json=payload("bluesky", "error_invalid_password")
    )

    with pytest.raises(AuthorizationExpired) as expired:
        connector_for(channel).publish(text="Hola")

    assert expired.value.reason == "Invalid identifier or password"


def test_a_token_refused_twice_means_authorization_expired(bluesky, xrpc):
    xrpc.post("/com.atproto.repo.createRecord").respond(401, json=payload("bluesky", "error_expired_token"))
    xrpc.post("/com.atproto.server.createSession").respond(200, json=NEW_SESSION)

    with pytest.raises(AuthorizationExpired):
        bluesky.publish(text="Hola")


def test_find_recent_posts_reads_the_author_feed_without_reposts_and_marks_the_replies(bluesky, xrpc):
    route = xrpc.get(
        "/app.bsky.feed.getAuthorFeed",
        params__eq={"actor": DID, "filter": "posts_with_replies", "limit": "50", "includePins": "false"},
    ).respond(200, json=payload("bluesky", "get_author_feed"))

    posts = bluesky.find_recent_posts(since=datetime(2026, 3, 4, 12, 0, tzinfo=UTC))

    assert posts == [
        RecentPost(
            external_id=PUBLISHED_POST,
            url=f"https://bsky.app/profile/{HANDLE}/post/3ljxkcqbd2k2a",
            text="Abierta la convocatoria de ayudas a la contratación https://gva.es/ayudas",
            created_at=datetime(2026, 3, 5, 11, 58, tzinfo=UTC),
        ),
        RecentPost(
            external_id=f"at://{DID}/app.bsky.feed.post/3ljxkdmzqas2b",
            url=f"https://bsky.app/profile/{HANDLE}/post/3ljxkdmzqas2b",
            text="El plazo abre el lunes 9 de marzo.",
            created_at=datetime(2026, 3, 4, 18, 30, tzinfo=UTC),
            is_reply=True,
        ),
    ]
    assert bearer(route) == f"Bearer {TOKENS['fresh_access']}"


NOTIFICATION_PARAMS = [("reasons", "mention"), ("reasons", "reply"), ("reasons", "quote"), ("limit", "50")]


def test_first_fetch_reads_mentions_replies_and_quotes(bluesky, xrpc):
    route = xrpc.get("/app.bsky.notification.listNotifications", params__eq=NOTIFICATION_PARAMS).respond(
        200, json=payload("bluesky", "list_notifications")
    )

    page = bluesky.fetch_inbound(cursor={})

    assert [(m.kind, m.thread_key, m.author_handle, m.about_post) for m in page.messages] == [
        (
            InboundKind.MENTION,
            "at://did:plc:xm4qhgqyc3rxr5vxpy2qcmrw/app.bsky.feed.post/3ljx7zq4gcs2x",
            "pere.bsky.social",
            "",
        ),
        (InboundKind.PUBLIC_COMMENT, OLDER_POST, "lucia.bsky.social", OLDER_POST),
        (
            InboundKind.MENTION,
            "at://did:plc:q6gjnaw2blty4crticxkmujt/app.bsky.feed.post/3ljxbc5fr2c2k",
            "jordi.bsky.social",
            PUBLISHED_POST,
        ),
        (InboundKind.PUBLIC_COMMENT, OLDER_POST, "lucia.bsky.social", OLDER_POST),
    ]
    reply = page.messages[1]
    assert reply.external_id == "at://did:plc:4llrhdclvdlmmynkwsmg5tdc/app.bsky.feed.post/3ljxa6fj7xc2p"
    assert reply.text == "¿Cuándo abre el plazo del curso de soldadura?"
    assert reply.author_id == "did:plc:4llrhdclvdlmmynkwsmg5tdc"
    assert reply.author_name == "Lucía Moreno"
    assert reply.created_at == datetime(2026, 3, 4, 18, 5, 0, 512000, tzinfo=UTC)
    assert reply.in_reply_to == OLDER_POST
    assert reply.is_from_us is False
    assert page.messages[2].author_name == "jordi.bsky.social"  # no display name: the handle
    assert page.messages[3].in_reply_to == f"at://{DID}/app.bsky.feed.post/3ljxkdmzqas2b"
    json.dumps([message.raw for message in page.messages])  # stored in a JSONField
    assert page.cursor == {"indexed_since": "2026-03-04T19:30:01.123Z"}
    assert bearer(route) == f"Bearer {TOKENS['fresh_access']}"


def test_next_fetch_pages_back_until_what_was_already_seen(bluesky, xrpc):
    xrpc.get("/app.bsky.notification.listNotifications", params__eq=NOTIFICATION_PARAMS).respond(
        200, json=payload("bluesky", "list_notifications_newer")
    )
    xrpc.get(
        "/app.bsky.notification.listNotifications",
        params__eq=[*NOTIFICATION_PARAMS, ("cursor", "2026-03-04T19:00:00.830Z")],
    ).respond(200, json=payload("bluesky", "list_notifications_next"))

    page = bluesky.fetch_inbound(cursor={"indexed_since": "2026-03-04T18:30:00.000Z"})

    assert [m.created_at for m in page.messages] == [
        datetime(2026, 3, 4, 19, 0, 0, 830000, tzinfo=UTC),
        datetime(2026, 3, 4, 19, 30, 1, 123000, tzinfo=UTC),
    ]
    assert page.cursor == {"indexed_since": "2026-03-04T19:30:01.123Z"}


def test_reply_names_the_thread_root_and_the_parent(bluesky, xrpc):
    target = "at://did:plc:4llrhdclvdlmmynkwsmg5tdc/app.bsky.feed.post/3ljxb44x7kc2r"
    xrpc.get("/app.bsky.feed.getPosts", params__eq={"uris": target}).respond(
        200, json=payload("bluesky", "get_posts_reply_target")
    )
    create = xrpc.post("/com.atproto.repo.createRecord").respond(
        200, json=payload("bluesky", "create_record_reply")
    )

    result = bluesky.reply(
        target=ReplyTarget(
            kind=InboundKind.PUBLIC_COMMENT,
            thread_key=OLDER_POST,
            external_id=target,
            author_id="did:plc:4llrhdclvdlmmynkwsmg5tdc",
        ),
        text="El de inglés abre en abril.",
    )

    assert result.external_id == f"at://{DID}/app.bsky.feed.post/3ljxkdmzqas2b"
    record = sent_json(create)["record"]
    assert record["text"] == "El de inglés abre en abril."
    assert record["reply"] == {
        "$type": "app.bsky.feed.post#replyRef",
        "root": {
            "$type": "com.atproto.repo.strongRef",
            "uri": OLDER_POST,
            "cid": "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a",
        },
        "parent": {
            "$type": "com.atproto.repo.strongRef",
            "uri": target,
            "cid": "bafyreib4llpfn2cbkbctumzb4bnxmbkgwiu4lsizo5kwbbjk7l7a5lbhpa",
        },
    }


def test_private_replies_are_unsupported(bluesky, xrpc):
    with pytest.raises(Unsupported):
        bluesky.reply(
            target=ReplyTarget(
                kind=InboundKind.PRIVATE_MESSAGE, thread_key="x", external_id="y", author_id="z"
            ),
            text="Hola",
        )


def test_delete(bluesky, xrpc):
    route = xrpc.post("/com.atproto.repo.deleteRecord").respond(200, json=payload("bluesky", "delete_record"))

    bluesky.delete(external_id=PUBLISHED_POST)

    assert sent_json(route) == {"repo": DID, "collection": "app.bsky.feed.post", "rkey": "3ljxkcqbd2k2a"}


def test_fetch_metrics_reads_the_counts_of_the_posts_bluesky_still_has(bluesky, xrpc):
    gone = f"at://{DID}/app.bsky.feed.post/3ljaaaaaaaa2a"
    xrpc.get("/app.bsky.feed.getPosts", params__eq=[("uris", OLDER_POST), ("uris", gone)]).respond(
        200, json=payload("bluesky", "get_posts_metrics")
    )

    metrics = bluesky.fetch_metrics(external_ids=[OLDER_POST, gone])

    assert metrics == [PostMetrics(external_id=OLDER_POST, impressions=None, likes=57, shares=14, comments=4)]


# --- errors --------------------------------------------------------------------------------------


def test_rate_limited_until_the_reset_header(bluesky, xrpc):
    xrpc.post("/com.atproto.repo.createRecord").respond(
        429,
        json=payload("bluesky", "error_rate_limited"),
        headers={
            "RateLimit-Limit": "5000",
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": "1772713800",
            "RateLimit-Policy": "5000;w=3600",
        },
    )

    with pytest.raises(RateLimited) as limited:
        bluesky.publish(text="Hola")

    assert limited.value.until == datetime(2026, 3, 5, 12, 30, tzinfo=UTC)


def test_text_too_long_for_bluesky_is_rejected_with_its_words(bluesky, xrpc):
    xrpc.post("/com.atproto.repo.createRecord").respond(400, json=payload("bluesky", "error_text_too_long"))

    with pytest.raises(Rejected) as refused:
        bluesky.publish(text="Hola")

    assert refused.value.reason == (
        "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"
    )


def test_invalid_media_is_rejected(bluesky, xrpc, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "cartel.png").write_bytes(PIXEL_PNG)
    xrpc.post("/com.atproto.repo.uploadBlob").respond(400, json=payload("bluesky", "error_blob_too_large"))

    with pytest.raises(Rejected) as refused:
        bluesky.publish(text="Feria", media=[Media(path="cartel.png", mime_type="image/png")])

    assert "too large" in refused.value.reason


def test_upstream_failure_on_publish_is_transient_and_may_have_posted(bluesky, xrpc):
    xrpc.post("/com.atproto.repo.createRecord").respond(
        502, json=payload("bluesky", "error_upstream_failure")
    )

    with pytest.raises(Transient) as failed:
        bluesky.publish(text="Hola")

    assert failed.value.request_sent is True


def test_server_error_on_a_read_is_transient(bluesky, xrpc):
    xrpc.get("/app.bsky.notification.listNotifications").respond(
        500, json={"error": "InternalServerError", "message": "Internal Server Error"}
    )

    with pytest.raises(Transient) as failed:
        bluesky.fetch_inbound(cursor={})

    assert failed.value.request_sent is False


def test_refused_connection_is_transient_and_nothing_was_sent(bluesky, xrpc):
    xrpc.post("/com.atproto.repo.createRecord").mock(side_effect=httpx.ConnectError("Connection refused"))

    with pytest.raises(Transient) as failed:
        bluesky.publish(text="Hola")

    assert failed.value.request_sent is False


def test_timeout_after_sending_is_transient_and_may_have_posted(bluesky, xrpc):
    xrpc.post("/com.atproto.repo.createRecord").mock(side_effect=httpx.ReadTimeout("timed out"))

    with pytest.raises(Transient) as failed:
        bluesky.publish(text="Hola")

    assert failed.value.request_sent is True
