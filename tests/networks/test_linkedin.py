"""The LinkedIn connector against LinkedIn's versioned REST API as documented: every request is
intercepted at its exact URL (URNs URL-encoded), method, query and JSON body, carries the Bearer
token and the version headers, and is answered with a payload shaped like LinkedIn's documentation
(payloads/linkedin). python-linkedin-v2's make_request is the transport under test."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses
import time_machine
from django.utils import translation
from responses import matchers

from networks.base import (
    AuthorizationExpired,
    ConfigurationOutdated,
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
from networks.linkedin import LinkedInConnector, escape_little_text, unescape_little_text
from networks.models import Network
from networks.registry import connector_for
from networks.services import channel_connect
from tests.networks.payloads import payload

API = "https://api.linkedin.com/rest"
ORG = "urn:li:organization:5515715"
ORG_Q = "urn%3Ali%3Aorganization%3A5515715"
SHARE = "urn:li:share:7400000000000000001"
UGC = "urn:li:ugcPost:7399000000000000002"
ACT = "urn:li:activity:7400000000000000100"
C1 = f"urn:li:comment:({ACT},7400000000000000201)"
TOKEN = "AQVlinkedin-member-token"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
UPLOAD_URL = (
    "https://www.linkedin.com/dms-uploads/sp/v2/D4E10AQFoyyAjHPMQuQ/uploaded-image/0"
    "?ca=vector_ads&cn=uploads&iri=B01-77&sync=0&v=beta&ut=2K7CU3nFKnIG41"
)
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
POSTS_FINDER = f"{API}/posts?q=author&author={ORG_Q}&count=10&sortBy=CREATED"


def encoded(urn: str) -> str:
    return requests.utils.quote(urn, safe="")


@pytest.fixture(autouse=True)
def frozen_clock_in_english():
    """A fixed now, and messages in the source language the assertions quote."""
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


@pytest.fixture
def channel(db):
    return channel_connect(
        network=Network.LINKEDIN,
        account_id="5515715",
        display_name="Empleo GVA",
        credentials={"access_token": TOKEN},
    )


@pytest.fixture
def linkedin(channel):
    return connector_for(channel)


@pytest.fixture
def api():
    """LinkedIn: only registered requests exist and each must be called. Afterwards, no request
    went unanswered, every one carried the Bearer token and never the token in its URL, and every
    REST call carried the configured version headers."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
        unanswered = [call.request.url for call in mock.calls if isinstance(call.response, Exception)]
        assert not unanswered, f"requests nobody intercepted: {unanswered}"
        for call in mock.calls:
            assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
            assert TOKEN not in call.request.url
            assert "oauth2_access_token" not in call.request.url
            if call.request.url.startswith(API):
                assert call.request.headers["LinkedIn-Version"] == "202511"
                assert call.request.headers["X-Restli-Protocol-Version"] == "2.0.0"


def sent_json(call) -> dict:
    return json.loads(call.request.body)


def test_the_registry_gives_linkedin_channels_the_linkedin_connector(linkedin):
    assert isinstance(linkedin, LinkedInConnector)
    assert linkedin.organization == ORG
    assert linkedin.capabilities.private_messages is False
    assert linkedin.capabilities.hide_comments is False
    assert linkedin.capabilities.max_length == 3000


def test_publish_text_escapes_little_text_and_reads_the_urn_from_the_header(linkedin, api):
    api.post(f"{API}/posts", status=201, body="", headers={"x-restli-id": SHARE})

    result = linkedin.publish(text="Nueva convocatoria (40 plazas) #empleo")

    assert result == PublishResult(external_id=SHARE, url=f"https://www.linkedin.com/feed/update/{SHARE}/")
    assert sent_json(api.calls[0]) == {
        "author": ORG,
        "commentary": "Nueva convocatoria \\(40 plazas\\) \\#empleo",
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }


