"""YouTube channels: Google's web-server OAuth flow (with PKCE), offline access.

``access_type=offline`` with ``prompt=consent`` makes Google hand out a refresh token every time,
also to someone who authorized SocialDesk before. networks.youtube keeps only that refresh token
and the client it was issued to, and trades it for a one-hour access token on each use; the access
token of this flow serves only to find the channel (``channels.list mine=true``).
"""

from urllib.parse import urlencode

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

from networks.models import Network
from networks.oauth.base import ConnectableAccount, ConnectFailed, OAuthProvider
from networks.youtube import GOOGLE_OAUTH_ENDPOINT

AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
CHANNELS_URL = "https://youtube.googleapis.com/youtube/v3/channels"
SCOPE = "https://www.googleapis.com/auth/youtube.force-ssl"


class GoogleOAuth(OAuthProvider):
    network = Network.YOUTUBE
    app_settings = ("SOCIALDESK_GOOGLE_CLIENT_ID", "SOCIALDESK_GOOGLE_CLIENT_SECRET")
    no_accounts_message = gettext_lazy("This Google account has no YouTube channel.")

    def authorization_url(self, *, state: str, code_challenge: str, flow: dict) -> str:
        query = {
            "response_type": "code",
            "client_id": settings.SOCIALDESK_GOOGLE_CLIENT_ID,
            "redirect_uri": self.redirect_uri(),
            "scope": SCOPE,
            "state": state,
            "access_type": "offline",
            "prompt": "consent",
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{AUTHORIZE_URL}?{urlencode(query)}"

    def accounts(self, *, code: str, code_verifier: str, flow: dict) -> list[ConnectableAccount]:
        client = {
            "client_id": settings.SOCIALDESK_GOOGLE_CLIENT_ID,
            "client_secret": settings.SOCIALDESK_GOOGLE_CLIENT_SECRET,
        }
        answer = self.call(
            "POST",
            GOOGLE_OAUTH_ENDPOINT,
            data={
                **client,
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri(),
                "code_verifier": code_verifier,
            },
        )
        token = self.access_token_of(answer)
        if not answer.get("refresh_token"):
            raise ConnectFailed(gettext("Google gave no refresh token, so SocialDesk could not keep access."))
        channels = self.call(
            "GET",
            CHANNELS_URL,
            params={"part": "snippet", "mine": "true"},
            headers={"Authorization": f"Bearer {token}"},
        )
        return [
            ConnectableAccount(
                account_id=item["id"],
                display_name=item.get("snippet", {}).get("title") or item["id"],
                handle=item.get("snippet", {}).get("customUrl", "").lstrip("@"),
                credentials={"refresh_token": answer["refresh_token"], **client},
            )
            for item in channels.get("items", [])
        ]
