"""X: OAuth 2.0 authorization code with PKCE, as a confidential client (HTTP Basic with the app's
client id and secret on the token endpoint). The tokens are what networks.x expects; networks.tokens
refreshes them."""

from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from networks.models import Network
from networks.oauth.base import ConnectableAccount, ConnectFailed, OAuthProvider

AUTHORIZE_URL = "https://twitter.com/i/oauth2/authorize"
TOKEN_URL = "https://api.twitter.com/2/oauth2/token"  # noqa: S105 (an address, not a secret)
ME_URL = "https://api.twitter.com/2/users/me"
# offline.access brings the refresh token; tweet.moderate.write lets the desk hide replies.
SCOPES = "tweet.read tweet.write users.read offline.access dm.read dm.write media.write tweet.moderate.write"


def x_client_auth() -> tuple[str, str]:
    return (settings.SOCIALDESK_X_CLIENT_ID, settings.SOCIALDESK_X_CLIENT_SECRET)


def x_token_credentials(answer: dict, *, client_id: str) -> dict:
    """The channel credentials from an answer of the token endpoint (first grant or refresh)."""
    if not answer.get("access_token") or not answer.get("refresh_token"):
        raise ConnectFailed(
            gettext(
                "X answered without an access token and a refresh token: the app must be allowed "
                "the offline.access scope."
            )
        )
    expires_in = int(answer.get("expires_in") or 0)
    return {
        "access_token": answer["access_token"],
        "refresh_token": answer["refresh_token"],
        "expires_at": (timezone.now() + timedelta(seconds=expires_in)).isoformat(),
        "client_id": client_id,
    }


class XOAuth(OAuthProvider):
    network = Network.X
    app_settings = ("SOCIALDESK_X_CLIENT_ID", "SOCIALDESK_X_CLIENT_SECRET")
    no_accounts_message = gettext_lazy("X did not say which account signed in.")

    def authorization_url(self, *, state: str, code_challenge: str, flow: dict) -> str:
        query = {
            "response_type": "code",
            "client_id": settings.SOCIALDESK_X_CLIENT_ID,
            "redirect_uri": self.redirect_uri(),
            "scope": SCOPES,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{AUTHORIZE_URL}?{urlencode(query)}"

    def accounts(self, *, code: str, code_verifier: str, flow: dict) -> list[ConnectableAccount]:
        client_id = settings.SOCIALDESK_X_CLIENT_ID
        answer = self.call(
            "POST",
            TOKEN_URL,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri(),
                "code_verifier": code_verifier,
                "client_id": client_id,
            },
            auth=x_client_auth(),
        )
        credentials = x_token_credentials(answer, client_id=client_id)
        me = self.call("GET", ME_URL, headers={"Authorization": f"Bearer {credentials['access_token']}"})
        user = me.get("data") or {}
        if not user.get("id"):
            return []
        return [
            ConnectableAccount(
                account_id=str(user["id"]),
                display_name=user.get("name") or user.get("username", ""),
                handle=user.get("username", ""),
                credentials=credentials,
            )
        ]
