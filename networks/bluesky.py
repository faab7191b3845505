"""Bluesky through the atproto SDK, as one account with an app password.

Credentials (``Channel.credentials``):

- ``handle``: the account's handle, e.g. ``ocupacio.bsky.social``.
- ``app_password``: an app password (Settings › Privacy and security › App passwords); used only to
  open a session when there is none or the stored one is dead.
- ``session_string``: the SDK's exported session (handle, DID, access and refresh JWTs, PDS). Written
  by this connector whenever the SDK opens or refreshes a session, so ``createSession`` (limited to 30
  per 5 minutes and 300 a day per account) is not called for every task.
- ``service_url`` (optional): the entryway or PDS, ``https://bsky.social`` when absent. After login
  the SDK talks to the PDS named in the session's DID document.

``Channel.account_id`` is the account's DID. Two workers may refresh the same session at once; the
loser's next call finds its refresh token spent and opens a new session with the app password.

How the contract maps onto the XRPC API:

- publish: ``com.atproto.repo.uploadBlob`` per image, then ``com.atproto.repo.createRecord`` of an
  ``app.bsky.feed.post``. Bluesky does not link URLs by itself: every http(s) URL in the text gets a
  link facet with UTF-8 byte offsets (``client_utils.TextBuilder``). No link card is attached (that
  needs the page's title and image). Posts are labelled with the desk's language (``LANGUAGE_CODE``).
- find_recent_posts: ``app.bsky.feed.getAuthorFeed`` (``posts_with_replies``), reposts left out. A
  post whose record has a ``reply`` (root and parent) answers another one: marked ``is_reply``.
- fetch_inbound: ``app.bsky.notification.listNotifications`` with reasons mention, reply and quote.
  Threaded by the root of the reply chain (a quote or a plain mention starts its own thread); dated
  by ``indexedAt`` (when Bluesky received it: a post's own ``createdAt`` is whatever its app wrote).
- reply: ``app.bsky.feed.getPosts`` for the message (its CID and thread root), then a post with
  ``reply.root`` and ``reply.parent``. Private messages need the separate chat service
  (``chat.bsky.convo.*`` through the chat proxy, with an app password allowed to read DMs): not
  implemented, so ``private_messages`` is False.
- delete: ``com.atproto.repo.deleteRecord``. Metrics: ``app.bsky.feed.getPosts`` (likes, reposts +
  quotes, replies; Bluesky reports no impressions or clicks).
- Errors: 429 → RateLimited until ``RateLimit-Reset``; 401/403 or an expired/invalid token that a
  new session does not cure → AuthorizationExpired; 400 (InvalidRequest, BlobTooLarge, …) and 413 →
  Rejected with Bluesky's message; 5xx, 409 and connection failures → Transient.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from atproto import Client, SessionEvent, client_utils, models
from atproto_client.exceptions import (
    BadRequestError,
    LoginRequiredError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    RequestException,
    UnauthorizedError,
)
from atproto_client.models.utils import get_model_as_dict
from atproto_client.request import Request
from atproto_core.uri import AtUri
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext

from lib.text_limits import find_urls, grapheme_count, text_with_link
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
    Unsupported,
)
from networks.models import Channel, Network

MAX_GRAPHEMES = 300
MAX_IMAGES = 4
# Bluesky's app refuses images over 976.56 KB (1,000,000 bytes).
MAX_IMAGE_BYTES = 1_000_000
DEFAULT_SERVICE_URL = "https://bsky.social"
HTTP_TIMEOUT_SECONDS = 30
PAGE_SIZE = 50
MAX_PAGES = 10
# getPosts takes at most 25 URIs per request.
POSTS_PER_REQUEST = 25
INBOUND_REASONS = ["mention", "reply", "quote"]
# Without a RateLimit-Reset header, the shortest window Bluesky uses is 5 minutes.
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=5)
# A 400 with one of these means the session is dead, not that the request was wrong.
SESSION_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})
POST_COLLECTION = "app.bsky.feed.post"


def rich_text(text: str) -> client_utils.TextBuilder:
    """The text with a link facet over every http(s) URL (the builder counts UTF-8 bytes)."""
    builder = client_utils.TextBuilder()
    position = 0
    for start, end in find_urls(text):
        builder.text(text[position:start])
        builder.link(text[start:end], text[start:end])
        position = end
    builder.text(text[position:])
    return builder


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


class BlueskyConnector(Connector):
    network = Network.BLUESKY
    capabilities = Capabilities(
        max_length=MAX_GRAPHEMES,
        length_unit=LengthUnit.GRAPHEMES,
        link_handling=LinkHandling.IN_TEXT,
        private_messages=False,
        hide_comments=False,
        quote_posts=True,
        media_required=False,
    )
    # 3,000 requests per 5 minutes per IP: one request a minute per channel is nothing.
    poll_interval = timedelta(minutes=1)

    def __init__(self, channel):
        super().__init__(channel)
        self._api: Client | None = None

    # --- operations --------------------------------------------------------------------------

    def publish(self, *, text: str, link: str = "", media: Sequence[Media] = ()) -> PublishResult:
        body = text_with_link(text, link)
        self._check_length(body)
        if len(media) > MAX_IMAGES:
            raise Rejected(
                gettext("Bluesky allows at most %(count)s images per post.") % {"count": MAX_IMAGES}
            )
        images = [self._upload(item) for item in media]
        embed = models.AppBskyEmbedImages.Main(images=images) if images else None
        created = self._call(
            lambda api: api.send_post(
                rich_text(body), profile_identify=self.channel.account_id, embed=embed, langs=_languages()
            ),
            write=True,
        )
        return PublishResult(external_id=created.uri, url=self._post_url(created.uri))

    def find_recent_posts(self, *, since: datetime) -> list[RecentPost]:
        posts: list[RecentPost] = []
        cursor = None
        for _page in range(MAX_PAGES):
            feed = self._call(
                lambda api, cursor=cursor: api.get_author_feed(
                    actor=self.channel.account_id, filter="posts_with_replies", limit=PAGE_SIZE, cursor=cursor
                )
            )
            reached_since = False
            for item in feed.feed:
                post = item.post
                if item.reason is not None or post.author.did != self.channel.account_id:
                    continue  # a repost of somebody else's post
                created_at = _time(post.record.created_at)
                if created_at < since:
                    reached_since = True
                    continue
                posts.append(
                    RecentPost(
                        external_id=post.uri,
                        url=self._post_url(post.uri),
                        text=post.record.text,
                        created_at=created_at,
                        is_reply=post.record.reply is not None,
                    )
                )
            cursor = feed.cursor
            if reached_since or not cursor:
                break
        return posts

    def fetch_inbound(self, *, cursor: dict) -> InboundPage:
        since = cursor.get("indexed_since")
        found: list = []
        page_cursor = None
        for _page in range(MAX_PAGES):
            answer = self._call(
                lambda api, page_cursor=page_cursor: api.app.bsky.notification.list_notifications(
                    models.AppBskyNotificationListNotifications.Params(
                        reasons=INBOUND_REASONS, limit=PAGE_SIZE, cursor=page_cursor
                    )
                )
            )
            # Newest first: keep what is not older than the last one seen (seen again is harmless).
            fresh = [n for n in answer.notifications if since is None or _time(n.indexed_at) >= _time(since)]
            found.extend(fresh)
            page_cursor = answer.cursor
            # The first check reads only the newest page: the desk starts from now.
            if since is None or len(fresh) < len(answer.notifications) or not page_cursor:
                break
        messages = [self._message(notification) for notification in found]
        messages.sort(key=lambda m: (m.created_at, m.external_id))
        new_cursor = dict(cursor)
        if found:
            new_cursor["indexed_since"] = max((n.indexed_at for n in found), key=_time)
        return InboundPage(messages=messages, cursor=new_cursor)

    def reply(self, *, target: ReplyTarget, text: str) -> PublishResult:
        if target.kind == InboundKind.PRIVATE_MESSAGE:
            raise Unsupported(gettext("SocialDesk does not read or send Bluesky private messages."))
        self._check_length(text)
        found = self._call(lambda api: api.get_posts([target.external_id]))
        if not found.posts:
            raise Rejected(gettext("The post no longer exists on Bluesky."))
        post = found.posts[0]
        parent = models.ComAtprotoRepoStrongRef.Main(uri=post.uri, cid=post.cid)
        root = post.record.reply.root if post.record.reply else parent
        reply_to = models.AppBskyFeedPost.ReplyRef(root=root, parent=parent)
        created = self._call(
            lambda api: api.send_post(
                rich_text(text),
                profile_identify=self.channel.account_id,
                reply_to=reply_to,
                langs=_languages(),
            ),
            write=True,
        )
        return PublishResult(external_id=created.uri, url=self._post_url(created.uri))

    def delete(self, *, external_id: str) -> None:
        # deleteRecord of a record that is already gone succeeds: nothing to special-case.
        self._call(lambda api: api.delete_post(external_id), write=True)

    def fetch_metrics(self, *, external_ids: Sequence[str]) -> list[PostMetrics]:
        metrics = []
        uris = list(external_ids)
        for start in range(0, len(uris), POSTS_PER_REQUEST):
            chunk = uris[start : start + POSTS_PER_REQUEST]
            # Posts Bluesky no longer has are simply missing from the answer.
            found = self._call(lambda api, chunk=chunk: api.get_posts(chunk))
            for post in found.posts:
                metrics.append(
                    PostMetrics(
                        external_id=post.uri,
                        impressions=None,
                        likes=post.like_count or 0,
                        shares=(post.repost_count or 0) + (post.quote_count or 0),
                        comments=post.reply_count or 0,
                    )
                )
        return metrics

    # --- inbound -----------------------------------------------------------------------------

    def _message(self, notification) -> InboundMessage:
        record = notification.record
        own_prefix = f"at://{self.channel.account_id}/"
        root = record.reply.root.uri if record.reply else notification.uri
        root_is_ours = root.startswith(own_prefix)
        if root_is_ours or notification.reason == "reply":
            kind = InboundKind.PUBLIC_COMMENT
            about_post = root if root_is_ours else ""
        else:
            kind = InboundKind.MENTION
            subject = notification.reason_subject or ""
            about_post = subject if notification.reason == "quote" and subject.startswith(own_prefix) else ""
        author = notification.author
        return InboundMessage(
            external_id=notification.uri,
            thread_key=root,
            kind=kind,
            author_id=author.did,
            author_name=author.display_name or author.handle,
            author_handle=author.handle,
            text=record.text,
            created_at=_time(notification.indexed_at),
            in_reply_to=record.reply.parent.uri if record.reply else "",
            about_post=about_post,
            is_from_us=author.did == self.channel.account_id,
            raw=get_model_as_dict(notification),
        )

    # --- publishing helpers ------------------------------------------------------------------

    def _check_length(self, text: str) -> None:
        length = grapheme_count(text)
        if length > MAX_GRAPHEMES:
            raise Rejected(
                gettext("The text is %(length)s characters long; Bluesky allows %(limit)s.")
                % {"length": length, "limit": MAX_GRAPHEMES}
            )

    def _upload(self, item: Media) -> models.AppBskyEmbedImages.Image:
        with default_storage.open(item.path, "rb") as handle:
            content = handle.read()
        if len(content) > MAX_IMAGE_BYTES:
            raise Rejected(gettext("The image is larger than the 1 MB Bluesky accepts."))
        uploaded = self._call(
            lambda api: api.com.atproto.repo.upload_blob(content, headers={"Content-Type": item.mime_type})
        )
        return models.AppBskyEmbedImages.Image(alt=item.alt_text, image=uploaded.blob)

    def _post_url(self, uri: str) -> str:
        at_uri = AtUri.from_str(uri)
        profile = self.channel.handle or at_uri.hostname
        return f"https://bsky.app/profile/{profile}/post/{at_uri.rkey}"

    # --- session -----------------------------------------------------------------------------

    def _client(self) -> Client:
        if self._api is None:
            credentials = self.channel.credentials
            api = Client(
                base_url=credentials.get("service_url") or DEFAULT_SERVICE_URL,
                request=Request(timeout=HTTP_TIMEOUT_SECONDS),
            )
            api.on_session_change(self._session_changed)
            if credentials.get("session_string"):
                # Reads the stored JWTs without any request; the SDK refreshes them when they near expiry.
                api.login(session_string=credentials["session_string"], fetch_bsky_profile=False)
            else:
                self._log_in(api)
            self._api = api
        return self._api

    def _log_in(self, api: Client) -> None:
        """createSession with the app password (the session is stored by _session_changed)."""
        credentials = self.channel.credentials
        if not credentials.get("handle") or not credentials.get("app_password"):
            raise AuthorizationExpired(gettext("No Bluesky app password is stored for this channel."))
        try:
            api.login(credentials["handle"], credentials["app_password"], fetch_bsky_profile=False)
        except (UnauthorizedError, BadRequestError) as exc:
            raise AuthorizationExpired(_error_message(exc)) from exc
        except RequestErrorBase as exc:
            raise _translate(exc, write=False) from exc

    def _session_changed(self, event: SessionEvent, session) -> None:
        if event not in (SessionEvent.CREATE, SessionEvent.REFRESH):
            return
        credentials = self.channel.credentials
        credentials["session_string"] = session.export()
        self.channel.credentials = credentials
        # Only the credentials column: the rest of the row belongs to whoever else is updating it.
        Channel.objects.filter(pk=self.channel.pk).update(
            credentials_encrypted=self.channel.credentials_encrypted, updated_at=timezone.now()
        )

    def _call(self, operation: Callable[[Client], Any], *, write: bool = False) -> Any:
        api = self._client()
        try:
            return operation(api)
        except (RequestErrorBase, LoginRequiredError) as exc:
            if not _session_is_dead(exc):
                raise _translate(exc, write=write) from exc
            # The stored session is spent (revoked, or refreshed by another worker): the request
            # was refused before doing anything, so a new session may simply try it again.
            self._log_in(api)
        try:
            return operation(api)
        except (RequestErrorBase, LoginRequiredError) as exc:
            raise _translate(exc, write=write) from exc


def _session_is_dead(exc: Exception) -> bool:
    if isinstance(exc, LoginRequiredError | UnauthorizedError):
        return True
    return _error_code(exc) in SESSION_ERRORS


def _translate(exc: Exception, *, write: bool) -> Exception:
    if isinstance(exc, RateLimitExceededError):
        until = exc.reset_at
        if until is None and exc.retry_after is not None:
            until = timezone.now() + timedelta(seconds=exc.retry_after)
        return RateLimited(
            until=until or timezone.now() + DEFAULT_RATE_LIMIT_WAIT, reason=_error_message(exc)
        )
    if isinstance(exc, UnauthorizedError | LoginRequiredError) or _error_code(exc) in SESSION_ERRORS:
        return AuthorizationExpired(_error_message(exc))
    if isinstance(exc, BadRequestError):
        return Rejected(_error_message(exc))
    response = getattr(exc, "response", None)
    if response is None:
        # No answer at all: a connection that never opened sent nothing.
        cause = exc.__cause__
        before_sending = isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout)
        return Transient(
            gettext("Could not reach Bluesky: %(error)s") % {"error": cause or exc},
            request_sent=write and not before_sending,
        )
    if response.status_code == 413:
        return Rejected(_error_message(exc))
    if isinstance(exc, NetworkError) or response.status_code >= 500:
        # 409, 502 and other 5xx: the PDS may have acted on a write, so look before repeating it.
        return Transient(_error_message(exc), request_sent=write)
    if isinstance(exc, RequestException):
        return Rejected(_error_message(exc))
    return Transient(_error_message(exc), request_sent=write)


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    content = getattr(response, "content", None)
    return getattr(content, "error", "") or ""


def _error_message(exc: Exception) -> str:
    """Bluesky's own ``message`` (else its ``error`` code, else the HTTP status)."""
    response = getattr(exc, "response", None)
    if response is None:
        return str(exc)
    content = response.content
    message = getattr(content, "message", None) or getattr(content, "error", None)
    return message or str(response.status_code)


def _languages() -> list[str]:
    return [settings.LANGUAGE_CODE.split("-")[0]]
