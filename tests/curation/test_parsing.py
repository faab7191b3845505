"""Pages read with CSS or XPath rules, and the organisation's JSON and CSV listings."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation.parsing import ListingMap, PageRule, parse_csv_listing, parse_json_listing, parse_page
from lib.feeds import FeedError

MADRID = ZoneInfo("Europe/Madrid")
PAGE_URL = "https://ajuntament.example.es/ocupacio/noticies/index.html"

PAGE = """<!doctype html><html><head><meta charset="iso-8859-1"><title>Notícies d'ocupació</title></head>
<body><main>
<article class="news"><h2><a href="detall/1.html">Fira d'ocupació 2026</a></h2>
  <span class="date">3 de març de 2026</span><div class="intro"><p>Vine a la <b>fira</b>!</p></div></article>
<article class="news"><h2><a href="/cursos/2">Curso de carretillero</a></h2>
  <span class="date">12 d'abril</span><div class="intro">Plazas limitadas</div></article>
<article class="news"><h2><a href="https://other.example.org/3">Jornada</a></h2>
  <time class="date" datetime="2026-05-01T09:30:00+02:00">1 de maig</time></article>
<article class="news"></article>
</main></body></html>""".encode("iso-8859-1")

CSS_RULE = PageRule(
    syntax="css", item="article.news", title="h2", link="h2 a", date=".date", summary=".intro"
)
XPATH_RULE = PageRule(
    syntax="xpath",
    item="//article[@class='news']",
    title=".//h2",
    link=".//h2/a/@href",
    date=".//*[@class='date']",
    summary=".//div[@class='intro']",
)


@pytest.mark.parametrize("rule", [CSS_RULE, XPATH_RULE], ids=["css", "xpath"])
def test_a_page_rule_extracts_items_with_resolved_links_and_local_dates(rule):
    parsed = parse_page(PAGE, url=PAGE_URL, rule=rule, content_type="text/html", tz=MADRID)

    first, second, third = parsed.entries
    assert parsed.parser == "page"
    assert parsed.title == "Notícies d'ocupació"
    assert first.title == "Fira d'ocupació 2026"
    assert first.link == "https://ajuntament.example.es/ocupacio/noticies/detall/1.html"
    assert first.published_at == datetime(2026, 3, 3, tzinfo=MADRID)
    assert first.summary_html == "<p>Vine a la <b>fira</b>!</p>"
    assert second.link == "https://ajuntament.example.es/cursos/2"
    assert second.published_at.month == 4 and second.published_at.day == 12
    assert third.published_at == datetime(2026, 5, 1, 9, 30, tzinfo=ZoneInfo("Europe/Madrid"))
    assert [str(warning) for warning in parsed.warnings] == ["An item without title or link was skipped."]


def test_without_a_link_selector_the_first_link_of_the_item_is_used():
    rule = PageRule(syntax="css", item="article.news", title="h2")
    entries = parse_page(PAGE, url=PAGE_URL, rule=rule, tz=MADRID).entries
    assert entries[0].link.endswith("/detall/1.html")


def test_a_base_href_changes_where_relative_links_point():
    page = b'<html><head><base href="https://cdn.example.es/"></head><body><li><a href="a">A</a></li></body></html>'
    entries = parse_page(page, url=PAGE_URL, rule=PageRule(syntax="css", item="li"), tz=MADRID).entries
    assert entries[0].link == "https://cdn.example.es/a"


def test_a_custom_date_format():
    page = "<ul><li><a href='/x'>X</a><i>03·març·2026</i></li></ul>".encode()
    rule = PageRule(syntax="css", item="li", date="i", date_format="%d·%B·%Y")
    assert parse_page(page, url=PAGE_URL, rule=rule, tz=MADRID).entries[0].published_at == datetime(
        2026, 3, 3, tzinfo=MADRID
    )


def test_an_unreadable_date_is_a_warning_not_an_error():
    page = b"<ul><li><a href='/x'>X</a><i>pronto</i></li></ul>"
    parsed = parse_page(page, url=PAGE_URL, rule=PageRule(syntax="css", item="li", date="i"), tz=MADRID)
    assert parsed.entries[0].published_at is None
    assert [str(warning) for warning in parsed.warnings] == ["The date “pronto” could not be read."]


@pytest.mark.parametrize(
    ("rule", "kind"),
    [
        (PageRule(syntax="css", item="article..news"), "bad_rule"),
        (PageRule(syntax="xpath", item="//article[@class="), "bad_rule"),
        (PageRule(syntax="css", item="article.news", title="h2[["), "bad_rule"),
        (PageRule(syntax="css", item=""), "bad_rule"),
        (PageRule(syntax="regex", item="x"), "bad_rule"),
        (PageRule(syntax="xpath", item="//article/@class"), "bad_rule"),
        (PageRule(syntax="css", item="section.nothing"), "rule_found_nothing"),
    ],
)
def test_rules_that_cannot_work_say_why(rule, kind):
    with pytest.raises(FeedError) as caught:
        parse_page(PAGE, url=PAGE_URL, rule=rule, tz=MADRID)
    assert caught.value.kind == kind


OFFERS_JSON = b"""{"data": {"offers": [
 {"id": 101, "puesto": "Auxiliar administrativo/a", "url": "/ofertas/101", "plazo": "2026-03-20",
  "lugar": {"municipio": "Val\\u00e8ncia"}, "descripcion": "Jornada <completa>", "publicada": "1 de marzo de 2026"},
 {"id": 102, "puesto": "Monitor/a de comedor", "plazo": "20/04/2026 14:00", "lugar": {"municipio": "Alzira"}},
 {"puesto": ""}, "not a record"
]}}"""
JSON_MAP = ListingMap(
    title="puesto",
    items_path="data.offers",
    guid="id",
    link="url",
    summary="descripcion",
    published="publicada",
    deadline="plazo",
    place="lugar.municipio",
)


def test_a_json_listing_maps_records_to_items_with_deadline_and_place():
    parsed = parse_json_listing(
        OFFERS_JSON, url="https://org.example.es/api/ofertas.json", mapping=JSON_MAP, tz=MADRID
    )

    first, second = parsed.entries
    assert first.guid == "101"
    assert first.link == "https://org.example.es/ofertas/101"
    assert first.place == "València"
    assert first.deadline == datetime(2026, 3, 20, 23, 59, 59, tzinfo=MADRID)  # a day runs to its end
    assert first.published_at == datetime(2026, 3, 1, tzinfo=MADRID)
    assert first.summary_html == "<p>Jornada &lt;completa&gt;</p>"
    assert second.deadline == datetime(2026, 4, 20, 14, 0, tzinfo=MADRID)
    assert second.link == ""


OFFERS_CSV = """id;titulo;enlace;fecha_limite;localidad
c1;Curso de soldadura;https://org.example.es/cursos/c1;15 de marzo de 2026;Gandia
c2;Curs de valencià;https://org.example.es/cursos/c2;1 d'abril de 2026;Xàtiva
""".encode("cp1252")
CSV_MAP = ListingMap(title="titulo", guid="id", link="enlace", deadline="fecha_limite", place="localidad")


def test_a_csv_listing_with_semicolons_and_a_legacy_encoding():
    parsed = parse_csv_listing(
        OFFERS_CSV, url="https://org.example.es/cursos.csv", mapping=CSV_MAP, tz=MADRID
    )
    assert [(entry.guid, entry.title, entry.place) for entry in parsed.entries] == [
        ("c1", "Curso de soldadura", "Gandia"),
        ("c2", "Curs de valencià", "Xàtiva"),
    ]
    assert parsed.entries[1].deadline == datetime(2026, 4, 1, 23, 59, 59, tzinfo=MADRID)
    assert parsed.warnings == []


def test_a_listing_says_which_records_it_skipped_and_which_dates_it_could_not_read():
    body = b"""[
        {"id": 1, "titulo": "Auxiliar", "plazo": "31 de febrerito", "alta": "ayer"},
        {"id": 2, "titulo": ""},
        "not a record",
        {"id": 3, "titulo": "Conserje", "plazo": "20/04/2026"}
    ]"""
    mapping = ListingMap(title="titulo", guid="id", deadline="plazo", published="alta")

    parsed = parse_json_listing(body, url="https://org.example.es/o.json", mapping=mapping, tz=MADRID)

    assert [entry.guid for entry in parsed.entries] == ["1", "3"]
    assert parsed.entries[0].deadline is None
    assert [str(warning) for warning in parsed.warnings] == [
        "The date “ayer” could not be read.",
        "The deadline “31 de febrerito” could not be read.",
        "A record without a title was skipped.",
        "A record that is not a set of fields was skipped.",
    ]


@pytest.mark.parametrize(
    ("body", "mapping", "parse"),
    [
        (b"{not json", JSON_MAP, parse_json_listing),
        (b'{"data": {"offers": "nope"}}', JSON_MAP, parse_json_listing),
        (b"[" * 100_000, ListingMap(title="t"), parse_json_listing),
        (b"[]", ListingMap(title=""), parse_json_listing),
        (b"a,b\n1,2\n", ListingMap(title="titulo"), parse_csv_listing),
    ],
)
def test_listings_that_do_not_fit_their_mapping_are_listing_errors(body, mapping, parse):
    with pytest.raises(FeedError) as caught:
        parse(body, url="https://org.example.es/x", mapping=mapping, tz=MADRID)
    assert caught.value.kind == "bad_listing"


FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parses_or_refuses(call) -> bool:
    """Garbage either parses into well-formed entries (True) or is refused with a FeedError (False):
    nothing else."""
    try:
        parsed = call()
    except FeedError as exc:
        assert exc.kind in FeedError.KINDS
        return False
    for entry in parsed.entries:
        assert isinstance(entry.title, str)
        assert entry.link == "" or entry.link.startswith(("http://", "https://"))
        assert entry.published_at is None or entry.published_at.tzinfo is not None
    return True


@FUZZ
@given(st.binary(max_size=3000))
def test_fuzz_pages_and_listings_only_raise_feed_errors(body):
    assert _parses_or_refuses(lambda: parse_page(body, url=PAGE_URL, rule=CSS_RULE, tz=MADRID)) in (
        True,
        False,
    )
    assert _parses_or_refuses(
        lambda: parse_json_listing(body, url=PAGE_URL, mapping=JSON_MAP, tz=MADRID)
    ) in (True, False)
    assert _parses_or_refuses(lambda: parse_csv_listing(body, url=PAGE_URL, mapping=CSV_MAP, tz=MADRID)) in (
        True,
        False,
    )


@FUZZ
@given(st.integers(min_value=0, max_value=len(PAGE)), st.binary(max_size=30))
def test_fuzz_truncated_pages(cut, noise):
    assert _parses_or_refuses(
        lambda: parse_page(PAGE[:cut] + noise, url=PAGE_URL, rule=XPATH_RULE, tz=MADRID)
    ) in (True, False)
