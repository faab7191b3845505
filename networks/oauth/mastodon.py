"""Mastodon: every instance is its own OAuth server, so SocialDesk registers itself as an app on the
instance first (``POST /api/v1/apps``, what Mastodon.py's ``create_app`` does), then runs the
authorization-code flow (with PKCE, which instances before 4.3 simply ignore) against it.

The app's client id and secret live only in the (encrypted) connect flow: the channel keeps the
instance address and the account's token, which does not expire.
"""

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

from lib.safe_fetch import guarded_session, host_is_forbidden
from networks.models import Network
from networks.oauth.base import ConnectableAccount, ConnectFailed, OAuthProvider

# What networks.mastodon needs (read:statuses also covers direct conversations).
SCOPES = "read:statuses read:notifications write:statuses write:media"
APP_NAME = "SocialDesk"


def instance_base_url(address: str) -> str:
    """The instance's base URL from what the administrator typed ("mastodon.social" is enough)."""
    address = address.strip().rstrip("/")
    if "://" not in address:
        address = f"https://{address}"
    parts = urlsplit(address)
    if parts.scheme != "https" or not parts.hostname or parts.path or parts.query or parts.username:
        raise ConnectFailed(
            gettext(
                "Give the instance's address as https://name.of.the.instance, e.g. https://mastodon.social."
            )
        )
    if host_is_forbidden(parts.hostname, settings.SOCIALDESK_FETCH_ALLOW_PRIVATE):
        raise ConnectFailed(gettext("That address is inside a private network: give a public Mastodon instance."))
    return f"https://{parts.netloc.lower()}"


class MastodonOAuth(OAuthProvider):
    network = Network.MASTODON
    no_accounts_message = gettext_lazy("The instance did not say which account signed in.")

    def session(self):
        # The instance is an address the administrator typed: connect only to public addresses,
        # checked where the socket really goes (a name re-pointed inside after the check fails).
        return guarded_session(settings.SOCIALDESK_FETCH_ALLOW_PRIVATE)

    def register_app(self, instance_address: str) -> dict:
        """Register SocialDesk on the instance; the flow's extra data for the next steps."""
        instance = instance_base_url(instance_address)
        app = self.call(
            "POST",
            f"{instance}/api/v1/apps",
            data={
                "client_name": APP_NAME,
                "redirect_uris": self.redirect_uri(),
                "scopes": SCOPES,
                "website": settings.SOCIALDESK_PUBLIC_URL,
            },
        )
        if not app.get("client_id") or not app.get("client_secret"):
            raise ConnectFailed(gettext("The instance did not register SocialDesk as an app."))
        return {"instance": instance, "client_id": app["client_id"], "client_secret": app["client_secret"]}

    def authorization_url(self, *, state: str, code_challenge: str, flow: dict) -> str:
        query = {
            "response_type": "code",
            "client_id": flow["client_id"],
            "redirect_uri": self.redirect_uri(),
            "scope": SCOPES,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{flow['instance']}/oauth/authorize?{urlencode(query)}"

    def accounts(self, *, code: str, code_verifier: str, flow: dict) -> list[ConnectableAccount]:
        instance = flow["instance"]
        answer = self.call(
            "POST",
            f"{instance}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": flow["client_id"],
                "client_secret": flow["client_secret"],
                "redirect_uri": self.redirect_uri(),
                "scope": SCOPES,
                "code_verifier": code_verifier,
            },
        )
        token = self.access_token_of(answer)
        account = self.call(
            "GET",
            f"{instance}/api/v1/accounts/verify_credentials",
            headers={"Authorization": f"Bearer {token}"},
        )
        if not account.get("id"):
            return []
        return [
            ConnectableAccount(
                account_id=str(account["id"]),
                display_name=account.get("display_name") or account.get("username", ""),
                handle=f"{account.get('username', '')}@{urlsplit(instance).hostname}",
                credentials={"api_base_url": instance, "access_token": token},
            )
        ]
