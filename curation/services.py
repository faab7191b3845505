"""Every change to sources and items, and the fetch pipeline.

Fetch path for one source (``source_fetch``): safe GET with the stored validators → status handling
(304, 410, 429, errors) → body hash → parse (feed, page rule or listing) → dedupe (GUID, then the
link without tracking parameters, then the content; within the source and across sources) →
sanitize → score → one bulk insert → one UPDATE of the source's fetch state. Per feed the database
is asked a fixed number of questions, however many items it holds.

Politeness: due sources are claimed by ``sources_claim`` in one transaction with
``select_for_update(skip_locked=True)``, at most ``HOST_CONCURRENCY`` per host name counting the
fetches already in flight (a claimed source carries ``claimed_until`` until its fetch ends), so no
server ever has more than two requests from us at a time and no lock or semaphore outside the
database is needed. A worker that dies leaves ``claimed_until`` to expire after ``CLAIM_LEASE``.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from hashlib import blake2b, sha256
from http import HTTPStatus
from operator import itemgetter

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext
from psycopg.types.json import Jsonb

from curation.models import (
    MAX_INTERVAL_MINUTES,
    FetchErrorKind,
    FetchStatus,
    HiddenReason,
    Item,
    ItemState,
    Source,
    SourceKind,
    error_in_plain_words,
    validate_time_zone,
)
from curation.parsing import ListingMap, PageRule, parse_csv_listing, parse_json_listing, parse_page
from curation.scoring import Score, current_scorer, freshness_from, rank_for
from lib.feeds import FeedEntry, FeedError, ParsedFeed, parse_feed
from lib.messages import Message
from lib.safe_fetch import FetchError, FetchResult, safe_get
from lib.sanitize import html_to_text, sanitize_html
from lib.text import fold
from lib.urls import canonical_url, key_of_canonical
from socialdesk.audit import audit_record
from socialdesk.models.audit import AuditAction

logger = logging.getLogger(__name__)

HOST_CONCURRENCY = 2
# Longer than a fetch can take (timeout + parsing) plus the wait in the queue on a busy worker.
CLAIM_LEASE = timedelta(minutes=15)
CLAIM_BATCH = 500  # sources claimed per beat tick at most; the rest wait for the next tick
HINT_CAP = timedelta(minutes=MAX_INTERVAL_MINUTES)  # Retry-After, cache headers and <ttl>: at most 24 h
BACKOFF_FIRST = timedelta(hours=1)
BACKOFF_CAP = timedelta(hours=24)
JITTER_FRACTION = 0.1  # up to 10 % later, so sources added together drift apart
EXCERPT_CHARS = 300
WARNINGS_KEPT = 5  # of the last read's, shown on the sources page with the total
CONTENT_HASH_CHARS = 1_000
MIN_CONTENT_HASH_CHARS = 80  # shorter texts ("Oferta de empleo") are too common to identify an item
# The excerpt, the content hash and the score read only the start of an item's text (its lead):
# this much HTML holds about that much text, and whole full-text articles are not stripped of tags.
TEXT_HTML_CHARS = 2_500


def user_agent_for(source: Source) -> str:
    """The source's own User-Agent, or an honest one naming the organisation and its contact page."""
    if source.user_agent.strip():
        return source.user_agent.strip()
    return f"SocialDesk/1.0 (+{settings.SOCIALDESK_CONTACT_URL}; {settings.SOCIALDESK_ORGANISATION_NAME})"


def _digest(text: str | bytes) -> str:
    data = text.encode("utf-8", errors="replace") if isinstance(text, str) else text
    return blake2b(data, digest_size=16).hexdigest()


def _body_digest(body: bytes) -> str:
    """What tells an unchanged body, cut to the 32 hex digits the column holds. SHA-256 rather than
    BLAKE2 for whole feeds of megabytes: on CPUs with SHA instructions (this one's) it takes less
    than half the time (0.04 s against 0.10 s for 45 MB)."""
    return sha256(body).hexdigest()[:32]


def _jitter(delay: timedelta) -> timedelta:
    return delay * (1 + random.random() * JITTER_FRACTION)  # noqa: S311 (spreading load, not security)


# --- Sources ------------------------------------------------------------------------------------


def source_url_normalize(url: str) -> str:
    """The form a source address is stored in (also used by OPML import to find existing sources)."""
    return (url or "").strip()


def source_create(*, name: str, url: str, kind: str = SourceKind.FEED, **fields) -> Source:
    """A new source, due for its first fetch now. Raises ValidationError for invalid fields."""
    source = Source(name=name.strip(), url=source_url_normalize(url), kind=kind, **fields)
    source.next_fetch_at = timezone.now()
    source.full_clean()
    source.save()
    return source


