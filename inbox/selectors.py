"""Reads for the inbox pages. The queue costs the same few queries whatever the number of rows."""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Exists, F, Lookup, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from inbox.models import (
    CannedReply,
    Contact,
    Conversation,
    ConversationStatus,
    Message,
    MessageDirection,
    Reply,
    Tag,
)
from inbox.privacy import ERASED_CONTACT
from networks.facebook import post_url as facebook_post_url
from networks.linkedin import post_url as linkedin_post_url
from networks.models import Channel, Network
from scheduling.models import Delivery, DeliveryState

QUEUE_PAGE_SIZE = 50
# Views and searches are counted up to this many conversations: past it the count says "more than"
# and the pages stop there, so no page counts the hundreds of thousands of closed conversations.
QUEUE_COUNT_CAP = 1000
# A search is counted up to fewer: its results are read newest first, and past a few pages the
# manager narrows the words instead. Each candidate conversation is tested for the words, so the cap
# bounds how many are tested when the words are common.
SEARCH_COUNT_CAP = 200
# On PostgreSQL a word with at most this many messages has them read from its index first; one with
# more has the queue walked (see _conversations_matching). Around here reading the hits costs what
# walking the queue does, on the bench's million messages (bench/bench_inbox.py).
SEARCH_PROBE_LIMIT = 10_000
# The messages' stored vectors of inbox migration 0007, queried in web-search syntax (phrases in
# quotes, -word to exclude) with the Spanish configuration (stems, accents ignored).
MATCHING_MESSAGES_SQL = (
    "SELECT conversation_id FROM inbox_message "
    "WHERE search_vector @@ websearch_to_tsquery('spanish'::regconfig, %s)"
)
HISTORY_LIMIT = 20


@dataclass(frozen=True)
class QueueView:
    slug: str
    label: str
    condition: Q
    # The order a queue is worked in: what needs the manager first, then the newest.
    ordering: tuple[str, ...] = ("-last_message_at", "-id")


def _not_spam() -> Q:
    return Q(spam=False)


QUEUE_VIEWS = {
    view.slug: view
    for view in (
        QueueView(
            "needs_reply",
            _("Needs a reply"),
            Q(status=ConversationStatus.OPEN, needs_reply=True, spam=False),
            ("-priority", "-last_message_at", "-id"),
        ),
        QueueView("mine", _("Mine"), ~Q(status=ConversationStatus.CLOSED) & _not_spam()),
        QueueView("all", _("All"), _not_spam()),
        QueueView("waiting", _("Waiting for the citizen"), Q(status=ConversationStatus.WAITING, spam=False)),
        QueueView("snoozed", _("Snoozed"), Q(status=ConversationStatus.SNOOZED, spam=False)),
        QueueView("closed", _("Closed"), Q(status=ConversationStatus.CLOSED, spam=False)),
        QueueView(
            "spam",
            _("Spam and hidden"),
            Q(spam=True) | Exists(Message.objects.filter(conversation=OuterRef("pk"), hidden=True)),
        ),
    )
}
DEFAULT_VIEW = "needs_reply"


def _view_condition(view: str, user) -> Q:
    condition = QUEUE_VIEWS[view].condition
    if view == "mine":
        condition &= Q(assignee=user)
    return condition


class _EqualsAny(Lookup):
    """`lhs = ANY(ids)` with the ids (a list of integers) as one array parameter, on PostgreSQL."""

    lookup_name = "equals_any"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, self.rhs]


