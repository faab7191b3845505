"""Bluesky: no OAuth here. The administrator gives the handle and an app password; SocialDesk opens a
session with them (``com.atproto.server.createSession``) to prove they work and to learn the
account's DID and name, and keeps the session so the connector need not open another one
(createSession is limited to 30 per 5 minutes per account)."""

from urllib.parse import urlsplit

from atproto import Client
from atproto_client.exceptions import AtProtocolError, BadRequestError, UnauthorizedError
from atproto_client.request import Request
from django.utils.translation import gettext

from networks.bluesky import DEFAULT_SERVICE_URL
from networks.oauth.base import REQUEST_TIMEOUT, ConnectableAccount, ConnectFailed


def bluesky_account(*, handle: str, app_password: str, service_url: str = "") -> ConnectableAccount:
    handle = handle.strip().lstrip("@")
    service_url = service_url.strip().rstrip("/")
    if service_url:
        parts = urlsplit(service_url)
        if parts.scheme != "https" or not parts.hostname or parts.path or parts.query:
            raise ConnectFailed(gettext("Give the server's address as https://name.of.the.server."))
    api = Client(base_url=service_url or DEFAULT_SERVICE_URL, request=Request(timeout=REQUEST_TIMEOUT[1]))
    try:
        profile = api.login(handle, app_password)
    except (UnauthorizedError, BadRequestError):
        raise ConnectFailed(
            gettext("Bluesky did not accept this handle and app password. Check both and try again.")
        ) from None
    except AtProtocolError as exc:
        raise ConnectFailed(
            gettext("Could not reach Bluesky (%(failure)s). Try again in a moment.")
            % {"failure": exc.__class__.__name__}
        ) from None
    credentials = {
        "handle": profile.handle,
        "app_password": app_password,
        "session_string": api.export_session_string(),
    }
    if service_url:
        credentials["service_url"] = service_url
    return ConnectableAccount(
        account_id=profile.did,
        display_name=profile.display_name or profile.handle,
        handle=profile.handle,
        credentials=credentials,
    )
