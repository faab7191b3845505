"""A LinkedIn organization page through LinkedIn's versioned REST API (``https://api.linkedin.com/rest``).

Credentials (``Channel.credentials``), written by the connect flow or ``connect_channel``:

- ``access_token``: a member's three-legged OAuth 2.0 token; the member must be an administrator
  of the page. It lasts 60 days and usually comes without a refresh token (those are for approved
  partners), so the page is connected again every two months; a 401 → AuthorizationExpired.

``Channel.account_id`` is the organization id (``5515715``) or its URN
(``urn:li:organization:5515715``). Scopes: ``w_organization_social r_organization_social
rw_organization_admin`` (the newer Community Management names end in ``_feed``).

**python-linkedin-v2 is only the transport.** The library knows the retired ``/v2`` endpoints and
OAuth URLs, sends no ``LinkedIn-Version`` header and has no post, comment, image or statistics
methods, so SocialDesk calls ``LinkedInApplication.make_request()`` with its own URLs and headers
(``Authorization: Bearer``, ``LinkedIn-Version`` from ``settings.SOCIALDESK_LINKEDIN_VERSION``,
``X-Restli-Protocol-Version: 2.0.0``) and reads the ``requests`` response itself (the library's
error helper raises AttributeError on Python 3). make_request would also copy the token into an
``oauth2_access_token`` query parameter; it is given a token of None, which ``requests`` leaves
out, so the token never appears in a URL. make_request forces ``Content-Type: application/json``,
so the image bytes go to LinkedIn's upload URL through ``requests`` directly.

How the contract maps onto the REST API (URNs are URL-encoded in paths and query values):

- publish: ``POST /rest/posts`` → 201 with the post URN in ``x-restli-id``. The text goes in
  ``commentary``, a "little text" field whose reserved characters are backslash-escaped (unescaped,
  LinkedIn silently cuts the post at the first one). A link becomes an article (``content.article``
  with the link's address as title: LinkedIn does not read the page for a title); an image is
  uploaded first (``POST /rest/images?action=initializeUpload``, ``PUT`` the bytes) and attached as
  ``content.media`` with its alt text, a link then going into the text.
- find_recent_posts: ``GET /rest/posts?q=author&author=…&sortBy=CREATED``.
- fetch_inbound: comments on the latest posts (``GET /rest/socialActions/{post}/comments``) and
  replies under those comments (``GET /rest/socialActions/{comment}/comments``, only where the
  comment's reply count changed since the last look). Authors come as member URNs: the names need
  the People API, which organizations do not get. LinkedIn has no private-message API, and
  mentions of the organization only arrive through the approval-gated notifications API: neither
  is offered.
- reply: ``POST /rest/socialActions/{comment}/comments`` with ``parentComment`` (LinkedIn nests one
  level, so the reply goes under the top-level comment). Comments are plain text, not escaped.
- delete: ``DELETE /rest/posts/{urn}`` (posts only: deleting a comment needs the post it is on,
  which a comment URN does not name). Hiding comments: LinkedIn has no API for it.
- fetch_metrics: ``GET /rest/organizationalEntityShareStatistics?q=organizationalEntity&shares=List(…)``
  (``ugcPosts=List(…)`` for posts with media) → impressions, likes, shares, comments and clicks.
- Errors: 426 (the API version in the setting is retired) → ConfigurationOutdated; 401 →
  AuthorizationExpired; 429 → RateLimited until ``Retry-After`` or, without it, midnight UTC when
  the daily quotas reset; 422 duplicate and other 4xx → Rejected with LinkedIn's words; 5xx and no
  answer → Transient.
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext
from linkedin_v2.linkedin import LinkedInApplication, LinkedInAuthentication
from linkedin_v2.models import AccessToken

from lib.http_errors import requests_error_before_sending
from lib.text_limits import text_with_link
from networks.base import (
    AuthorizationExpired,
    Capabilities,
    ConfigurationOutdated,
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

API = "https://api.linkedin.com/rest"
REQUEST_TIMEOUT = 30
MAX_COMMENTARY_LENGTH = 3000
ARTICLE_TITLE_LENGTH = 200
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
# The characters "little text" reserves; the backslash comes first so escapes are not escaped twice.
LITTLE_TEXT_RESERVED = "\\|{}@[]()<>#*_~"
# Comments are looked for on this many of the latest posts.
RECENT_POSTS_SCANNED = 10
COMMENTS_PAGE_SIZE = 50
STATISTICS_BATCH = 20
# What the first poll of a new channel looks at.
INITIAL_LOOKBACK = timedelta(days=3)


class LinkedInConnector(Connector):
    network = Network.LINKEDIN
    capabilities = Capabilities(
        max_length=MAX_COMMENTARY_LENGTH,
        length_unit=LengthUnit.CHARACTERS,
        link_handling=LinkHandling.SEPARATE,
        private_messages=False,
        hide_comments=False,
        quote_posts=False,
        media_required=False,
        # 422 "duplicate" for the text of a recent post: echoes must vary it.
        duplicate_text_rejected=True,
    )
    # LinkedIn counts calls per member and app per day: a quarter of an hour is enough for comments.
    poll_interval = timedelta(minutes=15)

    @cached_property
    def _token(self) -> str:
        token = self.channel.credentials.get("access_token", "")
        if not token:
            raise AuthorizationExpired(gettext("The channel has no LinkedIn access token; connect it again."))
        return token

    @cached_property
    def _transport(self) -> LinkedInApplication:
        authentication = LinkedInAuthentication("", "", "")
        # None: requests drops the oauth2_access_token query parameter make_request would add.
        authentication.token = AccessToken(None, None)
        return LinkedInApplication(authentication=authentication)

    @property
    def organization(self) -> str:
        account_id = self.channel.account_id
        return account_id if account_id.startswith("urn:") else f"urn:li:organization:{account_id}"

    def publish(self, *, text: str, link: str = "", media: Sequence[Media] = ()) -> PublishResult:
        if not (text.strip() or link or media):
            raise Rejected(gettext("There is nothing to publish."))
        if len(media) > 1:
            raise Rejected(gettext("SocialDesk publishes one image per LinkedIn post."))
        post = {
            "author": self.organization,
            "commentary": escape_little_text(text_with_link(text, link, separator="\n\n") if media else text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if media:
            image = {"id": self._upload_image(media[0])}
            if media[0].alt_text:
                image["altText"] = media[0].alt_text
            post["content"] = {"media": image}
        elif link:
            post["content"] = {"article": {"source": link, "title": article_title(link)}}
        response = self._request("POST", f"{API}/posts", body=post, write=True)
        urn = response.headers.get("x-restli-id", "")
        if not urn:
            raise Transient(gettext("LinkedIn accepted the post without saying its id."), request_sent=True)
        return PublishResult(external_id=urn, url=post_url(urn))

    def find_recent_posts(self, *, since: datetime) -> list[RecentPost]:
        recent = [
            RecentPost(
                external_id=post["id"],
                url=post_url(post["id"]),
                text=unescape_little_text(post.get("commentary", "")),
                created_at=_from_millis(post.get("publishedAt") or post["createdAt"]),
            )
            for post in self._recent_posts(count=RECENT_POSTS_SCANNED)
        ]
        return sorted(
            (post for post in recent if post.created_at >= since),
            key=lambda post: post.created_at,
            reverse=True,
        )

    def fetch_inbound(self, *, cursor: dict) -> InboundPage:
        after = _cursor_millis(cursor)
        known_replies = cursor.get("reply_counts", {})
        reply_counts = {}
        messages = []
        for post in self._recent_posts(count=RECENT_POSTS_SCANNED):
            for comment in self._comments(post["id"]):
                messages.append(self._inbound(comment, post_urn=post["id"]))
                urn = comment_urn(comment)
                replies = comment.get("commentsSummary", {}).get("totalFirstLevelComments", 0)
                reply_counts[urn] = replies
                if replies and replies != known_replies.get(urn):
                    messages.extend(
                        self._inbound(reply, post_urn=post["id"]) for reply in self._comments(urn)
                    )
        new = sorted((m for m in messages if _millis(m.created_at) > after), key=lambda m: m.created_at)
        newest = max((_millis(m.created_at) for m in new), default=after)
        return InboundPage(messages=new, cursor={"after": newest, "reply_counts": reply_counts})

    def reply(self, *, target: ReplyTarget, text: str) -> PublishResult:
        if target.kind != InboundKind.PUBLIC_COMMENT:
            raise Unsupported(gettext("LinkedIn only lets SocialDesk answer comments."))
        parent = target.thread_key
        commented_object, _ = split_comment_urn(parent)
        response = self._request(
            "POST",
            f"{API}/socialActions/{quote(parent, safe='')}/comments",
            body={
                "actor": self.organization,
                "object": commented_object,
                "message": {"text": text},
                "parentComment": parent,
            },
            write=True,
        )
        created = response.json() if response.content else {}
        urn = comment_urn(created) if created else ""
        if not urn and response.headers.get("x-restli-id"):
            urn = f"urn:li:comment:({commented_object},{response.headers['x-restli-id']})"
        if not urn:
            raise Transient(gettext("LinkedIn accepted the reply without saying its id."), request_sent=True)
        return PublishResult(external_id=urn, url="")

    def delete(self, *, external_id: str) -> None:
        if external_id.startswith("urn:li:comment:"):
            raise Unsupported(
                gettext("SocialDesk can delete LinkedIn posts, not comments: delete it on LinkedIn.")
            )
        self._request(
            "DELETE",
            f"{API}/posts/{quote(external_id, safe='')}",
            restli_method="DELETE",
            write=True,
            missing_ok=True,
        )

    def fetch_metrics(self, *, external_ids: Sequence[str]) -> list[PostMetrics]:
        metrics = []
        for start in range(0, len(external_ids), STATISTICS_BATCH):
            batch = external_ids[start : start + STATISTICS_BATCH]
            query = f"q=organizationalEntity&organizationalEntity={quote(self.organization, safe='')}"
            for parameter, kind in (("shares", ":share:"), ("ugcPosts", ":ugcPost:")):
                urns = [quote(urn, safe="") for urn in batch if kind in urn]
                if urns:
                    query += f"&{parameter}=List({','.join(urns)})"
            answer = self._request("GET", f"{API}/organizationalEntityShareStatistics?{query}").json()
            for element in answer.get("elements", []):
                totals = element.get("totalShareStatistics", {})
                metrics.append(
                    PostMetrics(
                        external_id=element.get("share") or element.get("ugcPost", ""),
                        impressions=totals.get("impressionCount"),
                        likes=totals.get("likeCount"),
                        shares=totals.get("shareCount"),
                        comments=totals.get("commentCount"),
                        clicks=totals.get("clickCount"),
                    )
                )
        return metrics

    def _recent_posts(self, *, count: int) -> list[dict]:
        query = f"q=author&author={quote(self.organization, safe='')}&count={count}&sortBy=CREATED"
        return self._request("GET", f"{API}/posts?{query}", restli_method="FINDER").json().get("elements", [])

    def _comments(self, target_urn: str) -> list[dict]:
        url = f"{API}/socialActions/{quote(target_urn, safe='')}/comments?start=0&count={COMMENTS_PAGE_SIZE}"
        return self._request("GET", url).json().get("elements", [])

    def _inbound(self, comment: dict, *, post_urn: str) -> InboundMessage:
        urn = comment_urn(comment)
        parent = comment.get("parentComment", "")
        actor = comment.get("actor", "")
        return InboundMessage(
            external_id=urn,
            thread_key=parent or urn,
            kind=InboundKind.PUBLIC_COMMENT,
            author_id=actor,
            author_name="",
            author_handle="",
            text=comment.get("message", {}).get("text", ""),
            created_at=_from_millis(comment["created"]["time"]),
            in_reply_to=parent or post_urn,
            about_post=post_urn,
            is_from_us=actor == self.organization,
            raw=comment,
        )

    def _upload_image(self, image: Media) -> str:
        if image.mime_type not in IMAGE_TYPES:
            raise Rejected(
                gettext("LinkedIn does not accept this kind of file: %(type)s.") % {"type": image.mime_type}
            )
        started = self._request(
            "POST",
            f"{API}/images?action=initializeUpload",
            body={"initializeUploadRequest": {"owner": self.organization}},
        ).json()["value"]
        with default_storage.open(image.path, "rb") as handle:
            content = handle.read()
        try:
            uploaded = requests.put(
                started["uploadUrl"],
                data=content,
                headers={"Authorization": f"Bearer {self._token}", "Content-Type": image.mime_type},
                timeout=REQUEST_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise Transient(
                gettext("LinkedIn could not be reached (%(error)s).") % {"error": exc.__class__.__name__}
            ) from exc
        if uploaded.status_code >= 400:
            raise linkedin_error(uploaded, write=False)
        return started["image"]

    def _request(
        self,
        method: str,
        url: str,
        *,
        body: dict | None = None,
        restli_method: str = "",
        write: bool = False,
        missing_ok: bool = False,
    ) -> requests.Response:
        """One call through python-linkedin-v2's transport. With `missing_ok`, a 404 (already gone)
        is not an error."""
        headers = {
            "Authorization": f"Bearer {self._token}",
            "LinkedIn-Version": settings.SOCIALDESK_LINKEDIN_VERSION,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        if restli_method:
            headers["X-RestLi-Method"] = restli_method
        try:
            response = self._transport.make_request(
                method,
                url,
                data=json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None,
                headers=headers,
                timeout=REQUEST_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise Transient(
                gettext("LinkedIn could not be reached (%(error)s).") % {"error": exc.__class__.__name__},
                request_sent=write and not requests_error_before_sending(exc),
            ) from exc
        if response.status_code >= 400 and not (missing_ok and response.status_code == 404):
            raise linkedin_error(response, write=write)
        return response


def linkedin_error(response: requests.Response, *, write: bool) -> ConnectorError:
    """Translate an error answer ({"status", "serviceErrorCode", "code", "message"}) into the vocabulary."""
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    status = response.status_code
    code = str(answer.get("code", "")) if isinstance(answer, dict) else ""
    words = (answer.get("message") if isinstance(answer, dict) else "") or response.reason or str(status)
    if status == 426 or code == "NONEXISTENT_VERSION":
        return ConfigurationOutdated(
            gettext(
                "LinkedIn no longer accepts the API version %(version)s that SocialDesk is configured with (%(words)s). "
                "An administrator must set SOCIALDESK_LINKEDIN_VERSION to a current version (YYYYMM); reconnecting "
                "the channel does not help."
            )
            % {"version": settings.SOCIALDESK_LINKEDIN_VERSION, "words": words}
        )
    if status == 401:
        return AuthorizationExpired(
            gettext("LinkedIn no longer accepts the access token (%(words)s); LinkedIn tokens last 60 days.")
            % {"words": words}
        )
    if status == 429:
        return RateLimited(
            until=_retry_after(response) or _next_midnight_utc(),
            reason=gettext("LinkedIn's daily limit was reached: %(words)s") % {"words": words},
        )
    if status == 422 and "DUPLICATE" in f"{code} {words}".upper():
        return Rejected(
            gettext("LinkedIn refused a duplicate of a recent post: %(words)s") % {"words": words}
        )
    if status >= 500:
        return Transient(
            gettext("LinkedIn is having problems: %(words)s") % {"words": words}, request_sent=write
        )
    return Rejected(gettext("LinkedIn refused it: %(words)s") % {"words": words})


def escape_little_text(text: str) -> str:
    """Escape the reserved characters of LinkedIn's "little text" format (post commentary)."""
    for character in LITTLE_TEXT_RESERVED:
        text = text.replace(character, f"\\{character}")
    return text


