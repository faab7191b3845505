"""An Instagram professional account through the Graph API with Facebook Login (facebook-sdk,
version pinned in networks.graph), on graph.facebook.com.

Credentials (``Channel.credentials``), written by the connect flow or ``connect_channel``:

- ``access_token``: the access token of the Facebook **Page** linked to the Instagram account
  (Page tokens do not expire; Graph code 190 → AuthorizationExpired).
- ``page_id``: that Page's id. Instagram Direct goes through the Page's Messenger endpoints.

``Channel.account_id`` is the Instagram account id (IG user id). Permissions: ``instagram_basic,
instagram_content_publish, instagram_manage_comments, instagram_manage_insights,
instagram_manage_messages, pages_show_list, pages_read_engagement, pages_manage_metadata``.

How the contract maps onto the Graph API:

- publish: an image is required (no text-only posts) and Meta fetches it itself, so it needs a
  public URL (``Media.public_url``) and must be a JPEG. The account may publish 50 posts in 24
  hours: ``GET /{ig}/content_publishing_limit`` is read first and a full quota is RateLimited.
  Then ``POST /{ig}/media`` (``image_url``, ``caption``, ``alt_text``) → container id and ``POST
  /{ig}/media_publish creation_id=`` → media id; the permalink is read afterwards (best effort: the
  post is out even if that read fails). Links in captions are shown but not clickable.
- find_recent_posts: ``GET /{ig}/media``.
- fetch_inbound: comments and their replies on the latest media (``GET /{media}/comments`` for
  media with comments), media where the account is tagged (``GET /{ig}/tags``, as mentions), and
  Instagram Direct (``GET /{page}/conversations?platform=instagram``). Mentions in other people's
  comments and captions only arrive by webhook (field ``mentions``, which carries ids only):
  ``webhook_mentions`` lists them and ``InstagramConnector.fetch_mention`` reads one.
- reply: ``POST /{comment}/replies`` on the top-level comment (Instagram allows replies only
  there); Direct ``POST /{page}/messages`` within 24 hours of the person's last message (checked
  first, as on Messenger). Answering a mention is not offered (Rejected): SocialDesk cannot comment
  on media it does not own except through the mentions edge, which it does not use.
- hide/unhide: ``POST /{comment} hide=true|false``. delete: ``DELETE /{comment}`` (documented) or
  ``DELETE /{media}`` (reported to work with ``instagram_manage_contents``, not documented).
- fetch_metrics: ``GET /{media}?fields=like_count,comments_count``, then the ``views`` and ``shares``
  insights one metric per call, each left empty if Meta refuses it.

Webhooks: ``normalize_webhook_entry`` turns one ``entry`` of an ``object == "instagram"`` delivery
(``comments`` changes and ``messaging`` events) into InboundMessages without calling Meta.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext

from lib.text_limits import text_with_link
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
)
from networks.graph import (
    MESSAGING_WINDOW,
    GraphConnectorMixin,
    cursor_time,
    ensure_reply_window_open,
    epoch_time,
    format_cursor_time,
    json_param,
    messaging_events,
    parse_time,
    recent_private_messages,
)
from networks.models import Network

NETWORK_NAME = "Instagram"
MAX_CAPTION_LENGTH = 2200
# Comments are looked for on this many of the latest media; older ones are webhook territory.
RECENT_MEDIA_SCANNED = 10
COMMENT_FIELDS = (
    "id,text,timestamp,username,from,parent_id,replies{id,text,timestamp,username,from,parent_id}"
)
TAG_FIELDS = "id,caption,username,timestamp,permalink"
PUBLISHING_WINDOW = timedelta(hours=24)


class InstagramConnector(GraphConnectorMixin, Connector):
    NETWORK_LABEL = NETWORK_NAME
    network = Network.INSTAGRAM
    capabilities = Capabilities(
        max_length=MAX_CAPTION_LENGTH,
        length_unit=LengthUnit.CHARACTERS,
        link_handling=LinkHandling.NOT_CLICKABLE,
        private_messages=True,
        hide_comments=True,
        quote_posts=False,
        media_required=True,
        private_reply_window=MESSAGING_WINDOW,
    )
    poll_interval = timedelta(minutes=2)


    @property
    def ig_user_id(self) -> str:
        return self.channel.account_id

    @property
    def page_id(self) -> str:
        page_id = self.channel.credentials.get("page_id", "")
        if not page_id:
            raise AuthorizationExpired(
                gettext("The Instagram channel does not know its linked Facebook Page; connect it again.")
            )
        return page_id

    def publish(self, *, text: str, link: str = "", media: Sequence[Media] = ()) -> PublishResult:
        if not media:
            raise Rejected(gettext("Instagram needs an image: it has no text-only posts."))
        if len(media) > 1:
            raise Rejected(gettext("SocialDesk publishes one image per Instagram post."))
        image = media[0]
        if image.mime_type != "image/jpeg":
            raise Rejected(gettext("Instagram only accepts JPEG images for posts."))
        if not image.public_url:
            raise Rejected(
                gettext("Instagram fetches the image itself from a public address, and this image has none.")
            )
        self._check_publishing_limit()
        container_fields = {"image_url": image.public_url, "caption": text_with_link(text, link, separator="\n\n")}
        if image.alt_text:
            container_fields["alt_text"] = image.alt_text
        container = self.graph.post(f"{self.ig_user_id}/media", **container_fields)
        media_id = self.graph.post(f"{self.ig_user_id}/media_publish", creation_id=container["id"])["id"]
        return PublishResult(external_id=media_id, url=self._permalink(media_id))

    def find_recent_posts(self, *, since: datetime) -> list[RecentPost]:
        media = self.graph.pages(
            f"{self.ig_user_id}/media",
            max_pages=4,
            fields="id,caption,timestamp,permalink",
            since=int(since.timestamp()),
            limit=25,
        )
        recent = [
            RecentPost(
                external_id=item["id"],
                url=item.get("permalink", ""),
                text=item.get("caption", ""),
                created_at=parse_time(item["timestamp"]),
            )
            for item in media
        ]
        return sorted(
            (post for post in recent if post.created_at >= since),
            key=lambda post: post.created_at,
            reverse=True,
        )

    def fetch_inbound(self, *, cursor: dict) -> InboundPage:
        page_id = self.page_id  # before any call: without it the channel needs reconnecting anyway
        comments_after = cursor_time(cursor, "comments_after")
        mentions_after = cursor_time(cursor, "mentions_after")
        messages_after = cursor_time(cursor, "messages_after")
        comments = self._new_comments(after=comments_after)
        mentions = self._new_tags(after=mentions_after)
        private = self._new_private_messages(page_id=page_id, after=messages_after)
        next_cursor = {
            "comments_after": format_cursor_time(
                max((m.created_at for m in comments), default=comments_after)
            ),
            "mentions_after": format_cursor_time(
                max((m.created_at for m in mentions), default=mentions_after)
            ),
            "messages_after": format_cursor_time(
                max((m.created_at for m in private), default=messages_after)
            ),
        }
        return InboundPage(
            messages=sorted(comments + mentions + private, key=lambda m: m.created_at), cursor=next_cursor
        )

    def fetch_mention(self, *, media_id: str, comment_id: str = "") -> InboundMessage:
        """Read one mention announced by the `mentions` webhook: in a comment when `comment_id` is
        given, else in the caption of `media_id`."""
        if comment_id:
            fields = f"mentioned_comment.comment_id({comment_id}){{id,text,timestamp,username}}"
            found = self.graph.get(self.ig_user_id, fields=fields)["mentioned_comment"]
            text = found.get("text", "")
        else:
            fields = f"mentioned_media.media_id({media_id}){{id,caption,timestamp,username,permalink}}"
            found = self.graph.get(self.ig_user_id, fields=fields)["mentioned_media"]
            text = found.get("caption", "")
        return _mention(found, text=text, media_id=media_id)

    def reply(self, *, target: ReplyTarget, text: str) -> PublishResult:
        if target.kind == InboundKind.PRIVATE_MESSAGE:
            return self._send_private(person_id=target.author_id, text=text)
        if target.kind == InboundKind.MENTION:
            raise Rejected(
                gettext("SocialDesk cannot answer Instagram mentions; answer them in the Instagram app.")
            )
        # Replies go under the top-level comment: Instagram has no replies to replies.
        result = self.graph.post(f"{target.thread_key}/replies", message=text)
        return PublishResult(external_id=result["id"], url="")

    def hide_comment(self, *, external_id: str) -> None:
        self.graph.post(external_id, hide="true")

    def unhide_comment(self, *, external_id: str) -> None:
        self.graph.post(external_id, hide="false")

    def delete(self, *, external_id: str) -> None:
        self.graph.delete(external_id)

    def fetch_metrics(self, *, external_ids: Sequence[str]) -> list[PostMetrics]:
        metrics = []
        for media_id in external_ids:
            counts = self.graph.get(media_id, missing_ok=True, fields="like_count,comments_count")
            if counts is None:
                continue
            metrics.append(
                PostMetrics(
                    external_id=media_id,
                    impressions=self._insight(media_id, "views"),
                    likes=counts.get("like_count"),
                    shares=self._insight(media_id, "shares"),
                    comments=counts.get("comments_count"),
                )
            )
        return metrics

    def _insight(self, media_id: str, metric: str) -> int | None:
        try:
            answer = self.graph.get(f"{media_id}/insights", metric=metric)
        except Rejected:
            return None
        for item in answer.get("data", []):
            if item.get("name") != metric:
                continue
            if item.get("values"):
                return item["values"][-1].get("value")
            return item.get("total_value", {}).get("value")
        return None

    def _check_publishing_limit(self) -> None:
        answer = self.graph.get(f"{self.ig_user_id}/content_publishing_limit", fields="quota_usage,config")
        usage = (answer.get("data") or [{}])[0]
        used = usage.get("quota_usage", 0)
        total = usage.get("config", {}).get("quota_total")
        if total is None or used < total:
            return
        raise RateLimited(
            until=self._quota_frees_at(),
            reason=gettext(
                "Instagram allows %(total)d posts in 24 hours and the account has published them all."
            )
            % {"total": total},
        )

    def _quota_frees_at(self) -> datetime:
        """The quota is a rolling 24 hours: a place frees when the oldest post in it turns 24 hours old."""
        now = timezone.now()
        oldest = min(
            (post.created_at for post in self.find_recent_posts(since=now - PUBLISHING_WINDOW)), default=None
        )
        return oldest + PUBLISHING_WINDOW if oldest else now + timedelta(hours=1)

    def _permalink(self, media_id: str) -> str:
        try:
            return self.graph.get(media_id, fields="permalink").get("permalink", "")
        except ConnectorError:
            return ""

    def _new_comments(self, *, after: datetime) -> list[InboundMessage]:
        media = self.graph.get(
            f"{self.ig_user_id}/media", fields="id,timestamp,comments_count", limit=RECENT_MEDIA_SCANNED
        )["data"]
        messages = []
        for item in media:
            if not item.get("comments_count"):
                continue
            for comment in self.graph.pages(
                f"{item['id']}/comments", max_pages=2, fields=COMMENT_FIELDS, limit=50
            ):
                for found in [comment, *comment.get("replies", {}).get("data", [])]:
                    if parse_time(found["timestamp"]) > after:
                        messages.append(
                            polled_comment(found, media_id=item["id"], ig_user_id=self.ig_user_id)
                        )
        return messages

    def _new_tags(self, *, after: datetime) -> list[InboundMessage]:
        tagged = self.graph.get(f"{self.ig_user_id}/tags", fields=TAG_FIELDS, limit=25)["data"]
        return [
            _mention(item, text=item.get("caption", ""), media_id=item["id"])
            for item in tagged
            if parse_time(item["timestamp"]) > after
        ]

    def _new_private_messages(self, *, page_id: str, after: datetime) -> list[InboundMessage]:
        return recent_private_messages(
            self.graph, page_id=page_id, platform="instagram", account_id=self.ig_user_id, after=after
        )

    def _send_private(self, *, person_id: str, text: str) -> PublishResult:
        ensure_reply_window_open(
            self.graph, page_id=self.page_id, platform="instagram", person_id=person_id, network_name=NETWORK_NAME
        )
        sent = self.graph.post(
            f"{self.page_id}/messages",
            recipient=json_param({"id": person_id}),
            message=json_param({"text": text}),
        )
        return PublishResult(external_id=sent["message_id"], url="")


def polled_comment(comment: dict, *, media_id: str, ig_user_id: str) -> InboundMessage:
    """A comment or reply from `GET /{media}/comments` (fields COMMENT_FIELDS)."""
    parent_id = comment.get("parent_id", "")
    author = comment.get("from", {})
    author_id = str(author.get("id", ""))
    return InboundMessage(
        external_id=comment["id"],
        thread_key=parent_id or comment["id"],
        kind=InboundKind.PUBLIC_COMMENT,
        author_id=author_id,
        author_name="",
        author_handle=comment.get("username") or author.get("username", ""),
        text=comment.get("text", ""),
        created_at=parse_time(comment["timestamp"]),
        in_reply_to=parent_id or media_id,
        about_post=media_id,
        is_from_us=author_id == ig_user_id,
        raw={"media_id": media_id, **{key: value for key, value in comment.items() if key != "replies"}},
    )


def _mention(found: dict, *, text: str, media_id: str) -> InboundMessage:
    """A mention read from the API: Instagram gives the author's username only, no id."""
    return InboundMessage(
        external_id=found["id"],
        thread_key=found["id"],
        kind=InboundKind.MENTION,
        author_id=found.get("username", ""),
        author_name="",
        author_handle=found.get("username", ""),
        text=text,
        created_at=parse_time(found["timestamp"]),
        in_reply_to=media_id if media_id != found["id"] else "",
        raw={"media_id": media_id, **found},
    )


