"""The reading queue, hidden items and source health: right rows, fixed number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from curation.models import FetchErrorKind, FetchStatus, HiddenReason, Item, ItemState, Source, Topic
from curation.scoring import rank_for
from curation.selectors import (
    hidden_page,
    item_get,
    item_post_draft,
    queue_counts,
    queue_page,
    source_health,
)


def make_item(source, guid: str, *, score: int = 0, age_hours: float = 1, topic=None, **fields) -> Item:
    now = timezone.now()
    published = now - timedelta(hours=age_hours)
    fields.setdefault("title", guid)
    return Item.objects.create(
        source=source,
        guid=guid,
        guid_hash=guid,
        score=score,
        topic=topic,
        published_at=published,
        first_seen_at=fields.pop("first_seen_at", now),
        rank=rank_for(score=score, when=published),
        **fields,
    )


def test_the_queue_is_ranked_by_score_and_freshness(make_source):
    source = make_source()
    fresh = make_item(source, "fresh", score=0, age_hours=1)
    strong = make_item(source, "strong", score=6, age_hours=24)
    stale = make_item(source, "stale", score=2, age_hours=24 * 10)
    assert [item.guid for item in queue_page()] == [strong.guid, fresh.guid, stale.guid]


def test_the_queue_filters_by_state_topic_and_source(make_source):
    first, second = make_source(), make_source()
    training = Topic.objects.get(slug="training")
    make_item(first, "a", topic=training)
    make_item(second, "b", topic=training)
    make_item(first, "c", state=ItemState.SHORTLISTED)
    assert {i.guid for i in queue_page(topic_id=training.pk)} == {"a", "b"}
    assert {i.guid for i in queue_page(source_id=first.pk)} == {"a"}
    assert {i.guid for i in queue_page(state=ItemState.SHORTLISTED)} == {"c"}


def test_hidden_and_expired_items_leave_the_queue_and_say_why(make_source):
    source = make_source()
    original = make_item(source, "orig")
    make_item(source, "dup", hidden_reason=HiddenReason.DUPLICATE, duplicate_of=original)
    make_item(source, "excl", hidden_reason=HiddenReason.EXCLUDED, hidden_detail="paro cardíaco")
    make_item(source, "expired", deadline=timezone.now() - timedelta(minutes=1))
    make_item(source, "open", deadline=timezone.now() + timedelta(days=2))

    assert {i.guid for i in queue_page()} == {"orig", "open"}
    hidden = {item.guid: item for item in hidden_page()}
    assert set(hidden) == {"dup", "excl", "expired"}
    assert hidden["dup"].duplicate_of == original
    assert "paro cardíaco" in hidden["excl"].hidden_message
    assert hidden["expired"].hidden_message
    assert {i.guid for i in hidden_page(reason="expired")} == {"expired"}
    assert {i.guid for i in hidden_page(reason=HiddenReason.EXCLUDED)} == {"excl"}
    assert queue_counts()[ItemState.NEW] == 2


@pytest.mark.parametrize("items", [2, 60])
def test_a_queue_page_takes_three_queries_whatever_it_holds(make_source, django_assert_num_queries, items):
    sources = [make_source(name=f"S{n}") for n in range(3)]
    topic = Topic.objects.get(slug="employment")
    for n in range(items):
        original = make_item(sources[n % 3], f"i{n}", score=n % 7, topic=topic)
        make_item(sources[(n + 1) % 3], f"d{n}", hidden_reason=HiddenReason.DUPLICATE, duplicate_of=original)

    with django_assert_num_queries(3):  # count, items with source and topic, "also in" sources
        page = queue_page(per_page=50)
        rendered = [(i.title, i.source.name, i.topic.name, [s.name for s in i.also_in]) for i in page]

    assert len(rendered) == min(items, 50)
    assert all(len(also_in) == 1 for *_, also_in in rendered)


def test_pages_follow_each_other(make_source):
    source = make_source()
    for n in range(7):
        make_item(source, f"i{n}", score=n)
    first, second = queue_page(per_page=5), queue_page(per_page=5, page=2)
    assert first.paginator.count == 7
    assert [i.guid for i in first] + [i.guid for i in second] == [f"i{n}" for n in range(6, -1, -1)]
    assert [i.guid for i in queue_page(per_page=5, page="nonsense")] == [i.guid for i in first]


def test_item_get_and_the_post_draft(make_source):
    first, second = make_source(name="LABORA"), make_source(name="SEPE")
    topic = Topic.objects.get(slug="job-fairs")
    item = make_item(
        first,
        "a",
        topic=topic,
        title="Fira d'ocupació",
        url="https://e.org/a?utm_source=x",
        canonical_url="https://e.org/a",
    )
    make_item(second, "b", hidden_reason=HiddenReason.DUPLICATE, duplicate_of=item)

    loaded = item_get(item_id=item.pk)
    draft = item_post_draft(item=loaded)

    assert [s.name for s in loaded.also_in] == ["SEPE"]
    assert draft.link == "https://e.org/a"
    assert draft.hashtags == ["#FeriaDeEmpleo", "#FiraOcupació"]
    assert draft.text == "Fira d'ocupació https://e.org/a #FeriaDeEmpleo #FiraOcupació"


def test_source_health_shows_problems_first_with_items_per_week(make_source, django_assert_num_queries):
    now = timezone.now()
    healthy, failing, silent = (
        make_source(name="A sano"),
        make_source(name="B roto"),
        make_source(name="C mudo"),
    )
    Source.objects.filter(pk=healthy.pk).update(
        last_status=FetchStatus.OK, last_success_at=now, last_new_item_at=now
    )
    Source.objects.filter(pk=failing.pk).update(
        last_status=FetchStatus.ERROR,
        last_error_kind=FetchErrorKind.TIMEOUT,
        last_error_detail="x took too long",
    )
    Source.objects.filter(pk=silent.pk).update(
        last_status=FetchStatus.NOT_MODIFIED,
        last_success_at=now,
        last_new_item_at=now - timedelta(days=40),
        created_at=now - timedelta(days=90),
    )
    for n in range(3):
        make_item(healthy, f"h{n}")
    make_item(healthy, "old", first_seen_at=now - timedelta(days=8))

    with django_assert_num_queries(2):
        rows = source_health(now=now)

    assert [row.source.name for row in rows] == ["B roto", "C mudo", "A sano"]
    by_name = {row.source.name: row for row in rows}
    assert by_name["A sano"].items_last_week == 3 and not by_name["A sano"].needs_attention
    assert by_name["B roto"].is_failing and by_name["B roto"].source.error_message
    assert by_name["C mudo"].is_silent


@pytest.mark.postgres
def test_the_queue_reads_its_index_with_100000_items(make_source):
    source = make_source()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO curation_item (source_id, guid, guid_hash, url, canonical_url, url_hash, content_hash,
                title, summary_html, excerpt, first_seen_at, place, score, score_reasons, rank, state,
                hidden_reason, hidden_detail)
            SELECT %s, n::text, md5(n::text), '', '', '', '', 'Item ' || n, '', '', now(), '', n %% 9, '[]',
                (n %% 9) + n / 1000.0, (ARRAY['new','new','new','shortlisted','discarded'])[1 + n %% 5],
                CASE WHEN n %% 10 = 0 THEN 'duplicate' ELSE '' END, ''
            FROM generate_series(1, 100000) AS n
            """,
            [source.pk],
        )
        cursor.execute("ANALYZE curation_item")
    queryset = queue_page(per_page=50).object_list
    plan = queryset.explain()
    assert "curation_item_queue" in plan
    assert "Seq Scan on curation_item" not in plan
    assert len(list(queryset)) == 50


def test_lists_count_up_to_a_cap_and_then_say_more_than(make_source, monkeypatch, django_assert_num_queries):
    source = make_source()
    for n in range(7):
        make_item(source, f"new-{n}", score=n)
    make_item(source, "kept", state=ItemState.SHORTLISTED)
    for n in range(4):
        make_item(source, f"dup-{n}", hidden_reason=HiddenReason.DUPLICATE)
    monkeypatch.setattr("curation.selectors.COUNT_CAP", 5)

    with django_assert_num_queries(1):
        counts = queue_counts()
    page = queue_page(per_page=2, page=2)
    hidden = hidden_page(per_page=2)

    assert counts == {"new": 6, "shortlisted": 1, "used": 0, "discarded": 0}  # 6: more than 5
    assert (page.paginator.count, page.paginator.capped, page.paginator.num_pages) == (6, True, 3)
    assert [item.guid for item in page] == ["new-4", "new-3"]  # best first, page 2
    assert (hidden.paginator.count, hidden.paginator.capped) == (4, False)
