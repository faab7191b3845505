"""The sandbox network: in-process, behaving like a real one, for the demo and the end-to-end tests.

The network's side lives in networks.models.sandbox (accounts, posts, an event stream); SocialDesk
reaches it only through SandboxConnector, exactly as it reaches X or Facebook. Like a real network
it checks the access token, limits the text length (500 characters), refuses the same text twice
within a day, keeps a 7-day window for private replies, and answers with plausible metrics. Its
simulated citizens write mentions, comments and private messages in Spanish and Valencian
(networks.sandbox_citizens), which fetch_inbound returns after the cursor.

Errors on demand:

- A marker in the text of a post or reply makes that one call fail:
  ``[sandbox:rate-limited]`` → RateLimited (for two minutes), nothing published;
  ``[sandbox:transient]`` → Transient, nothing published;
  ``[sandbox:rejected]`` → Rejected; ``[sandbox:expired]`` → AuthorizationExpired;
  ``[sandbox:timeout]`` → the post IS published, then Transient(request_sent=True): the
  "timeout after sending" case, findable with find_recent_posts.
- The account's ``failure`` setting (admin: Networks › Sandbox accounts) makes every call fail
  the chosen way until it is cleared, polling included.
- A channel whose access token is no longer the account's current one (re-issued by
  sandbox_account_open) gets AuthorizationExpired, like a revoked token.
"""

import hashlib
import hmac
import math
import random
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext

from lib.text_limits import text_with_link
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
from networks.models import (
    Channel,
    ChannelStatus,
    Network,
    SandboxAccount,
    SandboxEvent,
    SandboxFailure,
    SandboxPost,
    SandboxPostKind,
)
from networks.sandbox_citizens import CITIZENS, citizen_follow_up, citizen_text

MAX_LENGTH = 500
RATE_LIMIT_WINDOW = timedelta(minutes=2)
DUPLICATE_WINDOW = timedelta(hours=24)
PRIVATE_REPLY_WINDOW = timedelta(days=7)
INBOUND_PAGE_SIZE = 100
TIMEOUT_MARKER = "[sandbox:timeout]"
FAILURE_MARKERS = {
    "[sandbox:rate-limited]": SandboxFailure.RATE_LIMITED,
    "[sandbox:transient]": SandboxFailure.TRANSIENT,
    "[sandbox:rejected]": SandboxFailure.REJECTED,
    "[sandbox:expired]": SandboxFailure.AUTHORIZATION_EXPIRED,
}
# What the simulated citizens write, and how often a private conversation gets a follow-up.
KIND_WEIGHTS = {InboundKind.PUBLIC_COMMENT: 4, InboundKind.MENTION: 3, InboundKind.PRIVATE_MESSAGE: 3}
FOLLOW_UP_SHARE = 0.2


def _token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_external_id() -> str:
    # Snowflake-sized numbers as strings, like most networks' ids.
    return str(secrets.randbits(62))


def _fail(failure: str, *, request_sent: bool = False) -> None:
    if failure == SandboxFailure.RATE_LIMITED:
        raise RateLimited(until=timezone.now() + RATE_LIMIT_WINDOW, reason=gettext("Too many requests."))
    if failure == SandboxFailure.TRANSIENT:
        raise Transient(gettext("The sandbox is temporarily unavailable."), request_sent=request_sent)
    if failure == SandboxFailure.REJECTED:
        raise Rejected(gettext("The sandbox refused this request."))
    if failure == SandboxFailure.AUTHORIZATION_EXPIRED:
        raise AuthorizationExpired(gettext("The sandbox access token has expired."))


