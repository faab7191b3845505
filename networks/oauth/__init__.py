"""Connecting accounts in the browser.

For the OAuth networks the administrator is sent to the network (``oauth_start``) and comes back to
``/channels/connect/<network>/callback/`` with a code (``oauth_finish``). The flow's secrets — the
``state``, the PKCE verifier, Mastodon's per-instance app — are kept in the administrator's session,
encrypted with the credentials keys, one flow per network: the callback takes the flow out of the
session before anything else (single use), compares ``state`` in constant time, and gives up after
FLOW_LIFETIME. When the tokens open several accounts (a person's Facebook Pages, the LinkedIn
organizations they administer), the accounts wait in the session, encrypted too, until one is
chosen (``connect_choose``). Every connection is written by networks.services.channel_connect,
which audits it. Bluesky has no OAuth flow here: ``bluesky_connect`` takes a handle and an app password.

Redirect addresses are built from settings.SOCIALDESK_PUBLIC_URL and must be registered, exactly, with
each network's app: ``<SOCIALDESK_PUBLIC_URL>/channels/connect/<network>/callback/``.
"""

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta
from enum import StrEnum
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from lib.secretbox import SecretBoxError
from networks.credentials import credentials_box
from networks.models import Channel, Network
from networks.oauth.base import ConnectableAccount, ConnectFailed, OAuthProvider
from networks.oauth.bluesky import bluesky_account
from networks.oauth.google import GoogleOAuth
from networks.oauth.linkedin import LinkedInOAuth
from networks.oauth.mastodon import MastodonOAuth
from networks.oauth.meta import FacebookOAuth, InstagramOAuth
from networks.oauth.x import XOAuth
from networks.registry import CONNECTORS
from networks.services import channel_connect

__all__ = [
    "ConnectFailed",
    "ConnectKind",
    "ConnectOption",
    "ConnectableAccount",
    "Connected",
    "bluesky_connect",
    "channel_after_connect",
    "connect_choices",
    "connect_choose",
    "connect_option",
    "connect_options",
    "oauth_finish",
    "oauth_start",
    "reconnect_url",
]

SESSION_KEY = "networks_connect"
# An authorization (or a choice among accounts) left unfinished this long is forgotten.
FLOW_LIFETIME = timedelta(minutes=15)

PROVIDERS: dict[str, OAuthProvider] = {
    provider.network: provider
    for provider in (
        XOAuth(),
        FacebookOAuth(),
        InstagramOAuth(),
        LinkedInOAuth(),
        GoogleOAuth(),
        MastodonOAuth(),
    )
}


class ConnectKind(StrEnum):
    REDIRECT = "redirect"  # straight to the network's consent page
    INSTANCE_FORM = "instance_form"  # first ask which server (Mastodon)
    PASSWORD_FORM = "password_form"  # noqa: S105 (handle and app password, no OAuth: Bluesky)


@dataclass(frozen=True)
class ConnectOption:
    network: str
    label: str
    kind: ConnectKind
    missing_settings: tuple[str, ...]

    @property
    def configured(self) -> bool:
        return not self.missing_settings

    @property
    def start_url(self) -> str:
        if self.kind == ConnectKind.INSTANCE_FORM:
            return reverse("networks:connect_mastodon")
        if self.kind == ConnectKind.PASSWORD_FORM:
            return reverse("networks:connect_bluesky")
        return reverse("networks:connect", args=[self.network])

    @property
    def redirect_uri(self) -> str:
        """The address to register with the network's app ("" where there is none, or not yet)."""
        provider = PROVIDERS.get(self.network)
        return provider.redirect_uri() if provider and settings.SOCIALDESK_PUBLIC_URL else ""


def reconnect_url(channel: Channel) -> str:
    """Where to connect this channel's account again ("" for the sandbox or an unconfigured network)."""
    option = connect_option(channel.network)
    if option is None or not option.configured:
        return ""
    if option.kind == ConnectKind.INSTANCE_FORM:
        query = {"instance": channel.handle.rpartition("@")[2]}
    elif option.kind == ConnectKind.PASSWORD_FORM:
        query = {"handle": channel.handle}
    else:
        return option.start_url
    return f"{option.start_url}?{urlencode(query)}"


def connect_options() -> list[ConnectOption]:
    """The networks an administrator can connect here, each with the settings it still lacks."""
    options = []
    for network in Network:
        if network not in CONNECTORS:
            continue
        if network == Network.BLUESKY:
            options.append(ConnectOption(network, str(network.label), ConnectKind.PASSWORD_FORM, ()))
        elif network in PROVIDERS:
            provider = PROVIDERS[network]
            kind = ConnectKind.INSTANCE_FORM if network == Network.MASTODON else ConnectKind.REDIRECT
            options.append(ConnectOption(network, provider.label, kind, tuple(provider.missing_settings())))
    return options


def connect_option(network: str) -> ConnectOption | None:
    return next((option for option in connect_options() if option.network == network), None)


@dataclass(frozen=True)
class Connected:
    """A channel just connected, and what its network could not set up for it, in words ("" when
    nothing): for the page that connected it, not stored."""

    channel: Channel
    warning: str = ""


