"""Mastodon through Mastodon.py, as one account on one instance.

Credentials (``Channel.credentials``):

- ``api_base_url``: the instance, e.g. ``https://mastodon.social``.
- ``access_token``: the account's token (an app token from the instance's Development settings, or
  the OAuth code flow). Mastodon tokens do not expire by default; a revoked one answers 401.

``Channel.account_id`` is the account's id on that instance. Scopes: ``read:statuses
read:notifications write:statuses write:media`` (``read:statuses`` also covers direct conversations).

How the contract maps onto the API:

- publish: ``POST /api/v2/media`` per image (with its alt text as ``description``), then
  ``POST /api/v1/statuses`` with an ``Idempotency-Key`` header derived from the channel and the content,
  so a repeated publish within the instance's idempotency window (1 hour) returns the first status
  instead of posting twice. A link goes into the text (Mastodon counts any URL as 23 characters).
- find_recent_posts: ``GET /api/v1/accounts/:id/statuses`` without boosts or direct statuses. The
  account's replies are listed too: those with an ``in_reply_to_id`` come marked ``is_reply``.
- fetch_inbound: mentions from ``GET /api/v1/notifications?types[]=mention`` (walked forward with
  ``min_id``) and private messages from ``GET /api/v1/conversations/``. Private statuses are taken
  from conversations only, because instances may file private mentions from strangers under
  "filtered notifications" while the conversation still shows them. Public messages are threaded by
  the root of their reply chain (``GET /api/v1/statuses/:id/context`` for replies), private ones by
  conversation id (``dm:`` prefix).
- reply: ``POST /api/v1/statuses`` with ``in_reply_to_id``. Mastodon delivers a reply (and a direct
  message at all) only to the accounts mentioned in its text, so the author's ``@acct`` goes in front
  unless the text already has it; the author comes from ``GET /api/v1/statuses/:id``.
- delete: ``DELETE /api/v1/statuses/:id``. Metrics: ``GET /api/v1/statuses/:id`` per post
  (favourites, reblogs, replies; Mastodon has no impressions or clicks).
- Errors: 429 → RateLimited until ``X-RateLimit-Reset`` (ISO 8601); 401 → AuthorizationExpired; other
  4xx (422 validation, text too long, invalid media) → Rejected with the instance's ``error``; 5xx and
  connection failures → Transient. ``ratelimit_method="throw"``: Mastodon.py never sleeps in a worker.
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from lib.http_errors import requests_error_before_sending
from lib.safe_fetch import guarded_session, host_is_forbidden, refused_by_guard
from lib.text_limits import URL_WEIGHT, mastodon_length, text_with_link
from networks.base import (
    AuthorizationExpired,
    Capabilities,
    Connector,
    InboundKind,
    InboundMessage,
    InboundPage,
    LengthUnit,
    LinkHandling,
    Media,
    PostMetrics,
    PublishResult,
    RateLimited,
    RecentPost,
    Rejected,
    ReplyTarget,
    Transient,
)
from networks.models import Network

MAX_LENGTH = 500
MAX_IMAGES = 4
HTTP_TIMEOUT_SECONDS = 30
PAGE_SIZE = 40
MAX_PAGES = 10
# Mastodon's default window is 300 requests per 5 minutes: wait that long when no reset time is given.
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=5)
# Declared instead of asking the instance (one request less per connector): every endpoint used here
# exists since 4.0, and with this version Mastodon.py uses /api/v2/media.
ASSUMED_SERVER_VERSION = "4.0.0"
USER_AGENT = "SocialDesk"


class _PlainText(HTMLParser):
    """Mastodon sends status content as HTML: keep the words, one line per paragraph or <br>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(content: str) -> str:
    parser = _PlainText()
    parser.feed(content)
    parser.close()
    return "".join(parser.parts).strip()


def _raw(entity) -> dict:
    """The entity as plain JSON data (Mastodon.py parses dates into datetimes)."""
    return json.loads(entity.to_json(pretty=False))["_mastopy_data"]


