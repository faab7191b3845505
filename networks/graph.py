"""Graph API plumbing shared by the Facebook Page and Instagram connectors (facebook-sdk 3.1.0).

facebook-sdk is still a usable thin wrapper over ``requests``, with three workarounds made here
and nowhere else:

- Its constructor accepts only Graph versions 2.8–3.1 and defaults to the retired v2.8, so the
  client is built without a version and ``graph.version`` is set from
  ``settings.SOCIALDESK_GRAPH_API_VERSION`` (the SDK prefixes it to every path).
- It returns only the parsed body and drops the HTTP status and headers, which say when a rate
  limit ends (``X-Business-Use-Case-Usage``) and whether a non-JSON answer was a 5xx. The client gets
  a session that remembers the last response.
- Every error arrives as ``GraphAPIError``; ``graph_error`` translates it into the connector
  vocabulary of networks.base using the Graph error code and subcode.

Webhook payloads (``/webhooks/meta/``) are normalized by ``facebook.normalize_webhook_entry``
(``object == "page"``) and ``instagram.normalize_webhook_entry`` (``object == "instagram"``), one
``entry`` at a time; ``entry["id"]`` is the Page id or the Instagram account id of the channel.
"""

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cached_property

import facebook
import requests
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext

from lib.http_errors import requests_error_before_sending
from networks.base import (
    AuthorizationExpired,
    ConnectorError,
    InboundKind,
    InboundMessage,
    RateLimited,
    Rejected,
    Transient,
)

# Connect and read timeouts: a worker must never hang on a silent network.
REQUEST_TIMEOUT = (5, 30)
# Rate-limit codes: 4 app, 17 user, 32 Page, 613 custom; 80001 Pages, 80002 Instagram and 80006
# Messenger business-use-case limits.
RATE_LIMIT_CODES = {4, 17, 32, 613, 80001, 80002, 80006}
# Meta counts calls over a rolling hour; when no header says better, wait that long.
DEFAULT_RATE_LIMIT_PAUSE = timedelta(hours=1)
# 190: the token expired or was invalidated; 102: the session behind it is gone.
TOKEN_INVALID_CODES = {190, 102}
# Code 100 with this subcode: the object does not exist (already deleted).
MISSING_OBJECT_SUBCODE = 33
OUTSIDE_MESSAGING_WINDOW_SUBCODE = 2018278
# What a connector looks at the first time it polls a channel (cursor {}).
INITIAL_LOOKBACK = timedelta(days=3)
# A private reply (Messenger, Instagram Direct) is allowed this long after the person's last message.
MESSAGING_WINDOW = timedelta(hours=24)


class _RecordingSession(requests.Session):
    """Keeps the last response, so errors can read the status and the usage headers; with an
    ``appsecret_proof``, sends it with every call (facebook-sdk 3.1 cannot)."""

    last_response: requests.Response | None = None

    def __init__(self, *, appsecret_proof: str = ""):
        super().__init__()
        self.appsecret_proof = appsecret_proof

    def request(self, *args, **kwargs):
        if self.appsecret_proof:
            kwargs["params"] = {**(kwargs.get("params") or {}), "appsecret_proof": self.appsecret_proof}
        self.last_response = None
        self.last_response = super().request(*args, **kwargs)
        return self.last_response