def webhook_mentions(entry: dict) -> list[dict]:
    """The mentions announced in one `entry` of an Instagram webhook delivery, as the keyword
    arguments of InstagramConnector.fetch_mention ({"media_id", "comment_id"})."""
    return [
        {
            "media_id": str(change["value"]["media_id"]),
            "comment_id": str(change["value"].get("comment_id") or ""),
        }
        for change in entry.get("changes", [])
        if change.get("field") == "mentions"
    ]


def normalize_webhook_entry(entry: dict) -> list[InboundMessage]:
    """The messages in one `entry` of an Instagram webhook delivery: `comments` changes and
    Instagram Direct `messaging` events. `entry["id"]` is the Instagram account id. The `comments`
    value carries no time: the entry's time is used."""
    ig_user_id = str(entry["id"])
    messages = []
    for change in entry.get("changes", []):
        if change.get("field") != "comments":
            continue
        value = change["value"]
        media_id = str(value.get("media", {}).get("id", ""))
        parent_id = str(value.get("parent_id") or "")
        author = value.get("from", {})
        messages.append(
            InboundMessage(
                external_id=str(value["id"]),
                thread_key=parent_id or str(value["id"]),
                kind=InboundKind.PUBLIC_COMMENT,
                author_id=str(author.get("id", "")),
                author_name="",
                author_handle=author.get("username", ""),
                text=value.get("text", ""),
                created_at=epoch_time(entry["time"]),
                in_reply_to=parent_id or media_id,
                about_post=media_id,
                is_from_us=str(author.get("id", "")) == ig_user_id,
                raw=change,
            )
        )
    return messages + messaging_events(entry, account_id=ig_user_id)