def test_publish_link_as_an_article(linkedin, api):
    api.post(
        f"{API}/posts",
        status=201,
        body="",
        headers={"x-restli-id": SHARE},
        match=[
            matchers.json_params_matcher(
                {
                    "author": ORG,
                    "commentary": "Consulta las ofertas",
                    "visibility": "PUBLIC",
                    "distribution": {
                        "feedDistribution": "MAIN_FEED",
                        "targetEntities": [],
                        "thirdPartyDistributionChannels": [],
                    },
                    "lifecycleState": "PUBLISHED",
                    "isReshareDisabledByAuthor": False,
                    "content": {
                        "article": {"source": "https://gva.es/ofertas/40", "title": "gva.es/ofertas/40"}
                    },
                }
            )
        ],
    )

    assert (
        linkedin.publish(text="Consulta las ofertas", link="https://gva.es/ofertas/40").external_id == SHARE
    )


def test_the_version_header_comes_from_the_setting(linkedin, settings):
    settings.SOCIALDESK_LINKEDIN_VERSION = "202610"
    with responses.RequestsMock() as mock:
        mock.post(
            f"{API}/posts",
            status=201,
            body="",
            headers={"x-restli-id": SHARE},
            match=[matchers.header_matcher({"LinkedIn-Version": "202610"})],
        )

        linkedin.publish(text="Hola")
        assert len(mock.calls) == 1


def test_publish_image_initializes_uploads_and_attaches_it_with_alt_text(linkedin, api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "cartel.png").write_bytes(PIXEL_PNG)
    api.post(
        f"{API}/images?action=initializeUpload",
        json=payload("linkedin", "image_initialize"),
        match=[matchers.json_params_matcher({"initializeUploadRequest": {"owner": ORG}})],
    )
    api.put(UPLOAD_URL, status=201, body="")
    api.post(f"{API}/posts", status=201, body="", headers={"x-restli-id": UGC})

    result = linkedin.publish(
        text="Feria de empleo",
        link="https://gva.es/feria",
        media=[Media(path="cartel.png", mime_type="image/png", alt_text="Cartel de la feria")],
    )

    assert result.external_id == UGC
    upload = api.calls[1].request
    assert (upload.method, upload.body, upload.headers["Content-Type"]) == ("PUT", PIXEL_PNG, "image/png")
    post = sent_json(api.calls[2])
    assert post["commentary"] == "Feria de empleo\n\nhttps://gva.es/feria"
    assert post["content"] == {
        "media": {"id": "urn:li:image:C4E10AQFoyyAjHPMQuQ", "altText": "Cartel de la feria"}
    }


def test_find_recent_posts_uses_the_author_finder(linkedin, api):
    api.get(
        POSTS_FINDER,
        json=payload("linkedin", "posts_by_author"),
        match=[matchers.header_matcher({"X-RestLi-Method": "FINDER"})],
    )

    posts = linkedin.find_recent_posts(since=datetime(2026, 11, 27, tzinfo=UTC))

    assert posts == [
        RecentPost(
            external_id=SHARE,
            url=f"https://www.linkedin.com/feed/update/{SHARE}/",
            text="Nueva convocatoria (40 plazas) #empleo",
            created_at=datetime(2026, 11, 28, 8, 40, tzinfo=UTC),
        )
    ]
    assert api.calls[0].request.url == POSTS_FINDER


