"""Canonical links: tracking parameters and fragments gone, same page recognised."""

import pytest

from lib.urls import absolute_url, canonical_url, host_of, url_key


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
