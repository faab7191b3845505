"""Feeds read into plain entries: both parsers, encodings, dates, and hostile input."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import fastfeedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib import feeds
from lib.feeds import MAX_ENTRIES, FeedError, decode_document, parse_date, parse_feed, utf8_document

MADRID = ZoneInfo("Europe/Madrid")
URL = "https://example.org/feeds/news.xml"

RSS = """<?xml version="1.0" encoding="{encoding}"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>Noticias de empleo</title><link>https://example.org/</link><ttl>90</ttl>
<item><title>Curso de formación: &lt;b&gt;soldadura&lt;/b&gt;</title><link>/cursos/1</link>
<guid isPermaLink="false">curso-1</guid><pubDate>Tue, 03 Mar 2026 10:00:00 +0100</pubDate>
<description>Resumen</description><content:encoded><![CDATA[<p>Inscripción <b>abierta</b></p>]]></content:encoded></item>
<item><title>Oferta sin zona</title><link>https://example.org/ofertas/2</link>
<pubDate>2026-03-04 09:30</pubDate><description>&lt;p&gt;Plazo: 10 días&lt;/p&gt;</description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Ocupació</title><link href="https://example.org/va/"/>
<entry><id>tag:example.org,2026:1</id><title>Fira d'ocupació</title><link href="https://example.org/fira"/>
<updated>2026-03-03T10:00:00+01:00</updated><summary type="html">&lt;p&gt;Vine!&lt;/p&gt;</summary></entry>
</feed>"""

JSON_FEED = b"""{"version": "https://jsonfeed.org/version/1.1", "title": "Cursos",
"items": [{"id": "j1", "url": "https://example.org/j1", "title": "Curs de valenci\\u00e0",
"content_html": "<p>Places limitades</p>", "date_published": "2026-03-03T10:00:00+01:00"}]}"""


def _parse(body: bytes, **kwargs):
    return parse_feed(body, url=URL, headers=kwargs.pop("headers", {}), tz=kwargs.pop("tz", MADRID))


def test_rss_entries_are_normalized():
    parsed = _parse(RSS.format(encoding="utf-8").encode())
    first, second = parsed.entries
    assert parsed.parser == "fastfeedparser"
    assert parsed.title == "Noticias de empleo"
    assert parsed.ttl_minutes == 90
    assert first.guid == "curso-1"
    assert first.title == "Curso de formación: soldadura"
    assert first.link == "https://example.org/cursos/1"
    assert first.summary_html == "<p>Inscripción <b>abierta</b></p>"
    assert first.published_at == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    assert second.published_at == datetime(2026, 3, 4, 9, 30, tzinfo=MADRID)  # no zone: the source's
    assert second.summary_html == "<p>Plazo: 10 días</p>"


def test_atom_and_json_feed_are_read():
    atom = _parse(ATOM.encode()).entries[0]
    assert (atom.guid, atom.title, atom.link) == (
        "tag:example.org,2026:1",
        "Fira d'ocupació",
        "https://example.org/fira",
    )
    assert atom.published_at == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    entry = _parse(JSON_FEED, headers={"content-type": "application/feed+json"}).entries[0]
    assert (entry.guid, entry.title, entry.summary_html) == (
        "j1",
        "Curs de valencià",
        "<p>Places limitades</p>",
    )


@pytest.mark.parametrize("document", [RSS.format(encoding="utf-8").encode(), ATOM.encode(), JSON_FEED])
def test_both_paths_produce_the_same_entries(document, monkeypatch):
    fast = _parse(document)

    def reject(*args, **kwargs):
        raise ValueError("rejected for the test")

    monkeypatch.setattr(fastfeedparser, "parse", reject)
    tolerant = _parse(document)

    assert tolerant.parser in ("feedparser", "json_feed")
    assert tolerant.entries == fast.entries
    assert (tolerant.title, tolerant.site_url, tolerant.ttl_minutes) == (
        fast.title,
        fast.site_url,
        fast.ttl_minutes,
    )


def test_broken_xml_goes_to_the_tolerant_parser():
    broken = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>A &amp B</title><link>https://example.org/a</link></item></channel></rss>'
    parsed = _parse(broken.replace(b"<rss", b"<rss &undefined;", 1))
    assert [entry.link for entry in parsed.entries] == ["https://example.org/a"]


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("formación".encode("latin-1"), "text/xml; charset=ISO-8859-1", "formación"),
        (
            '<?xml version="1.0" encoding="windows-1252"?><a>formación €</a>'.encode("cp1252"),
            "",
            "formación €",
        ),
        ("\ufeffformació".encode(), "text/xml; charset=iso-8859-1", "formació"),  # BOM beats the header
        ("formació".encode("utf-16"), "", "formació"),
        ("formación".encode(), "text/xml; charset=iso-8859-1", "formación"),  # a server's wrong default
        ("formación".encode("latin-1"), "text/xml; charset=utf-8", "formación"),  # a lie that cannot decode
        ('<html><head><meta charset="iso-8859-15"></head>€</html>'.encode("iso-8859-15"), "text/html", "€"),
        (b"plain ascii", "", "plain ascii"),
    ],
)
def test_encodings_from_bom_header_prolog_and_meta(body, content_type, expected):
    text, _encoding = decode_document(body, content_type)
    assert expected in text


def test_a_latin1_feed_reaches_the_parsers_as_utf8_with_its_prolog_corrected():
    document = RSS.format(encoding="ISO-8859-1").encode("latin-1")
    converted = utf8_document(document)
    assert converted.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert _parse(document).entries[0].title == "Curso de formación: soldadura"


def test_utf8_feeds_are_passed_on_without_a_copy():
    document = RSS.format(encoding="utf-8").encode()
    assert utf8_document(document, "application/rss+xml") is document


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 de marzo de 2026", datetime(2026, 3, 3, tzinfo=MADRID)),
        ("3 de març de 2026", datetime(2026, 3, 3, tzinfo=MADRID)),
        ("dilluns, 3 de març del 2026 a les 10.30 h", datetime(2026, 3, 3, 10, 30, tzinfo=MADRID)),
        ("12 d'abril", datetime(2026, 4, 12, tzinfo=MADRID)),
        ("1 de gener", datetime(2026, 1, 1, tzinfo=MADRID)),
        ("1º de mayo de 2026", datetime(2026, 5, 1, tzinfo=MADRID)),
        ("Publicado el 5 de NOVIEMBRE de 2025, 9:15", datetime(2025, 11, 5, 9, 15, tzinfo=MADRID)),
        ("03/03/2026 09:15", datetime(2026, 3, 3, 9, 15, tzinfo=MADRID)),
        ("March 3, 2026", datetime(2026, 3, 3, tzinfo=MADRID)),
        ("2026-03-03", datetime(2026, 3, 3, tzinfo=MADRID)),
        ("2026-03-03T10:00:00Z", datetime(2026, 3, 3, 10, tzinfo=UTC)),
        ("Tue, 03 Mar 2026 10:00:00 +0100", datetime(2026, 3, 3, 9, tzinfo=UTC)),
        ("Tue, 03 Mar 2026 10:00:00", datetime(2026, 3, 3, 10, tzinfo=MADRID)),
        ("Tue, 03 Mar 2026 10:00:00 CEST", datetime(2026, 3, 3, 8, tzinfo=UTC)),
        ("31 de febrero de 2026", None),
        ("sin fecha", None),
        ("", None),
    ],
)
def test_dates_in_spanish_valencian_and_feed_formats(text, expected):
    assert parse_date(text, tz=MADRID, now=datetime(2026, 3, 10, tzinfo=MADRID)) == expected


def test_a_year_left_out_is_the_nearest_one():
    now = datetime(2026, 1, 10, tzinfo=MADRID)
    assert parse_date("20 de desembre", tz=MADRID, now=now) == datetime(2025, 12, 20, tzinfo=MADRID)


def test_custom_date_formats_accept_spanish_and_valencian_month_names():
    assert parse_date("3 març 2026", tz=MADRID, date_format="%d %B %Y") == datetime(2026, 3, 3, tzinfo=MADRID)
    assert parse_date("2026|03|03", tz=MADRID, date_format="%Y|%m|%d") == datetime(2026, 3, 3, tzinfo=MADRID)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"", "empty"),
        (b"  \n ", "empty"),
        (b"<!DOCTYPE html><html><body>Inicio</body></html>", "not_a_feed"),
        (b"\x00\xff\xfe\x00 not xml at all", "unreadable"),
        (b'{"json": "but not a feed"}', "unreadable"),
    ],
)
def test_what_is_not_a_feed_is_a_feed_error(body, kind):
    with pytest.raises(FeedError) as caught:
        _parse(body)
    assert caught.value.kind == kind
    assert caught.value.reason


def test_external_entities_are_not_read():
    xxe = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title><item><title>a&x;</title><link>https://example.org/a</link></item></channel></rss>"""
    try:
        entries = _parse(xxe).entries
    except FeedError:
        return
    assert all("root:" not in entry.title for entry in entries)


