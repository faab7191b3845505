"""LinkedIn organization pages: three-legged OAuth 2.0 for a member who administers the page.

The member's token (60 days; a refresh token only for LinkedIn's approved partners) lists the
organizations they administer (``GET /rest/organizationAcls?q=roleAssignee``), and each one's name
comes from ``GET /rest/organizations/{id}``, both with the versioned REST headers networks.linkedin
uses. A retired API version answers 426, which networks.linkedin words as a settings problem.
"""

from datetime import timedelta
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from networks.linkedin import linkedin_error
from networks.models import Network
from networks.oauth.base import ConnectableAccount, ConnectFailed, OAuthProvider

AUTHORIZE_URL = "https://www.linkedin.com/oauth/v2/authorization"
TOKEN_URL = "https://www.linkedin.com/oauth/v2/accessToken"  # noqa: S105 (an address, not a secret)
REST = "https://api.linkedin.com/rest"
SCOPES = "w_organization_social r_organization_social rw_organization_admin"
ORGANIZATION_URN = "urn:li:organization:"


def linkedin_token_credentials(answer: dict) -> dict:
    """The channel credentials from an answer of the token endpoint (first grant or refresh)."""
    if not answer.get("access_token"):
        raise ConnectFailed(gettext("LinkedIn answered without an access token."))
    now = timezone.now()
    credentials = {
        "access_token": answer["access_token"],
        "expires_at": (now + timedelta(seconds=int(answer.get("expires_in") or 0))).isoformat(),
    }
    if answer.get("refresh_token"):
        credentials["refresh_token"] = answer["refresh_token"]
        seconds = int(answer.get("refresh_token_expires_in") or 0)
        if seconds:
            credentials["refresh_token_expires_at"] = (now + timedelta(seconds=seconds)).isoformat()
    return credentials


class LinkedInOAuth(OAuthProvider):
    network = Network.LINKEDIN
    app_settings = ("SOCIALDESK_LINKEDIN_CLIENT_ID", "SOCIALDESK_LINKEDIN_CLIENT_SECRET")
    no_accounts_message = gettext_lazy(
        "This LinkedIn member administers no organization page. Sign in to LinkedIn as an "
        "administrator of the page and try again."
    )

    def authorization_url(self, *, state: str, code_challenge: str, flow: dict) -> str:
        query = {
            "response_type": "code",
            "client_id": settings.SOCIALDESK_LINKEDIN_CLIENT_ID,
            "redirect_uri": self.redirect_uri(),
            "state": state,
            "scope": SCOPES,
        }
        return f"{AUTHORIZE_URL}?{urlencode(query)}"

    def accounts(self, *, code: str, code_verifier: str, flow: dict) -> list[ConnectableAccount]:
        answer = self.call(
            "POST",
            TOKEN_URL,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri(),
                "client_id": settings.SOCIALDESK_LINKEDIN_CLIENT_ID,
                "client_secret": settings.SOCIALDESK_LINKEDIN_CLIENT_SECRET,
            },
        )
        credentials = linkedin_token_credentials(answer)
        headers = {
            "Authorization": f"Bearer {credentials['access_token']}",
            "LinkedIn-Version": settings.SOCIALDESK_LINKEDIN_VERSION,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        acls = self.call(
            "GET",
            f"{REST}/organizationAcls",
            params={"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED"},
            headers=headers,
        )
        accounts = []
        for acl in acls.get("elements", []):
            urn = acl.get("organization", "")
            if not urn.startswith(ORGANIZATION_URN):
                continue
            organization_id = urn.removeprefix(ORGANIZATION_URN)
            organization = self.call("GET", f"{REST}/organizations/{organization_id}", headers=headers)
            accounts.append(
                ConnectableAccount(
                    account_id=organization_id,
                    display_name=organization.get("localizedName") or organization_id,
                    handle=organization.get("vanityName", ""),
                    credentials=credentials,
                )
            )
        return accounts

    def error_words(self, response: requests.Response, answer) -> str:
        # A retired API version is not this member's refusal but SocialDesk's settings: networks.linkedin
        # says which setting to change, and that message stands on its own.
        if response.status_code == 426:
            raise ConnectFailed(linkedin_error(response, write=False).reason)
        return super().error_words(response, answer)
