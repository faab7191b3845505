"""The browser connect flows: the administrator is sent to each network with a fresh `state`, comes
back with a code, and the tokens end up encrypted on the channel. Every call to a network is
intercepted at its exact documented URL; a request nobody intercepted fails the test."""

import base64
import hashlib
import hmac
import html
import runpy
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests
import responses
import respx
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from responses import matchers

from networks.models import Channel, ChannelStatus, Network
from socialdesk.models.audit import AuditAction, AuditEvent
from tests.environment_reads import REPO, variables_read
from tests.networks.fixtures import REBINDING_HOST
from tests.networks.payloads import payload

PUBLIC_URL = "https://desk.example.org"
NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
GRAPH = "https://graph.facebook.com/v24.0"
X_TOKEN = "https://api.twitter.com/2/oauth2/token"
X_ME = "https://api.twitter.com/2/users/me"


def callback(network: str) -> str:
    return f"{PUBLIC_URL}/channels/connect/{network}/callback/"


@pytest.fixture(autouse=True)
def apps_configured(settings):
    settings.SOCIALDESK_PUBLIC_URL = PUBLIC_URL
    settings.SOCIALDESK_X_CLIENT_ID = "x-client-id"
    settings.SOCIALDESK_X_CLIENT_SECRET = "x-client-secret"
    settings.SOCIALDESK_META_APP_ID = "1234567890"
    settings.META_APP_SECRET = "meta-app-secret"
    settings.SOCIALDESK_LINKEDIN_CLIENT_ID = "li-client-id"
    settings.SOCIALDESK_LINKEDIN_CLIENT_SECRET = "li-client-secret"
    settings.SOCIALDESK_GOOGLE_CLIENT_ID = "google-client-id.apps.googleusercontent.com"
    settings.SOCIALDESK_GOOGLE_CLIENT_SECRET = "google-client-secret"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def network_api():
    """Only registered requests exist, and each must be called."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def start(client, network: str) -> dict[str, str]:
    """Begin connecting `network`; the query of the consent page we are sent to."""
    response = client.get(reverse("networks:connect", args=[network]))
    assert response.status_code == 302
    return {key: values[0] for key, values in parse_qs(urlsplit(response["Location"]).query).items()}


def finish(client, network: str, **params):
    return client.get(reverse("networks:connect_callback", args=[network]), params)


def messages_of(response) -> list[str]:
    """The messages this response added (not those still waiting from earlier requests)."""
    return [str(message) for message in response.wsgi_request._messages._queued_messages]


def raw_credentials(channel: Channel) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials_encrypted FROM networks_channel WHERE id = %s", [channel.pk])
        return cursor.fetchone()[0]


# --- X: OAuth 2.0 with PKCE ---------------------------------------------------------------------


def x_token_exchange(network_api, *, verifier_check: dict):
    def answer(request):
        sent = parse_qs(request.body)
        verifier_check["verifier"] = sent["code_verifier"][0]
        return (
            200,
            {},
            (
                '{"token_type":"bearer","expires_in":7200,"access_token":"x-access-1",'
                '"scope":"tweet.read users.read offline.access","refresh_token":"x-refresh-1"}'
            ),
        )

    basic = base64.b64encode(b"x-client-id:x-client-secret").decode()
    network_api.add_callback(
        responses.POST,
        X_TOKEN,
        callback=answer,
        content_type="application/json",
        match=[
            matchers.header_matcher({"Authorization": f"Basic {basic}"}),
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "authorization_code",
                    "code": "x-code",
                    "redirect_uri": callback("x"),
                    "client_id": "x-client-id",
                },
                allow_blank=False,
                strict_match=False,
            ),
        ],
    )
    network_api.get(
        X_ME,
        json={"data": {"id": "1460000000000000000", "name": "Ocupació GVA", "username": "ocupaciogva"}},
        match=[matchers.header_matcher({"Authorization": "Bearer x-access-1"})],
    )


def test_x_sends_the_administrator_to_x_with_pkce_and_the_registered_redirect(admin_client):
    query = start(admin_client, "x")

    assert query["client_id"] == "x-client-id"
    assert query["redirect_uri"] == callback("x")
    assert query["response_type"] == "code"
    assert set(query["scope"].split()) >= {
        "tweet.read",
        "tweet.write",
        "users.read",
        "offline.access",
        "dm.read",
    }
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 43
    assert "x-client-secret" not in str(query)


def test_x_connect_stores_the_tokens_encrypted_and_audits(admin_client, administrator, network_api):
    sent = {}
    query = start(admin_client, "x")
    x_token_exchange(network_api, verifier_check=sent)

    response = finish(admin_client, "x", state=query["state"], code="x-code")

    assert response.status_code == 302
    assert response["Location"] == reverse("networks:channels")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(sent["verifier"].encode()).digest()).rstrip(b"=")
    assert challenge.decode() == query["code_challenge"]
    channel = Channel.objects.get(network=Network.X)
    assert (channel.account_id, channel.handle, channel.display_name) == (
        "1460000000000000000",
        "ocupaciogva",
        "Ocupació GVA",
    )
    assert channel.status == ChannelStatus.ACTIVE
    assert channel.credentials == {
        "access_token": "x-access-1",
        "refresh_token": "x-refresh-1",
        "expires_at": (NOW + timedelta(hours=2)).isoformat(),
        "client_id": "x-client-id",
    }
    stored = raw_credentials(channel)
    assert stored.startswith("gAAAAA")  # a Fernet token
    assert "x-access-1" not in stored and "x-refresh-1" not in stored
    event = AuditEvent.objects.get(action=AuditAction.CHANNEL_CONNECTED)
    assert event.actor == administrator
    assert "x-access-1" not in str(event.details)


def test_state_is_single_use(admin_client, network_api):
    query = start(admin_client, "x")
    x_token_exchange(network_api, verifier_check={})
    finish(admin_client, "x", state=query["state"], code="x-code")

    again = finish(admin_client, "x", state=query["state"], code="x-code")

    assert "expired or was already used" in messages_of(again)[0]
    assert Channel.objects.count() == 1
    assert len(network_api.calls) == 2  # the token exchange and the account, once


def test_a_foreign_state_connects_nothing_and_calls_no_network(admin_client):
    start(admin_client, "x")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as nothing:
        response = finish(admin_client, "x", state="forged-state-from-another-browser", code="x-code")
        assert len(nothing.calls) == 0
    assert "does not belong to this connection attempt" in messages_of(response)[0]
    assert not Channel.objects.exists()
    # The attempt is spent too: the genuine answer arriving late is refused as well.
    late = finish(admin_client, "x", state="anything", code="x-code")
    assert "expired or was already used" in messages_of(late)[0]


def test_a_callback_without_a_started_flow_is_refused(admin_client):
    response = finish(admin_client, "x", state="some-state", code="x-code")

    assert "expired or was already used" in messages_of(response)[0]
    assert not Channel.objects.exists()


def test_the_flow_expires_after_fifteen_minutes(admin_client):
    query = start(admin_client, "x")

    with time_machine.travel(NOW + timedelta(minutes=16), tick=False):
        response = finish(admin_client, "x", state=query["state"], code="x-code")

    assert "expired or was already used" in messages_of(response)[0]


def test_a_refusal_on_the_network_is_explained(admin_client):
    query = start(admin_client, "x")

    response = finish(admin_client, "x", state=query["state"], error="access_denied")

    assert messages_of(response) == ["X did not authorize SocialDesk (access_denied); nothing was connected."]
    assert not Channel.objects.exists()


def test_a_failing_token_exchange_says_what_x_said(admin_client, network_api):
    query = start(admin_client, "x")
    network_api.post(
        X_TOKEN,
        status=400,
        json={
            "error": "invalid_request",
            "error_description": "Value passed for the authorization code was invalid.",
        },
    )

    response = finish(admin_client, "x", state=query["state"], code="x-code")

    assert messages_of(response) == ["X refused: Value passed for the authorization code was invalid."]


def test_an_unreachable_network_is_said_without_repeating_the_request(admin_client, network_api):
    query = start(admin_client, "facebook")
    network_api.get(
        f"{GRAPH}/oauth/access_token", body=requests.ConnectionError("graph.facebook.com unreachable")
    )

    response = finish(admin_client, "facebook", state=query["state"], code="fb-code")

    (message,) = messages_of(response)
    assert message.startswith("Could not reach Facebook")
    assert "meta-app-secret" not in message and "fb-code" not in message


def test_an_unconfigured_network_says_what_to_set(admin_client, settings):
    settings.SOCIALDESK_X_CLIENT_SECRET = ""

    page = admin_client.get(reverse("networks:channels")).content.decode()
    response = admin_client.get(reverse("networks:connect", args=["x"]))

    assert "Not configured: set SOCIALDESK_X_CLIENT_SECRET." in page
    assert response["Location"] == reverse("networks:channels")
    assert messages_of(response) == ["X is not configured: set SOCIALDESK_X_CLIENT_SECRET."]


def test_without_a_public_address_no_oauth_network_can_start(admin_client, settings):
    settings.SOCIALDESK_PUBLIC_URL = ""

    response = admin_client.get(reverse("networks:connect", args=["linkedin"]))

    assert messages_of(response) == ["LinkedIn is not configured: set SOCIALDESK_PUBLIC_URL."]


def test_an_unknown_network_is_not_found(admin_client):
    assert admin_client.get(reverse("networks:connect", args=["myspace"])).status_code == 404
    assert admin_client.get(reverse("networks:connect", args=["sandbox"])).status_code == 404


@pytest.mark.parametrize("role", ["supervisor", "outsider"])
def test_only_administrators_and_the_manager_connect(client, request, role):
    client.force_login(request.getfixturevalue(role))

    assert client.get(reverse("networks:connect", args=["x"])).status_code == 403
    assert (
        client.get(reverse("networks:connect_callback", args=["x"]), {"state": "s", "code": "c"}).status_code
        == 403
    )
    assert client.get(reverse("networks:connect_choose", args=["facebook"])).status_code == 403
    assert (
        client.post(reverse("networks:connect_bluesky"), {"handle": "a", "app_password": "b"}).status_code
        == 403
    )
    assert not Channel.objects.exists()


def test_anonymous_callback_is_sent_to_sign_in(client, db):
    response = client.get(reverse("networks:connect_callback", args=["x"]), {"state": "s", "code": "c"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Meta: Facebook Pages and Instagram ---------------------------------------------------------


def meta_tokens(network_api, network: str):
    app = {"client_id": "1234567890", "client_secret": "meta-app-secret"}
    network_api.get(
        f"{GRAPH}/oauth/access_token",
        json={"access_token": "short-user-token", "token_type": "bearer", "expires_in": 5183944},
        match=[matchers.query_param_matcher({**app, "redirect_uri": callback(network), "code": "fb-code"})],
    )
    network_api.get(
        f"{GRAPH}/oauth/access_token",
        json={"access_token": "long-user-token", "token_type": "bearer", "expires_in": 5183944},
        match=[
            matchers.query_param_matcher(
                {**app, "grant_type": "fb_exchange_token", "fb_exchange_token": "short-user-token"}
            )
        ],
    )


def me_accounts(network_api, pages: list[dict]):
    network_api.get(
        f"{GRAPH}/me/accounts",
        json={"data": pages, "paging": {"cursors": {"before": "QVFIUmx", "after": "QVFIUmx"}}},
        match=[
            matchers.query_param_matcher(
                {
                    "fields": "id,name,access_token,instagram_business_account{id,username,name}",
                    "limit": "100",
                    "access_token": "long-user-token",
                    # HMAC-SHA256 of the user token under the app secret: Meta asks it of every call
                    # when the app requires it.
                    "appsecret_proof": hmac.new(
                        b"meta-app-secret", b"long-user-token", hashlib.sha256
                    ).hexdigest(),
                }
            )
        ],
    )


def page_subscribes(network_api, page_id: str, page_token: str, *, refused: bool = False):
    """The Page's subscription to the app's webhooks, made with its token and the app secret's proof."""
    proof = hmac.new(b"meta-app-secret", page_token.encode(), hashlib.sha256).hexdigest()
    answer = (
        {
            "json": {
                "error": {
                    "message": "(#200) Requires pages_manage_metadata permission",
                    "type": "OAuthException",
                    "code": 200,
                }
            },
            "status": 403,
        }
        if refused
        else {"json": {"success": True}}
    )
    network_api.post(
        f"{GRAPH}/{page_id}/subscribed_apps",
        **answer,
        match=[
            matchers.urlencoded_params_matcher(
                {"subscribed_fields": "feed,messages", "access_token": page_token}
            ),
            matchers.query_param_matcher({"appsecret_proof": proof}),
        ],
    )


