"""A YouTube channel through the YouTube Data API v3 (google-api-python-client, with the discovery
document bundled in the library: building the client makes no request).

Credentials (``Channel.credentials``), written by the Google OAuth connect flow
(``access_type=offline``, scope ``https://www.googleapis.com/auth/youtube.force-ssl``):

- ``refresh_token``: the long-lived token. It dies when revoked, after six months unused, and
  after 7 days while the app's consent screen is External + "Testing".
- ``client_id`` and ``client_secret``: the Google OAuth client the refresh token was issued to.

``Channel.account_id`` is the channel id (``UC…``). Each connector use trades the refresh token for a
one-hour access token with a single ``POST https://oauth2.googleapis.com/token`` made here rather
than by google-auth, whose refresh retries with ``time.sleep`` (a worker never sleeps);
``invalid_grant`` → AuthorizationExpired.

How the contract maps onto the API (quota: 10,000 units a day, reset at midnight Pacific time):

- publish: YouTube takes only videos, and SocialDesk does not upload them → Unsupported. There is no
  API for text, link or image (Community) posts.
- find_recent_posts: the channel's uploads playlist (``channels.list`` contentDetails, then
  ``playlistItems.list``: 1 unit each, where ``search.list`` costs 100 and has its own 100-a-day cap).
- fetch_inbound: ``commentThreads.list(allThreadsRelatedToChannelId=…, order=time)`` newest first,
  page by page until the threads are older than the cursor; the replies embedded in a thread are
  partial, so ``comments.list(parentId=…)`` reads them all when the thread's reply count changed
  since the last look. Text is requested as plain text. There are no mentions and no private
  messages on YouTube.
- reply: ``comments.insert`` with ``snippet.parentId`` = the top-level comment (50 units).
- hide/unhide: ``comments.setModerationStatus`` ``heldForReview`` / ``published`` (only the channel
  owner's own videos). delete: ``comments.delete`` (comments only: SocialDesk publishes no videos).
- fetch_metrics: ``videos.list(part=statistics)``: the counters arrive as strings; views stand in for
  impressions, shares and clicks are not reported.
- Errors: ``quotaExceeded`` → RateLimited until midnight Pacific; ``rateLimitExceeded`` → RateLimited
  for a minute; 401 → AuthorizationExpired; ``commentsDisabled``, ``insufficientPermissions`` and other
  4xx → Rejected with YouTube's words; 5xx and no answer → Transient.
"""