# Changing any of these makes the stored validators and hash meaningless.
_REFETCH_FIELDS = frozenset(
    {
        "url",
        "kind",
        "selector_syntax",
        "item_selector",
        "title_selector",
        "link_selector",
        "date_selector",
        "summary_selector",
        "date_format",
        "items_path",
        "guid_field",
        "title_field",
        "link_field",
        "summary_field",
        "published_field",
        "deadline_field",
        "place_field",
        "time_zone",
        "user_agent",
    }
)


def source_update(*, source: Source, **fields) -> Source:
    """Change a source's settings. A new address or rule is fetched afresh at the next beat."""
    if "url" in fields:
        fields["url"] = source_url_normalize(fields["url"])
    changed = {name for name, value in fields.items() if getattr(source, name) != value}
    for name, value in fields.items():
        setattr(source, name, value)
    if changed & _REFETCH_FIELDS:
        source.etag = source.last_modified = source.body_hash = ""
        source.next_fetch_at = timezone.now()
    source.full_clean()
    source.save()
    return source


def source_mute(*, source: Source, reason: str) -> Source:
    Source.objects.filter(pk=source.pk).update(
        muted=True, muted_reason=reason[:300], muted_at=timezone.now(), updated_at=timezone.now()
    )
    source.refresh_from_db()
    return source


def source_unmute(*, source: Source) -> Source:
    """Listen to the source again, from the next beat, with a clean error count."""
    now = timezone.now()
    Source.objects.filter(pk=source.pk).update(
        muted=False, muted_reason="", muted_at=None, consecutive_errors=0, next_fetch_at=now, updated_at=now
    )
    source.refresh_from_db()
    return source


def source_fetch_soon(*, source: Source) -> Source:
    """Make the source due now (the "fetch now" button); the beat picks it up within seconds."""
    Source.objects.filter(pk=source.pk).update(next_fetch_at=timezone.now())
    source.refresh_from_db()
    return source


@transaction.atomic
def source_delete(*, source: Source, actor=None, request=None) -> None:
    """Delete a source and its items (audited); an item of another source hidden as a duplicate of
    one of them takes its place in the queue instead of staying hidden for ever."""
    audit_record(
        action=AuditAction.DELETED, actor=actor, target=source, details={"url": source.url}, request=request
    )
    orphans = (
        Item.objects.filter(duplicate_of__source=source)
        .exclude(source=source)
        .order_by("duplicate_of_id", "first_seen_at", "id")
        .values_list("id", "duplicate_of_id")
    )
    promoted: dict[int, int] = {}
    for item_id, original_id in orphans:
        promoted.setdefault(original_id, item_id)
    for original_id, new_original_id in promoted.items():
        Item.objects.filter(duplicate_of_id=original_id).exclude(source=source).exclude(
            pk=new_original_id
        ).update(duplicate_of_id=new_original_id)
    Item.objects.filter(pk__in=promoted.values()).update(
        duplicate_of=None, hidden_reason=HiddenReason.VISIBLE
    )
    source.delete()


# --- Claiming -----------------------------------------------------------------------------------


def _claimable(now: datetime):
    return Source.objects.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))


def sources_claim(
    *,
    now: datetime | None = None,
    source_ids: Iterable[int] | None = None,
    due_only: bool = True,
    include_muted: bool = False,
    limit: int = CLAIM_BATCH,
) -> list[int]:
    """Mark sources as being fetched and return their ids, at most HOST_CONCURRENCY per host
    counting fetches already in flight. Two claimers never get the same source."""
    now = now or timezone.now()
    candidates = _claimable(now)
    if source_ids is not None:
        candidates = candidates.filter(pk__in=list(source_ids))
    if due_only:
        candidates = candidates.filter(next_fetch_at__lte=now)
    if not include_muted:
        candidates = candidates.filter(muted=False)
    in_flight = dict(
        Source.objects.filter(claimed_until__gt=now)
        .values("host")
        .annotate(n=Count("id"))
        .values_list("host", "n")
    )
    ranked = (
        candidates.annotate(
            host_rank=Window(
                RowNumber(), partition_by=F("host"), order_by=[F("next_fetch_at").asc(), F("id").asc()]
            )
        )
        .filter(host_rank__lte=HOST_CONCURRENCY)
        .order_by("next_fetch_at", "id")
        .values_list("id", "host", "host_rank")[: limit + len(in_flight) * HOST_CONCURRENCY]
    )
    # The slice above leaves room for the rows of busy hosts that are dropped here.
    wanted = [
        source_id for source_id, host, rank in ranked if rank + in_flight.get(host, 0) <= HOST_CONCURRENCY
    ]
    wanted = wanted[:limit]
    if not wanted:
        return []
    with transaction.atomic():
        locked = list(
            candidates.filter(pk__in=wanted).select_for_update(skip_locked=True).values_list("id", flat=True)
        )
        Source.objects.filter(pk__in=locked).update(claimed_until=now + CLAIM_LEASE)
    return sorted(locked)