def appsecret_proof(access_token: str) -> str:
    """HMAC-SHA256 of the token under the app secret (META_APP_SECRET), or "" without one. Meta
    refuses calls without it from apps set to "Require App Secret", which every app should be: a
    token that leaks is then useless without the secret."""
    secret = settings.META_APP_SECRET
    if not secret:
        return ""
    return hmac.new(secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


class GraphClient:
    """A facebook-sdk GraphAPI pinned to the configured Graph version, whose calls raise only the
    connector vocabulary. ``network_name`` ("Facebook", "Instagram") goes into error messages."""

    def __init__(self, *, access_token: str, network_name: str):
        if not access_token:
            raise AuthorizationExpired(gettext("The channel has no access token; connect it again."))
        self.network_name = network_name
        self.session = _RecordingSession(appsecret_proof=appsecret_proof(access_token))
        self.api = facebook.GraphAPI(access_token=access_token, timeout=REQUEST_TIMEOUT, session=self.session)
        self.api.version = settings.SOCIALDESK_GRAPH_API_VERSION

    def call(self, method: Callable, *args, write: bool = False, missing_ok: bool = False, **kwargs):
        """Run one facebook-sdk method; `write` says whether the call may change something. With
        `missing_ok`, an object that does not exist (deleted) gives None instead of Rejected."""
        try:
            return method(*args, **kwargs)
        except facebook.GraphAPIError as exc:
            if missing_ok and _is_missing_object(exc):
                return None
            raise graph_error(
                exc, response=self.session.last_response, write=write, network_name=self.network_name
            ) from exc
        except requests.RequestException as exc:
            # Not chained: facebook-sdk puts the token in the URL, which requests' message repeats.
            raise transport_error(exc, write=write, network_name=self.network_name) from None

    def get(self, path: str, *, missing_ok: bool = False, **params) -> dict | None:
        return self.call(self.api.request, f"{self.api.version}/{path}", params, missing_ok=missing_ok)

    def post(self, path: str, **data) -> dict:
        return self.call(self.api.request, f"{self.api.version}/{path}", post_args=data, write=True)

    def delete(self, object_id: str) -> None:
        """Delete an object; one that is already gone counts as deleted."""
        self.call(self.api.delete_object, object_id, write=True, missing_ok=True)

    def pages(self, path: str, *, max_pages: int, **params):
        """Yield the items of a list edge, following `paging.next` for at most `max_pages` pages."""
        for _ in range(max_pages):
            page = self.get(path, **params)
            yield from page.get("data", [])
            after = page.get("paging", {}).get("cursors", {}).get("after")
            if not page.get("paging", {}).get("next") or not after:
                return
            params = {**params, "after": after}


class GraphConnectorMixin:
    """The Graph client of a Facebook or Instagram connector, built once from the channel's token.
    The class using it sets NETWORK_LABEL (the network's name in error messages)."""

    NETWORK_LABEL = ""

    @cached_property
    def graph(self) -> GraphClient:
        return GraphClient(
            access_token=self.channel.credentials.get("access_token", ""), network_name=self.NETWORK_LABEL
        )


def graph_error(
    exc: facebook.GraphAPIError, *, response: requests.Response | None, write: bool, network_name: str
) -> ConnectorError:
    """Translate a Graph error into the vocabulary. `response` is the HTTP response it came in, when
    known: its usage headers tell when a rate limit ends, its status whether a non-JSON answer was a
    server failure."""
    error = exc.result.get("error", {}) if isinstance(exc.result, dict) else {}
    code = error.get("code")
    subcode = error.get("error_subcode")
    words = error.get("error_user_msg") or error.get("message") or str(exc)
    status = response.status_code if response is not None else None
    if code in RATE_LIMIT_CODES:
        return RateLimited(
            until=_rate_limit_until(response),
            reason=gettext("%(network)s asked us to slow down: %(words)s")
            % {"network": network_name, "words": words},
        )
    if code in TOKEN_INVALID_CODES:
        return AuthorizationExpired(_token_reason(subcode, network_name=network_name, words=words))
    if code == 506:
        return Rejected(
            gettext("%(network)s refused a duplicate of a recent post: %(words)s")
            % {"network": network_name, "words": words}
        )
    if code == 368:
        return Rejected(
            gettext("%(network)s blocked this as against its policies: %(words)s")
            % {"network": network_name, "words": words}
        )
    if code == 10 and subcode == OUTSIDE_MESSAGING_WINDOW_SUBCODE:
        return Rejected(messaging_window_closed_reason(network_name))
    # 9007: an Instagram media container is still being processed; nothing was published yet.
    if code in (1, 2, 9007) or error.get("is_transient"):
        return Transient(
            gettext("%(network)s is having problems: %(words)s") % {"network": network_name, "words": words}
        )
    if code is None and (status is None or status >= 500):
        # Not a Graph error body at all (an HTML error page from a proxy): the request may have
        # been acted on before the failure, so a write must be looked for before it is repeated.
        return Transient(
            gettext("%(network)s did not answer properly (HTTP %(status)s).")
            % {"network": network_name, "status": status or "?"},
            request_sent=write,
        )
    return Rejected(gettext("%(network)s refused it: %(words)s") % {"network": network_name, "words": words})


def transport_error(exc: requests.RequestException, *, write: bool, network_name: str) -> Transient:
    """No answer at all. Unless the request never left, a write may have reached the network."""
    return Transient(
        gettext("%(network)s could not be reached (%(error)s).")
        % {"network": network_name, "error": exc.__class__.__name__},
        request_sent=write and not requests_error_before_sending(exc),
    )


def messaging_window_closed_reason(network_name: str) -> str:
    return gettext(
        "%(network)s only allows answering a private message within 24 hours of the person's last "
        "message; that time has passed, so answer publicly or wait until they write again."
    ) % {"network": network_name}


def _is_missing_object(exc: facebook.GraphAPIError) -> bool:
    error = exc.result.get("error", {}) if isinstance(exc.result, dict) else {}
    return error.get("code") == 100 and error.get("error_subcode") == MISSING_OBJECT_SUBCODE


def _token_reason(subcode: int | None, *, network_name: str, words: str) -> str:
    reasons = {
        458: gettext("the SocialDesk app was removed from the account"),
        459: gettext("the account must log in on the network to confirm its identity"),
        460: gettext("the password was changed"),
        463: gettext("the access token expired"),
        464: gettext("the account is not confirmed"),
        467: gettext("the access token is no longer valid"),
    }
    return gettext("%(network)s: %(reason)s (%(words)s)") % {
        "network": network_name,
        "reason": reasons.get(subcode, gettext("the access token was refused")),
        "words": words,
    }


def _rate_limit_until(response: requests.Response | None) -> datetime:
    """When the limit ends: the largest `estimated_time_to_regain_access` (minutes) in the
    business-use-case usage header, or a rolling hour when Meta does not say."""
    minutes = 0
    header = response.headers.get("X-Business-Use-Case-Usage") if response is not None else None
    if header:
        try:
            usage = json.loads(header)
        except ValueError:
            usage = {}
        for entries in usage.values() if isinstance(usage, dict) else ():
            for entry in entries if isinstance(entries, list) else ():
                minutes = max(minutes, int(entry.get("estimated_time_to_regain_access") or 0))
    return timezone.now() + (timedelta(minutes=minutes) if minutes else DEFAULT_RATE_LIMIT_PAUSE)


def parse_time(value: str) -> datetime:
    """Graph times look like 2026-11-28T10:00:00+0000."""
    return datetime.fromisoformat(value)


def format_cursor_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def cursor_time(cursor: dict, key: str) -> datetime:
    """The moment stored under `key` in a cursor, or INITIAL_LOOKBACK ago for a new channel."""
    value = cursor.get(key)
    if not value:
        return timezone.now() - INITIAL_LOOKBACK
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise Rejected(gettext("The saved position in the message list is damaged.")) from None


def epoch_time(value: int | float | str) -> datetime:
    """Webhook timestamps: seconds in `feed` changes, milliseconds in `messaging` events."""
    number = float(value)
    if number > 10**11:
        number /= 1000
    return datetime.fromtimestamp(number, tz=UTC)


def private_message(
    *,
    message_id: str,
    text: str,
    sender: dict,
    person_id: str,
    account_id: str,
    created_at: datetime,
    raw: dict,
    deleted: bool = False,
) -> InboundMessage:
    """A Messenger or Instagram Direct message. The thread is the person (their Page- or
    Instagram-scoped id), the one key that both polling and webhooks know. `sender` is the Graph
    `from` object ({id, name} on Messenger, {id, username} on Instagram)."""
    sender_id = str(sender.get("id", ""))
    return InboundMessage(
        external_id=message_id,
        thread_key=dm_thread_key(person_id),
        kind=InboundKind.PRIVATE_MESSAGE,
        author_id=sender_id,
        author_name=sender.get("name", ""),
        author_handle=sender.get("username", ""),
        text=text,
        created_at=created_at,
        is_from_us=sender_id == account_id,
        deleted=deleted,
        raw=raw,
    )


def json_param(value: dict) -> str:
    """Graph takes object parameters of a form-encoded POST (the Send API's `recipient`,
    `message`) as JSON text."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def dm_thread_key(person_id: str) -> str:
    return f"dm:{person_id}"


def conversation_messages(conversation: dict, *, account_id: str, after: datetime) -> list[InboundMessage]:
    """The messages newer than `after` in one item of `/{page}/conversations` (fields
    `participants`, `updated_time`, `messages{id,message,from,created_time}`)."""
    people = [
        str(person["id"])
        for person in conversation.get("participants", {}).get("data", [])
        if str(person.get("id")) != account_id
    ]
    if not people:
        return []
    messages = []
    for message in conversation.get("messages", {}).get("data", []):
        created_at = parse_time(message["created_time"])
        if created_at <= after:
            continue
        messages.append(
            private_message(
                message_id=message["id"],
                text=message.get("message", ""),
                sender=message.get("from", {}),
                person_id=people[0],
                account_id=account_id,
                created_at=created_at,
                raw={"conversation_id": conversation.get("id", ""), **message},
            )
        )
    return messages


CONVERSATION_FIELDS = "participants,updated_time,messages.limit(25){id,message,from,created_time}"


def recent_private_messages(graph, *, page_id: str, platform: str, account_id: str, after: datetime) -> list[InboundMessage]:
    """Private messages written after ``after`` in the Page's conversations on ``platform``
    ("messenger" or "instagram"); conversations come newest first, so the walk stops at the first
    one untouched since then."""
    conversations = graph.pages(
        f"{page_id}/conversations", max_pages=2, platform=platform, fields=CONVERSATION_FIELDS, limit=25
    )
    messages = []
    for conversation in conversations:
        if parse_time(conversation["updated_time"]) <= after:
            break
        messages.extend(conversation_messages(conversation, account_id=account_id, after=after))
    return messages


def ensure_reply_window_open(graph, *, page_id: str, platform: str, person_id: str, network_name: str) -> None:
    """Refuse (Rejected) before calling the Send API when the person last wrote more than
    MESSAGING_WINDOW ago: Meta counts out-of-window sends against the Page."""
    conversations = graph.get(
        f"{page_id}/conversations",
        platform=platform,
        user_id=person_id,
        fields="messages.limit(25){from,created_time}",
    )
    last = last_message_from(conversations, person_id=person_id)
    if last is None or timezone.now() - last > MESSAGING_WINDOW:
        raise Rejected(messaging_window_closed_reason(network_name))


def last_message_from(conversations: dict, *, person_id: str) -> datetime | None:
    """When the person last wrote, in the answer to `/{page}/conversations?user_id=…` with
    `messages{from,created_time}`; None when they never did."""
    times = [
        parse_time(message["created_time"])
        for conversation in conversations.get("data", [])
        for message in conversation.get("messages", {}).get("data", [])
        if str(message.get("from", {}).get("id")) == person_id
    ]
    return max(times, default=None)


def messaging_events(entry: dict, *, account_id: str) -> list[InboundMessage]:
    """The `messaging` events of one webhook entry (Messenger and Instagram Direct share the shape).
    Echoes of our own messages (`is_echo`) come back as is_from_us; deliveries, reads and
    reactions are not messages and are skipped."""
    messages = []
    for event in entry.get("messaging", []):
        message = event.get("message")
        if not message or not message.get("mid"):
            continue
        sender_id = str(event.get("sender", {}).get("id", ""))
        recipient_id = str(event.get("recipient", {}).get("id", ""))
        messages.append(
            private_message(
                message_id=message["mid"],
                text=message.get("text", ""),
                sender={"id": sender_id},
                person_id=recipient_id if sender_id == account_id else sender_id,
                account_id=account_id,
                created_at=epoch_time(event.get("timestamp") or entry["time"]),
                raw=event,
                deleted=bool(message.get("is_deleted")),
            )
        )
    return messages