import json
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from functools import cached_property
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httplib2
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from networks.base import (
    AuthorizationExpired,
    Capabilities,
    Connector,
    ConnectorError,
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
from networks.models import Network

GOOGLE_OAUTH_ENDPOINT = "https://oauth2.googleapis.com/token"
REQUEST_TIMEOUT = 30
MAX_COMMENT_LENGTH = 10_000
QUOTA_TIME_ZONE = ZoneInfo("America/Los_Angeles")
SHORT_RATE_LIMIT_PAUSE = timedelta(minutes=1)
MAX_THREAD_PAGES = 3
RECENT_VIDEOS = 25
STATISTICS_BATCH = 50
# What the first poll of a new channel looks at.
INITIAL_LOOKBACK = timedelta(days=3)


def http_transport() -> httplib2.Http:
    """The HTTP transport under the YouTube client and the token refresh (httplib2, which
    `responses` cannot see: tests put googleapiclient's HttpMockSequence here)."""
    return httplib2.Http(timeout=REQUEST_TIMEOUT)


class YouTubeConnector(Connector):
    network = Network.YOUTUBE
    capabilities = Capabilities(
        max_length=MAX_COMMENT_LENGTH,
        length_unit=LengthUnit.CHARACTERS,
        link_handling=LinkHandling.NONE,
        private_messages=False,
        hide_comments=True,
        quote_posts=False,
        media_required=True,
    )
    # A poll costs a few quota units; every ten minutes spends a few hundred of the 10,000 a day.
    poll_interval = timedelta(minutes=10)

    @property
    def channel_id(self) -> str:
        return self.channel.account_id

    @cached_property
    def _youtube(self):
        transport = http_transport()
        http = AuthorizedHttp(
            Credentials(token=self._access_token(transport)), http=transport, refresh_status_codes=()
        )
        return build("youtube", "v3", http=http, cache_discovery=False, static_discovery=True)

    def publish(self, *, text: str, link: str = "", media: Sequence[Media] = ()) -> PublishResult:
        raise Unsupported(gettext("YouTube only takes videos, and SocialDesk does not upload videos."))

    def find_recent_posts(self, *, since: datetime) -> list[RecentPost]:
        channels = self._execute(self._youtube.channels().list(part="contentDetails", id=self.channel_id))
        if not channels.get("items"):
            raise Rejected(gettext("YouTube does not know the channel %(id)s.") % {"id": self.channel_id})
        uploads = channels["items"][0]["contentDetails"]["relatedPlaylists"]["uploads"]
        items = self._execute(
            self._youtube.playlistItems().list(
                part="snippet,contentDetails", playlistId=uploads, maxResults=RECENT_VIDEOS
            )
        ).get("items", [])
        recent = [
            RecentPost(
                external_id=item["contentDetails"]["videoId"],
                url=f"https://www.youtube.com/watch?v={item['contentDetails']['videoId']}",
                text=item["snippet"].get("title", ""),
                created_at=_parse_time(
                    item["contentDetails"].get("videoPublishedAt") or item["snippet"]["publishedAt"]
                ),
            )
            for item in items
        ]
        return sorted(
            (post for post in recent if post.created_at >= since),
            key=lambda post: post.created_at,
            reverse=True,
        )

    def fetch_inbound(self, *, cursor: dict) -> InboundPage:
        after = _cursor_time(cursor)
        known_replies = cursor.get("reply_counts", {})
        reply_counts = {}
        messages = []
        page_token = ""
        for _ in range(MAX_THREAD_PAGES):
            answer = self._execute(
                self._youtube.commentThreads().list(
                    part="snippet,replies",
                    allThreadsRelatedToChannelId=self.channel_id,
                    order="time",
                    textFormat="plainText",
                    maxResults=100,
                    **({"pageToken": page_token} if page_token else {}),
                )
            )
            threads = answer.get("items", [])
            for thread in threads:
                video_id = thread["snippet"].get("videoId", "")
                messages.append(self._inbound(thread["snippet"]["topLevelComment"], video_id=video_id))
                total = thread["snippet"].get("totalReplyCount", 0)
                reply_counts[thread["id"]] = total
                replies = thread.get("replies", {}).get("comments", [])
                if total > len(replies) and total != known_replies.get(thread["id"]):
                    replies = self._all_replies(thread["id"])
                messages.extend(self._inbound(reply, video_id=video_id) for reply in replies)
            page_token = answer.get("nextPageToken", "")
            oldest = threads[-1]["snippet"]["topLevelComment"]["snippet"]["publishedAt"] if threads else ""
            if not page_token or not oldest or _parse_time(oldest) <= after:
                break
        new = sorted((m for m in messages if m.created_at > after), key=lambda m: m.created_at)
        newest = max((m.created_at for m in new), default=after)
        return InboundPage(messages=new, cursor={"after": newest.isoformat(), "reply_counts": reply_counts})

    def reply(self, *, target: ReplyTarget, text: str) -> PublishResult:
        if target.kind != InboundKind.PUBLIC_COMMENT:
            raise Unsupported(gettext("YouTube has no private messages or mentions to answer."))
        created = self._execute(
            self._youtube.comments().insert(
                part="snippet", body={"snippet": {"parentId": target.thread_key, "textOriginal": text}}
            ),
            write=True,
        )
        return PublishResult(external_id=created["id"], url="")

    def hide_comment(self, *, external_id: str) -> None:
        self._execute(
            self._youtube.comments().setModerationStatus(id=external_id, moderationStatus="heldForReview"),
            write=True,
        )

    def unhide_comment(self, *, external_id: str) -> None:
        self._execute(
            self._youtube.comments().setModerationStatus(id=external_id, moderationStatus="published"),
            write=True,
        )

    def delete(self, *, external_id: str) -> None:
        self._execute(self._youtube.comments().delete(id=external_id), write=True, missing_ok=True)

    def fetch_metrics(self, *, external_ids: Sequence[str]) -> list[PostMetrics]:
        metrics = []
        for start in range(0, len(external_ids), STATISTICS_BATCH):
            batch = external_ids[start : start + STATISTICS_BATCH]
            answer = self._execute(
                self._youtube.videos().list(
                    part="statistics", id=",".join(batch), maxResults=STATISTICS_BATCH
                )
            )
            for video in answer.get("items", []):
                statistics = video.get("statistics", {})
                metrics.append(
                    PostMetrics(
                        external_id=video["id"],
                        impressions=_count(statistics, "viewCount"),
                        likes=_count(statistics, "likeCount"),
                        shares=None,
                        comments=_count(statistics, "commentCount"),
                    )
                )
        return metrics

    def _all_replies(self, thread_id: str) -> list[dict]:
        answer = self._execute(
            self._youtube.comments().list(
                part="snippet", parentId=thread_id, textFormat="plainText", maxResults=100
            )
        )
        return answer.get("items", [])

    def _inbound(self, comment: dict, *, video_id: str) -> InboundMessage:
        snippet = comment["snippet"]
        parent_id = snippet.get("parentId", "")
        author_id = snippet.get("authorChannelId", {}).get("value", "")
        display_name = snippet.get("authorDisplayName", "")
        return InboundMessage(
            external_id=comment["id"],
            thread_key=parent_id or comment["id"],
            kind=InboundKind.PUBLIC_COMMENT,
            author_id=author_id,
            author_name=display_name,
            author_handle=display_name.removeprefix("@") if display_name.startswith("@") else "",
            # textOriginal is only guaranteed to the comment's author; textDisplay is plain text here.
            text=snippet.get("textDisplay") or snippet.get("textOriginal", ""),
            created_at=_parse_time(snippet["publishedAt"]),
            in_reply_to=parent_id or video_id,
            about_post=video_id,
            is_from_us=author_id == self.channel_id,
            raw=comment,
        )

    def _access_token(self, transport) -> str:
        credentials = self.channel.credentials
        if not all(credentials.get(key) for key in ("refresh_token", "client_id", "client_secret")):
            raise AuthorizationExpired(gettext("The YouTube channel has no refresh token; connect it again."))
        body = urlencode(
            {
                "grant_type": "refresh_token",
                "refresh_token": credentials["refresh_token"],
                "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"],
            }
        )
        try:
            response, content = transport.request(
                GOOGLE_OAUTH_ENDPOINT,
                "POST",
                body=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except (httplib2.HttpLib2Error, OSError) as exc:
            raise Transient(_unreachable(exc)) from exc
        try:
            answer = json.loads(content or b"{}")
        except ValueError:
            answer = {}
        if response.status == 200 and answer.get("access_token"):
            return answer["access_token"]
        if response.status >= 500 or response.status == 429:
            raise Transient(
                gettext("Google's sign-in service is having problems (HTTP %(status)s).")
                % {"status": response.status}
            )
        words = answer.get("error_description") or answer.get("error") or str(response.status)
        if answer.get("error") == "invalid_grant":
            raise AuthorizationExpired(
                gettext(
                    "Google no longer accepts the channel's refresh token (%(words)s): it was revoked, went unused "
                    "for six months, or was issued while the app was in Testing mode, where tokens last 7 days."
                )
                % {"words": words}
            )
        raise AuthorizationExpired(
            gettext("Google refused to renew the access token (%(words)s).") % {"words": words}
        )

    def _execute(self, request, *, write: bool = False, missing_ok: bool = False) -> dict:
        """Run one API request. With `missing_ok`, a 404 (already gone) is not an error."""
        try:
            return request.execute() or {}
        except HttpError as exc:
            if missing_ok and exc.resp.status == 404:
                return {}
            raise youtube_error(exc, write=write) from exc
        except (httplib2.HttpLib2Error, OSError) as exc:
            never_sent = isinstance(exc, httplib2.ServerNotFoundError | ConnectionRefusedError)
            raise Transient(_unreachable(exc), request_sent=write and not never_sent) from exc


def youtube_error(exc: HttpError, *, write: bool) -> ConnectorError:
    """Translate an API error ({"error": {"code", "message", "errors": [{"domain", "reason"}]}})."""
    status = exc.resp.status
    try:
        error = json.loads(exc.content).get("error", {})
    except (ValueError, AttributeError):
        error = {}
    reasons = {item.get("reason") for item in error.get("errors", []) if isinstance(item, dict)}
    words = strip_tags(error.get("message", "")) or str(status)
    if reasons & {"quotaExceeded", "dailyLimitExceeded"}:
        return RateLimited(
            until=_next_quota_reset(),
            reason=gettext("The YouTube quota for today is spent; it comes back at midnight Pacific time."),
        )
    if status == 429 or reasons & {"rateLimitExceeded", "userRateLimitExceeded"}:
        return RateLimited(
            until=timezone.now() + SHORT_RATE_LIMIT_PAUSE,
            reason=gettext("YouTube asked us to slow down: %(words)s") % {"words": words},
        )
    if status == 401:
        return AuthorizationExpired(
            gettext("YouTube no longer accepts the access token (%(words)s).") % {"words": words}
        )
    if status >= 500:
        return Transient(
            gettext("YouTube is having problems: %(words)s") % {"words": words}, request_sent=write
        )
    if "commentsDisabled" in reasons:
        return Rejected(gettext("Comments are turned off on this video (%(words)s).") % {"words": words})
    if "insufficientPermissions" in reasons:
        return Rejected(
            gettext(
                "YouTube does not let this connection do that (%(words)s); it may need reconnecting with more permissions."
            )
            % {"words": words}
        )
    return Rejected(gettext("YouTube refused it: %(words)s") % {"words": words})


def _next_quota_reset() -> datetime:
    today = timezone.now().astimezone(QUOTA_TIME_ZONE).date()
    return datetime.combine(today + timedelta(days=1), time(0), tzinfo=QUOTA_TIME_ZONE)


def _unreachable(exc: Exception) -> str:
    return gettext("YouTube could not be reached (%(error)s).") % {"error": exc.__class__.__name__}


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _count(statistics: dict, name: str) -> int | None:
    """YouTube sends its counters as strings, and leaves out the likes when the owner hides them."""
    value = statistics.get(name)
    return int(value) if value is not None else None


def _cursor_time(cursor: dict) -> datetime:
    value = cursor.get("after")
    if not value:
        return timezone.now() - INITIAL_LOOKBACK
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise Rejected(gettext("The saved position in the message list is damaged.")) from None
