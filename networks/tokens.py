"""Access tokens renewed before they end, and access that is about to end.

Networks whose access ends:

- X: access tokens last 2 hours, and every refresh spends the refresh token and returns a new one
  (single use, rotating). Two workers refreshing at once would leave one of them with a spent token
  and the account signed out, so a refresh happens only under a lock on the channel row.
- LinkedIn: tokens last 60 days; refresh tokens go only to LinkedIn's approved partners. With one,
  the token is renewed like X's. Without one, the channels page warns ACCESS_ENDING_WARNING ahead,
  and at the end the channel is marked as needing reconnection, saying why, before a call fails.
- YouTube (Google, 1 hour): nothing to do here. networks.youtube keeps only the refresh token
  (Google's do not rotate) and trades it for a fresh access token every time it is used.
- Meta Page tokens and Mastodon tokens do not expire; the Bluesky SDK renews its own session.

Where: networks.registry.connector_for calls ``channel_credentials_refresh`` before it builds a
connector, so every use of a channel's tokens (polling, publishing, replying) passes here first.
Until a token is within REFRESH_MARGIN of its end this costs nothing (no query, no request).
Active X channels are polled every 2 minutes, so a token gets about fifteen chances to be renewed
before it ends even while X's token endpoint has trouble. A periodic task would only be a second
path to the same rotating token.

How: in one transaction, ``select_for_update()`` on the channel row; the credentials are read again
once the lock is held, and if another worker renewed them meanwhile nothing more happens; the new
access and refresh tokens are saved together before the lock is let go. The network's refusal
(``invalid_grant``, 400, 401) marks the channel as needing reconnection with the network's words;
a network that cannot be reached (or answers 429/5xx) leaves the old token for the next attempt.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext

from networks.models import Channel, ChannelStatus, Network
from networks.oauth.base import ConnectFailed
from networks.oauth.linkedin import TOKEN_URL as LINKEDIN_TOKEN_URL
from networks.oauth.linkedin import linkedin_token_credentials
from networks.oauth.x import TOKEN_URL as X_TOKEN_URL
from networks.oauth.x import x_client_auth, x_token_credentials
from networks.services import channel_mark_needs_reconnect

logger = logging.getLogger(__name__)

# A token is renewed once it has less than this left (X's last 2 hours, polls come every 2 minutes).
REFRESH_MARGIN = timedelta(minutes=30)
# Access that ends without a way to renew it is announced on the channels page this long ahead.
ACCESS_ENDING_WARNING = timedelta(days=14)
REQUEST_TIMEOUT = (5, 30)


class _Refused(Exception):
    """The network will not renew the token: the channel must be connected again."""


class _Unreachable(Exception):
    """No answer, or the network is overloaded: keep the token and try at the next use."""


def expires_at(credentials: dict) -> datetime | None:
    """When the stored access token ends (credentials' ISO 8601 ``expires_at``); None if unknown."""
    try:
        moment = datetime.fromisoformat(credentials.get("expires_at") or "")
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def access_ending_at(channel: Channel) -> datetime | None:
    """When an active channel's access ends for good (no refresh token to renew it), if that is
    within ACCESS_ENDING_WARNING; None otherwise."""
    if channel.status != ChannelStatus.ACTIVE or not channel.credentials_encrypted:
        return None
    credentials = channel.credentials
    end = expires_at(credentials)
    if end is None or credentials.get("refresh_token"):
        return None
    return end if end - ACCESS_ENDING_WARNING <= timezone.now() else None


def channel_credentials_refresh(*, channel: Channel) -> None:
    """Renew the channel's access token when it ends within REFRESH_MARGIN (see the module
    docstring). Afterwards `channel.credentials` are the current ones; a refused renewal leaves the
    channel needing reconnection."""
    refresh = REFRESHERS.get(channel.network)
    if refresh is None or channel.status != ChannelStatus.ACTIVE or not _ends_soon(channel.credentials):
        return
    refused = ""
    with transaction.atomic():
        locked = (
            Channel.objects.select_for_update().filter(pk=channel.pk, status=ChannelStatus.ACTIVE).first()
        )
        if locked is None:
            return
        credentials = locked.credentials
        # Read again under the lock: another worker may have renewed them while this one waited.
        if _ends_soon(credentials):
            if credentials.get("refresh_token"):
                refused = _renew(locked, credentials, refresh)
            elif expires_at(credentials) <= timezone.now():
                refused = gettext(
                    "its access ended on %(date)s: %(network)s gives access for a limited time and no way to renew it"
                ) % {"date": _date(expires_at(credentials)), "network": locked.get_network_display()}
        channel.credentials_encrypted = locked.credentials_encrypted
        if refused:
            channel_mark_needs_reconnect(channel=channel, reason=refused)


def _renew(locked: Channel, credentials: dict, refresh: Callable[[dict], dict]) -> str:
    """Renew and save; the refusal's words, or "" when renewed (or left for the next attempt)."""
    try:
        renewed = refresh(credentials)
    except _Refused as exc:
        return str(exc)
    except _Unreachable as exc:
        logger.warning(
            "Renewing the access token of channel %s failed for now (%s); the next use tries again.",
            locked.pk,
            exc,
        )
        return ""
    locked.credentials = renewed
    Channel.objects.filter(pk=locked.pk).update(
        credentials_encrypted=locked.credentials_encrypted, updated_at=timezone.now()
    )
    return ""


def _ends_soon(credentials: dict) -> bool:
    end = expires_at(credentials)
    return end is not None and end - REFRESH_MARGIN <= timezone.now()


def _date(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _token_request(url: str, *, network: str, data: dict, auth: tuple[str, str] | None = None) -> dict:
    try:
        response = requests.post(url, data=data, auth=auth, timeout=REQUEST_TIMEOUT)
    except requests.RequestException as exc:
        # Only the kind: a message of requests could repeat what was sent.
        raise _Unreachable(exc.__class__.__name__) from None
    if response.status_code == 429 or response.status_code >= 500:
        raise _Unreachable(f"HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code >= 400 or not isinstance(answer, dict):
        words = ""
        if isinstance(answer, dict):
            words = answer.get("error_description") or answer.get("error") or ""
        raise _Refused(
            gettext("%(network)s refused to renew the access token: %(words)s")
            % {"network": network, "words": words or f"HTTP {response.status_code}"}
        )
    return answer


def _refresh_x(credentials: dict) -> dict:
    client_id, client_secret = x_client_auth()
    if not client_secret or credentials.get("client_id") != client_id:
        raise _Refused(
            gettext(
                "the tokens belong to another X app than the one set in SOCIALDESK_X_CLIENT_ID and _SECRET"
            )
        )
    answer = _token_request(
        X_TOKEN_URL,
        network="X",
        data={
            "grant_type": "refresh_token",
            "refresh_token": credentials["refresh_token"],
            "client_id": client_id,
        },
        auth=(client_id, client_secret),
    )
    try:
        return x_token_credentials(answer, client_id=client_id)
    except ConnectFailed as exc:
        raise _Refused(str(exc)) from None


def _refresh_linkedin(credentials: dict) -> dict:
    client_id = settings.SOCIALDESK_LINKEDIN_CLIENT_ID
    client_secret = settings.SOCIALDESK_LINKEDIN_CLIENT_SECRET
    if not client_id or not client_secret:
        raise _Refused(gettext("SOCIALDESK_LINKEDIN_CLIENT_ID and _SECRET are not set"))
    answer = _token_request(
        LINKEDIN_TOKEN_URL,
        network="LinkedIn",
        data={
            "grant_type": "refresh_token",
            "refresh_token": credentials["refresh_token"],
            "client_id": client_id,
            "client_secret": client_secret,
        },
    )
    try:
        renewed = linkedin_token_credentials(answer)
    except ConnectFailed as exc:
        raise _Refused(str(exc)) from None
    # Refreshing does not extend the refresh token's own life: keep its end unless LinkedIn repeats it.
    return {**credentials, **renewed}


REFRESHERS: dict[str, Callable[[dict], dict]] = {
    Network.X: _refresh_x,
    Network.LINKEDIN: _refresh_linkedin,
}