class SandboxConnector(Connector):
    network = Network.SANDBOX
    capabilities = Capabilities(
        max_length=MAX_LENGTH,
        length_unit=LengthUnit.CHARACTERS,
        link_handling=LinkHandling.IN_TEXT,
        private_messages=True,
        hide_comments=True,
        quote_posts=False,
        media_required=False,
        duplicate_text_rejected=True,
        private_reply_window=PRIVATE_REPLY_WINDOW,
    )
    poll_interval = timedelta(seconds=10)

    def publish(self, *, text: str, link: str = "", media: Sequence[Media] = ()) -> PublishResult:
        account = self._account()
        full_text = text_with_link(text, link)
        self._check_text(full_text)
        duplicate = account.posts.filter(
            kind=SandboxPostKind.POST,
            text=full_text,
            deleted_at__isnull=True,
            created_at__gte=timezone.now() - DUPLICATE_WINDOW,
        )
        if duplicate.exists():
            raise Rejected(gettext("You already published this same text in the last 24 hours."))
        post = SandboxPost.objects.create(
            account=account,
            external_id=_new_external_id(),
            kind=SandboxPostKind.POST,
            text=full_text,
            link=link,
            media=[
                {"path": item.path, "mime_type": item.mime_type, "alt_text": item.alt_text} for item in media
            ],
        )
        return self._sent(post, full_text)

    def find_recent_posts(self, *, since: datetime) -> list[RecentPost]:
        # Like X, Mastodon and Bluesky, the timeline lists the account's public replies too, marked
        # as such; private replies are not on it.
        posts = self._account().posts.filter(
            kind__in=[SandboxPostKind.POST, SandboxPostKind.REPLY],
            created_at__gte=since,
            deleted_at__isnull=True,
        )
        return [
            RecentPost(
                external_id=post.external_id,
                url=post.url,
                text=post.text,
                created_at=post.created_at,
                is_reply=post.kind == SandboxPostKind.REPLY,
            )
            for post in posts.select_related("account").order_by("-created_at", "-id")
        ]

    def fetch_inbound(self, *, cursor: dict) -> InboundPage:
        account = self._account()
        after = cursor.get("after", 0)
        if not isinstance(after, int) or after < 0:
            raise Rejected(gettext("The sandbox does not understand this cursor."))
        events = list(account.events.filter(id__gt=after).order_by("id")[:INBOUND_PAGE_SIZE])
        messages = [_inbound_message(event) for event in events]
        return InboundPage(messages=messages, cursor={"after": events[-1].id if events else after})

    def reply(self, *, target: ReplyTarget, text: str) -> PublishResult:
        account = self._account()
        self._check_text(text)
        answered = account.events.filter(external_id=target.external_id).order_by("-id").first()
        if target.kind == InboundKind.PRIVATE_MESSAGE:
            last_from_citizen = (
                account.events.filter(thread_key=target.thread_key, is_from_us=False)
                .order_by("-created_at")
                .first()
            )
            if last_from_citizen is None:
                raise Rejected(gettext("There is no such private conversation."))
            if timezone.now() - last_from_citizen.created_at > PRIVATE_REPLY_WINDOW:
                raise Rejected(gettext("The time to answer this private conversation has run out."))
            kind = SandboxPostKind.PRIVATE_REPLY
        else:
            if (
                answered is None
                and not account.posts.filter(external_id=target.external_id, deleted_at__isnull=True).exists()
            ):
                raise Rejected(gettext("The message you are replying to no longer exists."))
            kind = SandboxPostKind.REPLY
        post = SandboxPost.objects.create(
            account=account,
            external_id=_new_external_id(),
            kind=kind,
            text=text,
            in_reply_to=target.external_id,
            thread_key=target.thread_key,
        )
        # Like a real API, the network reports the account's own reply in the thread too.
        SandboxEvent.objects.create(
            account=account,
            external_id=post.external_id,
            kind=target.kind,
            thread_key=target.thread_key,
            author_id=account.account_id,
            author_name=account.display_name,
            author_handle=account.handle,
            text=text,
            in_reply_to=target.external_id,
            about_post=answered.about_post if answered else "",
            is_from_us=True,
            created_at=post.created_at,
        )
        return self._sent(post, text)

    def hide_comment(self, *, external_id: str) -> None:
        self._set_hidden(external_id=external_id, hidden=True)

    def unhide_comment(self, *, external_id: str) -> None:
        self._set_hidden(external_id=external_id, hidden=False)

    def delete(self, *, external_id: str) -> None:
        post = self._account().posts.filter(external_id=external_id).first()
        if post is None:
            raise Rejected(gettext("There is no such post."))
        if post.deleted_at is None:
            post.deleted_at = timezone.now()
            post.save(update_fields=["deleted_at"])

    def fetch_metrics(self, *, external_ids: Sequence[str]) -> list[PostMetrics]:
        account = self._account()
        posts = list(
            account.posts.filter(
                external_id__in=list(external_ids), kind=SandboxPostKind.POST, deleted_at__isnull=True
            ).select_related("account")
        )
        # Comments are real: the citizens' comments on each post (an edit is not a new comment).
        comments = dict(
            account.events.filter(about_post__in=[post.external_id for post in posts], is_from_us=False)
            .values("about_post")
            .annotate(count=Count("external_id", distinct=True))
            .values_list("about_post", "count")
        )
        now = timezone.now()
        return [
            _plausible_metrics(post, comments=comments.get(post.external_id, 0), now=now) for post in posts
        ]

    def _account(self) -> SandboxAccount:
        account = SandboxAccount.objects.filter(account_id=self.channel.account_id).first()
        token = self.channel.credentials.get("access_token", "")
        if account is None or not hmac.compare_digest(_token_sha256(token), account.access_token_sha256):
            raise AuthorizationExpired(gettext("The sandbox no longer accepts this channel's access token."))
        _fail(account.failure)
        return account

    def _check_text(self, text: str) -> None:
        for marker, failure in FAILURE_MARKERS.items():
            if marker in text:
                _fail(failure)
        if not text.strip():
            raise Rejected(gettext("The text is empty."))
        if len(text) > MAX_LENGTH:
            raise Rejected(
                gettext("The text has %(length)d characters; the limit is %(limit)d.")
                % {"length": len(text), "limit": MAX_LENGTH}
            )

    def _sent(self, post: SandboxPost, text: str) -> PublishResult:
        if TIMEOUT_MARKER in text:
            raise Transient(gettext("The sandbox took too long to answer."), request_sent=True)
        return PublishResult(external_id=post.external_id, url=post.url)

    def _set_hidden(self, *, external_id: str, hidden: bool) -> None:
        comments = self._account().events.filter(
            external_id=external_id, kind=InboundKind.PUBLIC_COMMENT, is_from_us=False
        )
        if not comments.update(hidden=hidden):
            raise Rejected(gettext("There is no such comment."))


