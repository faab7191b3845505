"""The contract every network connector fulfils, and the words the rest of SocialDesk speaks.

A connector wraps one network's API for one Channel. Everything it returns is one of the
normalized dataclasses below (never an SDK object), every id is a string, every datetime is aware,
and every failure is one of the four errors of the vocabulary (anything else is a bug):

- RateLimited(until):         the network said "not before `until`"; nothing was done.
- AuthorizationExpired(reason): the token is dead or revoked; the channel needs reconnecting.
- Rejected(reason):           permanent for this request (duplicate, too long, not allowed);
                              `reason` is the network's own words, shown to the manager.
- Transient(reason, request_sent): try again later; `request_sent=True` means the network may
                              have acted (a timeout after sending): look before trying again.

A connector never sleeps and never retries a write by itself: the callers (Celery tasks) decide.
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar, NamedTuple

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class LengthUnit(StrEnum):
    CHARACTERS = "characters"  # Unicode code points (X counts some ranges double: its connector says so)
    GRAPHEMES = "graphemes"  # what a person sees as one character (Bluesky, Mastodon)


class LinkHandling(StrEnum):
    IN_TEXT = "in_text"  # the link is part of the text and becomes clickable (X, Mastodon)
    SEPARATE = "separate"  # passed apart from the text, shown as a card (Facebook `link`, LinkedIn article)
    NOT_CLICKABLE = "not_clickable"  # links in the text are shown but do not work (Instagram captions)
    NONE = "none"  # the network has no way to share a link with a post (YouTube: video only)


@dataclass(frozen=True)
class Capabilities:
    max_length: int
    length_unit: LengthUnit
    link_handling: LinkHandling
    private_messages: bool  # can read and answer private messages
    hide_comments: bool
    quote_posts: bool
    media_required: bool  # no text-only posts (Instagram: an image; YouTube: a video)
    duplicate_text_rejected: bool = False  # the same text twice is refused (X): echoes must vary it
    # A URL in the text counts as this many characters whatever its length (X: 23); None: as written.
    link_length: int | None = None
    # How long after the citizen's last private message a reply is still allowed (Messenger: 24 h).
    private_reply_window: timedelta | None = None


class InboundKind(models.TextChoices):
    PUBLIC_COMMENT = "public_comment", _("Public comment")
    MENTION = "mention", _("Mention")
    PRIVATE_MESSAGE = "private_message", _("Private message")


@dataclass(frozen=True)
class InboundMessage:
    """One message as the network reports it, normalized.

    `thread_key` is the network's own threading (an X conversation id, a Facebook top-level
    comment id, a DM conversation id): messages with the same key on a channel are one
    Conversation. `in_reply_to` is the external id of the message or post this one answers,
    `about_post` the external id of our post it comments on (empty when none). Messages the
    account itself wrote (our replies, echoed back by the API) come with `is_from_us=True`.
    """

    external_id: str
    thread_key: str
    kind: InboundKind
    author_id: str
    author_name: str
    author_handle: str
    text: str
    created_at: datetime
    in_reply_to: str = ""
    about_post: str = ""
    is_from_us: bool = False
    deleted: bool = False  # the network says the author deleted it
    raw: dict = field(default_factory=dict)  # the network's payload, JSON-serialisable, kept for audit

    def __post_init__(self):
        if self.created_at.tzinfo is None:
            raise ValueError("InboundMessage.created_at must be an aware datetime")


class InboundPage(NamedTuple):
    """What fetch_inbound returns: the messages after the cursor (oldest first) and the new cursor."""

    messages: list[InboundMessage]
    cursor: dict


@dataclass(frozen=True)
class ReplyTarget:
    """The message an answer goes to. Public replies thread under `external_id`; private ones go to
    `author_id` in the private conversation `thread_key`."""

    kind: InboundKind
    thread_key: str
    external_id: str
    author_id: str


@dataclass(frozen=True)
class Media:
    path: str  # a file under MEDIA_ROOT
    mime_type: str
    alt_text: str = ""
    public_url: str = ""  # for networks that fetch the file themselves (Instagram)


@dataclass(frozen=True)
class PublishResult:
    external_id: str
    url: str


@dataclass(frozen=True)
class RecentPost:
    """One of the account's own public posts as its timeline lists it. `is_reply` is set where the
    network says the post answers another one (a reply to a citizen, or the next part of the
    account's own thread): X, Mastodon and Bluesky list those in the timeline too."""

    external_id: str
    url: str
    text: str
    created_at: datetime
    is_reply: bool = False


@dataclass(frozen=True)
class PostMetrics:
    """Counters for one published post; None where the network does not report that counter."""

    external_id: str
    impressions: int | None
    likes: int | None
    shares: int | None
    comments: int | None
    clicks: int | None = None


class ConnectorError(Exception):
    def __init__(self, reason: str = ""):
        super().__init__(reason)
        self.reason = reason


class RateLimited(ConnectorError):
    def __init__(self, until: datetime, reason: str = ""):
        if until.tzinfo is None:
            raise ValueError("RateLimited.until must be an aware datetime")
        super().__init__(reason)
        self.until = until


class AuthorizationExpired(ConnectorError):
    pass


class ConfigurationOutdated(AuthorizationExpired):
    """The network no longer accepts SocialDesk's own settings (LinkedIn retired the API version in
    SOCIALDESK_LINKEDIN_VERSION): every call fails until an administrator updates the setting, so
    the channel stops like an expired authorization, but reconnecting it does not help."""


class Rejected(ConnectorError):
    pass


class Unsupported(Rejected):
    """The network cannot do this at all (hide a comment on LinkedIn): check `capabilities` first."""


class Transient(ConnectorError):
    def __init__(self, reason: str = "", *, request_sent: bool = False):
        super().__init__(reason)
        self.request_sent = request_sent


class Connector(ABC):
    """One network's API for one channel. Subclasses set `network`, `capabilities`, `poll_interval`
    and implement the abstract methods; `hide_comment`/`unhide_comment` only where capable."""

    network: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    # How often inbound messages are fetched: within the network's rate limits, fast enough for the desk.
    poll_interval: ClassVar[timedelta]

    def __init__(self, channel):
        self.channel = channel

    @abstractmethod
    def publish(self, *, text: str, link: str = "", media: Sequence[Media] = ()) -> PublishResult:
        """Publish once. `link` comes apart from the text: the connector puts it where its network
        wants it (appended to the text when link_handling is IN_TEXT). Never retried here: a
        Transient(request_sent=True) means look with find_recent_posts before publishing again."""

    @abstractmethod
    def find_recent_posts(self, *, since: datetime) -> list[RecentPost]:
        """The account's own posts published at or after `since`, newest first (for reconciling)."""

    @abstractmethod
    def fetch_inbound(self, *, cursor: dict) -> InboundPage:
        """Messages that arrived after `cursor` ({} the first time), oldest first, and the cursor
        to pass next time. Returning the same message again is allowed (ingest is idempotent)."""

    @abstractmethod
    def reply(self, *, target: ReplyTarget, text: str) -> PublishResult:
        """Answer publicly (under the comment or mention) or privately, as `target.kind` says."""

    def hide_comment(self, *, external_id: str) -> None:
        raise Unsupported(gettext("This network does not allow hiding comments."))

    def unhide_comment(self, *, external_id: str) -> None:
        raise Unsupported(gettext("This network does not allow hiding comments."))

    @abstractmethod
    def delete(self, *, external_id: str) -> None:
        """Delete one of the account's posts or replies. Deleting something already deleted is fine."""

    @abstractmethod
    def fetch_metrics(self, *, external_ids: Sequence[str]) -> list[PostMetrics]:
        """Counters for the given posts; posts the network no longer has are left out."""