def sources_dispatch_due(*, now: datetime | None = None) -> list[int]:
    """Claim the due sources and queue one fetch task per source once the claim is committed."""
    from curation.tasks import fetch_source  # the tasks module imports this one

    with transaction.atomic():
        claimed = sources_claim(now=now)
        for source_id in claimed:
            transaction.on_commit(lambda source_id=source_id: fetch_source.delay(source_id))
    return claimed


def source_fetch_claimed(*, source_id: int) -> FetchReport | None:
    """Fetch a claimed source (the worker's task and ``manage.py fetch_sources`` both come here).
    None when the source was deleted meanwhile."""
    source = _source_by_id(source_id)
    return source_fetch(source=source) if source is not None else None


@cache
def _source_select() -> tuple[str, list[str], list[tuple[int, list, object]]]:
    """The SELECT of one source by id, its columns' attribute names, and the converters the backend
    applies to some of them (SQLite's datetimes), by column position."""
    quote = connection.ops.quote_name
    fields = Source._meta.concrete_fields
    table = Source._meta.db_table
    converters = []
    for position, model_field in enumerate(fields):
        column = model_field.get_col(table)
        found = connection.ops.get_db_converters(column) + model_field.get_db_converters(connection)
        if found:
            converters.append((position, found, column))
    columns = ", ".join(quote(model_field.column) for model_field in fields)
    statement = f"SELECT {columns} FROM {quote(table)} WHERE {quote(Source._meta.pk.column)} = %s"  # noqa: S608 (names only)
    return statement, [model_field.attname for model_field in fields], converters


def _source_by_id(source_id: int) -> Source | None:
    """One source, read in SQL and built with ``Model.from_db`` as a queryset would: the ORM (and
    even a raw queryset) takes several times longer to build this query than the database to run it,
    and it comes before every fetch."""
    statement, attnames, converters = _source_select()
    with connection.cursor() as cursor:
        cursor.execute(statement, [source_id])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for position, functions, column in converters:
        for convert in functions:
            values[position] = convert(values[position], column, connection)
    return Source.from_db(connection.alias, attnames, values)


# --- Fetching -----------------------------------------------------------------------------------


@dataclass
class FetchReport:
    source_id: int
    status: str  # a FetchStatus
    new_items: int = 0
    error_kind: str = ""  # a FetchErrorKind
    error_detail: str = ""
    parser: str = ""
    warning_count: int = 0  # of what was read: items skipped, dates not understood
    warnings: list[str] = field(default_factory=list)  # the first WARNINGS_KEPT, in English


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def retry_after(headers: Mapping[str, str], now: datetime) -> timedelta | None:
    """How long ``Retry-After`` asks us to wait (seconds or an HTTP date), if it does."""
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return timedelta(seconds=int(value))
    when = _http_date(value)
    return when - now if when and when > now else None


_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.I)


def cache_lifetime(headers: Mapping[str, str], now: datetime) -> timedelta | None:
    """How long the response says it stays fresh: Cache-Control max-age, else Expires."""
    cache_control = headers.get("cache-control") or ""
    match = _MAX_AGE.search(cache_control)
    if match:
        return timedelta(seconds=int(match.group(1)))
    expires = _http_date(headers.get("expires"))
    if expires is None:
        return None
    date = _http_date(headers.get("date")) or now
    return expires - date if expires > date else None


def next_fetch_delay(
    *, interval: timedelta, headers: Mapping[str, str], now: datetime, ttl_minutes: int | None = None
) -> timedelta:
    """The source's interval, or longer when the server or the feed asks (capped at 24 h), plus jitter."""
    hints = [cache_lifetime(headers, now), retry_after(headers, now)]
    if ttl_minutes:
        hints.append(timedelta(minutes=ttl_minutes))
    longest = max((hint for hint in hints if hint is not None), default=timedelta(0))
    return _jitter(max(interval, min(longest, HINT_CAP)))