PAGES = [
    {
        "id": "104857321234567",
        "name": "Empleo Comunitat Valenciana",
        "access_token": "page-token-empleo",
        "category": "Government organization",
        "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
    },
    {
        "id": "104857321234999",
        "name": "Formació Professional",
        "access_token": "page-token-formacio",
        "instagram_business_account": {"id": "17841405822304914", "username": "fp_cv", "name": "FP CV"},
    },
]


def test_facebook_asks_for_the_page_permissions_in_the_pinned_version(admin_client):
    response = admin_client.get(reverse("networks:connect", args=["facebook"]))

    location = urlsplit(response["Location"])
    query = {key: values[0] for key, values in parse_qs(location.query).items()}
    assert (
        f"{location.scheme}://{location.netloc}{location.path}"
        == "https://www.facebook.com/v24.0/dialog/oauth"
    )
    assert query["client_id"] == "1234567890"
    assert query["redirect_uri"] == callback("facebook")
    assert {"pages_show_list", "pages_manage_posts", "pages_messaging"} <= set(query["scope"].split(","))


def test_facebook_with_several_pages_lets_the_administrator_choose(admin_client, network_api):
    query = start(admin_client, "facebook")
    meta_tokens(network_api, "facebook")
    me_accounts(network_api, PAGES)

    response = finish(admin_client, "facebook", state=query["state"], code="fb-code")

    assert response["Location"] == reverse("networks:connect_choose", args=["facebook"])
    assert not Channel.objects.exists()
    page = admin_client.get(response["Location"]).content.decode()
    assert "Empleo Comunitat Valenciana" in page and "Formació Professional" in page
    assert "page-token" not in page  # tokens never reach the browser
    assert "page-token" not in str(dict(admin_client.session))  # kept encrypted in the session

    page_subscribes(network_api, "104857321234999", "page-token-formacio")
    chosen = admin_client.post(response["Location"], {"account_id": "104857321234999"})

    assert chosen["Location"] == reverse("networks:channels")
    assert len(messages_of(chosen)) == 1  # connected, and nothing to warn about
    channel = Channel.objects.get()
    assert (channel.network, channel.account_id, channel.display_name) == (
        "facebook",
        "104857321234999",
        "Formació Professional",
    )
    assert channel.credentials == {"access_token": "page-token-formacio"}
    # The choice is spent.
    assert admin_client.get(response["Location"])["Location"] == reverse("networks:channels")


