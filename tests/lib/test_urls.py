"""Canonical links: tracking parameters and fragments gone, same page recognised."""

from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.urls import _canonical_of_parts, absolute_url, canonical_url, host_of, url_key


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (
            "https://Example.ORG/ofertas?id=7&utm_source=x&utm_medium=rss#top",
            "https://example.org/ofertas?id=7",
        ),
        (
            "https://example.org/a?fbclid=abc&gclid=1&mc_cid=2&mc_eid=3&b=2&a=1",
            "https://example.org/a?a=1&b=2",
        ),
        ("http://example.org:80/x", "http://example.org/x"),
        ("https://example.org:8443/x", "https://example.org:8443/x"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org/?pk_campaign=x&mtm_source=y&_hsenc=z", "https://example.org/"),
        ("https://example.org/?q=", "https://example.org/?q="),
        ("javascript:alert(1)", ""),
        ("mailto:a@example.org", ""),
        ("not a url", ""),
        ("https://[::1", ""),
    ],
)
def test_canonical_url(raw, canonical):
    assert canonical_url(raw) == canonical


def test_url_key_treats_scheme_www_and_trailing_slash_as_the_same_page():
    assert url_key("http://www.example.org/news/1/?utm_campaign=a") == url_key("https://example.org/news/1")
    assert url_key("https://example.org/news/1?id=2") != url_key("https://example.org/news/1?id=3")
    assert url_key("ftp://example.org/x") == ""


def test_absolute_url_resolves_relative_links_and_refuses_other_schemes():
    assert absolute_url("/a/b?c=1", "https://example.org/x/y") == "https://example.org/a/b?c=1"
    assert absolute_url("c", "https://example.org/x/y") == "https://example.org/x/c"
    assert absolute_url("javascript:alert(1)", "https://example.org/") == ""
    assert absolute_url("", "https://example.org/") == ""
    assert absolute_url("/only-path", "") == ""


def test_host_of():
    assert host_of("https://Feeds.Example.org:8080/rss") == "feeds.example.org"
    assert host_of("nonsense") == ""


# Pieces that make addresses of every kind the shortcuts must recognise or leave to the standard
# library: upper case, ports, empty queries and fragments, parameters, spaces, brackets, user parts.
_URL_PIECES = st.sampled_from(
    ["http://", "https://", "HTTP://", "ftp://", "//", "a", "B", ".", "-", ":", "80", "/", "?", "#", ";",
     "=", "&", "%20", " ", "\t", "@", "[", "]", "\\", "é", "..", "x.org", "utm_source=1", "\x00"]
)  # fmt: skip
_URLS = st.lists(_URL_PIECES, max_size=12).map("".join)


def _absolute_url_by_the_standard_library(link: str, base: str) -> str:
    link = link.strip()
    if not link:
        return ""
    try:
        resolved = urljoin(base, link) if base else link
        parts = urlsplit(resolved)
    except ValueError:
        return ""
    return resolved if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


@settings(max_examples=500)
@given(_URLS, st.sampled_from(["", "http://base.example/dir/page", "https://b.example"]))
def test_absolute_url_answers_what_urljoin_answers(link, base):
    # absolute_url skips urljoin for plain absolute links; the answer must not change.
    assert absolute_url(link, base) == _absolute_url_by_the_standard_library(link, base)


@settings(max_examples=500)
@given(_URLS)
def test_canonical_url_shortcut_answers_what_parsing_answers(url):
    assert canonical_url(url) == _canonical_of_parts(url)