def backoff_delay(
    *, errors_in_a_row: int, headers: Mapping[str, str] | None = None, now: datetime
) -> timedelta:
    """1 h after the first error, doubling up to 24 h, never less than Retry-After asks (up to 24 h).
    A failing source is still tried once a day: it never stops silently."""
    doublings = min(max(errors_in_a_row - 1, 0), 10)  # 2**10 h is well past the cap
    delay = min(BACKOFF_FIRST * 2**doublings, BACKOFF_CAP)
    asked = retry_after(headers or {}, now)
    if asked is not None:
        delay = max(delay, min(asked, HINT_CAP))
    return _jitter(delay)


def _http_detail(status: int) -> Message:
    """The status as HTTP writes it ("HTTP 503 Service Unavailable"), the same in every language."""
    try:
        return Message(f"HTTP {status} {HTTPStatus(status).phrase}")
    except ValueError:
        return Message(f"HTTP {status}")


def _failure(
    source: Source, *, now: datetime, kind: str, detail: Message | None, result: FetchResult | None = None
) -> dict:
    """The fetch state after a failure; ``detail`` is kept to be shown in the reader's language."""
    errors = source.consecutive_errors + 1
    headers = result.headers if result is not None else None
    return {
        "last_status": FetchStatus.ERROR,
        "last_error_kind": kind,
        "last_error_detail": str(detail or "")[:500],
        "last_error_message": detail.shortened(500).as_json() if detail is not None else {},
        "last_http_status": result.status if result is not None else None,
        "consecutive_errors": errors,
        "next_fetch_at": now + backoff_delay(errors_in_a_row=errors, headers=headers, now=now),
        "last_new_items": 0,
    }


def _success(
    source: Source, *, now: datetime, status: str, result: FetchResult, ttl: int | None = None
) -> dict:
    return {
        "last_status": status,
        "last_error_kind": "",
        "last_error_detail": "",
        "last_error_message": {},
        "last_http_status": result.status,
        "consecutive_errors": 0,
        "last_success_at": now,
        "next_fetch_at": now
        + next_fetch_delay(interval=source.interval, headers=result.headers, now=now, ttl_minutes=ttl),
        "etag": (result.headers.get("etag") or "")[:500],
        "last_modified": (result.headers.get("last-modified") or "")[:100],
        "last_new_items": 0,
    }


def parse_source_body(
    *, kind: str, body: bytes, url: str, headers: Mapping[str, str], tz, rule: PageRule, mapping: ListingMap
) -> ParsedFeed:
    """The entries of a fetched body, read the way the source's kind says. Raises FeedError only."""
    content_type = headers.get("content-type") or ""
    if kind == SourceKind.PAGE:
        return parse_page(body, url=url, rule=rule, content_type=content_type, tz=tz)
    if kind == SourceKind.JSON_LISTING:
        return parse_json_listing(body, url=url, mapping=mapping, content_type=content_type, tz=tz)
    if kind == SourceKind.CSV_LISTING:
        return parse_csv_listing(body, url=url, mapping=mapping, content_type=content_type, tz=tz)
    return parse_feed(body, url=url, headers=headers, tz=tz)


def _read(source: Source, result: FetchResult, now: datetime) -> tuple[dict, ParsedFeed | None]:
    """What the answer means for the source's state, and the entries when there are new ones."""
    if result.status == 304:
        fields = _success(source, now=now, status=FetchStatus.NOT_MODIFIED, result=result)
        # A 304 need not repeat the validators; keep the ones we have.
        fields["etag"] = fields["etag"] or source.etag
        fields["last_modified"] = fields["last_modified"] or source.last_modified
        return fields, None
    if result.status == 410:
        fields = _failure(source, now=now, kind=FetchErrorKind.GONE, detail=_http_detail(410), result=result)
        fields.update(muted=True, muted_reason=str(_http_detail(410)), muted_at=now)
        return fields, None
    if result.status in (429, 503) and result.headers.get("retry-after"):
        return _failure(
            source,
            now=now,
            kind=FetchErrorKind.RATE_LIMITED,
            detail=_http_detail(result.status),
            result=result,
        ), None
    if not 200 <= result.status < 300:
        return _failure(
            source, now=now, kind=FetchErrorKind.HTTP_ERROR, detail=_http_detail(result.status), result=result
        ), None
    body_hash = _body_digest(result.body)
    if body_hash == source.body_hash:
        return _success(source, now=now, status=FetchStatus.UNCHANGED, result=result), None
    try:
        parsed = parse_source_body(
            kind=source.kind,
            body=result.body,
            url=result.url,
            headers=result.headers,
            tz=source.tzinfo,
            rule=source.page_rule(),
            mapping=source.listing_map(),
        )
    except FeedError as exc:
        return _failure(source, now=now, kind=exc.kind, detail=exc.message, result=result), None
    fields = _success(source, now=now, status=FetchStatus.OK, result=result, ttl=parsed.ttl_minutes)
    fields["body_hash"] = body_hash
    fields["last_warnings"] = _warnings_kept(parsed.warnings)
    if not source.site_url and parsed.site_url and len(parsed.site_url) <= 2000:
        fields["site_url"] = parsed.site_url
    return fields, parsed