def _hits_if_few(q: str) -> list[int] | None:
    """The conversation of each message matching `q`, or None when there are more than
    SEARCH_PROBE_LIMIT. A word the table's statistics already count as that common (the planner's
    estimate, from the vectors' most common lexemes) is not read at all."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {MATCHING_MESSAGES_SQL}", [q])
        if cursor.fetchone()[0][0]["Plan"]["Plan Rows"] > SEARCH_PROBE_LIMIT:
            return None
        cursor.execute(f"{MATCHING_MESSAGES_SQL} LIMIT %s", [q, SEARCH_PROBE_LIMIT + 1])
        hits = [conversation_id for (conversation_id,) in cursor.fetchall()]
    return hits if len(hits) <= SEARCH_PROBE_LIMIT else None


def _conversations_matching(q: str) -> Q:
    """Conversations with a message matching `q`: Spanish full text on PostgreSQL (see
    MATCHING_MESSAGES_SQL), elsewhere the words as typed, ignoring case."""
    if connection.vendor != "postgresql":
        return Q(Exists(Message.objects.filter(conversation=OuterRef("pk"), text__icontains=q)))
    # A rare word's few messages, read from its index, give the candidates however old they are. A
    # common word's conversations turn up soon when the queue is walked newest first, each tested
    # against its messages' stored vectors, where reading all its messages would cost more. Left to
    # itself the planner walks for rare words too (it takes a word's hits as spread evenly over the
    # years and the view), testing tens of thousands of conversations.
    hits = _hits_if_few(q)
    if hits is not None:
        # id = ANY(one array): the planner sees how many ids there are and walks the queue's index
        # or reads them by id, whichever is less; thousands of IN (...) parameters cost more to build.
        return Q(_EqualsAny(F("pk"), sorted(set(hits))))
    return Q(pk__in=RawSQL(MATCHING_MESSAGES_SQL, [q]))  # noqa: S611 (constant SQL, the words a parameter)


class CappedPaginator(Paginator):
    """Pages through the first `cap` rows, read in one pass: the ids of up to `cap` + 1 rows give
    the count (`capped` when there are more) and each page fetches its rows by id, from `rows` (the
    same rows with what the page shows) when given. A search then tests each candidate conversation
    once, not once to count and again to fill the page."""

    def __init__(self, object_list, per_page: int, *, cap: int, rows: QuerySet | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.rows = object_list if rows is None else rows

    @cached_property
    def _ids(self) -> list[int]:
        return list(self.object_list.prefetch_related(None).values_list("pk", flat=True)[: self.cap + 1])

    @cached_property
    def count(self) -> int:
        return min(len(self._ids), self.cap)

    @property
    def capped(self) -> bool:
        return len(self._ids) > self.cap

    def page(self, number) -> Page:
        number = self.validate_number(number)
        first = (number - 1) * self.per_page
        rows = self.rows.filter(pk__in=self._ids[: self.cap][first : first + self.per_page])
        return self._get_page(rows, number, self)


def queue_page(
    *,
    user,
    view: str = DEFAULT_VIEW,
    network: str = "",
    channel: int | None = None,
    kind: str = "",
    priority_only: bool = False,
    language: str | None = None,
    tag: int | None = None,
    q: str = "",
    page: int | str = 1,
) -> Page:
    conversations = Conversation.objects.filter(_view_condition(view, user))
    if network:
        conversations = conversations.filter(channel__network=network)
    if channel:
        conversations = conversations.filter(channel_id=channel)
    if kind:
        conversations = conversations.filter(kind=kind)
    if priority_only:
        conversations = conversations.filter(priority__gt=0)
    if language is not None:
        conversations = conversations.filter(language=language)
    if tag:
        conversations = conversations.filter(tags__id=tag)
    if q:
        conversations = conversations.filter(_conversations_matching(q))
    ordering = QUEUE_VIEWS[view].ordering
    # A page's rows are read by id, without testing the filters again: with a rare word's thousands
    # of candidate ids beside the page's fifty, the planner would scan the whole table.
    shown = (
        Conversation.objects.select_related("channel", "contact", "assignee")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .order_by(*ordering)
    )
    cap = SEARCH_COUNT_CAP if q else QUEUE_COUNT_CAP
    paginator = CappedPaginator(conversations.order_by(*ordering), QUEUE_PAGE_SIZE, cap=cap, rows=shown)
    return paginator.get_page(page)


def _view_ids(view: str, user) -> QuerySet:
    if view == "spam":
        # The view's own set, read from two small partial indexes (inbox migration 0006) instead
        # of testing every conversation for a hidden message.
        return (
            Conversation.objects.filter(spam=True)
            .order_by()
            .values("pk")
            .union(Message.objects.filter(hidden=True).order_by().values("conversation_id"))
        )
    return Conversation.objects.filter(_view_condition(view, user)).values("pk")


def queue_counts(*, user) -> dict[str, int]:
    """How many conversations each view holds, each counted up to QUEUE_COUNT_CAP + 1 (a value
    above the cap reads "more than"), in one query."""
    counts, params = [], []
    for view in QUEUE_VIEWS:
        ids = _view_ids(view, user).order_by()[: QUEUE_COUNT_CAP + 1]
        sql, view_params = ids.query.sql_with_params()
        counts.append(f"(SELECT COUNT(*) FROM ({sql}) AS view_{view})")  # noqa: S608 (Django-built SQL)
        params.extend(view_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(counts)}", params)
        return dict(zip(QUEUE_VIEWS, cursor.fetchone(), strict=True))


def conversation_get(*, conversation_id: int) -> Conversation:
    return (
        Conversation.objects.select_related("channel", "contact", "assignee")
        .prefetch_related("tags", "contact__identities")
        .get(pk=conversation_id)
    )


def conversation_thread(conversation: Conversation) -> list[Message]:
    """The messages in order, each ours carrying the Reply it came from (if sent from SocialDesk)."""
    return list(
        conversation.messages.select_related("author", "reply__author")
        .prefetch_related("revisions")
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class AboutPost:
    """Our post a conversation is about: `text` is empty when SocialDesk did not publish it (or no
    longer has it), `url` when no address can be built for it."""

    network: str
    external_id: str
    text: str
    url: str


def _x_post_url(channel: Channel, external_id: str) -> str:
    return f"https://x.com/{channel.handle.lstrip('@') or 'i/web'}/status/{external_id}"


def _bluesky_post_url(channel: Channel, external_id: str) -> str:
    # at://<did>/app.bsky.feed.post/<rkey>
    did, _, rkey = external_id.removeprefix("at://").partition("/app.bsky.feed.post/")
    return f"https://bsky.app/profile/{channel.handle or did}/post/{rkey}" if did and rkey else ""


# Public addresses that follow from the post's id alone. Mastodon needs the instance (kept with the
# credentials) and Instagram's address uses a shortcode, not the media id: those show the id.
POST_URL_BUILDERS: dict[str, Callable[[Channel, str], str]] = {
    Network.X: _x_post_url,
    Network.BLUESKY: _bluesky_post_url,
    Network.FACEBOOK: lambda channel, external_id: facebook_post_url(external_id),
    Network.LINKEDIN: lambda channel, external_id: linkedin_post_url(external_id),
    Network.YOUTUBE: lambda channel, external_id: f"https://www.youtube.com/watch?v={external_id}",
}


def conversation_about_post(conversation: Conversation) -> AboutPost | None:
    """The post of ours the conversation is about, as SocialDesk published it (one query), else
    what its id tells; None when it is about no post of ours."""
    if not conversation.about_post:
        return None
    channel = conversation.channel
    delivery = (
        Delivery.objects.filter(
            channel_id=conversation.channel_id,
            external_id=conversation.about_post,
            state=DeliveryState.PUBLISHED,
        )
        .order_by("-published_at", "-id")
        .values("text", "url")
        .first()
    )
    build_url = POST_URL_BUILDERS.get(channel.network)
    built_url = build_url(channel, conversation.about_post) if build_url else ""
    return AboutPost(
        network=channel.get_network_display(),
        external_id=conversation.about_post,
        text=delivery["text"] if delivery else "",
        url=(delivery["url"] if delivery else "") or built_url,
    )


def conversation_pending_replies(conversation: Conversation) -> list[Reply]:
    """Replies not (yet) on the network: queued, sending, failed or unknown."""
    return list(
        conversation.replies.filter(message__isnull=True).select_related("author").order_by("created_at")
    )


def contact_history(conversation: Conversation) -> list[Conversation]:
    """The citizen's other conversations, on every network, newest first."""
    if conversation.contact_id is None:
        return []
    return list(
        Conversation.objects.filter(contact_id=conversation.contact_id)
        .exclude(pk=conversation.pk)
        .select_related("channel")
        .order_by("-last_message_at", "-id")[:HISTORY_LIMIT]
    )