def unescape_little_text(text: str) -> str:
    result = []
    characters = iter(text)
    for character in characters:
        if character == "\\":
            following = next(characters, "")
            result.append(following if following in LITTLE_TEXT_RESERVED else character + following)
        else:
            result.append(character)
    return "".join(result)


def article_title(link: str) -> str:
    """The address without its scheme: LinkedIn needs a title for an article and does not read the page."""
    parts = urlsplit(link)
    return f"{parts.netloc}{parts.path}".rstrip("/")[:ARTICLE_TITLE_LENGTH] or link[:ARTICLE_TITLE_LENGTH]


def post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"


def comment_urn(comment: dict) -> str:
    return comment.get("commentUrn") or comment.get("$URN", "")


def split_comment_urn(urn: str) -> tuple[str, str]:
    """urn:li:comment:(urn:li:activity:123,456) → ("urn:li:activity:123", "456")."""
    inner = urn.removeprefix("urn:li:comment:(").removesuffix(")")
    commented_object, _, comment_id = inner.rpartition(",")
    if not commented_object or not comment_id:
        raise Rejected(gettext("This is not a LinkedIn comment: %(urn)s") % {"urn": urn})
    return commented_object, comment_id


def _retry_after(response: requests.Response) -> datetime | None:
    value = response.headers.get("Retry-After", "")
    return timezone.now() + timedelta(seconds=int(value)) if value.isdigit() else None


def _next_midnight_utc() -> datetime:
    tomorrow = timezone.now().astimezone(UTC).date() + timedelta(days=1)
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=UTC)


def _from_millis(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _cursor_millis(cursor: dict) -> int:
    after = cursor.get("after")
    if after is None:
        return _millis(timezone.now() - INITIAL_LOOKBACK)
    if not isinstance(after, int):
        raise Rejected(gettext("The saved position in the message list is damaged."))
    return after