def test_a_choice_not_offered_connects_nothing(admin_client, network_api):
    query = start(admin_client, "facebook")
    meta_tokens(network_api, "facebook")
    me_accounts(network_api, PAGES)
    finish(admin_client, "facebook", state=query["state"], code="fb-code")

    response = admin_client.post(reverse("networks:connect_choose", args=["facebook"]), {"account_id": "999"})

    assert response.status_code == 200  # the form says the choice is not valid
    assert not Channel.objects.exists()


def test_instagram_connects_the_account_linked_to_a_page_with_that_pages_token(admin_client, network_api):
    query = start(admin_client, "instagram")
    assert "instagram_content_publish" in query["scope"].split(",")
    meta_tokens(network_api, "instagram")
    me_accounts(network_api, PAGES)
    page_subscribes(network_api, "104857321234999", "page-token-formacio")  # its Page delivers its webhooks

    finish(admin_client, "instagram", state=query["state"], code="fb-code")

    channel = Channel.objects.get()
    assert (channel.network, channel.account_id, channel.handle, channel.display_name) == (
        "instagram",
        "17841405822304914",
        "fp_cv",
        "FP CV",
    )
    assert channel.credentials == {"access_token": "page-token-formacio", "page_id": "104857321234999"}


def test_a_page_meta_will_not_subscribe_is_connected_with_a_warning(admin_client, network_api):
    query = start(admin_client, "facebook")
    meta_tokens(network_api, "facebook")
    me_accounts(network_api, PAGES[:1])
    page_subscribes(network_api, "104857321234567", "page-token-empleo", refused=True)

    response = finish(admin_client, "facebook", state=query["state"], code="fb-code")

    assert Channel.objects.get().status == ChannelStatus.ACTIVE  # polling still brings everything
    _connected, warning = messages_of(response)
    assert "pages_manage_metadata" in warning