def oauth_start(*, session: SessionBase, network: str, instance: str = "") -> str:
    """Begin connecting `network`: the address of the network's consent page. For Mastodon,
    `instance` is the server, where SocialDesk registers itself first."""
    provider = _provider(network)
    flow = provider.register_app(instance) if isinstance(provider, MastodonOAuth) else {}
    state = secrets.token_urlsafe(32)
    code_verifier = secrets.token_urlsafe(64)  # 86 characters: PKCE wants 43 to 128
    _keep(session, f"flow:{network}", {**flow, "state": state, "code_verifier": code_verifier})
    return provider.authorization_url(state=state, code_challenge=_pkce_challenge(code_verifier), flow=flow)


def oauth_finish(
    *, session: SessionBase, network: str, state: str, code: str, error: str = "", actor, request
) -> Connected | None:
    """Finish connecting with what the network sent back. Returns what was connected, or None
    when the administrator must first choose among several accounts (connect_choices)."""
    provider = _provider(network)
    flow = _take(session, f"flow:{network}")
    if flow is None:
        raise ConnectFailed(
            gettext(
                "This connection attempt has expired or was already used; nothing was connected. Start again."
            )
        )
    if not hmac.compare_digest(flow["state"].encode(), state.encode()):
        raise ConnectFailed(
            gettext(
                "The answer from %(network)s does not belong to this connection attempt; nothing was "
                "connected. Start again."
            )
            % {"network": provider.label}
        )
    if error or not code:
        raise ConnectFailed(
            gettext("%(network)s did not authorize SocialDesk (%(error)s); nothing was connected.")
            % {"network": provider.label, "error": error or gettext("no code")}
        )
    accounts = provider.accounts(code=code, code_verifier=flow["code_verifier"], flow=flow)
    if not accounts:
        raise ConnectFailed(str(provider.no_accounts_message))
    if len(accounts) == 1:
        return _connect(network, accounts[0], actor=actor, request=request)
    _keep(session, f"choices:{network}", {"accounts": [asdict(account) for account in accounts]})
    return None


def connect_choices(*, session: SessionBase, network: str) -> list[ConnectableAccount]:
    """The accounts waiting to be chosen from; [] when there are none (or they expired)."""
    kept = _read(session, f"choices:{network}")
    return [ConnectableAccount(**account) for account in kept["accounts"]] if kept else []


def connect_choose(*, session: SessionBase, network: str, account_id: str, actor, request) -> Connected:
    kept = _take(session, f"choices:{network}")
    accounts = [ConnectableAccount(**account) for account in kept["accounts"]] if kept else []
    chosen = next((account for account in accounts if account.account_id == account_id), None)
    if chosen is None:
        raise ConnectFailed(
            gettext("That account is not among those offered, or the choice expired. Start again.")
        )
    return _connect(network, chosen, actor=actor, request=request)


def bluesky_connect(*, handle: str, app_password: str, service_url: str = "", actor, request) -> Connected:
    account = bluesky_account(handle=handle, app_password=app_password, service_url=service_url)
    return _connect(Network.BLUESKY, account, actor=actor, request=request)


def _provider(network: str) -> OAuthProvider:
    provider = PROVIDERS.get(network)
    if provider is None or network not in CONNECTORS:
        raise ConnectFailed(gettext("SocialDesk cannot connect this network in the browser."))
    missing = provider.missing_settings()
    if missing:
        raise ConnectFailed(
            gettext("%(network)s is not configured: set %(settings)s.")
            % {"network": provider.label, "settings": ", ".join(missing)}
        )
    return provider


def _connect(network: str, account: ConnectableAccount, *, actor, request) -> Connected:
    channel = channel_connect(
        network=network,
        account_id=account.account_id,
        display_name=account.display_name,
        handle=account.handle,
        credentials=account.credentials,
        actor=actor,
        request=request,
    )
    return Connected(channel, warning=channel_after_connect(channel))


def channel_after_connect(channel: Channel) -> str:
    """What the channel's network needs once an account is connected, however it was connected
    (the browser, manage.py connect_channel); a warning in words when it could not be done."""
    provider = PROVIDERS.get(channel.network)
    return provider.after_connect(channel) if provider is not None else ""


def _pkce_challenge(code_verifier: str) -> str:
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _keep(session: SessionBase, key: str, data: dict) -> None:
    sealed = credentials_box().encrypt(json.dumps({**data, "kept_at": timezone.now().timestamp()}))
    session[SESSION_KEY] = {**session.get(SESSION_KEY, {}), key: sealed}


def _read(session: SessionBase, key: str) -> dict | None:
    sealed = session.get(SESSION_KEY, {}).get(key)
    if not sealed:
        return None
    try:
        data = json.loads(credentials_box().decrypt(sealed))
    except SecretBoxError:
        return None  # sealed with a key that has since been removed
    if timezone.now().timestamp() - data["kept_at"] > FLOW_LIFETIME.total_seconds():
        return None
    return data


def _take(session: SessionBase, key: str) -> dict | None:
    data = _read(session, key)
    kept = dict(session.get(SESSION_KEY, {}))
    if kept.pop(key, None) is not None:
        session[SESSION_KEY] = kept
    return data
