"""Finding a site's feeds from its home page."""

import pytest

from lib.feed_discovery import DiscoveryError, FeedCandidate, decode_html, discover_feeds, feeds_in_html
from lib.safe_fetch import FetchError
from tests.lib.conftest import LOOPBACK, send

UA = "SocialDesk-test/1.0 (+https://example.org/contacto)"

HOME = """<!doctype html>
<html lang="es"><head>
<meta charset="utf-8">
<title>Labora — Servicio Valenciano de Empleo</title>
<link rel="stylesheet" href="/style.css">
<link rel="alternate" type="application/rss+xml" title="Noticias" href="/noticias/feed/">
<LINK REL="Alternate" TYPE="application/atom+xml" TITLE="Ofertas" HREF="ofertas.atom">
<link rel="alternate" type="application/feed+json" title="JSON" href="https://cdn.example.org/feed.json">
<link rel="alternate" type="application/rss+xml" title="Duplicada" href="/noticias/feed/#top">
<link rel="alternate" hreflang="ca" href="/va/">
<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
<link rel="alternate" type="application/rss+xml" href="">
<link rel="alternate" type="text/html" href="/mobile/">
<link rel="canonical" type="application/rss+xml" href="/not-alternate.xml">
</head><body><a href="/rss.xml">RSS</a></body></html>"""


def test_alternate_links_of_feed_types_are_found_resolved_and_deduplicated():
    found = feeds_in_html(HOME, "https://labora.example.es/inicio/index.html")
    assert found == [
        FeedCandidate("https://labora.example.es/noticias/feed/", "Noticias", "rss"),
        FeedCandidate("https://labora.example.es/inicio/ofertas.atom", "Ofertas", "atom"),
        FeedCandidate("https://cdn.example.org/feed.json", "JSON", "json"),
    ]


def test_base_href_changes_where_relative_links_point():
    html = '<head><base href="https://static.example.es/site/"><link rel="alternate home" type="application/rss+xml; charset=utf-8" href="rss.xml"></head>'
    assert feeds_in_html(html, "https://example.es/") == [
        FeedCandidate("https://static.example.es/site/rss.xml", "", "rss")
    ]


def test_a_page_without_feeds_has_no_candidates():
    assert (
        feeds_in_html("<html><head><title>x</title></head><body><p>hola</p></body></html>", "https://e.es/")
        == []
    )


@pytest.mark.parametrize(
    "garbage",
    ["", "<<<>>>", "<link rel=alternate type=application/rss+xml href=", "\x00\x01<link", "<html>" * 10000],
)
def test_broken_markup_does_not_raise(garbage):
    assert isinstance(feeds_in_html(garbage, "https://e.es/"), list)


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("Ocupació".encode("latin-1"), "text/html; charset=ISO-8859-1", "Ocupació"),
        ('<meta charset="windows-1252">Formación'.encode("cp1252"), "text/html", "Formación"),
        ("\ufeffOrientación".encode(), "text/html", "Orientación"),
        ("Empleo ñ".encode(), "text/html; charset=no-such-charset", "Empleo ñ"),
    ],
)
def test_the_page_is_decoded_with_its_declared_charset(body, content_type, expected):
    assert decode_html(body, content_type).endswith(expected)


def test_discovery_fetches_the_page_and_follows_redirects(loopback_server):
    loopback_server.routes["/"] = lambda h: send(h, 301, headers={"Location": "/es/"})
    loopback_server.routes["/es/"] = lambda h: send(
        h, 200, HOME.encode(), {"Content-Type": "text/html; charset=utf-8"}
    )
    found = discover_feeds(loopback_server.url("/"), user_agent=UA, allow_private=LOOPBACK)
    assert found[0] == FeedCandidate(loopback_server.url("/noticias/feed/"), "Noticias", "rss")
    assert found[1].url == loopback_server.url("/es/ofertas.atom")
    assert loopback_server.seen[0].headers["user-agent"] == UA


@pytest.mark.parametrize(
    ("content_type", "body", "kind"),
    [
        ("application/rss+xml", b"<?xml version='1.0'?><rss version='2.0'><channel/></rss>", "rss"),
        ("text/xml; charset=utf-8", b"<?xml version='1.0'?><rss version='2.0'><channel/></rss>", "rss"),
        ("application/xml", b"<feed xmlns='http://www.w3.org/2005/Atom'></feed>", "atom"),
        ("application/json", b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', "json"),
    ],
)
def test_an_address_that_is_already_a_feed_is_its_own_candidate(loopback_server, content_type, body, kind):
    loopback_server.routes["/feed"] = lambda h: send(h, 200, body, {"Content-Type": content_type})
    found = discover_feeds(loopback_server.url("/feed"), user_agent=UA, allow_private=LOOPBACK)
    assert found == [FeedCandidate(loopback_server.url("/feed"), "", kind)]


def test_a_plain_json_or_xml_document_is_not_taken_for_a_feed(loopback_server):
    loopback_server.routes["/data"] = lambda h: send(
        h, 200, b'{"a": 1}', {"Content-Type": "application/json"}
    )
    loopback_server.routes["/sitemap"] = lambda h: send(h, 200, b"<urlset/>", {"Content-Type": "text/xml"})
    assert discover_feeds(loopback_server.url("/data"), user_agent=UA, allow_private=LOOPBACK) == []
    assert discover_feeds(loopback_server.url("/sitemap"), user_agent=UA, allow_private=LOOPBACK) == []


def test_an_error_status_is_reported(loopback_server):
    with pytest.raises(DiscoveryError) as caught:
        discover_feeds(loopback_server.url("/missing"), user_agent=UA, allow_private=LOOPBACK)
    assert caught.value.status == 404


def test_discovery_goes_through_the_ssrf_guard():
    with pytest.raises(FetchError) as caught:
        discover_feeds("http://169.254.169.254/", user_agent=UA)
    assert caught.value.kind == "blocked_address"