def _inbound_message(event: SandboxEvent) -> InboundMessage:
    author = {"id": event.author_id, "name": event.author_name, "handle": event.author_handle}
    return InboundMessage(
        external_id=event.external_id,
        thread_key=event.thread_key,
        kind=InboundKind(event.kind),
        author_id=event.author_id,
        author_name=event.author_name,
        author_handle=event.author_handle,
        text=event.text,
        created_at=event.created_at,
        in_reply_to=event.in_reply_to,
        about_post=event.about_post,
        is_from_us=event.is_from_us,
        raw={
            "event_id": event.id,
            "id": event.external_id,
            "kind": event.kind,
            "text": event.text,
            "author": author,
            "hidden": event.hidden,
            "created_at": event.created_at.isoformat(),
        },
    )


def _plausible_metrics(post: SandboxPost, *, comments: int, now: datetime) -> PostMetrics:
    # Seeded by the post id, so a post's numbers only grow, along a curve that flattens after a day.
    rng = random.Random(post.external_id)  # noqa: S311  (simulated numbers, not security)
    hours = max((now - post.created_at).total_seconds() / 3600, 0.0)
    impressions = round(rng.randint(300, 3000) * (1 - math.exp(-hours / 6)))
    likes = round(impressions * rng.uniform(0.01, 0.05))
    return PostMetrics(
        external_id=post.external_id,
        impressions=impressions,
        likes=likes,
        shares=round(likes * rng.uniform(0.05, 0.3)),
        comments=comments,
        clicks=round(impressions * rng.uniform(0.005, 0.03)),
    )


# --- The network's own side: accounts and the simulated citizens ----------------------------------


