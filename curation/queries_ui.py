"""Reads that only the curation pages need (the domain selectors are in curation.selectors)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import QuerySet

from curation.models import FetchErrorKind, OpmlImport, Source, error_in_plain_words
from curation.services import user_agent_for
from lib.feed_discovery import DiscoveryError, FeedCandidate, discover_feeds
from lib.safe_fetch import FetchError

RECENT_IMPORTS = 10


@dataclass(frozen=True)
class DiscoveredFeed:
    candidate: FeedCandidate
    is_source: bool  # already one of our sources


@dataclass
class FeedDiscovery:
    site_url: str
    feeds: list[DiscoveredFeed] = field(default_factory=list)
    error: str = ""  # plain words; "" when the page could be read


def feeds_discover(*, site_url: str) -> FeedDiscovery:
    """Read a site's home page (safely, now) and list the feeds it announces, each saying whether it
    is already a source. Stores nothing."""
    try:
        candidates = discover_feeds(
            site_url,
            user_agent=user_agent_for(Source()),
            timeout=settings.SOCIALDESK_FETCH_TIMEOUT_SECONDS,
            allow_private=settings.SOCIALDESK_FETCH_ALLOW_PRIVATE,
        )
    except FetchError as exc:
        return FeedDiscovery(
            site_url=site_url, error=error_in_plain_words(FetchErrorKind(exc.kind), exc.message)
        )
    except DiscoveryError as exc:
        return FeedDiscovery(
            site_url=site_url, error=f"{FetchErrorKind.HTTP_ERROR.label} (HTTP {exc.status})"
        )
    known = set(Source.objects.filter(url__in=[c.url for c in candidates]).values_list("url", flat=True))
    return FeedDiscovery(
        site_url=site_url,
        feeds=[DiscoveredFeed(candidate=c, is_source=c.url in known) for c in candidates],
    )


def opml_imports_recent(*, limit: int = RECENT_IMPORTS) -> QuerySet:
    return (
        OpmlImport.objects.select_related("created_by")
        .defer("document")
        .order_by("-created_at", "-id")[:limit]
    )


def opml_import_progress(*, import_id: int) -> OpmlImport:
    """One import's progress counters (without the uploaded document). Raises DoesNotExist."""
    return OpmlImport.objects.defer("document").get(pk=import_id)