def _warnings_kept(warnings: list[Message]) -> dict:
    """How many warnings the read gave, and the first WARNINGS_KEPT of them, for the sources page."""
    if not warnings:
        return {}
    return {"count": len(warnings), "first": [warning.as_json() for warning in warnings[:WARNINGS_KEPT]]}


def _save_fetch_state(source: Source, fields: dict) -> None:
    """One UPDATE of the source's fetch state. Written in SQL because it follows every fetch, and
    the ORM takes longer to build it than the database takes to run it."""
    quote = connection.ops.quote_name
    assignments, values = [], []
    for name, value in fields.items():
        model_field = Source._meta.get_field(name)
        assignments.append(f"{quote(model_field.column)} = %s")
        values.append(model_field.get_db_prep_save(value, connection))
    table, where = quote(Source._meta.db_table), quote(Source._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {', '.join(assignments)} WHERE {where} = %s",  # noqa: S608 (field names only)
            [*values, source.pk],
        )
    for name, value in fields.items():
        setattr(source, name, value)


def source_fetch(*, source: Source, now: datetime | None = None) -> FetchReport:
    """Fetch, read and store one source, end to end, and release its claim.

    Never raises for anything the source sends: the error is stored on the source, in plain
    words, and the worker carries on with the next one.
    """
    now = now or timezone.now()
    started = time.perf_counter()
    parsed: ParsedFeed | None = None
    try:
        result = safe_get(
            source.url,
            user_agent=user_agent_for(source),
            etag=source.etag or None,
            last_modified=source.last_modified or None,
            timeout=settings.SOCIALDESK_FETCH_TIMEOUT_SECONDS,
            max_bytes=settings.SOCIALDESK_FETCH_MAX_BYTES,
            allow_private=settings.SOCIALDESK_FETCH_ALLOW_PRIVATE,
        )
    except FetchError as exc:
        fields = _failure(source, now=now, kind=exc.kind, detail=exc.message)
    else:
        fields, parsed = _read(source, result, now)
    try:
        # New items are stored together with the state that says they were seen, or not at all;
        # without any, the state is one UPDATE that needs no transaction of its own.
        with transaction.atomic() if parsed is not None else nullcontext():
            if parsed is not None:
                new_items = items_store(source=source, entries=parsed.entries, now=now)
                fields["last_new_items"] = new_items
                if new_items:
                    fields["last_new_item_at"] = now
            fields.update(
                last_fetch_at=now,
                claimed_until=None,
                last_duration_ms=int((time.perf_counter() - started) * 1000),
            )
            _save_fetch_state(source, fields)
    except Exception:
        # A bug of ours must not stop the other sources, and must not go unseen on this one.
        logger.exception("Storing what source %s returned failed", source.pk)
        fields = _failure(source, now=now, kind=FetchErrorKind.INTERNAL, detail=None)
        fields.update(last_fetch_at=now, claimed_until=None)
        _save_fetch_state(source, fields)
    return FetchReport(
        source_id=source.pk,
        status=source.last_status,
        new_items=source.last_new_items,
        error_kind=source.last_error_kind,
        error_detail=source.last_error_detail,
        parser=parsed.parser if parsed is not None else "",
        warning_count=len(parsed.warnings) if parsed is not None else 0,
        warnings=[str(warning) for warning in parsed.warnings[:WARNINGS_KEPT]] if parsed is not None else [],
    )


# --- Storing items ------------------------------------------------------------------------------


@dataclass
class _Candidate:
    entry: FeedEntry
    guid: str
    guid_hash: str
    canonical_url: str = ""
    link_key: str = ""
    url_hash: str = ""
    content_hash: str = ""
    summary_html: str = ""
    text: str = ""
    extra: dict = field(default_factory=dict)


def _guid_of(entry: FeedEntry) -> str:
    return entry.guid or entry.link or _digest(f"{entry.title}\n{entry.summary_html}")