def sandbox_account_open(*, handle: str, display_name: str) -> tuple[SandboxAccount, dict]:
    """Create the account (or find it by handle) and issue a new access token, as an OAuth
    authorization would. The returned credentials are what the Channel stores; issuing a new token
    invalidates the previous one."""
    token = secrets.token_urlsafe(32)
    account, created = SandboxAccount.objects.get_or_create(
        handle=handle,
        defaults={
            "account_id": f"sbx-{secrets.token_hex(6)}",
            "display_name": display_name,
            "access_token_sha256": _token_sha256(token),
        },
    )
    if not created:
        account.display_name = display_name
        account.access_token_sha256 = _token_sha256(token)
        account.save(update_fields=["display_name", "access_token_sha256"])
    return account, {"access_token": token}


_CITIZENS_BY_ID = {citizen.author_id: citizen for citizen in CITIZENS}


def sandbox_citizen_writes(
    *, account: SandboxAccount, rng: random.Random, now: datetime | None = None
) -> SandboxEvent:
    """One simulated citizen writes to the account: a comment on one of its recent posts, a
    mention, a private message, or a follow-up in a private conversation."""
    now = now or timezone.now()
    if rng.random() < FOLLOW_UP_SHARE:
        previous = (
            account.events.filter(kind=InboundKind.PRIVATE_MESSAGE, is_from_us=False).order_by("-id").first()
        )
        if previous is not None and previous.author_id in _CITIZENS_BY_ID:
            citizen = _CITIZENS_BY_ID[previous.author_id]
            text = citizen_follow_up(rng=rng, citizen=citizen)
            return _citizen_event(
                account, citizen, InboundKind.PRIVATE_MESSAGE, text, previous.thread_key, now
            )
    kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
    citizen = rng.choice(CITIZENS)
    recent_posts = list(
        account.posts.filter(kind=SandboxPostKind.POST, deleted_at__isnull=True).order_by("-created_at")[:5]
    )
    if kind == InboundKind.PUBLIC_COMMENT and not recent_posts:
        kind = InboundKind.MENTION
    text = citizen_text(rng=rng, citizen=citizen, kind=kind, our_handle=account.handle)
    if kind == InboundKind.PRIVATE_MESSAGE:
        return _citizen_event(account, citizen, kind, text, f"dm-{citizen.author_id}", now)
    about_post = rng.choice(recent_posts).external_id if kind == InboundKind.PUBLIC_COMMENT else ""
    # A comment or a mention starts its own thread, keyed by its own id.
    return _citizen_event(account, citizen, kind, text, "", now, about_post=about_post)


def _citizen_event(account, citizen, kind, text, thread_key, now, *, about_post="") -> SandboxEvent:
    external_id = _new_external_id()
    return SandboxEvent.objects.create(
        account=account,
        external_id=external_id,
        kind=kind,
        thread_key=thread_key or external_id,
        author_id=citizen.author_id,
        author_name=citizen.name,
        author_handle=citizen.handle,
        text=text,
        in_reply_to=about_post,
        about_post=about_post,
        created_at=now,
    )


def sandbox_simulate_due_citizens(*, now: datetime | None = None, rng: random.Random | None = None) -> int:
    """Each active sandbox channel whose account is due gets one citizen's message; the next one
    comes after about SOCIALDESK_SANDBOX_MESSAGE_SECONDS (half to one and a half times it).
    Returns how many messages were written."""
    now = now or timezone.now()
    rng = rng or random.Random()  # noqa: S311  (simulated citizens, not security)
    interval = settings.SOCIALDESK_SANDBOX_MESSAGE_SECONDS
    active_accounts = Channel.objects.filter(network=Network.SANDBOX, status=ChannelStatus.ACTIVE).values(
        "account_id"
    )
    due = SandboxAccount.objects.filter(account_id__in=active_accounts).filter(
        Q(next_citizen_message_at__isnull=True) | Q(next_citizen_message_at__lte=now)
    )
    written = 0
    for account in due:
        next_at = now + timedelta(seconds=interval * rng.uniform(0.5, 1.5))
        # A conditional update claims the turn, so two overlapping runs never both write.
        claimed = SandboxAccount.objects.filter(
            pk=account.pk, next_citizen_message_at=account.next_citizen_message_at
        ).update(next_citizen_message_at=next_at)
        if claimed:
            sandbox_citizen_writes(account=account, rng=rng, now=now)
            written += 1
    return written
