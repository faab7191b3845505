"""The Mastodon connector against the Mastodon REST API: every request is intercepted at its exact
URL, method, query and body; every answer is shaped like Mastodon's entity documentation
(payloads/mastodon)."""

import base64
import hashlib
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest
import requests
import responses
import time_machine
from django.utils import translation
from django.utils.translation import gettext
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
from networks.mastodon import MastodonConnector, html_to_text
from networks.models import Network
from networks.registry import connector_for
from networks.services import channel_connect
from tests.networks.fixtures import REBINDING_HOST
from tests.networks.payloads import payload

INSTANCE = "https://mastodon.social"
ACCOUNT_ID = "109348000000000001"
TOKEN = "mastodon-app-token"
NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
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
        network=Network.MASTODON,
        account_id=ACCOUNT_ID,
        display_name="Ocupació GVA",
        handle="ocupacio_gva",
        credentials={"api_base_url": INSTANCE, "access_token": TOKEN},
    )


@pytest.fixture
def mastodon(channel):
    return connector_for(channel)


@pytest.fixture
def api():
    """The instance: only the registered requests exist, every registered one must be called, and
    every request must carry the account's token as a Bearer token."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
        for call in mock.calls:
            assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"


def form(expected: dict[str, list[str]]):
    """The urlencoded body has exactly these fields (repeated fields such as media_ids[] included)."""

    def match(request):
        sent = parse_qs(request.body or "", keep_blank_values=True)
        return sent == expected, f"form body {sent} != {expected}"

    return match


def query(**params):
    return matchers.query_param_matcher(params, strict_match=True)


def idempotency(channel, *parts):
    return hashlib.sha256("\x1f".join((str(channel.pk), *parts)).encode("utf-8")).hexdigest()


def test_the_registry_gives_mastodon_channels_the_mastodon_connector(mastodon):
    assert isinstance(mastodon, MastodonConnector)
    assert mastodon.capabilities.max_length == 500
    assert mastodon.capabilities.length_unit == "graphemes"
    assert mastodon.capabilities.link_length == 23
    assert mastodon.capabilities.private_messages is True


def test_publish_text_with_link_and_idempotency_key(mastodon, channel, api):
    text = "Abierta la convocatoria de ayudas a la contratación https://gva.es/ayudas"
    api.post(
        f"{INSTANCE}/api/v1/statuses",
        json=payload("mastodon", "status_published"),
        match=[
            form({"status": [text], "sensitive": ["0"], "visibility": ["public"]}),
            matchers.header_matcher({"Idempotency-Key": idempotency(channel, "publish", text)}),
        ],
    )

    result = mastodon.publish(
        text="Abierta la convocatoria de ayudas a la contratación", link="https://gva.es/ayudas"
    )

    assert result == PublishResult(
        external_id="114100000000000010", url="https://mastodon.social/@ocupacio_gva/114100000000000010"
    )


def test_publishing_the_same_content_again_sends_the_same_idempotency_key(mastodon, api):
    for _ in range(3):
        api.post(f"{INSTANCE}/api/v1/statuses", json=payload("mastodon", "status_published"))

    mastodon.publish(text="Hola")
    mastodon.publish(text="Hola")
    mastodon.publish(text="Adéu")

    keys = [call.request.headers["Idempotency-Key"] for call in api.calls]
    assert keys[0] == keys[1] != keys[2]


def test_publish_image_with_alt_text(mastodon, api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "cartel.png").write_bytes(PIXEL_PNG)
    api.post(
        f"{INSTANCE}/api/v2/media",
        json=payload("mastodon", "media_attachment"),
        match=[
            matchers.multipart_matcher(
                files={"file": ("cartel.png", PIXEL_PNG, "image/png")},
                data={"description": "Cartel de la feria de empleo de Valencia"},
            )
        ],
    )
    api.post(
        f"{INSTANCE}/api/v1/statuses",
        json=payload("mastodon", "status_with_image"),
        match=[
            form(
                {
                    "status": ["Feria de empleo"],
                    "sensitive": ["0"],
                    "visibility": ["public"],
                    "media_ids[]": ["114100000000000001"],
                }
            )
        ],
    )

    result = mastodon.publish(
        text="Feria de empleo",
        media=[
            Media(
                path="posts/cartel.png",
                mime_type="image/png",
                alt_text="Cartel de la feria de empleo de Valencia",
            )
        ],
    )

    assert result.external_id == "114100000000000011"


def test_an_image_still_processing_is_transient_and_nothing_is_posted(mastodon, api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "cartel.png").write_bytes(PIXEL_PNG)
    api.post(f"{INSTANCE}/api/v2/media", status=202, json=payload("mastodon", "media_attachment_processing"))

    with pytest.raises(Transient) as failed:
        mastodon.publish(text="Feria", media=[Media(path="cartel.png", mime_type="image/png")])

    assert failed.value.request_sent is False


def test_publish_too_long_is_rejected_before_calling_the_instance(mastodon, api):
    # 478 characters + a space + a URL counted as 23 = 502 > 500.
    with pytest.raises(Rejected, match="502"):
        mastodon.publish(text="a" * 478, link="https://gva.es/" + "x" * 80)
    assert len(api.calls) == 0


def test_find_recent_posts_reads_the_account_statuses_and_marks_the_replies(mastodon, api):
    api.get(
        f"{INSTANCE}/api/v1/accounts/{ACCOUNT_ID}/statuses",
        json=payload("mastodon", "account_statuses"),
        match=[query(exclude_reblogs="1", limit="40")],
    )

    posts = mastodon.find_recent_posts(since=datetime(2026, 3, 5, tzinfo=UTC))

    assert posts == [
        RecentPost(
            external_id="114100000000000020",
            url="https://mastodon.social/@ocupacio_gva/114100000000000020",
            text="@lucia El plazo abre el lunes.",
            created_at=datetime(2026, 3, 5, 12, 0, tzinfo=UTC),
            is_reply=True,
        ),
        RecentPost(
            external_id="114100000000000011",
            url="https://mastodon.social/@ocupacio_gva/114100000000000011",
            text="Feria de empleo",
            created_at=datetime(2026, 3, 5, 11, 59, tzinfo=UTC),
        ),
        RecentPost(
            external_id="114100000000000010",
            url="https://mastodon.social/@ocupacio_gva/114100000000000010",
            text="Abierta la convocatoria de ayudas a la contratación https://gva.es/ayudas",
            created_at=datetime(2026, 3, 5, 11, 58, tzinfo=UTC),
        ),
    ]


def test_first_fetch_reads_mentions_and_direct_conversations(mastodon, api):
    api.get(
        f"{INSTANCE}/api/v1/notifications",
        json=payload("mastodon", "notifications_mentions"),
        match=[query(**{"types[]": "mention", "limit": "40"})],
    )
    # Lucía's mention answers a status: its thread is the first status of the reply chain.
    api.get(
        f"{INSTANCE}/api/v1/statuses/114095000000000003/context",
        json=payload("mastodon", "status_context_lucia_reply"),
    )
    api.get(
        f"{INSTANCE}/api/v1/conversations/",
        json=payload("mastodon", "conversations"),
        match=[query(limit="40")],
    )

    page = mastodon.fetch_inbound(cursor={})

    assert [(m.external_id, m.kind, m.thread_key, m.author_handle) for m in page.messages] == [
        ("113900000000000001", InboundKind.PRIVATE_MESSAGE, "dm:4102", "pere"),
        ("114094000000000001", InboundKind.MENTION, "114094000000000001", "pere"),
        ("114095000000000003", InboundKind.PUBLIC_COMMENT, "114090000000000001", "lucia@mastodon.online"),
        ("114096000000000005", InboundKind.PRIVATE_MESSAGE, "dm:4180", "lucia@mastodon.online"),
    ]
    comment = page.messages[2]
    assert comment.text == "@ocupacio_gva ¿Cuándo abre el plazo del curso? Gracias & saludos"
    assert comment.author_id == "110200000000000007"
    assert comment.author_name == "Lucía Moreno"
    assert comment.created_at == datetime(2026, 3, 4, 18, 5, tzinfo=UTC)
    assert comment.in_reply_to == "114090000000000001"
    assert comment.about_post == "114090000000000001"
    assert comment.is_from_us is False
    assert comment.raw["id"] == "114095000000000003"
    mention = page.messages[1]
    assert mention.text == "Molt útil @ocupacio_gva\nGràcies!"
    assert mention.about_post == ""
    assert page.cursor == {"notifications_since": "380000003", "conversations_since": "114096000000000005"}


def test_next_fetch_walks_forward_from_the_cursor_and_reads_new_private_messages(mastodon, api):
    cursor = {"notifications_since": "380000003", "conversations_since": "114095500000000000"}
    api.get(
        f"{INSTANCE}/api/v1/notifications",
        json=payload("mastodon", "notifications_empty"),
        match=[query(**{"types[]": "mention", "min_id": "380000003", "limit": "40"})],
    )
    api.get(
        f"{INSTANCE}/api/v1/conversations/",
        json=payload("mastodon", "conversations_updated"),
        match=[query(since_id="114095500000000000", limit="40")],
    )
    # The last message answers another new one: read the conversation's earlier messages too.
    api.get(
        f"{INSTANCE}/api/v1/statuses/114096000000000005/context",
        json=payload("mastodon", "status_context_lucia_dm2"),
    )

    page = mastodon.fetch_inbound(cursor=cursor)

    assert [(m.external_id, m.kind, m.thread_key, m.text) for m in page.messages] == [
        (
            "114096000000000001",
            InboundKind.PRIVATE_MESSAGE,
            "dm:4180",
            "@ocupacio_gva Hola, he perdido la cita del SEPE",
        ),
        ("114096000000000005", InboundKind.PRIVATE_MESSAGE, "dm:4180", "@ocupacio_gva ¿Cómo la recupero?"),
    ]
    assert page.cursor == {"notifications_since": "380000003", "conversations_since": "114096000000000005"}


def test_public_reply_mentions_the_author_and_keeps_the_visibility(mastodon, channel, api):
    text = "@lucia@mastodon.online El plazo abre el lunes."
    api.get(f"{INSTANCE}/api/v1/statuses/114095000000000003", json=payload("mastodon", "status_lucia_reply"))
    api.post(
        f"{INSTANCE}/api/v1/statuses",
        json=payload("mastodon", "status_our_reply"),
        match=[
            form(
                {
                    "status": [text],
                    "in_reply_to_id": ["114095000000000003"],
                    "sensitive": ["0"],
                    "visibility": ["public"],
                }
            ),
            matchers.header_matcher(
                {"Idempotency-Key": idempotency(channel, "reply", "114095000000000003", text)}
            ),
        ],
    )

    result = mastodon.reply(
        target=ReplyTarget(
            kind=InboundKind.PUBLIC_COMMENT,
            thread_key="114090000000000001",
            external_id="114095000000000003",
            author_id="110200000000000007",
        ),
        text="El plazo abre el lunes.",
    )

    assert result == PublishResult(
        external_id="114100000000000020", url="https://mastodon.social/@ocupacio_gva/114100000000000020"
    )


def test_private_reply_is_a_direct_status_to_the_author(mastodon, api):
    api.get(f"{INSTANCE}/api/v1/statuses/114096000000000005", json=payload("mastodon", "status_lucia_dm2"))
    api.post(
        f"{INSTANCE}/api/v1/statuses",
        json=payload("mastodon", "status_our_dm"),
        match=[
            form(
                {
                    "status": ["@lucia@mastodon.online Te escribimos por aquí, Lucía."],
                    "in_reply_to_id": ["114096000000000005"],
                    "sensitive": ["0"],
                    "visibility": ["direct"],
                }
            )
        ],
    )

    result = mastodon.reply(
        target=ReplyTarget(
            kind=InboundKind.PRIVATE_MESSAGE,
            thread_key="dm:4180",
            external_id="114096000000000005",
            author_id="110200000000000007",
        ),
        text="@lucia@mastodon.online Te escribimos por aquí, Lucía.",
    )

    assert result.external_id == "114100000000000021"


def test_delete(mastodon, api):
    api.delete(f"{INSTANCE}/api/v1/statuses/114100000000000010", json=payload("mastodon", "status_deleted"))

    mastodon.delete(external_id="114100000000000010")

    assert len(api.calls) == 1


def test_deleting_a_status_already_gone_is_fine(mastodon, api):
    api.delete(f"{INSTANCE}/api/v1/statuses/1", status=404, json=payload("mastodon", "error_not_found"))

    mastodon.delete(external_id="1")
    assert len(api.calls) == 1


def test_fetch_metrics_reads_the_counts_and_leaves_out_missing_statuses(mastodon, api):
    api.get(f"{INSTANCE}/api/v1/statuses/114090000000000001", json=payload("mastodon", "status_older"))
    api.get(f"{INSTANCE}/api/v1/statuses/1", status=404, json=payload("mastodon", "error_not_found"))

    metrics = mastodon.fetch_metrics(external_ids=["114090000000000001", "1"])

    assert metrics == [
        PostMetrics(external_id="114090000000000001", impressions=None, likes=57, shares=12, comments=4)
    ]


def test_html_to_text_keeps_lines_and_entities():
    assert html_to_text("<p>Hola &amp; adéu</p><p>Segunda<br>línea</p>") == "Hola & adéu\n\nSegunda\nlínea"


# --- errors --------------------------------------------------------------------------------------


def test_rate_limited_until_the_iso_reset_header(mastodon, api):
    api.post(
        f"{INSTANCE}/api/v1/statuses",
        status=429,
        json=payload("mastodon", "error_rate_limited"),
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "2026-03-05T12:05:00.000Z",
        },
    )

    with pytest.raises(RateLimited) as limited:
        mastodon.publish(text="Hola")

    assert limited.value.until == datetime(2026, 3, 5, 12, 5, tzinfo=UTC)


def test_unauthorized_means_authorization_expired(mastodon, api):
    api.get(f"{INSTANCE}/api/v1/notifications", status=401, json=payload("mastodon", "error_unauthorized"))

    with pytest.raises(AuthorizationExpired) as expired:
        mastodon.fetch_inbound(cursor={})

    assert expired.value.reason == "The access token is invalid"


def test_a_channel_without_token_needs_reconnecting_without_calling_the_instance(channel, api):
    channel.credentials = {"api_base_url": INSTANCE}
    channel.save()

    with pytest.raises(AuthorizationExpired):
        connector_for(channel).publish(text="Hola")


def test_text_too_long_for_the_instance_is_rejected_with_its_words(mastodon, api):
    api.post(f"{INSTANCE}/api/v1/statuses", status=422, json=payload("mastodon", "error_validation_too_long"))

    with pytest.raises(Rejected) as refused:
        mastodon.publish(text="Hola")

    assert refused.value.reason == "Validation failed: Text character limit of 500 exceeded"


def test_invalid_media_is_rejected(mastodon, api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "cartel.png").write_bytes(b"not really a png")
    api.post(f"{INSTANCE}/api/v2/media", status=422, json=payload("mastodon", "error_unprocessable_media"))

    with pytest.raises(Rejected) as refused:
        mastodon.publish(text="Feria", media=[Media(path="cartel.png", mime_type="image/png")])

    assert refused.value.reason == "Validation failed: File content type is invalid, File is invalid"


def test_server_error_on_publish_is_transient_and_may_have_posted(mastodon, api):
    api.post(f"{INSTANCE}/api/v1/statuses", status=503, json=payload("mastodon", "error_service_unavailable"))

    with pytest.raises(Transient) as failed:
        mastodon.publish(text="Hola")

    assert failed.value.request_sent is True


def test_server_error_on_a_read_is_transient(mastodon, api):
    api.get(
        f"{INSTANCE}/api/v1/statuses/1", status=502, json=payload("mastodon", "error_service_unavailable")
    )

    with pytest.raises(Transient) as failed:
        mastodon.fetch_metrics(external_ids=["1"])

    assert failed.value.request_sent is False


def test_refused_connection_is_transient_and_nothing_was_sent(mastodon, api):
    refused = requests.ConnectionError(
        MaxRetryError(None, "/api/v1/statuses", NewConnectionError(None, "refused"))
    )
    api.post(f"{INSTANCE}/api/v1/statuses", body=refused)

    with pytest.raises(Transient) as failed:
        mastodon.publish(text="Hola")

    assert failed.value.request_sent is False


def test_timeout_after_sending_is_transient_and_may_have_posted(mastodon, api):
    api.post(f"{INSTANCE}/api/v1/statuses", body=requests.ReadTimeout("read timed out"))

    with pytest.raises(Transient) as failed:
        mastodon.publish(text="Hola")

    assert failed.value.request_sent is True


def test_a_stored_instance_address_inside_a_private_network_is_never_called(db):
    private = channel_connect(
        network=Network.MASTODON,
        account_id="999",
        display_name="Trap",
        handle="trap",
        credentials={"api_base_url": "https://169.254.169.254", "access_token": TOKEN},
    )

    with translation.override("en"), pytest.raises(Rejected, match="private network"):
        connector_for(private).fetch_inbound(cursor={})


def test_an_instance_name_re_pointed_inside_after_the_check_is_never_connected_to(db, rebinding_host):
    # The name looked public when the connector checked it, then answers with a loopback address
    # (DNS rebinding): the guarded session checks the answer it connects with and refuses it.
    rebinding = channel_connect(
        network=Network.MASTODON,
        account_id="998",
        display_name="Rebinding",
        handle="rebinding",
        credentials={"api_base_url": f"https://{REBINDING_HOST}", "access_token": TOKEN},
    )

    with translation.override("es"), pytest.raises(Rejected) as refused:
        connector_for(rebinding).fetch_inbound(cursor={})
    assert rebinding_host == []  # no socket opened
    with translation.override("es"):  # said in the desk's language, and not retried as a network hiccup
        assert refused.value.reason == gettext("The Mastodon instance's address is inside a private network.")
    assert refused.value.reason != "The Mastodon instance's address is inside a private network."