def test_instagram_without_a_linked_account_says_so(admin_client, network_api):
    query = start(admin_client, "instagram")
    meta_tokens(network_api, "instagram")
    me_accounts(network_api, PAGES[:1])

    response = finish(admin_client, "instagram", state=query["state"], code="fb-code")

    assert "has an Instagram professional account linked" in messages_of(response)[0]
    assert not Channel.objects.exists()


# --- LinkedIn ------------------------------------------------------------------------------------

LINKEDIN_HEADERS = {
    "Authorization": "Bearer li-access",
    "LinkedIn-Version": "202511",
    "X-Restli-Protocol-Version": "2.0.0",
}


def linkedin_token(network_api):
    network_api.post(
        "https://www.linkedin.com/oauth/v2/accessToken",
        json={"access_token": "li-access", "expires_in": 5184000, "scope": "w_organization_social"},
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "authorization_code",
                    "code": "li-code",
                    "redirect_uri": callback("linkedin"),
                    "client_id": "li-client-id",
                    "client_secret": "li-client-secret",
                }
            )
        ],
    )


def test_linkedin_connects_the_organization_the_member_administers(admin_client, network_api):
    query = start(admin_client, "linkedin")
    assert query["scope"].split() == [
        "w_organization_social",
        "r_organization_social",
        "rw_organization_admin",
    ]
    linkedin_token(network_api)
    network_api.get(
        "https://api.linkedin.com/rest/organizationAcls",
        json={
            "paging": {"start": 0, "count": 10, "total": 1},
            "elements": [
                {
                    "roleAssignee": "urn:li:person:8675309",
                    "state": "APPROVED",
                    "role": "ADMINISTRATOR",
                    "organization": "urn:li:organization:5515715",
                }
            ],
        },
        match=[
            matchers.query_param_matcher({"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED"}),
            matchers.header_matcher(LINKEDIN_HEADERS),
        ],
    )
    network_api.get(
        "https://api.linkedin.com/rest/organizations/5515715",
        json={
            "id": 5515715,
            "localizedName": "LABORA Servei Valencià d'Ocupació",
            "vanityName": "labora-gva",
        },
        match=[matchers.header_matcher(LINKEDIN_HEADERS)],
    )

    finish(admin_client, "linkedin", state=query["state"], code="li-code")

    channel = Channel.objects.get()
    assert (channel.account_id, channel.display_name, channel.handle) == (
        "5515715",
        "LABORA Servei Valencià d'Ocupació",
        "labora-gva",
    )
    assert channel.credentials == {
        "access_token": "li-access",
        "expires_at": (NOW + timedelta(days=60)).isoformat(),
    }


