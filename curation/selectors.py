"""Read-only queries for the curation pages: the reading queue, hidden items, source health.

Each selector runs a fixed number of queries whatever the page size (the tests count them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import BooleanField, Count, ExpressionWrapper, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import cached_property

from curation.models import FetchStatus, HiddenReason, Item, ItemState, Source, Topic

QUEUE_PAGE_SIZE = 50
# Counting every item of a list takes time in proportion to how many it holds (135 ms for the tabs at
# a million items on PostgreSQL, see bench/bench_curation_queue.py). Lists count up to this many and
# then say "more than": nobody reads 200 pages of a queue sorted best first.
COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """A paginator that counts at most ``cap`` + 1 items; ``capped`` says the count stopped there, and
    then the pages go as far as the items counted."""

    def __init__(self, object_list, per_page, *, cap: int | None = None):
        super().__init__(object_list, per_page)
        self.cap = COUNT_CAP if cap is None else cap

    @cached_property
    def count(self) -> int:
        return self.object_list.prefetch_related(None).values("pk")[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap


# A source that has given nothing new for this long, while being fetched fine, is "silent".
SILENT_AFTER = timedelta(days=14)

_LIST_FIELDS = (
    "id",
    "source_id",
    "topic_id",
    "title",
    "excerpt",
    "url",
    "canonical_url",
    "published_at",
    "first_seen_at",
    "deadline",
    "place",
    "score",
    "score_reasons",
    "rank",
    "state",
    "state_changed_at",
    "hidden_reason",
    "hidden_detail",
    "duplicate_of_id",
    "source__id",
    "source__name",
    "source__host",
    "topic__id",
    "topic__name",
    "topic__slug",
    "topic__hashtags",
)


def _not_expired(now: datetime) -> Q:
    return Q(deadline__isnull=True) | Q(deadline__gte=now)


def _with_duplicates(queryset: QuerySet) -> QuerySet:
    duplicates = Item.objects.select_related("source").only(
        "id", "duplicate_of_id", "url", "source__id", "source__name"
    )
    return queryset.prefetch_related(Prefetch("duplicates", queryset=duplicates, to_attr="duplicate_items"))


def _attach_also_in(items) -> None:
    """``item.also_in``: the other sources that published the same item, each once."""
    for item in items:
        seen: dict[int, Source] = {}
        for duplicate in getattr(item, "duplicate_items", []):
            if duplicate.source_id != item.source_id:
                seen.setdefault(duplicate.source_id, duplicate.source)
        item.also_in = list(seen.values())


def queue_items(
    *,
    state: str = ItemState.NEW,
    topic_id: int | None = None,
    source_id: int | None = None,
    now: datetime | None = None,
) -> QuerySet:
    """The reading queue, best first (score and freshness), without hidden or expired items."""
    queryset = Item.objects.filter(state=state, hidden_reason=HiddenReason.VISIBLE).filter(
        _not_expired(now or timezone.now())
    )
    if topic_id is not None:
        queryset = queryset.filter(topic_id=topic_id)
    if source_id is not None:
        queryset = queryset.filter(source_id=source_id)
    return queryset.select_related("source", "topic").only(*_LIST_FIELDS).order_by("-rank", "-id")


def queue_page(
    *,
    state: str = ItemState.NEW,
    topic_id: int | None = None,
    source_id: int | None = None,
    page: int | str = 1,
    per_page: int = QUEUE_PAGE_SIZE,
    now: datetime | None = None,
) -> Page:
    """One page of the reading queue. Three queries: the count, the items, the "also in" sources."""
    queryset = _with_duplicates(queue_items(state=state, topic_id=topic_id, source_id=source_id, now=now))
    result = CappedPaginator(queryset, per_page).get_page(page)
    _attach_also_in(result.object_list)
    return result


def queue_counts(*, now: datetime | None = None, cap: int | None = None) -> dict[str, int]:
    """How many visible items each state holds (for the queue's tabs), each counted up to ``cap`` + 1
    (COUNT_CAP unless given; more means "more than ``cap``"), in one query."""
    cap = COUNT_CAP if cap is None else cap
    visible = Item.objects.filter(hidden_reason=HiddenReason.VISIBLE).filter(
        _not_expired(now or timezone.now())
    )
    parts, params = [], []
    for state in ItemState.values:
        sql, state_params = visible.filter(state=state).values("pk")[: cap + 1].query.sql_with_params()
        parts.append(f"SELECT CAST(%s AS varchar(20)), COUNT(*) FROM ({sql}) AS capped")  # noqa: S608 (the ORM's own SQL)
        params += [state, *state_params]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return dict(cursor.fetchall())


def hidden_page(
    *, reason: str | None = None, page: int | str = 1, per_page: int = QUEUE_PAGE_SIZE, now=None
) -> Page:
    """Items kept out of the queue, newest first, each with ``item.hidden_message`` saying why:
    duplicates (with the item they repeat), excluded words, passed deadlines."""
    now = now or timezone.now()
    if reason == "expired":
        condition = Q(hidden_reason=HiddenReason.VISIBLE, deadline__lt=now)
    elif reason:
        condition = Q(hidden_reason=reason)
    else:
        condition = ~Q(hidden_reason=HiddenReason.VISIBLE) | Q(deadline__lt=now)
    queryset = (
        Item.objects.filter(condition)
        .select_related("source", "topic", "duplicate_of__source")
        .order_by("-first_seen_at", "-id")
    )
    return CappedPaginator(queryset, per_page).get_page(page)


def item_get(*, item_id: int) -> Item:
    """One item with its source, topic, the item it repeats and where else it appeared."""
    item = (
        _with_duplicates(Item.objects.select_related("source", "topic", "duplicate_of__source"))
        .filter(pk=item_id)
        .get()
    )
    _attach_also_in([item])
    return item


@dataclass(frozen=True)
class PostDraft:
    """What "compose from item" starts a post with."""

    title: str
    link: str
    hashtags: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(part for part in (self.title, self.link, " ".join(self.hashtags)) if part)


def item_post_draft(*, item: Item) -> PostDraft:
    return PostDraft(title=item.title, link=item.link, hashtags=item.topic.hashtag_list if item.topic else [])


def topics_for_filter() -> QuerySet:
    return Topic.objects.filter(is_active=True).only("id", "name", "slug").order_by("name")


def sources_for_filter() -> QuerySet:
    return Source.objects.only("id", "name").order_by("name", "id")


@dataclass
class SourceHealth:
    source: Source
    items_last_week: int
    is_silent: bool

    @property
    def is_failing(self) -> bool:
        return self.source.last_status == FetchStatus.ERROR

    @property
    def needs_attention(self) -> bool:
        return self.is_failing or self.is_silent or self.source.muted


def _silent(now: datetime) -> Q:
    """Fetched fine, not muted, and nothing new for SILENT_AFTER (counted from its creation for a
    source that never brought anything). Needs the ``last_news`` annotation of ``_with_silence``."""
    return Q(muted=False, last_success_at__isnull=False, last_news__isnull=False) & Q(
        last_news__lt=now - SILENT_AFTER
    )


def _with_silence(sources: QuerySet, now: datetime) -> QuerySet:
    return sources.annotate(last_news=Coalesce("last_new_item_at", "created_at")).annotate(
        is_silent=ExpressionWrapper(_silent(now), output_field=BooleanField())
    )


def sources_needing_attention_count(*, now: datetime | None = None) -> int:
    """How many sources ``source_health`` lists as needing attention (failing, silent or muted), in
    one counting query: the home page asks every time it refreshes."""
    now = now or timezone.now()
    return (
        _with_silence(Source.objects, now)
        .filter(Q(last_status=FetchStatus.ERROR) | Q(muted=True) | _silent(now))
        .count()
    )


def source_health(*, now: datetime | None = None) -> list[SourceHealth]:
    """Every source with its last fetch, status, error in plain words (``source.error_message``),
    items in the last 7 days and whether it went silent; sources needing attention first. Two queries."""
    now = now or timezone.now()
    weekly = dict(
        Item.objects.filter(first_seen_at__gte=now - timedelta(days=7))
        .values("source_id")
        .annotate(n=Count("id"))
        .values_list("source_id", "n")
    )
    rows = [
        SourceHealth(source=source, items_last_week=weekly.get(source.pk, 0), is_silent=bool(source.is_silent))
        for source in _with_silence(Source.objects, now).order_by("name", "id")
    ]
    rows.sort(key=lambda row: (not row.needs_attention, row.source.name.lower()))
    return rows
