"""X (formerly Twitter) through tweepy's API v2 ``Client``, as one OAuth 2.0 user.

Credentials (``Channel.credentials``), written by the OAuth 2.0 PKCE connect flow:

- ``access_token``: the user's OAuth 2.0 access token, sent as a Bearer token (about 2 hours).
- ``refresh_token``: single-use; every refresh returns a new one (needs the ``offline.access`` scope).
- ``expires_at``: when the access token dies (ISO 8601, UTC).
- ``client_id``: the X app the tokens were issued to (a refresh must use the same one).

This connector only *uses* ``access_token``: refreshing it before ``expires_at``, under a lock so two
workers never burn the rotating refresh token, belongs to the connect flow. A 401 means the token
is dead or revoked (AuthorizationExpired). ``Channel.account_id`` is the numeric user id and
``Channel.handle`` the username (without @). Scopes: ``tweet.read tweet.write users.read
offline.access dm.read dm.write media.write``, plus ``tweet.moderate.write`` for hiding replies.

How the contract maps onto API v2:

- publish: ``POST /2/tweets``; a link goes into the text (t.co counts it as 23 characters, see
  ``lib.text_limits.x_weighted_length``). Images go first through ``POST /2/media/upload`` and,
  with alt text, ``POST /2/media/metadata`` (tweepy 4.16/4.17 has no v2 media upload: ``_upload``
  is that small wrapper, on tweepy's own authenticated transport).
- find_recent_posts: the account's own timeline (``GET /2/users/:id/tweets``, without reposts). It
  lists the account's replies too: those with ``in_reply_to_user_id`` or a ``replied_to`` reference
  come marked ``is_reply``.
- fetch_inbound: mentions (``GET /2/users/:id/mentions``, from ``since_id``), replies in the threads
  the account took part in during the last 7 days (``GET /2/tweets/search/recent`` with
  ``conversation_id:`` queries; the threads come from the account's own timeline) and direct messages
  (``GET /2/dm_events``, 30 days of history). Public messages are threaded by conversation id,
  private ones by DM conversation id (``dm:`` prefix).
- reply: ``POST /2/tweets`` with ``reply.in_reply_to_tweet_id``, or a DM with
  ``POST /2/dm_conversations/with/:participant_id/messages``. Since February 2026 X refuses a reply
  unless the author mentioned or quoted the account: that 403 arrives as Rejected with X's words.
- hide/unhide: ``PUT /2/tweets/:id/hidden`` (only replies to the account's own posts).
- delete: ``DELETE /2/tweets/:id``. Metrics: ``GET /2/tweets?ids=`` with ``public_metrics``
  (impressions, likes, reposts + quotes, replies; X reports link clicks only in non-public metrics,
  for posts under 30 days: not requested, so ``clicks`` is None).
- Errors: 429 → RateLimited until ``x-rate-limit-reset``; 401 → AuthorizationExpired; 400/403/404/
  409/422 → Rejected with X's ``detail`` (403 duplicate content, reply not allowed, …); 5xx and
  connection failures → Transient. ``wait_on_rate_limit`` stays False: a worker never sleeps.
"""

import base64
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import tweepy
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext

from lib.http_errors import requests_error_before_sending
from lib.text_limits import URL_WEIGHT, text_with_link, x_weighted_length
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

MAX_WEIGHTED_LENGTH = 280
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/bmp", "image/tiff", "image/pjpeg"})
HTTP_TIMEOUT_SECONDS = 30
# Recent search only looks 7 days back, so older threads cannot be searched anyway.
THREAD_WINDOW = timedelta(days=7)
# Recent search queries may be 512 characters long on the self-serve access levels.
SEARCH_QUERY_MAX_LENGTH = 512
PAGE_SIZE = 100
# A flood bigger than this many pages per check is read from the newest end; older ones are skipped.
MAX_PAGES = 10
# Without a reset header (usage cap reached, for instance) try again after this long.
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=15)
USAGE_CAPPED_WAIT = timedelta(hours=24)

TWEET_FIELDS = ["author_id", "created_at", "conversation_id", "in_reply_to_user_id", "referenced_tweets"]
# The account's own timeline: the threads it takes part in, and which of its posts are replies.
OWN_TWEET_FIELDS = ["created_at", "conversation_id", "in_reply_to_user_id", "referenced_tweets"]
USER_FIELDS = ["username", "name"]
DM_EVENT_FIELDS = ["id", "text", "event_type", "created_at", "sender_id", "dm_conversation_id"]