def _time(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _id_int(value) -> int:
    return int(value) if value else 0


class MastodonConnector(Connector):
    network = Network.MASTODON
    capabilities = Capabilities(
        max_length=MAX_LENGTH,
        length_unit=LengthUnit.GRAPHEMES,
        link_handling=LinkHandling.IN_TEXT,
        private_messages=True,
        hide_comments=False,
        # Quote posts arrived in Mastodon 4.5 and not every instance runs it.
        quote_posts=False,
        media_required=False,
        link_length=URL_WEIGHT,
    )
    # 300 requests per 5 minutes per account: a check costs 2 requests plus one per new reply.
    poll_interval = timedelta(minutes=1)

    def __init__(self, channel):
        super().__init__(channel)
        self._api: Mastodon | None = None
        self._last_response: requests.Response | None = None

    # --- operations --------------------------------------------------------------------------

    def publish(self, *, text: str, link: str = "", media: Sequence[Media] = ()) -> PublishResult:
        body = text_with_link(text, link)
        self._check_length(body)
        if len(media) > MAX_IMAGES:
            raise Rejected(
                gettext("Mastodon allows at most %(count)s images per post.") % {"count": MAX_IMAGES}
            )
        media_ids = [self._upload(item) for item in media]
        key = self._idempotency_key("publish", body, *(item.path for item in media))
        status = self._call(
            lambda api: api.status_post(
                body, media_ids=media_ids or None, visibility="public", idempotency_key=key
            ),
            write=True,
        )
        return PublishResult(external_id=str(status["id"]), url=status["url"])

    def find_recent_posts(self, *, since: datetime) -> list[RecentPost]:
        account_id = self.channel.account_id
        posts: list[RecentPost] = []
        max_id = None
        for _page in range(MAX_PAGES):
            page = self._call(
                lambda api, max_id=max_id: api.account_statuses(
                    account_id, exclude_reblogs=True, max_id=max_id, limit=PAGE_SIZE
                )
            )
            for status in page:
                if _time(status["created_at"]) >= since and status["visibility"] != "direct":
                    posts.append(
                        RecentPost(
                            external_id=str(status["id"]),
                            url=status["url"],
                            text=html_to_text(status["content"]),
                            created_at=_time(status["created_at"]),
                            is_reply=status.get("in_reply_to_id") is not None,
                        )
                    )
            if len(page) < PAGE_SIZE or _time(page[-1]["created_at"]) < since:
                break
            max_id = str(page[-1]["id"])
        return posts

    def fetch_inbound(self, *, cursor: dict) -> InboundPage:
        new_cursor = dict(cursor)
        messages: list[InboundMessage] = []

        notifications = self._mentions(cursor.get("notifications_since"))
        if notifications:
            new_cursor["notifications_since"] = str(max((n["id"] for n in notifications), key=_id_int))
        roots: dict[str, Any] = {}
        for notification in sorted(notifications, key=lambda n: _id_int(n["id"])):
            status = notification["status"]
            if status is None or status["visibility"] == "direct":
                continue
            messages.append(self._public_message(status, roots))

        private, newest = self._private_messages(cursor.get("conversations_since"))
        messages.extend(private)
        if newest:
            new_cursor["conversations_since"] = newest

        messages.sort(key=lambda m: (m.created_at, _id_int(m.external_id)))
        return InboundPage(messages=messages, cursor=new_cursor)

    def reply(self, *, target: ReplyTarget, text: str) -> PublishResult:
        original = self._call(lambda api: api.status(target.external_id))
        acct = original["account"]["acct"]
        body = text if f"@{acct}" in text else f"@{acct} {text}"
        self._check_length(body)
        # A reply is never more public than what it answers; a private message stays direct.
        visibility = "direct" if target.kind == InboundKind.PRIVATE_MESSAGE else original["visibility"]
        key = self._idempotency_key("reply", target.external_id, body)
        status = self._call(
            lambda api: api.status_post(
                body, in_reply_to_id=target.external_id, visibility=visibility, idempotency_key=key
            ),
            write=True,
        )
        return PublishResult(external_id=str(status["id"]), url=status["url"])

    def delete(self, *, external_id: str) -> None:
        try:
            self._call(lambda api: api.status_delete(external_id), write=True)
        except _Gone:
            return

    def fetch_metrics(self, *, external_ids: Sequence[str]) -> list[PostMetrics]:
        metrics = []
        for external_id in external_ids:
            try:
                status = self._call(lambda api, external_id=external_id: api.status(external_id))
            except _Gone:
                continue
            metrics.append(
                PostMetrics(
                    external_id=str(status["id"]),
                    impressions=None,
                    likes=status["favourites_count"],
                    shares=status["reblogs_count"],
                    comments=status["replies_count"],
                )
            )
        return metrics

    # --- inbound -----------------------------------------------------------------------------

    def _mentions(self, since: str | None) -> list:
        if since is None:
            # The first check reads only the newest page: the desk starts from now.
            return list(self._call(lambda api: api.notifications(types=["mention"], limit=PAGE_SIZE)))
        found: list = []
        cursor = since
        for _page in range(MAX_PAGES):
            # min_id walks forward from the cursor without gaps, a page at a time.
            page = self._call(
                lambda api, cursor=cursor: api.notifications(
                    types=["mention"], min_id=cursor, limit=PAGE_SIZE
                )
            )
            found.extend(page)
            if len(page) < PAGE_SIZE:
                break
            cursor = str(max((n["id"] for n in page), key=_id_int))
        return found

    def _private_messages(self, since: str | None) -> tuple[list[InboundMessage], str | None]:
        """Direct statuses newer than `since` (a status id), from the conversations updated since then."""
        conversations: list = []
        page = self._call(lambda api: api.conversations(since_id=since, limit=PAGE_SIZE))
        for _page in range(MAX_PAGES):
            conversations.extend(page)
            # The first check reads only the newest page, like mentions.
            if since is None or len(page) < PAGE_SIZE:
                break
            page = self._call(lambda api, page=page: api.fetch_next(page)) or []
        messages: list[InboundMessage] = []
        newest = None
        for conversation in conversations:
            last = conversation["last_status"]
            if last is None or _id_int(last["id"]) <= _id_int(since):
                continue
            thread_key = f"dm:{conversation['id']}"
            statuses = [last]
            # Earlier messages of this conversation may also be new: they are the last one's ancestors.
            if since is not None and _id_int(last["in_reply_to_id"]) > _id_int(since):
                context = self._call(lambda api, last=last: api.status_context(last["id"]))
                statuses = [
                    status
                    for status in context["ancestors"]
                    if status["visibility"] == "direct" and _id_int(status["id"]) > _id_int(since)
                ] + statuses
            for status in statuses:
                messages.append(
                    self._message(status, thread_key=thread_key, kind=InboundKind.PRIVATE_MESSAGE)
                )
            newest = str(max(_id_int(newest), _id_int(last["id"])))
        return messages, newest

    def _public_message(self, status, roots: dict[str, Any]) -> InboundMessage:
        """A mention, threaded under the first status of its reply chain (``roots`` caches the
        chain's first status by status id, so replies to one thread cost one context request)."""
        account_id = self.channel.account_id
        parent = status["in_reply_to_id"]
        if parent is None:
            root = status
        elif str(parent) in roots:
            root = roots[str(parent)]
        else:
            context = self._call(lambda api: api.status_context(status["id"]))
            root = context["ancestors"][0] if context["ancestors"] else status
        roots[str(status["id"])] = root
        root_is_ours = str(root["account"]["id"]) == account_id and root is not status
        answers_us = str(status["in_reply_to_account_id"] or "") == account_id
        kind = InboundKind.PUBLIC_COMMENT if answers_us or root_is_ours else InboundKind.MENTION
        return self._message(
            status, thread_key=str(root["id"]), kind=kind, about_post=str(root["id"]) if root_is_ours else ""
        )

    def _message(self, status, *, thread_key: str, kind: InboundKind, about_post: str = "") -> InboundMessage:
        account = status["account"]
        return InboundMessage(
            external_id=str(status["id"]),
            thread_key=thread_key,
            kind=kind,
            author_id=str(account["id"]),
            author_name=account["display_name"] or account["username"],
            author_handle=account["acct"],
            text=html_to_text(status["content"]),
            created_at=_time(status["created_at"]),
            in_reply_to=str(status["in_reply_to_id"] or ""),
            about_post=about_post,
            is_from_us=str(account["id"]) == self.channel.account_id,
            raw=_raw(status),
        )

    # --- publishing helpers ------------------------------------------------------------------

    def _check_length(self, text: str) -> None:
        length = mastodon_length(text)
        if length > MAX_LENGTH:
            raise Rejected(
                gettext(
                    "The text is %(length)s characters long as Mastodon counts them; it allows %(limit)s."
                )
                % {"length": length, "limit": MAX_LENGTH}
            )

    def _upload(self, item: Media) -> str:
        with default_storage.open(item.path, "rb") as handle:
            content = handle.read()
        attachment = self._call(
            lambda api: api.media_post(
                content,
                mime_type=item.mime_type,
                description=item.alt_text or None,
                file_name=PurePosixPath(item.path).name,
            )
        )
        if attachment["url"] is None:
            # 202: the instance is still processing the file and would refuse a post with it.
            raise Transient(gettext("Mastodon is still processing the image; try again in a moment."))
        return str(attachment["id"])

    def _idempotency_key(self, *parts: str) -> str:
        material = "\x1f".join((str(self.channel.pk), *parts))
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    # --- transport and errors ----------------------------------------------------------------

    def _client(self) -> Mastodon:
        if self._api is None:
            credentials = self.channel.credentials
            if not credentials.get("access_token") or not credentials.get("api_base_url"):
                raise AuthorizationExpired(gettext("No Mastodon access token is stored for this channel."))
            instance_host = urlsplit(credentials["api_base_url"]).hostname or ""
            if host_is_forbidden(instance_host, settings.SOCIALDESK_FETCH_ALLOW_PRIVATE):
                raise Rejected(gettext("The Mastodon instance's address is inside a private network."))
            # Checked again where each socket really goes: the name may be re-pointed inside later.
            session = guarded_session(settings.SOCIALDESK_FETCH_ALLOW_PRIVATE)
            session.hooks["response"].append(self._remember_response)
            self._api = Mastodon(
                access_token=credentials["access_token"],
                api_base_url=credentials["api_base_url"],
                ratelimit_method="throw",
                request_timeout=HTTP_TIMEOUT_SECONDS,
                mastodon_version=ASSUMED_SERVER_VERSION,
                version_check_mode="created",
                user_agent=USER_AGENT,
                session=session,
            )
        return self._api

    def _remember_response(self, response: requests.Response, *args, **kwargs) -> None:
        # Mastodon.py drops the instance's error text when the endpoint returns a list: keep it here.
        self._last_response = response

    def _call(self, operation: Callable[[Mastodon], Any], *, write: bool = False) -> Any:
        api = self._client()
        try:
            return operation(api)
        except MastodonRatelimitError as exc:
            raise RateLimited(until=_rate_limit_until(api), reason=gettext("Too many requests.")) from exc
        except MastodonUnauthorizedError as exc:
            raise AuthorizationExpired(self._error_message(exc)) from exc
        except MastodonNotFoundError as exc:
            raise _Gone(self._error_message(exc)) from exc
        except MastodonServerError as exc:
            # A 5xx on a write does not prove the instance did nothing: look before repeating.
            raise Transient(self._error_message(exc), request_sent=write) from exc
        except MastodonNetworkError as exc:
            if refused_by_guard(exc):
                # The name now points inside our own network (re-pointed after it was checked).
                raise Rejected(gettext("The Mastodon instance's address is inside a private network.")) from exc
            cause = exc.__context__
            sent = write and not (cause is not None and requests_error_before_sending(cause))
            raise Transient(
                gettext("Could not reach the Mastodon instance: %(error)s") % {"error": exc},
                request_sent=sent,
            ) from exc
        except (MastodonAPIError, MastodonIllegalArgumentError) as exc:
            raise Rejected(self._error_message(exc)) from exc

    def _error_message(self, exc: MastodonError) -> str:
        """The instance's own ``error`` text, else the HTTP status, else the library's message."""
        response = self._last_response
        if isinstance(exc, MastodonAPIError) and response is not None and not response.ok:
            try:
                error = response.json().get("error")
            except (ValueError, AttributeError):
                error = None
            return str(error) if error else f"{response.status_code} {response.reason}"
        return str(exc)


class _Gone(Rejected):
    """404: the status no longer exists (or is not visible to the account)."""


def _rate_limit_until(api: Mastodon) -> datetime:
    """Mastodon.py keeps X-RateLimit-Reset (ISO 8601) as an epoch, corrected by the server's Date."""
    if api.ratelimit_reset:
        return datetime.fromtimestamp(api.ratelimit_reset, tz=UTC)
    return timezone.now() + DEFAULT_RATE_LIMIT_WAIT