def items_store(*, source: Source, entries: list[FeedEntry], now: datetime) -> int:
    """Store the entries not seen before; returns how many were added (duplicates included, hidden).

    Queries, whatever the number of entries: one for the GUIDs already stored, one for matching
    links or contents across sources, and the bulk insert (plus the scorer's occasional check
    for changed topics). Entries already stored are recognised by their GUID before anything else
    is done with them: only new ones are sanitized and scored.
    """
    candidates: dict[str, _Candidate] = {}
    for entry in entries:
        guid = _guid_of(entry)[:1000]
        guid_hash = _digest(guid)
        if guid_hash not in candidates:
            candidates[guid_hash] = _Candidate(entry=entry, guid=guid, guid_hash=guid_hash)
    if not candidates:
        return 0
    known = _known_guid_hashes(source.pk, list(candidates))
    fresh = [candidate for guid_hash, candidate in candidates.items() if guid_hash not in known]
    if not fresh:
        return 0
    _prepare(fresh, candidates.values(), source_url=source.url)
    originals = _originals_by_hash(
        url_hashes={candidate.url_hash for candidate in fresh if candidate.url_hash},
        content_hashes={candidate.content_hash for candidate in fresh if candidate.content_hash},
    )
    scorer = current_scorer()
    rows, reasons_json = [], []
    for candidate in fresh:
        original_id = originals.get(("url", candidate.url_hash)) or originals.get(
            ("content", candidate.content_hash)
        )
        score = scorer.score(candidate.entry.title, candidate.text)
        rows.append(_row(source, candidate, score, original_id, now))
        reasons_json.append(score.reasons_json)
    _insert_items(rows, reasons_json)
    return len(rows)


def _prepare(fresh: list[_Candidate], every: Iterable[_Candidate], *, source_url: str) -> None:
    """Sanitize the new entries and work out what identifies them (link and content hashes).

    A link or a text shared by several entries of the same feed (a listing whose offers all point
    to one page, identical short texts) does not identify an item, so it is not used for dedupe.
    """
    link_keys: Counter[str] = Counter()
    for candidate in every:
        candidate.canonical_url = canonical_url(candidate.entry.link)
        candidate.link_key = key_of_canonical(candidate.canonical_url)
        link_keys[candidate.link_key] += 1
    content_counts: Counter[str] = Counter()
    for candidate in fresh:
        entry = candidate.entry
        candidate.summary_html = sanitize_html(entry.summary_html, base_url=entry.link or source_url)
        candidate.text = html_to_text(candidate.summary_html, limit=TEXT_HTML_CHARS)
        if candidate.link_key and link_keys[candidate.link_key] == 1:
            candidate.url_hash = _digest(candidate.link_key)
        body = fold(candidate.text[:CONTENT_HASH_CHARS])
        if len(body) >= MIN_CONTENT_HASH_CHARS:
            candidate.content_hash = _digest(f"{fold(entry.title)}\n{body}")
            content_counts[candidate.content_hash] += 1
    for candidate in fresh:
        if content_counts[candidate.content_hash] > 1:
            candidate.content_hash = ""


def _row(source: Source, candidate: _Candidate, score: Score, original_id: int | None, now: datetime) -> dict:
    """The new item's fields, hidden as a duplicate of ``original_id`` or for an excluded word."""
    entry = candidate.entry
    if original_id is not None:
        hidden, detail = HiddenReason.DUPLICATE, ""
    elif score.excluded_by:
        hidden, detail = HiddenReason.EXCLUDED, score.excluded_by[:200]
    else:
        hidden, detail = HiddenReason.VISIBLE, ""
    freshness = freshness_from(published_at=entry.published_at, first_seen_at=now)
    return {
        "source_id": source.pk,
        "guid": candidate.guid,
        "guid_hash": candidate.guid_hash,
        "url": _bounded(entry.link),
        "canonical_url": _bounded(candidate.canonical_url),
        "url_hash": candidate.url_hash,
        "content_hash": candidate.content_hash,
        "title": entry.title[:500] or entry.link[:500] or "—",
        "summary_html": candidate.summary_html,
        "excerpt": candidate.text[:EXCERPT_CHARS],
        "published_at": entry.published_at,
        "first_seen_at": now,
        "deadline": entry.deadline,
        "place": entry.place[:200],
        "topic_id": score.topic_id,
        "score": score.points,
        "score_reasons": score.reasons,
        "rank": rank_for(score=score.points, when=freshness),
        "state": ItemState.NEW,
        "state_changed_at": None,
        "state_changed_by_id": None,
        "hidden_reason": hidden,
        "hidden_detail": detail,
        "duplicate_of_id": original_id,
    }