def test_linkedin_with_a_retired_api_version_names_the_setting(admin_client, network_api):
    query = start(admin_client, "linkedin")
    linkedin_token(network_api)
    network_api.get(
        "https://api.linkedin.com/rest/organizationAcls",
        status=426,
        json=payload("linkedin", "error_version"),
    )

    response = finish(admin_client, "linkedin", state=query["state"], code="li-code")

    (message,) = messages_of(response)
    assert "SOCIALDESK_LINKEDIN_VERSION" in message
    assert not Channel.objects.exists()


# --- YouTube (Google) ----------------------------------------------------------------------------


def test_youtube_asks_for_offline_access_and_keeps_the_refresh_token(admin_client, network_api):
    query = start(admin_client, "youtube")
    assert (query["access_type"], query["prompt"]) == ("offline", "consent")
    assert query["scope"] == "https://www.googleapis.com/auth/youtube.force-ssl"
    assert query["code_challenge_method"] == "S256"
    network_api.post(
        "https://oauth2.googleapis.com/token",
        json={
            "access_token": "ya29.google-access",
            "expires_in": 3599,
            "refresh_token": "1//google-refresh",
            "scope": "https://www.googleapis.com/auth/youtube.force-ssl",
            "token_type": "Bearer",
        },
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "client_id": "google-client-id.apps.googleusercontent.com",
                    "client_secret": "google-client-secret",
                    "grant_type": "authorization_code",
                    "code": "g-code",
                    "redirect_uri": callback("youtube"),
                },
                strict_match=False,
            )
        ],
    )
    network_api.get(
        "https://youtube.googleapis.com/youtube/v3/channels",
        json={
            "kind": "youtube#channelListResponse",
            "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
            "items": [
                {
                    "kind": "youtube#channel",
                    "id": "UCq3Ci-h945sbEYXpVlw7rJg",
                    "snippet": {"title": "LABORA GVA", "customUrl": "@laboragva"},
                }
            ],
        },
        match=[
            matchers.query_param_matcher({"part": "snippet", "mine": "true"}),
            matchers.header_matcher({"Authorization": "Bearer ya29.google-access"}),
        ],
    )

    finish(admin_client, "youtube", state=query["state"], code="g-code")

    channel = Channel.objects.get()
    assert (channel.account_id, channel.display_name, channel.handle) == (
        "UCq3Ci-h945sbEYXpVlw7rJg",
        "LABORA GVA",
        "laboragva",
    )
    assert channel.credentials == {
        "refresh_token": "1//google-refresh",
        "client_id": "google-client-id.apps.googleusercontent.com",
        "client_secret": "google-client-secret",
    }