def test_fetch_inbound_returns_new_comments_and_replies(linkedin, api):
    api.get(POSTS_FINDER, json=payload("linkedin", "posts_by_author"))
    api.get(
        f"{API}/socialActions/{encoded(SHARE)}/comments?start=0&count=50",
        json=payload("linkedin", "comments_post"),
    )
    api.get(
        f"{API}/socialActions/{encoded(C1)}/comments?start=0&count=50",
        json=payload("linkedin", "comments_replies"),
    )
    api.get(
        f"{API}/socialActions/{encoded(UGC)}/comments?start=0&count=50",
        json=payload("linkedin", "comments_empty"),
    )
    after = int(datetime(2026, 11, 28, 9, 0, tzinfo=UTC).timestamp() * 1000)

    page = linkedin.fetch_inbound(cursor={"after": after, "reply_counts": {}})

    assert [(m.external_id, m.thread_key, m.is_from_us) for m in page.messages] == [
        (C1, C1, False),
        (f"urn:li:comment:({ACT},7400000000000000202)", C1, True),
        (f"urn:li:comment:({ACT},7400000000000000203)", C1, False),
    ]
    comment, _, reply = page.messages
    assert comment.kind == InboundKind.PUBLIC_COMMENT
    assert comment.author_id == "urn:li:person:A1b2C3d4E5"
    assert comment.text == "¿Sirve también para mayores de 45 años?"
    assert comment.created_at == datetime(2026, 11, 28, 9, 15, tzinfo=UTC)
    assert (comment.about_post, comment.in_reply_to) == (SHARE, SHARE)
    assert (reply.about_post, reply.in_reply_to) == (SHARE, C1)
    assert page.cursor == {
        "after": int(datetime(2026, 11, 28, 10, 5, tzinfo=UTC).timestamp() * 1000),
        "reply_counts": {C1: 2, f"urn:li:comment:({ACT},7400000000000000200)": 0},
    }


def test_fetch_inbound_skips_replies_whose_count_did_not_change(linkedin, api):
    api.get(POSTS_FINDER, json=payload("linkedin", "posts_by_author"))
    api.get(
        f"{API}/socialActions/{encoded(SHARE)}/comments?start=0&count=50",
        json=payload("linkedin", "comments_post"),
    )
    api.get(
        f"{API}/socialActions/{encoded(UGC)}/comments?start=0&count=50",
        json=payload("linkedin", "comments_empty"),
    )
    after = int(datetime(2026, 11, 28, 9, 20, tzinfo=UTC).timestamp() * 1000)

    page = linkedin.fetch_inbound(cursor={"after": after, "reply_counts": {C1: 2}})

    assert page.messages == []
    assert page.cursor["after"] == after


def test_reply_goes_under_the_top_level_comment(linkedin, api):
    api.post(
        f"{API}/socialActions/{encoded(C1)}/comments",
        status=201,
        json=payload("linkedin", "comment_created"),
        match=[
            matchers.json_params_matcher(
                {
                    "actor": ORG,
                    "object": ACT,
                    "message": {"text": "El plazo acaba el 15 de diciembre (inclusive)."},
                    "parentComment": C1,
                }
            )
        ],
    )
    target = ReplyTarget(
        kind=InboundKind.PUBLIC_COMMENT,
        thread_key=C1,
        external_id=f"urn:li:comment:({ACT},7400000000000000203)",
        author_id="urn:li:person:A1b2C3d4E5",
    )

    result = linkedin.reply(target=target, text="El plazo acaba el 15 de diciembre (inclusive).")

    assert result == PublishResult(external_id=f"urn:li:comment:({ACT},7400000000000000299)", url="")


def test_private_replies_and_hiding_are_not_offered(linkedin, api):
    target = ReplyTarget(kind=InboundKind.PRIVATE_MESSAGE, thread_key="x", external_id="x", author_id="x")
    with pytest.raises(Unsupported):
        linkedin.reply(target=target, text="Hola")
    with pytest.raises(Unsupported):
        linkedin.hide_comment(external_id=C1)
    with pytest.raises(Unsupported):
        linkedin.delete(external_id=C1)


def test_delete_a_post(linkedin, api):
    api.delete(
        f"{API}/posts/{encoded(SHARE)}",
        status=204,
        match=[matchers.header_matcher({"X-RestLi-Method": "DELETE"})],
    )

    linkedin.delete(external_id=SHARE)

    assert api.calls[0].request.url == f"{API}/posts/urn%3Ali%3Ashare%3A7400000000000000001"


def test_deleting_a_post_already_gone_is_fine(linkedin, api):
    api.delete(f"{API}/posts/{encoded(SHARE)}", status=404, json=payload("linkedin", "error_not_found"))

    linkedin.delete(external_id=SHARE)
    assert len(api.calls) == 1


