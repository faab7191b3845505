"""Facebook Pages and Instagram professional accounts: Facebook Login for one Meta app.

The code becomes a short-lived user token, that one a long-lived user token (about 60 days), and
that one lists the Pages the person manages with a Page token each (``GET /me/accounts``). Page
tokens obtained from a long-lived user token do not expire, so only they are kept: the user token
is thrown away. An Instagram account is reached through the Page it is linked to (the Page's
``instagram_business_account``), with that Page's token. Once connected, the Page is subscribed to
the app's webhooks (``POST /{page}/subscribed_apps``); if Meta refuses, polling still brings
everything, and the person connecting is told.
"""

import logging
from abc import abstractmethod
from urllib.parse import urlencode

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

from networks.base import AuthorizationExpired, ConnectorError
from networks.graph import GraphClient, appsecret_proof
from networks.models import Network
from networks.oauth.base import ConnectableAccount, OAuthProvider
from networks.services import channel_mark_needs_reconnect

logger = logging.getLogger(__name__)

GRAPH = "https://graph.facebook.com"
DIALOG = "https://www.facebook.com"
# The Pages a person manages rarely pass a few dozen; one page of the list is enough.
PAGES_LIMIT = 100
# The Page's webhook fields: comments and posts (feed), Messenger and Instagram Direct (messages).
WEBHOOK_FIELDS = "feed,messages"


def graph_url(path: str) -> str:
    return f"{GRAPH}/{settings.SOCIALDESK_GRAPH_API_VERSION}/{path}"


class MetaOAuth(OAuthProvider):
    app_settings = ("SOCIALDESK_META_APP_ID", "META_APP_SECRET")
    scopes: tuple[str, ...] = ()

    def authorization_url(self, *, state: str, code_challenge: str, flow: dict) -> str:
        query = {
            "client_id": settings.SOCIALDESK_META_APP_ID,
            "redirect_uri": self.redirect_uri(),
            "state": state,
            "response_type": "code",
            "scope": ",".join(self.scopes),
        }
        return f"{DIALOG}/{settings.SOCIALDESK_GRAPH_API_VERSION}/dialog/oauth?{urlencode(query)}"

    def accounts(self, *, code: str, code_verifier: str, flow: dict) -> list[ConnectableAccount]:
        app = {"client_id": settings.SOCIALDESK_META_APP_ID, "client_secret": settings.META_APP_SECRET}
        short_lived = self.call(
            "GET",
            graph_url("oauth/access_token"),
            params={**app, "redirect_uri": self.redirect_uri(), "code": code},
        )
        long_lived = self.call(
            "GET",
            graph_url("oauth/access_token"),
            params={
                **app,
                "grant_type": "fb_exchange_token",
                "fb_exchange_token": self.access_token_of(short_lived),
            },
        )
        user_token = self.access_token_of(long_lived)
        pages = self.call(
            "GET",
            graph_url("me/accounts"),
            params={
                "fields": "id,name,access_token,instagram_business_account{id,username,name}",
                "limit": PAGES_LIMIT,
                "access_token": user_token,
                "appsecret_proof": appsecret_proof(user_token),
            },
        )
        return [
            account
            for page in pages.get("data", [])
            if page.get("access_token")
            for account in self.accounts_of_page(page)
        ]

    def after_connect(self, channel) -> str:
        """Subscribe the Page to the app's webhooks (feed and messages; an Instagram account's are
        delivered through its Page), so its comments and messages come as they happen."""
        credentials = channel.credentials
        page_id = credentials.get("page_id") or channel.account_id
        try:
            GraphClient(access_token=credentials.get("access_token", ""), network_name=self.label).post(
                f"{page_id}/subscribed_apps", subscribed_fields=WEBHOOK_FIELDS
            )
        except ConnectorError as exc:
            logger.warning("Meta: subscribing Page %s to webhooks failed: %s", page_id, exc.reason)
            if isinstance(exc, AuthorizationExpired):  # a token that never worked (connect_channel)
                channel_mark_needs_reconnect(channel=channel, reason=exc.reason)
            return gettext(
                "%(network)s did not agree to send this account's comments and messages as they "
                "happen. %(reason)s SocialDesk still finds them when it checks, every few minutes."
            ) % {"network": self.label, "reason": exc.reason}
        return ""

    @abstractmethod
    def accounts_of_page(self, page: dict) -> list[ConnectableAccount]:
        """The accounts one item of `/me/accounts` offers (the Page itself, or its Instagram account)."""


class FacebookOAuth(MetaOAuth):
    network = Network.FACEBOOK
    # What networks.facebook needs, and pages_show_list to list the Pages at all.
    scopes = (
        "pages_show_list",
        "pages_manage_posts",
        "pages_read_engagement",
        "pages_read_user_content",
        "pages_manage_engagement",
        "pages_manage_metadata",
        "pages_messaging",
        "read_insights",
    )
    no_accounts_message = gettext_lazy(
        "Facebook lists no Page that this person manages and allowed SocialDesk to use."
    )

    def accounts_of_page(self, page: dict) -> list[ConnectableAccount]:
        return [
            ConnectableAccount(
                account_id=str(page["id"]),
                display_name=page.get("name", ""),
                handle="",
                credentials={"access_token": page["access_token"]},
            )
        ]


class InstagramOAuth(MetaOAuth):
    network = Network.INSTAGRAM
    # What networks.instagram needs; Direct messages go through the Page's Messenger endpoints.
    scopes = (
        "instagram_basic",
        "instagram_content_publish",
        "instagram_manage_comments",
        "instagram_manage_insights",
        "instagram_manage_messages",
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_metadata",
    )
    no_accounts_message = gettext_lazy(
        "None of the Facebook Pages this person manages has an Instagram professional account linked to it."
    )

    def accounts_of_page(self, page: dict) -> list[ConnectableAccount]:
        instagram = page.get("instagram_business_account")
        if not instagram or not instagram.get("id"):
            return []
        return [
            ConnectableAccount(
                account_id=str(instagram["id"]),
                display_name=instagram.get("name") or instagram.get("username", ""),
                handle=instagram.get("username", ""),
                credentials={"access_token": page["access_token"], "page_id": str(page["id"])},
                description=gettext("linked to the Facebook Page %(page)s") % {"page": page.get("name", "")},
            )
        ]