def _insert_items(rows: list[dict], reasons_json: list[str]) -> None:
    """Insert new items in bulk (``reasons_json``: each row's ``score_reasons`` already serialized).

    On PostgreSQL through a binary COPY: Django's bulk_create spends several times more CPU per
    row (compiling thousands of placeholders, escaping each HTML summary into an array literal)
    than parsing and sanitizing the item did. Elsewhere, or when a concurrent fetch of the same source
    (an expired claim) stored some of the items first, bulk_create skips the ones already there.
    """
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():
                _copy_items(rows, reasons_json)
        except IntegrityError:
            pass
        else:
            return
    Item.objects.bulk_create([Item(**row) for row in rows], batch_size=250, ignore_conflicts=True)


# Columns of the COPY: every field but the id, score_reasons last (it is sent as the JSON text the
# scorer already made, see _copy_items).
_COPY_FIELDS = [
    *(
        field
        for field in Item._meta.concrete_fields
        if not field.primary_key and field.name != "score_reasons"
    ),
    Item._meta.get_field("score_reasons"),
]
_copy_values = itemgetter(*(field.attname for field in _COPY_FIELDS[:-1]))


def _as_is(text: str) -> str:
    """The ``dumps`` for JSON text made already: psycopg sends what it returns."""
    return text


