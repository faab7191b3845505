"""Reads for the inbox pages. The queue costs the same few queries whatever the number of rows."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
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

QUEUE_PAGE_SIZE = 50
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


def _messages_matching(q: str) -> QuerySet:
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        # Matches the expression of the GIN index (inbox migration 0004), so the index is used.
        return Message.objects.annotate(search=SearchVector("text", config="spanish")).filter(
            search=SearchQuery(q, config="spanish", search_type="websearch")
        )
    return Message.objects.filter(text__icontains=q)


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
        conversations = conversations.filter(
            Exists(_messages_matching(q).filter(conversation=OuterRef("pk")))
        )
    conversations = (
        conversations.select_related("channel", "contact", "assignee")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .order_by(*QUEUE_VIEWS[view].ordering)
    )
    return Paginator(conversations, QUEUE_PAGE_SIZE).get_page(page)


def queue_counts(*, user) -> dict[str, int]:
    """How many conversations each view holds, in one query."""
    aggregates = {
        slug: Count("pk", filter=_view_condition(slug, user)) for slug in QUEUE_VIEWS if slug != "spam"
    }
    counts = Conversation.objects.aggregate(**aggregates)
    counts["spam"] = Conversation.objects.filter(QUEUE_VIEWS["spam"].condition).count()
    return counts


def conversation_get(*, conversation_id: int) -> Conversation:
    return (
        Conversation.objects.select_related("channel", "contact", "assignee")
        .prefetch_related("tags", "contact__identities")
        .get(pk=conversation_id)
    )


def conversation_thread(conversation: Conversation) -> list[Message]:
    """The messages in order, each ours carrying the Reply it came from (if sent from SocialDesk)."""
    return list(conversation.messages.select_related("author", "reply__author").order_by("created_at", "id"))


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
    """Contacts whose name or any identity's name or handle matches, to merge with."""
    if not q.strip():
        return []
    contacts = Contact.objects.filter(
        Q(display_name__icontains=q)
        | Q(identities__display_name__icontains=q)
        | Q(identities__handle__icontains=q)
    )
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