def contacts_search(*, q: str, exclude: int | None, limit: int = 10) -> list[Contact]:
    """Contacts whose name or any identity's name or handle matches, to merge with (never an erased
    one: merging it would tie the emptied history to a person again)."""
    if not q.strip():
        return []
    contacts = Contact.objects.filter(
        Q(display_name__icontains=q)
        | Q(identities__display_name__icontains=q)
        | Q(identities__handle__icontains=q)
    ).exclude(pk__in=Contact.objects.filter(ERASED_CONTACT).values("pk"))
    if exclude:
        contacts = contacts.exclude(pk=exclude)
    return list(contacts.distinct().prefetch_related("identities").order_by("display_name", "id")[:limit])


def canned_replies_search(*, q: str, limit: int = 10) -> list[CannedReply]:
    replies = CannedReply.objects.all()
    for word in q.split():
        replies = replies.filter(
            Q(title__icontains=word) | Q(keywords__icontains=word) | Q(text__icontains=word)
        )
    return list(replies[:limit])


def conversations_needing_reply_count() -> int:
    return Conversation.objects.filter(status=ConversationStatus.OPEN, needs_reply=True, spam=False).count()


def recent_inbound_messages(*, limit: int) -> list[Message]:
    """The citizens' latest messages, with author, channel and conversation in the same query."""
    messages = (
        Message.objects.filter(direction=MessageDirection.INBOUND, deleted=False)
        .select_related("author", "channel", "conversation")
        .order_by("-created_at", "-id")
    )
    return list(messages[:limit])