def test_entity_expansion_bombs_do_not_explode():
    bomb = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]><rss version="2.0"><channel><title>t</title><item><title>&lol9;</title><link>https://example.org/a</link></item></channel></rss>"""
    try:
        entries = _parse(bomb).entries
    except FeedError:
        return
    assert all(len(entry.title) <= 500 for entry in entries)


def test_a_feed_with_too_many_entries_is_read_up_to_the_cap():
    items = "".join(
        f"<item><title>n{i}</title><link>https://example.org/{i}</link></item>"
        for i in range(MAX_ENTRIES + 50)
    )
    parsed = _parse(f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode())
    assert len(parsed.entries) == MAX_ENTRIES


def test_oversized_summaries_are_cut_after_a_tag():
    huge = "<p>" + "palabra " * 20_000 + "</p>" + "<p>fin</p>" * 10
    entry = _parse(
        f'<rss version="2.0"><channel><item><title>t</title><link>https://example.org/a</link><description><![CDATA[{huge}]]></description></item></channel></rss>'.encode()
    ).entries[0]
    assert len(entry.summary_html) <= feeds.MAX_SUMMARY_CHARS


def test_non_text_fields_of_a_hostile_json_feed_are_ignored():
    hostile = b'{"version": "https://jsonfeed.org/version/1.1", "title": ["x"], "items": [{"id": 5, "title": {"a": 1}, "url": 7, "content_html": null}, "nonsense"]}'
    try:
        entries = _parse(hostile).entries
    except FeedError:
        return
    assert all(isinstance(entry.title, str) and isinstance(entry.link, str) for entry in entries)