class _TimeoutSession(requests.Session):
    """tweepy sends its requests without a timeout; a worker must never hang on a dead connection."""

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", HTTP_TIMEOUT_SECONDS)
        return super().request(*args, **kwargs)


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _id_int(value: str | None) -> int:
    return int(value) if value else 0


class XConnector(Connector):
    network = Network.X
    capabilities = Capabilities(
        max_length=MAX_WEIGHTED_LENGTH,
        # X's weighted count: most European text 1 per character, CJK and emoji 2 (lib.text_limits).
        length_unit=LengthUnit.CHARACTERS,
        link_handling=LinkHandling.IN_TEXT,
        private_messages=True,
        hide_comments=True,
        quote_posts=True,
        media_required=False,
        duplicate_text_rejected=True,
        link_length=URL_WEIGHT,
    )
    # DM reads are limited to 15 requests per 15 minutes per user: one check every 2 minutes leaves room.
    poll_interval = timedelta(minutes=2)

    def __init__(self, channel):
        super().__init__(channel)
        self._api: tweepy.Client | None = None

    # --- operations --------------------------------------------------------------------------

    def publish(self, *, text: str, link: str = "", media: Sequence[Media] = ()) -> PublishResult:
        body = text_with_link(text, link)
        self._check_length(body)
        media_ids = self._upload_all(media)
        created = self._call(
            lambda api: api.create_tweet(text=body, media_ids=media_ids or None, user_auth=False), write=True
        )
        return self._tweet_result(created["data"]["id"])

    def find_recent_posts(self, *, since: datetime) -> list[RecentPost]:
        tweets = self._own_tweets(start_time=since)
        posts = [
            RecentPost(
                external_id=tweet["id"],
                url=self._tweet_url(tweet["id"]),
                text=tweet["text"],
                created_at=_parse_time(tweet["created_at"]),
                is_reply=_is_reply(tweet),
            )
            for tweet in tweets
        ]
        return sorted(posts, key=lambda post: (post.created_at, _id_int(post.external_id)), reverse=True)

    def fetch_inbound(self, *, cursor: dict) -> InboundPage:
        new_cursor = dict(cursor)
        threads = self._update_threads(new_cursor)
        found: dict[str, InboundMessage] = {}

        mentions, users = self._mentions(cursor.get("mentions_since"))
        for tweet in mentions:
            found[tweet["id"]] = self._public_message(tweet, users, threads)
        if mentions:
            new_cursor["mentions_since"] = max((t["id"] for t in mentions), key=int)

        replies, users = self._thread_replies(threads, cursor.get("search_since"))
        for tweet in replies:
            # The search also finds the account's own post that started the thread: a post, not a message.
            if tweet["author_id"] == self.channel.account_id and tweet.get("conversation_id") == tweet["id"]:
                continue
            found.setdefault(tweet["id"], self._public_message(tweet, users, threads))
        if replies:
            new_cursor["search_since"] = max((t["id"] for t in replies), key=int)

        events, users = self._direct_messages(cursor.get("dm_since"))
        for event in events:
            found[event["id"]] = self._private_message(event, users)
        if events:
            new_cursor["dm_since"] = max((e["id"] for e in events), key=int)

        messages = sorted(found.values(), key=lambda m: (m.created_at, _id_int(m.external_id)))
        return InboundPage(messages=messages, cursor=new_cursor)

    def reply(self, *, target: ReplyTarget, text: str) -> PublishResult:
        if target.kind == InboundKind.PRIVATE_MESSAGE:
            sent = self._call(
                lambda api: api.create_direct_message(
                    participant_id=target.author_id, text=text, user_auth=False
                ),
                write=True,
            )
            data = sent["data"]
            return PublishResult(
                external_id=data["dm_event_id"], url=f"https://x.com/messages/{data['dm_conversation_id']}"
            )
        self._check_length(text)
        created = self._call(
            lambda api: api.create_tweet(text=text, in_reply_to_tweet_id=target.external_id, user_auth=False),
            write=True,
        )
        return self._tweet_result(created["data"]["id"])

    def hide_comment(self, *, external_id: str) -> None:
        self._call(lambda api: api.hide_reply(external_id, user_auth=False), write=True)

    def unhide_comment(self, *, external_id: str) -> None:
        self._call(lambda api: api.unhide_reply(external_id, user_auth=False), write=True)

    def delete(self, *, external_id: str) -> None:
        try:
            self._call(lambda api: api.delete_tweet(external_id, user_auth=False), write=True)
        except _Gone:
            return

    def fetch_metrics(self, *, external_ids: Sequence[str]) -> list[PostMetrics]:
        metrics = []
        ids = list(external_ids)
        for start in range(0, len(ids), PAGE_SIZE):
            chunk = ids[start : start + PAGE_SIZE]
            # Posts X no longer has come back in "errors" (partial success), not in "data".
            answer = self._call(
                lambda api, chunk=chunk: api.get_tweets(chunk, tweet_fields=["public_metrics"])
            )
            for tweet in answer.get("data", []):
                counters = tweet["public_metrics"]
                metrics.append(
                    PostMetrics(
                        external_id=tweet["id"],
                        impressions=counters.get("impression_count"),
                        likes=counters["like_count"],
                        shares=counters["retweet_count"] + counters.get("quote_count", 0),
                        comments=counters["reply_count"],
                    )
                )
        return metrics

    # --- inbound -----------------------------------------------------------------------------

    def _update_threads(self, cursor: dict) -> dict[str, str]:
        """The conversations the account posted in during the search window, read from its own
        timeline (only what is new since the last check), as {conversation id: last post time}."""
        now = timezone.now()
        if "own_since" in cursor:
            tweets = self._own_tweets(since_id=cursor["own_since"])
        else:
            tweets = self._own_tweets(start_time=now - THREAD_WINDOW)
        threads = dict(cursor.get("threads", {}))
        for tweet in tweets:
            conversation = tweet.get("conversation_id", tweet["id"])
            threads[conversation] = max(threads.get(conversation, ""), tweet["created_at"])
        if tweets:
            cursor["own_since"] = max((t["id"] for t in tweets), key=int)
        horizon = now - THREAD_WINDOW
        threads = {key: seen for key, seen in threads.items() if _parse_time(seen) >= horizon}
        cursor["threads"] = threads
        return threads

    def _own_tweets(self, *, start_time: datetime | None = None, since_id: str | None = None) -> list[dict]:
        account_id = self.channel.account_id
        tweets, _users = self._paged(
            lambda api, token: api.get_users_tweets(
                account_id,
                start_time=start_time,
                since_id=since_id,
                exclude=["retweets"],
                max_results=PAGE_SIZE,
                tweet_fields=OWN_TWEET_FIELDS,
                pagination_token=token,
            ),
            follow=True,
        )
        return tweets

    def _mentions(self, since_id: str | None) -> tuple[list[dict], dict[str, dict]]:
        account_id = self.channel.account_id
        return self._paged(
            lambda api, token: api.get_users_mentions(
                account_id,
                since_id=since_id,
                max_results=PAGE_SIZE,
                tweet_fields=TWEET_FIELDS,
                expansions=["author_id"],
                user_fields=USER_FIELDS,
                pagination_token=token,
            ),
            # The first check reads only the newest page: the desk starts from now, not from years ago.
            follow=since_id is not None,
        )

    def _thread_replies(
        self, threads: dict[str, str], since_id: str | None
    ) -> tuple[list[dict], dict[str, dict]]:
        tweets: list[dict] = []
        users: dict[str, dict] = {}
        for query in _conversation_queries(sorted(threads, key=int)):
            found, found_users = self._paged(
                lambda api, token, query=query: api.search_recent_tweets(
                    query,
                    since_id=since_id,
                    max_results=PAGE_SIZE,
                    tweet_fields=TWEET_FIELDS,
                    expansions=["author_id"],
                    user_fields=USER_FIELDS,
                    next_token=token,
                ),
                follow=since_id is not None,
            )
            tweets.extend(found)
            users.update(found_users)
        return tweets, users

    def _direct_messages(self, since_id: str | None) -> tuple[list[dict], dict[str, dict]]:
        events: list[dict] = []
        users: dict[str, dict] = {}
        token = None
        # dm_events has no since_id: newest first, so read back until the last event already seen.
        for _page in range(MAX_PAGES):
            answer = self._call(
                lambda api, token=token: api.get_direct_message_events(
                    event_types="MessageCreate",
                    dm_event_fields=DM_EVENT_FIELDS,
                    expansions=["sender_id"],
                    user_fields=USER_FIELDS,
                    max_results=PAGE_SIZE,
                    pagination_token=token,
                    user_auth=False,
                )
            )
            users.update(_users_by_id(answer))
            page = answer.get("data", [])
            fresh = [event for event in page if _id_int(event["id"]) > _id_int(since_id)]
            events.extend(fresh)
            token = answer.get("meta", {}).get("next_token")
            if since_id is None or len(fresh) < len(page) or not token:
                break
        return events, users

    def _paged(self, request: Callable[[tweepy.Client, str | None], Any], *, follow: bool):
        items: list[dict] = []
        users: dict[str, dict] = {}
        token = None
        for _page in range(MAX_PAGES):
            answer = self._call(lambda api, token=token: request(api, token))
            items.extend(answer.get("data", []))
            users.update(_users_by_id(answer))
            token = answer.get("meta", {}).get("next_token")
            if not follow or not token:
                break
        return items, users

    def _public_message(self, tweet: dict, users: dict[str, dict], threads: dict[str, str]) -> InboundMessage:
        account_id = self.channel.account_id
        author = users.get(tweet["author_id"], {})
        conversation = tweet.get("conversation_id", tweet["id"])
        ours = conversation in threads
        replied_to = _replied_to(tweet)
        in_our_thread = ours or tweet.get("in_reply_to_user_id") == account_id
        return InboundMessage(
            external_id=tweet["id"],
            thread_key=conversation,
            kind=InboundKind.PUBLIC_COMMENT if in_our_thread else InboundKind.MENTION,
            author_id=tweet["author_id"],
            author_name=author.get("name", ""),
            author_handle=author.get("username", ""),
            text=tweet["text"],
            created_at=_parse_time(tweet["created_at"]),
            in_reply_to=replied_to,
            # The conversation id is the id of the post that started it: ours when we posted it.
            about_post=conversation if ours and conversation != tweet["id"] else "",
            is_from_us=tweet["author_id"] == account_id,
            raw={"tweet": tweet, "author": author},
        )

    def _private_message(self, event: dict, users: dict[str, dict]) -> InboundMessage:
        sender = users.get(event["sender_id"], {})
        return InboundMessage(
            external_id=event["id"],
            thread_key=f"dm:{event['dm_conversation_id']}",
            kind=InboundKind.PRIVATE_MESSAGE,
            author_id=event["sender_id"],
            author_name=sender.get("name", ""),
            author_handle=sender.get("username", ""),
            text=event.get("text", ""),
            created_at=_parse_time(event["created_at"]),
            is_from_us=event["sender_id"] == self.channel.account_id,
            raw={"event": event, "sender": sender},
        )

    # --- publishing helpers ------------------------------------------------------------------

    def _check_length(self, text: str) -> None:
        length = x_weighted_length(text)
        if length > MAX_WEIGHTED_LENGTH:
            raise Rejected(
                gettext("The text is %(length)s characters long as X counts them; X allows %(limit)s.")
                % {"length": length, "limit": MAX_WEIGHTED_LENGTH}
            )

    def _upload_all(self, media: Sequence[Media]) -> list[str]:
        if len(media) > MAX_IMAGES:
            raise Rejected(gettext("X allows at most %(count)s images per post.") % {"count": MAX_IMAGES})
        return [self._upload(item) for item in media]

    def _upload(self, item: Media) -> str:
        """POST /2/media/upload (one-shot upload, images only), then the alt text through
        POST /2/media/metadata. Returns the media id to attach to the post."""
        if item.mime_type not in IMAGE_TYPES:
            raise Rejected(
                gettext("X does not accept this kind of file: %(type)s.") % {"type": item.mime_type}
            )
        with default_storage.open(item.path, "rb") as handle:
            content = handle.read()
        if len(content) > MAX_IMAGE_BYTES:
            raise Rejected(gettext("The image is larger than the 5 MB X accepts."))
        payload = {
            "media": base64.b64encode(content).decode("ascii"),
            "media_category": "tweet_image",
            "media_type": item.mime_type,
        }
        uploaded = self._call(lambda api: api.request("POST", "/2/media/upload", json=payload).json())
        media_id = uploaded["data"]["id"]
        if item.alt_text:
            metadata = {"id": media_id, "metadata": {"alt_text": {"text": item.alt_text}}}
            self._call(lambda api: api.request("POST", "/2/media/metadata", json=metadata))
        return media_id

    def _tweet_result(self, tweet_id: str) -> PublishResult:
        return PublishResult(external_id=tweet_id, url=self._tweet_url(tweet_id))

    def _tweet_url(self, tweet_id: str) -> str:
        handle = self.channel.handle.lstrip("@") or "i/web"
        return f"https://x.com/{handle}/status/{tweet_id}"

    # --- transport and errors ----------------------------------------------------------------

    def _client(self) -> tweepy.Client:
        if self._api is None:
            token = self.channel.credentials.get("access_token")
            if not token:
                raise AuthorizationExpired(gettext("No X access token is stored for this channel."))
            # bearer_token + user_auth=False on every call: the OAuth 2.0 user token, never app-only
            # or OAuth 1.0a (tweepy's default for writes).
            api = tweepy.Client(bearer_token=token, return_type=dict, wait_on_rate_limit=False)
            api.session = _TimeoutSession()
            self._api = api
        return self._api

    def _call(self, operation: Callable[[tweepy.Client], Any], *, write: bool = False) -> Any:
        try:
            return operation(self._client())
        except tweepy.TooManyRequests as exc:
            raise RateLimited(until=_rate_limit_until(exc), reason=_problem(exc)) from exc
        except tweepy.Unauthorized as exc:
            raise AuthorizationExpired(_problem(exc)) from exc
        except tweepy.NotFound as exc:
            raise _Gone(_problem(exc)) from exc
        except tweepy.TwitterServerError as exc:
            # A 5xx on a write does not prove X did nothing: the caller must look before repeating.
            raise Transient(_problem(exc), request_sent=write) from exc
        except tweepy.HTTPException as exc:
            raise Rejected(_problem(exc)) from exc
        except requests.RequestException as exc:
            sent = write and not requests_error_before_sending(exc)
            raise Transient(
                gettext("Could not reach X: %(error)s") % {"error": exc}, request_sent=sent
            ) from exc