def test_fetch_metrics_reads_share_statistics_for_shares_and_ugc_posts(linkedin, api):
    url = (
        f"{API}/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={ORG_Q}"
        f"&shares=List(urn%3Ali%3Ashare%3A7400000000000000001)&ugcPosts=List(urn%3Ali%3AugcPost%3A7399000000000000002)"
    )
    api.get(url, json=payload("linkedin", "share_statistics"))

    metrics = linkedin.fetch_metrics(external_ids=[SHARE, UGC])

    assert metrics == [
        PostMetrics(external_id=SHARE, impressions=1420, likes=29, shares=7, comments=3, clicks=41),
        PostMetrics(external_id=UGC, impressions=610, likes=11, shares=1, comments=2, clicks=9),
    ]
    assert api.calls[0].request.url == url


def test_little_text_escaping_round_trips():
    text = r"Plazas (40) [CV] {2026} @empleo #ocupació *nuevo* _ya_ ~ya~ <hoy> a|b \o/"

    assert unescape_little_text(escape_little_text(text)) == text
    assert escape_little_text("(a)") == "\\(a\\)"


# --- errors -----------------------------------------------------------------------------------------


def test_a_retired_api_version_means_the_configuration_is_out_of_date(linkedin, api):
    api.post(f"{API}/posts", status=426, json=payload("linkedin", "error_version"))

    with pytest.raises(ConfigurationOutdated, match="SOCIALDESK_LINKEDIN_VERSION") as caught:
        linkedin.publish(text="Hola")

    assert isinstance(caught.value, AuthorizationExpired)


def test_an_invalid_token_means_authorization_expired(linkedin, api):
    api.get(POSTS_FINDER, status=401, json=payload("linkedin", "error_unauthorized"))

    with pytest.raises(AuthorizationExpired, match="60 days") as caught:
        linkedin.fetch_inbound(cursor={})

    assert not isinstance(caught.value, ConfigurationOutdated)


def test_a_channel_without_a_token_needs_reconnecting_without_calling_linkedin(api, db):
    channel = channel_connect(
        network=Network.LINKEDIN, account_id="5515715", display_name="Empleo", credentials={}
    )

    with pytest.raises(AuthorizationExpired):
        connector_for(channel).publish(text="Hola")


def test_throttling_means_rate_limited_until_midnight_utc(linkedin, api):
    api.post(f"{API}/posts", status=429, json=payload("linkedin", "error_throttled"))

    with pytest.raises(RateLimited) as caught:
        linkedin.publish(text="Hola")

    assert caught.value.until == datetime(2026, 11, 29, 0, 0, tzinfo=UTC)


def test_throttling_with_retry_after_waits_that_long(linkedin, api):
    api.get(
        POSTS_FINDER, status=429, json=payload("linkedin", "error_throttled"), headers={"Retry-After": "120"}
    )

    with pytest.raises(RateLimited) as caught:
        linkedin.fetch_inbound(cursor={})

    assert caught.value.until == NOW + timedelta(seconds=120)


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [(422, "error_duplicate", "duplicate"), (403, "error_forbidden", "Not enough permissions")],
)
def test_refusals_mean_rejected_with_linkedin_words(linkedin, api, status, error, words):
    api.post(f"{API}/posts", status=status, json=payload("linkedin", error))

    with pytest.raises(Rejected, match=words):
        linkedin.publish(text="Hola")


def test_a_server_error_after_a_write_is_transient_and_may_have_published(linkedin, api):
    api.post(f"{API}/posts", status=500, json=payload("linkedin", "error_server"))

    with pytest.raises(Transient) as caught:
        linkedin.publish(text="Hola")

    assert caught.value.request_sent is True


@pytest.mark.parametrize(
    ("failure", "request_sent"), [(requests.ConnectTimeout(), False), (requests.ReadTimeout(), True)]
)
def test_no_answer_is_transient(linkedin, api, failure, request_sent):
    api.post(f"{API}/posts", body=failure)

    with pytest.raises(Transient) as caught:
        linkedin.publish(text="Hola")

    assert caught.value.request_sent is request_sent
    api.calls.reset()  # the interrupted call has no answer to check