# --- Fuzzing: whatever the bytes, only FeedError may come out -----------------------------------

VALID = RSS.format(encoding="utf-8").encode()
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _only_feed_errors(body: bytes, content_type: str = "") -> bool:
    """True when the bytes parsed into well-formed entries, False when refused with a FeedError;
    any other exception fails the test."""
    try:
        parsed = parse_feed(body, url=URL, headers={"content-type": content_type}, tz=MADRID)
    except FeedError as exc:
        assert exc.kind in FeedError.KINDS
        return False
    for entry in parsed.entries:
        assert isinstance(entry.title, str) and isinstance(entry.summary_html, str)
        assert entry.link == "" or entry.link.startswith(("http://", "https://"))
        assert entry.published_at is None or entry.published_at.tzinfo is not None
    return True


@FUZZ
@given(
    st.binary(max_size=2000),
    st.sampled_from(["", "application/rss+xml", "text/html; charset=utf-8", "text/xml; charset=bogus"]),
)
def test_fuzz_random_bytes(body, content_type):
    assert _only_feed_errors(body, content_type) in (True, False)


@FUZZ
@given(
    st.integers(min_value=0, max_value=len(VALID)),
    st.binary(max_size=40),
    st.integers(min_value=0, max_value=len(VALID)),
)
def test_fuzz_truncated_and_corrupted_feeds(cut, noise, position):
    assert _only_feed_errors(VALID[:position] + noise + VALID[position:cut]) in (True, False)


XML_PIECES = st.sampled_from(
    [
        "<rss version='2.0'>", "<channel>", "<item>", "</item>", "<title>", "</title>", "<link>", "</link>",
        "<guid>", "<pubDate>", "</pubDate>", "<![CDATA[", "]]>", "&amp;", "&#0;", "&#x110000;", "&nope;",
        "<?xml version='1.0' encoding='utf-16'?>", "<feed xmlns='http://www.w3.org/2005/Atom'>", "<entry>",
        '{"version": "https://jsonfeed.org/version/1", "items": [', "]}", "<!DOCTYPE x [<!ENTITY a 'b'>]>",
        "https://example.org/", "javascript:alert(1)", "2026-13-45T99:99:99", "Tue, 32 Foo 2026", "\x00", "\ufeff",
    ]
)  # fmt: skip


@FUZZ
@given(st.lists(st.one_of(XML_PIECES, st.text(max_size=20)), max_size=40))
def test_fuzz_feed_shaped_garbage(pieces):
    assert _only_feed_errors("".join(pieces).encode("utf-8", errors="surrogatepass")) in (True, False)