@cache
def _copy_statement() -> tuple[str, list[str]]:
    """The COPY statement for new items, and the PostgreSQL type of each of its columns."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _COPY_FIELDS)
    # Binary COPY: text goes over as it is, with no escaping of the HTML.
    types = [field.db_type(connection).split("(")[0] for field in _COPY_FIELDS]
    return f"COPY {quote(Item._meta.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)", types


def _copy_items(rows: list[dict], reasons_json: list[str]) -> None:
    statement, types = _copy_statement()
    # The raw psycopg cursor: its errors are turned into Django's (IntegrityError) by hand.
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(statement) as copy,
    ):
        copy.set_types(types)
        for row, reasons in zip(rows, reasons_json, strict=True):
            copy.write_row((*_copy_values(row), Jsonb(reasons, dumps=_as_is)))


def _bounded(url: str) -> str:
    return url if len(url) <= 2000 else ""  # longer than the column: better no link than a broken one


def _one_of(column: str, values: Iterable[str]) -> tuple[str, list]:
    """SQL saying ``column`` is one of ``values``, and its parameters. On PostgreSQL the list is one
    array parameter, so the statement is the same for every feed and the driver prepares it once."""
    values = list(values)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def _known_guid_hashes(source_id: int, guid_hashes: list[str]) -> set[str]:
    """Which of the GUID hashes the source has stored already. In SQL, like ``_originals_by_hash``:
    the ORM would prepare each hash of the list in Python, for every fetch."""
    table = connection.ops.quote_name(Item._meta.db_table)
    condition, parameters = _one_of("guid_hash", guid_hashes)
    query = f"SELECT guid_hash FROM {table} WHERE source_id = %s AND {condition}"  # noqa: S608 (names and placeholders only)
    with connection.cursor() as cursor:
        cursor.execute(query, [source_id, *parameters])
        return {guid_hash for (guid_hash,) in cursor.fetchall()}


def _originals_by_hash(*, url_hashes: set[str], content_hashes: set[str]) -> dict[tuple[str, str], int]:
    """For each link or content hash already stored (in any source), the id of the first item.

    Written in SQL: the ORM would spend more time preparing each of the hashes than the database
    takes to find them. On PostgreSQL each list of hashes is one array parameter, so the statement
    is the same for every feed and the driver prepares its text once.
    """
    conditions: list[str] = []
    parameters: list = []
    for column, hashes in (("url_hash", url_hashes), ("content_hash", content_hashes)):
        if not hashes:
            continue
        # "<> ''" restates the condition of the column's partial index, which the planner cannot
        # work out by itself from a list of more than a hundred hashes.
        condition, values = _one_of(column, hashes)
        conditions.append(f"({condition} AND {column} <> '')")
        parameters.extend(values)
    if not conditions:
        return {}
    table = connection.ops.quote_name(Item._meta.db_table)
    where = " OR ".join(conditions)
    query = f"SELECT id, duplicate_of_id, url_hash, content_hash FROM {table} WHERE {where} ORDER BY id"  # noqa: S608 (names and placeholders only)
    with connection.cursor() as cursor:
        cursor.execute(query, parameters)
        rows = cursor.fetchall()
    originals: dict[tuple[str, str], int] = {}
    for item_id, duplicate_of_id, url_hash, content_hash in rows:
        original = duplicate_of_id or item_id
        if url_hash in url_hashes:
            originals.setdefault(("url", url_hash), original)
        if content_hash in content_hashes:
            originals.setdefault(("content", content_hash), original)
    return originals


# --- Testing a rule -----------------------------------------------------------------------------


@dataclass
class RuleTestResult:
    """What a page rule or listing mapping would extract, for the "test this rule" button."""

    entries: list[FeedEntry] = field(default_factory=list)
    error: str = ""  # plain words in the active language; "" when the rule works
    warnings: list[str] = field(default_factory=list)  # the same, for items skipped or read in part


RULE_TEST_SHOWN = 20


def source_rule_test(
    *,
    url: str,
    kind: str,
    rule: PageRule | None = None,
    mapping: ListingMap | None = None,
    time_zone: str = "Europe/Madrid",
    user_agent: str = "",
) -> RuleTestResult:
    """Fetch ``url`` now and show what the (unsaved) rule or mapping finds there; stores nothing."""
    try:
        validate_time_zone(time_zone)
    except ValidationError as exc:
        return RuleTestResult(error=" ".join(exc.messages))
    probe = Source(url=source_url_normalize(url), kind=kind, user_agent=user_agent, time_zone=time_zone)
    try:
        result = safe_get(
            probe.url,
            user_agent=user_agent_for(probe),
            timeout=settings.SOCIALDESK_FETCH_TIMEOUT_SECONDS,
            max_bytes=settings.SOCIALDESK_FETCH_MAX_BYTES,
            allow_private=settings.SOCIALDESK_FETCH_ALLOW_PRIVATE,
        )
    except FetchError as exc:
        return RuleTestResult(error=error_in_plain_words(FetchErrorKind(exc.kind), exc.message))
    if not 200 <= result.status < 300:
        return RuleTestResult(
            error=error_in_plain_words(FetchErrorKind.HTTP_ERROR, _http_detail(result.status))
        )
    try:
        parsed = parse_source_body(
            kind=kind,
            body=result.body,
            url=result.url,
            headers=result.headers,
            tz=probe.tzinfo,
            rule=rule or PageRule(syntax="css", item=""),
            mapping=mapping or ListingMap(title=""),
        )
    except FeedError as exc:
        return RuleTestResult(error=error_in_plain_words(FetchErrorKind(exc.kind), exc.message))
    return RuleTestResult(
        entries=parsed.entries[:RULE_TEST_SHOWN],
        warnings=[warning.translated(gettext) for warning in parsed.warnings[:RULE_TEST_SHOWN]],
    )


# --- Items --------------------------------------------------------------------------------------


def items_set_state(*, item_ids: Iterable[int], state: str, actor=None) -> int:
    """Move items to ``state`` (the bulk actions of the queue); returns how many changed."""
    if state not in ItemState.values:
        raise ValueError(f"unknown item state {state!r}")
    now = timezone.now()
    return (
        Item.objects.filter(pk__in=list(item_ids))
        .exclude(state=state)
        .update(
            state=state,
            state_changed_at=now,
            state_changed_by=actor if actor and actor.is_authenticated else None,
        )
    )


def _item_to(item: Item, state: str, actor) -> Item:
    items_set_state(item_ids=[item.pk], state=state, actor=actor)
    item.refresh_from_db(fields=["state", "state_changed_at", "state_changed_by"])
    return item


def item_shortlist(*, item: Item, actor=None) -> Item:
    return _item_to(item, ItemState.SHORTLISTED, actor)


def item_discard(*, item: Item, actor=None) -> Item:
    return _item_to(item, ItemState.DISCARDED, actor)


def item_mark_used(*, item: Item, actor=None) -> Item:
    """The item became a post (compose from item calls this)."""
    return _item_to(item, ItemState.USED, actor)


def item_restore(*, item: Item, actor=None) -> Item:
    """Back to the queue as new (undo of a shortlist or discard)."""
    return _item_to(item, ItemState.NEW, actor)


def items_shortlist(*, item_ids: Iterable[int], actor=None) -> int:
    return items_set_state(item_ids=item_ids, state=ItemState.SHORTLISTED, actor=actor)


def items_discard(*, item_ids: Iterable[int], actor=None) -> int:
    return items_set_state(item_ids=item_ids, state=ItemState.DISCARDED, actor=actor)


def items_mark_used(*, item_ids: Iterable[int], actor=None) -> int:
    return items_set_state(item_ids=item_ids, state=ItemState.USED, actor=actor)