def test_youtube_without_a_refresh_token_connects_nothing(admin_client, network_api):
    query = start(admin_client, "youtube")
    network_api.post(
        "https://oauth2.googleapis.com/token", json={"access_token": "ya29.x", "expires_in": 3599}
    )

    response = finish(admin_client, "youtube", state=query["state"], code="g-code")

    assert messages_of(response) == ["Google gave no refresh token, so SocialDesk could not keep access."]
    assert not Channel.objects.exists()


# --- Mastodon: register on the instance, then OAuth ---------------------------------------------


def test_mastodon_registers_on_the_instance_then_connects(admin_client, network_api):
    network_api.post(
        "https://xarxa.example/api/v1/apps",
        json={
            "id": "563419",
            "name": "SocialDesk",
            "website": PUBLIC_URL,
            "redirect_uri": callback("mastodon"),
            "redirect_uris": [callback("mastodon")],
            "client_id": "mastodon-client-id",
            "client_secret": "mastodon-client-secret",
            "vapid_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M=",
        },
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "client_name": "SocialDesk",
                    "redirect_uris": callback("mastodon"),
                    "scopes": "read:statuses read:notifications write:statuses write:media",
                    "website": PUBLIC_URL,
                }
            )
        ],
    )

    form = admin_client.get(reverse("networks:connect_mastodon"))
    page = admin_client.post(reverse("networks:connect_mastodon"), {"instance": "Xarxa.example/"})

    assert form.status_code == 200
    authorize = page.context["authorize_url"]
    assert authorize.startswith("https://xarxa.example/oauth/authorize?")
    assert f'href="{authorize.replace("&", "&amp;")}"' in page.content.decode()
    query = {key: values[0] for key, values in parse_qs(urlsplit(authorize).query).items()}
    assert query["client_id"] == "mastodon-client-id"
    assert "mastodon-client-secret" not in page.content.decode()

    network_api.post(
        "https://xarxa.example/oauth/token",
        json={
            "access_token": "masto-token",
            "token_type": "Bearer",
            "scope": "read:statuses",
            "created_at": 1772712000,
        },
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "authorization_code",
                    "code": "m-code",
                    "client_id": "mastodon-client-id",
                    "client_secret": "mastodon-client-secret",
                    "redirect_uri": callback("mastodon"),
                },
                strict_match=False,
            )
        ],
    )
    network_api.get(
        "https://xarxa.example/api/v1/accounts/verify_credentials",
        json={**payload("mastodon", "account_ours"), "display_name": "Ocupació"},
        match=[matchers.header_matcher({"Authorization": "Bearer masto-token"})],
    )

    finish(admin_client, "mastodon", state=query["state"], code="m-code")

    channel = Channel.objects.get()
    ours = payload("mastodon", "account_ours")
    assert (channel.account_id, channel.handle) == (str(ours["id"]), f"{ours['username']}@xarxa.example")
    assert channel.credentials == {"api_base_url": "https://xarxa.example", "access_token": "masto-token"}


def test_mastodon_refuses_an_address_that_is_not_https(admin_client):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as nothing:
        page = admin_client.post(reverse("networks:connect_mastodon"), {"instance": "http://xarxa.example"})
        assert len(nothing.calls) == 0

    assert "https://" in page.content.decode()
    assert "authorize_url" not in page.context


# --- Bluesky: handle and app password ----------------------------------------------------------


@pytest.fixture
def xrpc():
    with respx.mock(
        base_url="https://bsky.social/xrpc", assert_all_called=True, assert_all_mocked=True
    ) as mock:
        yield mock


