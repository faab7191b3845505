"""Find a site's feeds from its home page: ``<link rel="alternate" type="application/rss+xml">`` and kin.

``feeds_in_html`` reads markup already fetched; ``discover_feeds`` fetches the page through
``safe_get`` first. When the address given is itself a feed, that feed is the one candidate.
Django-free.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

from lib.safe_fetch import FetchResult, safe_get

FEED_TYPES = {
    "application/rss+xml": "rss",
    "application/atom+xml": "atom",
    "application/rdf+xml": "rss",
    "application/feed+json": "json",
    "application/json": "json",  # JSON Feed's first version advertised plain application/json
}
# Only this much of a page is read for links: the <head> is at the top, and a huge page is not
# worth parsing to the end.
HTML_SCAN_CHARS = 512 * 1024
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_FEED_ROOT = re.compile(rb"<(rss|feed|rdf:RDF)[\s>]")


@dataclass(frozen=True)
class FeedCandidate:
    url: str
    title: str
    kind: str  # "rss", "atom" or "json"


class DiscoveryError(Exception):
    """The page could be fetched but not read for feeds (an HTTP error status)."""

    def __init__(self, status: int, url: str):
        super().__init__(f"{url} answered with HTTP status {status}.")
        self.status = status
        self.url = url


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base_href: str | None = None
        self.links: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "").strip() for name, value in attrs}
        if tag == "base" and self.base_href is None and values.get("href"):
            self.base_href = values["href"]
        elif tag == "link":
            self.links.append(values)

    handle_startendtag = handle_starttag


def feeds_in_html(html: str, base_url: str) -> list[FeedCandidate]:
    """Feeds advertised by ``<link rel="alternate">`` in ``html``, in page order, without duplicates,
    with relative addresses resolved against ``<base href>`` or ``base_url``."""
    collector = _LinkCollector()
    collector.feed(html[:HTML_SCAN_CHARS])
    collector.close()
    base = urljoin(base_url, collector.base_href) if collector.base_href else base_url
    candidates: dict[str, FeedCandidate] = {}
    for link in collector.links:
        kind = FEED_TYPES.get(link.get("type", "").split(";")[0].strip().lower())
        rels = link.get("rel", "").lower().split()
        href = link.get("href", "")
        if kind is None or "alternate" not in rels or not href:
            continue
        url = urldefrag(urljoin(base, href)).url
        if urlsplit(url).scheme in ("http", "https") and url not in candidates:
            candidates[url] = FeedCandidate(url=url, title=link.get("title", ""), kind=kind)
    return list(candidates.values())


def decode_html(body: bytes, content_type: str) -> str:
    """Text of an HTML page: charset from the Content-Type header, then a BOM, then <meta>, else UTF-8."""
    charset = _header_charset(content_type)
    if charset is None and body.startswith(b"\xef\xbb\xbf"):
        charset = "utf-8-sig"
    if charset is None and (match := _CHARSET.search(body[:4096])):
        charset = match.group(1).decode("ascii")
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset name Python does not know
        return body.decode("utf-8", errors="replace")


def _header_charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip(" \"'"):
            return value.strip(" \"'")
    return None


def _feed_itself(result: FetchResult) -> FeedCandidate | None:
    """The address already is a feed: someone pasted the feed's own URL."""
    media_type = result.headers.get("content-type", "").split(";")[0].strip().lower()
    head = result.body[:2048]
    if media_type == "application/json":
        kind = "json" if b"jsonfeed.org/version" in head else None
    elif media_type in FEED_TYPES:
        kind = FEED_TYPES[media_type]
    elif media_type in ("text/xml", "application/xml") or media_type.endswith("+xml"):
        root = _FEED_ROOT.search(head)
        kind = None if root is None else ("atom" if root.group(1) == b"feed" else "rss")
    else:
        kind = None
    return None if kind is None else FeedCandidate(url=result.url, title="", kind=kind)


def discover_feeds(
    url: str,
    *,
    user_agent: str,
    timeout: float = 15.0,
    max_bytes: int = 2 * 1024 * 1024,
    allow_private: Sequence[str] = (),
) -> list[FeedCandidate]:
    """Fetch ``url`` safely and list the feeds it offers (FetchError and DiscoveryError propagate)."""
    result = safe_get(
        url,
        user_agent=user_agent,
        timeout=timeout,
        max_bytes=max_bytes,
        allow_private=allow_private,
        extra_headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
    )
    if result.status != 200:
        raise DiscoveryError(result.status, result.url)
    feed = _feed_itself(result)
    if feed is not None:
        return [feed]
    return feeds_in_html(decode_html(result.body, result.headers.get("content-type", "")), result.url)