class _Gone(Rejected):
    """404: the post (or user) no longer exists on X."""


def _conversation_queries(conversation_ids: Iterable[str]) -> list[str]:
    queries: list[str] = []
    current = ""
    for conversation in conversation_ids:
        term = f"conversation_id:{conversation}"
        candidate = f"{current} OR {term}" if current else term
        if len(candidate) > SEARCH_QUERY_MAX_LENGTH:
            queries.append(current)
            candidate = term
        current = candidate
    if current:
        queries.append(current)
    return queries


def _replied_to(tweet: dict) -> str:
    """The id of the post this one answers ("" when it answers none)."""
    return next((ref["id"] for ref in tweet.get("referenced_tweets", []) if ref["type"] == "replied_to"), "")


def _is_reply(tweet: dict) -> bool:
    return bool(tweet.get("in_reply_to_user_id") or _replied_to(tweet))


def _users_by_id(answer: dict) -> dict[str, dict]:
    return {user["id"]: user for user in answer.get("includes", {}).get("users", [])}


def _problem(exc: tweepy.HTTPException) -> str:
    """X's own words: the problem's ``detail`` (or the first error message), else the HTTP status."""
    try:
        body = exc.response.json()
    except ValueError:
        body = {}
    if body.get("detail"):
        return body["detail"]
    if exc.api_messages:
        return exc.api_messages[0]
    return f"{exc.response.status_code} {exc.response.reason}"


def _rate_limit_until(exc: tweepy.TooManyRequests) -> datetime:
    if exc.reset_time:
        return datetime.fromtimestamp(exc.reset_time, tz=UTC)
    try:
        problem_type = exc.response.json().get("type", "")
    except ValueError:
        problem_type = ""
    wait = USAGE_CAPPED_WAIT if problem_type.endswith("usage-capped") else DEFAULT_RATE_LIMIT_WAIT
    return timezone.now() + wait
