"""What every browser connect flow shares: the provider contract, the accounts a flow finds, the one
error it raises, and the HTTP calls to the networks' sign-in endpoints."""

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import requests
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

from lib.safe_fetch import refused_by_guard
from networks.models import Network

logger = logging.getLogger(__name__)

# Connect and read timeouts: the administrator waits for these calls in the browser.
REQUEST_TIMEOUT = (5, 20)


class ConnectFailed(Exception):
    """The connect flow cannot go on. The message is in plain words for the administrator and never
    holds a token or an app secret."""


@dataclass(frozen=True)
class ConnectableAccount:
    """An account the administrator may connect, with the credentials its connector expects (see the
    docstring of the network's connector module)."""

    account_id: str
    display_name: str
    handle: str
    credentials: dict
    description: str = ""  # one line shown when choosing among several accounts


class OAuthProvider(ABC):
    """One network's authorization-code flow. Subclasses name their settings and implement the two
    legs: where to send the administrator, and what to make of the code that comes back."""

    network: ClassVar[str]
    # The settings holding SocialDesk's app on the network (empty ones mean "not configured").
    app_settings: ClassVar[tuple[str, ...]] = ()
    # Shown when the network lists no account the administrator could connect.
    no_accounts_message: ClassVar[str] = ""

    @property
    def label(self) -> str:
        return str(Network(self.network).label)

    def missing_settings(self) -> list[str]:
        needed = ("SOCIALDESK_PUBLIC_URL", *self.app_settings)
        return [name for name in needed if not getattr(settings, name)]

    def redirect_uri(self) -> str:
        """The address registered with the network, built from settings (never from the request)."""
        return settings.SOCIALDESK_PUBLIC_URL + reverse("networks:connect_callback", args=[self.network])

    @abstractmethod
    def authorization_url(self, *, state: str, code_challenge: str, flow: dict) -> str:
        """Where the administrator authorizes SocialDesk. `flow` holds what an earlier step
        prepared (the Mastodon instance and its app)."""

    @abstractmethod
    def accounts(self, *, code: str, code_verifier: str, flow: dict) -> list[ConnectableAccount]:
        """Trade the code for tokens and list the accounts they give access to."""

    def after_connect(self, channel) -> str:
        """What the network needs once an account is connected; a warning in words for the person
        connecting when it could not be done (the channel works anyway), else ""."""
        return ""

    # --- HTTP ------------------------------------------------------------------------------------

    def session(self) -> requests.Session:
        """The HTTP session of the flow's requests; a provider whose server is an address a person
        typed gives a guarded one."""
        return requests.Session()

    def call(self, method: str, url: str, **kwargs) -> dict:
        """One request to the network; its JSON answer, or ConnectFailed with the network's words."""
        try:
            with self.session() as session:
                response = session.request(method, url, timeout=REQUEST_TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            if refused_by_guard(exc):
                raise ConnectFailed(
                    gettext(
                        "The address of %(network)s is inside a private network: SocialDesk does not connect there."
                    )
                    % {"network": self.label}
                ) from None
            # Only the kind of failure: requests' own message repeats the URL, which can hold a code
            # or an app secret (Meta's token exchange is a GET).
            logger.warning("Connect flow: %s unreachable (%s)", self.label, exc.__class__.__name__)
            raise ConnectFailed(
                gettext("Could not reach %(network)s (%(failure)s). Try again in a moment.")
                % {"network": self.label, "failure": exc.__class__.__name__}
            ) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code >= 400 or not isinstance(answer, dict):
            raise ConnectFailed(
                gettext("%(network)s refused: %(words)s")
                % {"network": self.label, "words": self.error_words(response, answer)}
            )
        return answer

    def access_token_of(self, answer: dict) -> str:
        token = answer.get("access_token")
        if not token or not isinstance(token, str):
            raise ConnectFailed(
                gettext("%(network)s answered without an access token.") % {"network": self.label}
            )
        return token

    def error_words(self, response: requests.Response, answer) -> str:
        """The network's own explanation of a refusal, from the usual places of OAuth and API errors."""
        if isinstance(answer, dict):
            error = answer.get("error")
            if isinstance(error, dict):
                return str(error.get("message") or error)
            for key in ("error_description", "message", "detail", "title"):
                if answer.get(key):
                    return str(answer[key])
            if error:
                return str(error)
        return f"HTTP {response.status_code} {response.reason or ''}".strip()
