"""Dedupe by GUID, then link without tracking parameters, then content; within and across sources."""

from datetime import UTC, datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from curation import services
from curation.models import HiddenReason, Item
from curation.selectors import queue_page
from curation.services import items_store
from lib.feeds import FeedEntry

NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
TEXT = (
    "<p>El Ayuntamiento abre el plazo de inscripción para el curso de formación en atención al cliente.</p>"
)


def entry(
    guid: str, link: str = "", title: str = "Curso de atención al cliente", summary: str = TEXT
) -> FeedEntry:
    return FeedEntry(guid=guid, link=link, title=title, summary_html=summary, published_at=NOW)


def test_the_same_guid_is_stored_once_within_a_feed_and_across_fetches(make_source):
    source = make_source()
    assert (
        items_store(
            source=source, entries=[entry("a", "https://e.org/a"), entry("a", "https://e.org/a")], now=NOW
        )
        == 1
    )
    assert items_store(source=source, entries=[entry("a", "https://e.org/a")], now=NOW) == 0
    assert Item.objects.count() == 1


def test_the_same_link_from_three_sources_shows_once_with_also_in(make_source):
    first, second, third = make_source(name="LABORA"), make_source(name="SEPE"), make_source(name="DOGV")
    items_store(source=first, entries=[entry("1", "https://gva.es/ofertas/9?utm_source=labora")], now=NOW)
    items_store(
        source=second,
        entries=[entry("x", "http://www.gva.es/ofertas/9/?fbclid=abc", title="Otro título")],
        now=NOW,
    )
    items_store(source=third, entries=[entry("y", "https://gva.es/ofertas/9#inicio", summary="")], now=NOW)

    original = Item.objects.get(source=first)
    duplicates = Item.objects.exclude(pk=original.pk)
    assert all(
        d.duplicate_of_id == original.pk and d.hidden_reason == HiddenReason.DUPLICATE for d in duplicates
    )
    page = queue_page(now=timezone.now())
    assert [item.pk for item in page] == [original.pk]
    assert sorted(source.name for source in page[0].also_in) == ["DOGV", "SEPE"]


def test_the_same_content_under_different_links_is_a_duplicate(make_source):
    first, second = make_source(), make_source()
    items_store(source=first, entries=[entry("1", "https://a.example.org/n/1")], now=NOW)
    items_store(
        source=second,
        entries=[entry("2", "https://b.example.org/news?id=77", title="CURSO DE ATENCIÓN AL CLIENTE")],
        now=NOW,
    )
    assert Item.objects.get(source=second).duplicate_of == Item.objects.get(source=first)


def test_a_duplicate_of_a_duplicate_points_at_the_first_item(make_source):
    a, b, c = make_source(), make_source(), make_source()
    items_store(source=a, entries=[entry("1", "https://a.example.org/1")], now=NOW)
    items_store(source=b, entries=[entry("2", "https://b.example.org/2")], now=NOW)  # same content as a
    items_store(
        source=c,
        entries=[entry("3", "https://b.example.org/2", summary="<p>Otro texto distinto.</p>")],
        now=NOW,
    )
    original = Item.objects.get(source=a)
    assert Item.objects.get(source=c).duplicate_of == original


def test_a_new_guid_for_a_known_link_in_the_same_source_stays_hidden(make_source):
    source = make_source()
    items_store(source=source, entries=[entry("old-guid", "https://e.org/a")], now=NOW)
    items_store(source=source, entries=[entry("new-guid", "https://e.org/a")], now=NOW)
    visible = Item.objects.filter(hidden_reason="")
    assert visible.count() == 1
    assert queue_page(now=timezone.now())[0].also_in == []


def test_entries_sharing_one_link_in_a_listing_are_not_duplicates_of_each_other(make_source):
    listing = make_source(kind="json_listing", title_field="t")
    entries = [
        entry(
            f"offer-{n}", "https://org.example.es/ofertas", title=f"Oferta {n}", summary=f"<p>Texto {n}</p>"
        )
        for n in range(3)
    ]
    assert items_store(source=listing, entries=entries, now=NOW) == 3
    assert Item.objects.filter(hidden_reason="").count() == 3
    assert all(item.url_hash == "" for item in Item.objects.all())


def test_short_common_texts_do_not_make_duplicates(make_source):
    a, b = make_source(), make_source()
    items_store(
        source=a,
        entries=[entry("1", "https://a.example.org/1", title="Oferta", summary="<p>Ver</p>")],
        now=NOW,
    )
    items_store(
        source=b,
        entries=[entry("2", "https://b.example.org/2", title="Oferta", summary="<p>Ver</p>")],
        now=NOW,
    )
    assert Item.objects.filter(hidden_reason="").count() == 2


def test_storing_a_feed_asks_a_fixed_number_of_questions_whatever_its_size(make_source):
    a, b = make_source(), make_source()
    items_store(
        source=a,
        entries=[entry(f"a{n}", f"https://e.org/{n}", summary=f"<p>{n}</p>") for n in range(5)],
        now=NOW,
    )
    many = [entry(f"b{n}", f"https://e.org/{n}", title=f"T{n}", summary=f"<p>{n}</p>") for n in range(300)]

    with CaptureQueriesContext(connection) as captured:
        items_store(source=b, entries=many, now=NOW)

    statements = [query["sql"].split()[0] for query in captured.captured_queries]
    # known GUIDs, matching links/contents, the scorer's version check (2); then only bulk inserts
    assert statements.count("SELECT") == 4
    assert set(statements) <= {"SELECT", "INSERT", "SAVEPOINT", "RELEASE"}
    assert Item.objects.filter(source=b, duplicate_of__isnull=False).count() == 5


def test_items_stored_meanwhile_by_a_concurrent_fetch_are_skipped_not_fatal(make_source, monkeypatch):
    source = make_source()
    items_store(source=source, entries=[entry("a", "https://e.org/a")], now=NOW)
    # The other fetch stored "a" after this one looked for known GUIDs.
    monkeypatch.setattr(services, "_known_guid_hashes", lambda source_id, guid_hashes: set())
    added = items_store(
        source=source,
        entries=[entry("a", "https://e.org/a"), entry("b", "https://e.org/b", summary="<p>Otro</p>")],
        now=NOW,
    )
    monkeypatch.undo()
    assert added == 2  # both were attempted; the database kept one copy of "a"
    assert sorted(Item.objects.values_list("guid", flat=True)) == ["a", "b"]