def test_bluesky_opens_a_session_and_keeps_it(admin_client, xrpc):
    session = payload("bluesky", "create_session")
    login = xrpc.post("/com.atproto.server.createSession").mock(
        return_value=httpx.Response(200, json=session)
    )
    xrpc.get("/app.bsky.actor.getProfile", params={"actor": session["handle"]}).mock(
        return_value=httpx.Response(
            200, json={"did": session["did"], "handle": session["handle"], "displayName": "Ocupació GVA"}
        )
    )

    response = admin_client.post(
        reverse("networks:connect_bluesky"),
        {"handle": "@ocupacio.bsky.social", "app_password": "abcd-efgh-ijkl-mnop"},
    )

    assert response["Location"] == reverse("networks:channels")
    assert (
        login.calls.last.request.content
        == b'{"identifier":"ocupacio.bsky.social","password":"abcd-efgh-ijkl-mnop"}'
    )
    channel = Channel.objects.get()
    assert (channel.network, channel.account_id, channel.handle, channel.display_name) == (
        "bluesky",
        session["did"],
        "ocupacio.bsky.social",
        "Ocupació GVA",
    )
    credentials = channel.credentials
    assert credentials["app_password"] == "abcd-efgh-ijkl-mnop"
    assert session["accessJwt"] in credentials["session_string"]
    assert "abcd-efgh" not in raw_credentials(channel)


def test_bluesky_with_a_wrong_password_connects_nothing(admin_client, xrpc):
    xrpc.post("/com.atproto.server.createSession").mock(
        return_value=httpx.Response(401, json=payload("bluesky", "error_invalid_password"))
    )

    response = admin_client.post(
        reverse("networks:connect_bluesky"), {"handle": "ocupacio.bsky.social", "app_password": "wrong"}
    )

    assert response.status_code == 200
    assert "did not accept this handle and app password" in response.content.decode()
    assert 'value="wrong"' not in response.content.decode()  # the password is not sent back
    assert not Channel.objects.exists()


# --- the public address setting -------------------------------------------------------------------


@pytest.fixture
def load_settings(monkeypatch, tmp_path):
    """Run socialdesk/settings.py afresh in DEBUG with the given public address."""

    def load(public_url: str) -> dict:
        for name in variables_read():
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(f"{name}_FILE", raising=False)
        monkeypatch.setenv("DEBUG", "true")
        monkeypatch.setenv("SOCIALDESK_VAR_DIR", str(tmp_path / "var"))
        monkeypatch.setenv("SOCIALDESK_PUBLIC_URL", public_url)
        return runpy.run_path(str(REPO / "socialdesk" / "settings.py"))

    return load


def test_the_public_address_is_scheme_and_host(load_settings):
    assert load_settings("https://desk.example.org/")["SOCIALDESK_PUBLIC_URL"] == "https://desk.example.org"
    assert load_settings("http://127.0.0.1:8000")["SOCIALDESK_PUBLIC_URL"] == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    "value", ["desk.example.org", "ftp://desk.example.org", "https://desk.example.org/desk", "https://a@b"]
)
def test_a_public_address_that_is_not_scheme_and_host_stops_the_start(load_settings, value):
    with pytest.raises(ImproperlyConfigured, match="SOCIALDESK_PUBLIC_URL"):
        load_settings(value)


@pytest.mark.parametrize(
    "instance", ["https://127.0.0.1", "https://[::1]", "https://169.254.169.254", "10.0.0.7"]
)
def test_a_mastodon_instance_inside_a_private_network_is_refused(admin_client, network_api, instance):
    page = admin_client.post(reverse("networks:connect_mastodon"), {"instance": instance}, follow=True)

    assert "private network" in page.content.decode() or "red privada" in page.content.decode()
    assert not network_api.calls


def test_a_mastodon_instance_re_pointed_inside_after_the_check_is_refused_in_words(
    admin_client, rebinding_host
):
    # The name looks public when the typed address is checked, then answers with a loopback address
    # (DNS rebinding): the guarded session refuses to connect, and the page says why.
    page = admin_client.post(reverse("networks:connect_mastodon"), {"instance": REBINDING_HOST}, follow=True)

    assert rebinding_host == []  # no socket opened
    with translation.override(page.wsgi_request.LANGUAGE_CODE):
        said = gettext(
            "The address of %(network)s is inside a private network: SocialDesk does not connect there."
        ) % {"network": "Mastodon"}
    assert said in html.unescape(page.content.decode())
