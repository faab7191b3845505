"""A Facebook Page through the Graph API (facebook-sdk, version pinned in networks.graph).

Credentials (``Channel.credentials``), written by the connect flow or ``connect_channel``:

- ``access_token``: the **Page** access token (from ``GET /me/accounts`` with a long-lived user
  token, or a Business Manager system-user token). Page tokens do not expire, but die on a password
  change, the loss of the Page role or the app's removal: Graph code 190 → AuthorizationExpired.

``Channel.account_id`` is the Page id. Permissions: ``pages_manage_posts, pages_read_engagement,
pages_read_user_content, pages_manage_engagement, pages_messaging, read_insights``.

How the contract maps onto the Graph API:

- publish: ``POST /{page}/feed`` (``message``, ``link``) → ``{"id": "<page>_<post>"}``; one image
  goes as multipart ``source`` to ``POST /{page}/photos`` (a link is then added to the text, as a
  photo post has no link card) → ``{"id": <photo>, "post_id": "<page>_<post>"}``.
- find_recent_posts: ``GET /{page}/published_posts?since=``.
- fetch_inbound: comments on the Page's recent posts whose ``updated_time`` (which moves with every
  new comment) is after the cursor, ``GET /{post}/comments?filter=stream`` newest first; and
  Messenger, ``GET /{page}/conversations?platform=messenger`` newest first. A comment is threaded
  under its top-level comment; a private conversation under the person's Page-scoped id.
- reply: ``POST /{comment}/comments``; Messenger ``POST /{page}/messages`` with
  ``messaging_type=RESPONSE``, only within 24 hours of the person's last message: that is checked
  first (``GET /{page}/conversations?user_id=``) and refused without calling the Send API, because
  Meta counts sends outside the window against the Page.
- hide/unhide: ``POST /{comment} is_hidden=true|false``. delete: ``DELETE /{object}``.
- fetch_metrics: ``GET /{post}?fields=shares,reactions.summary(total_count)…,comments.summary(…)``,
  then one insights metric per call (``post_total_media_view_unique`` as impressions, the
  replacement of the removed impressions metrics, and ``post_clicks``): a metric Meta has retired
  answers "invalid metric" and only that counter is left empty (Graph deprecations, trap 11).

Webhooks: ``normalize_webhook_entry`` turns one ``entry`` of an ``object == "page"`` delivery
(``feed`` comment changes and ``messaging`` events) into InboundMessages, without calling Meta.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.utils.translation import gettext

from lib.text_limits import text_with_link
from networks.base import (
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

NETWORK_NAME = "Facebook"
MAX_POST_LENGTH = 63_206
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff", "image/webp"})
# Comments are looked for on this many of the Page's latest posts; older posts are webhook territory.
RECENT_POSTS_SCANNED = 25
COMMENT_FIELDS = "id,message,from,created_time,parent{id}"
METRIC_FIELDS = "shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"
IMPRESSIONS_METRIC = "post_total_media_view_unique"
CLICKS_METRIC = "post_clicks"


class FacebookConnector(GraphConnectorMixin, Connector):
    NETWORK_LABEL = NETWORK_NAME
    network = Network.FACEBOOK
    capabilities = Capabilities(
        max_length=MAX_POST_LENGTH,
        length_unit=LengthUnit.CHARACTERS,
        link_handling=LinkHandling.SEPARATE,
        private_messages=True,
        hide_comments=True,
        quote_posts=False,
        media_required=False,
        private_reply_window=MESSAGING_WINDOW,
    )
    # Messenger's conversations endpoint allows 2 calls per second per Page; comments are cheap.
    poll_interval = timedelta(minutes=2)


    @property
    def page_id(self) -> str:
        return self.channel.account_id

    def publish(self, *, text: str, link: str = "", media: Sequence[Media] = ()) -> PublishResult:
        if not (text.strip() or link or media):
            raise Rejected(gettext("There is nothing to publish."))
        if len(media) > 1:
            raise Rejected(gettext("SocialDesk publishes one image per Facebook post."))
        if media:
            image = media[0]
            if image.mime_type not in IMAGE_TYPES:
                raise Rejected(
                    gettext("Facebook does not accept this kind of file: %(type)s.")
                    % {"type": image.mime_type}
                )
            message = text_with_link(text, link, separator="\n\n")
            with default_storage.open(image.path, "rb") as handle:
                result = self.graph.call(
                    self.graph.api.put_photo,
                    handle,
                    album_path=f"{self.page_id}/photos",
                    message=message,
                    write=True,
                )
            post_id = result["post_id"]
        else:
            fields = {"message": text, "link": link} if link else {"message": text}
            post_id = self.graph.call(self.graph.api.put_object, self.page_id, "feed", write=True, **fields)[
                "id"
            ]
        return PublishResult(external_id=post_id, url=post_url(post_id))

    def find_recent_posts(self, *, since: datetime) -> list[RecentPost]:
        posts = self.graph.pages(
            f"{self.page_id}/published_posts",
            max_pages=4,
            fields="id,message,created_time,permalink_url",
            since=int(since.timestamp()),
            limit=RECENT_POSTS_SCANNED,
        )
        recent = [
            RecentPost(
                external_id=post["id"],
                url=post.get("permalink_url") or post_url(post["id"]),
                text=post.get("message", ""),
                created_at=parse_time(post["created_time"]),
            )
            for post in posts
        ]
        return sorted(
            (post for post in recent if post.created_at >= since),
            key=lambda post: post.created_at,
            reverse=True,
        )

    def fetch_inbound(self, *, cursor: dict) -> InboundPage:
        comments_after = cursor_time(cursor, "comments_after")
        messages_after = cursor_time(cursor, "messages_after")
        comments = self._new_comments(after=comments_after)
        private = self._new_private_messages(after=messages_after)
        next_cursor = {
            "comments_after": format_cursor_time(
                max((m.created_at for m in comments), default=comments_after)
            ),
            "messages_after": format_cursor_time(
                max((m.created_at for m in private), default=messages_after)
            ),
        }
        return InboundPage(
            messages=sorted(comments + private, key=lambda m: m.created_at), cursor=next_cursor
        )

    def reply(self, *, target: ReplyTarget, text: str) -> PublishResult:
        if target.kind == InboundKind.PRIVATE_MESSAGE:
            return self._send_private(person_id=target.author_id, text=text)
        result = self.graph.call(self.graph.api.put_comment, target.external_id, text, write=True)
        return PublishResult(external_id=result["id"], url="")

    def hide_comment(self, *, external_id: str) -> None:
        self.graph.post(external_id, is_hidden="true")

    def unhide_comment(self, *, external_id: str) -> None:
        self.graph.post(external_id, is_hidden="false")

    def delete(self, *, external_id: str) -> None:
        self.graph.delete(external_id)

    def fetch_metrics(self, *, external_ids: Sequence[str]) -> list[PostMetrics]:
        metrics = []
        for post_id in external_ids:
            counts = self.graph.get(post_id, missing_ok=True, fields=METRIC_FIELDS)
            if counts is None:
                continue
            metrics.append(
                PostMetrics(
                    external_id=post_id,
                    impressions=self._insight(post_id, IMPRESSIONS_METRIC),
                    likes=counts.get("reactions", {}).get("summary", {}).get("total_count"),
                    # Graph leaves `shares` out of a post nobody has shared.
                    shares=counts.get("shares", {}).get("count", 0),
                    comments=counts.get("comments", {}).get("summary", {}).get("total_count"),
                    clicks=self._insight(post_id, CLICKS_METRIC),
                )
            )
        return metrics

    def _insight(self, post_id: str, metric: str) -> int | None:
        """One lifetime insights metric; None when Meta refuses it (retired metric, no insights
        for this post) rather than losing the other counters."""
        try:
            answer = self.graph.get(f"{post_id}/insights", metric=metric, period="lifetime")
        except Rejected:
            return None
        return insight_value(answer, metric)

    def _new_comments(self, *, after: datetime) -> list[InboundMessage]:
        posts = self.graph.get(
            f"{self.page_id}/published_posts", fields="id,updated_time", limit=RECENT_POSTS_SCANNED
        )["data"]
        messages = []
        for post in posts:
            if parse_time(post["updated_time"]) <= after:
                continue
            comments = self.graph.pages(
                f"{post['id']}/comments",
                max_pages=3,
                fields=COMMENT_FIELDS,
                filter="stream",
                order="reverse_chronological",
                limit=100,
            )
            for comment in comments:
                created_at = parse_time(comment["created_time"])
                if created_at <= after:
                    break
                messages.append(polled_comment(comment, post_id=post["id"], page_id=self.page_id))
        return messages

    def _new_private_messages(self, *, after: datetime) -> list[InboundMessage]:
        return recent_private_messages(
            self.graph, page_id=self.page_id, platform="messenger", account_id=self.page_id, after=after
        )

    def _send_private(self, *, person_id: str, text: str) -> PublishResult:
        ensure_reply_window_open(
            self.graph, page_id=self.page_id, platform="messenger", person_id=person_id, network_name=NETWORK_NAME
        )
        sent = self.graph.call(
            self.graph.api.put_object,
            self.page_id,
            "messages",
            write=True,
            recipient=json_param({"id": person_id}),
            messaging_type="RESPONSE",
            message=json_param({"text": text}),
        )
        return PublishResult(external_id=sent["message_id"], url="")


def post_url(post_id: str) -> str:
    return f"https://www.facebook.com/{post_id}"


def insight_value(answer: dict, metric: str) -> int | None:
    for item in answer.get("data", []):
        if item.get("name") == metric and item.get("values"):
            value = item["values"][-1].get("value")
            return value if isinstance(value, int) else None
    return None


def polled_comment(comment: dict, *, post_id: str, page_id: str) -> InboundMessage:
    """One item of `GET /{post}/comments` (fields COMMENT_FIELDS)."""
    parent_id = comment.get("parent", {}).get("id", "")
    author = comment.get("from", {})
    return InboundMessage(
        external_id=comment["id"],
        thread_key=parent_id or comment["id"],
        kind=InboundKind.PUBLIC_COMMENT,
        author_id=str(author.get("id", "")),
        author_name=author.get("name", ""),
        author_handle="",
        text=comment.get("message", ""),
        created_at=parse_time(comment["created_time"]),
        in_reply_to=parent_id or post_id,
        about_post=post_id,
        is_from_us=str(author.get("id", "")) == page_id,
        raw={"post_id": post_id, **comment},
    )


def normalize_webhook_entry(entry: dict) -> list[InboundMessage]:
    """The messages in one `entry` of a Page webhook delivery: comment changes of the `feed` field
    (add and edited carry the text; remove marks the comment deleted) and Messenger `messaging`
    events. `entry["id"]` is the Page id. Other changes (posts, reactions) are not messages."""
    page_id = str(entry["id"])
    messages = []
    for change in entry.get("changes", []):
        value = change.get("value", {})
        if change.get("field") != "feed" or value.get("item") != "comment":
            continue
        post_id = value["post_id"]
        parent_id = value.get("parent_id") or post_id
        author = value.get("from", {})
        messages.append(
            InboundMessage(
                external_id=value["comment_id"],
                # A top-level comment has the post as parent and starts its own thread.
                thread_key=value["comment_id"] if parent_id == post_id else parent_id,
                kind=InboundKind.PUBLIC_COMMENT,
                author_id=str(author.get("id", "")),
                author_name=author.get("name", ""),
                author_handle="",
                text=value.get("message", ""),
                created_at=epoch_time(value.get("created_time") or entry["time"]),
                in_reply_to=parent_id,
                about_post=post_id,
                is_from_us=str(author.get("id", "")) == page_id,
                deleted=value.get("verb") == "remove",
                raw=change,
            )
        )
    return messages + messaging_events(entry, account_id=page_id)
