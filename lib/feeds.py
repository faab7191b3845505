"""Feeds (RSS 0.9x/1.0/2.0, Atom, JSON Feed) turned into plain entries. Imports no Django.

Two parsers, one result. fastfeedparser (a compiled core over lxml) reads the great majority of
feeds in a fraction of the time; what it rejects goes to feedparser, slower but tolerant of broken
XML and odd encodings (feedparser 6 reads no JSON, so a rejected JSON Feed goes to a small reader of
our own instead). All read the same bytes, already transcoded to UTF-8 by ``utf8_document``, and all
produce the same ``FeedEntry``. No parser sanitizes: the caller does, with nh3.

Anything that goes wrong while reading hostile or broken input comes out as ``FeedError``, with a
``kind`` the desk translates for people and a ``reason`` in plain English.

Dates written without a time zone are taken in the source's time zone. fastfeedparser reads such
dates as UTC and does not return the original text, so the document's date elements are scanned
once for zone-less values and the entries carrying them are moved to the source's zone.
"""

from __future__ import annotations

import codecs
import html as html_lib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from email.utils import parsedate_tz

import fastfeedparser
import feedparser

from lib.messages import Message, Value, gettext_noop
from lib.text import fold
from lib.urls import absolute_url

MAX_ENTRIES = 500  # a feed offering more is read up to here; real feeds carry 10–100
MAX_TITLE_CHARS = 500
MAX_SUMMARY_CHARS = 50_000  # raw HTML kept per entry before sanitizing; full-text feeds run long
TTL_CAP_MINUTES = 24 * 60


class FeedError(Exception):
    """Input that cannot be read as entries. ``kind`` is one of KINDS; ``message`` says why in any
    language (``lib.messages``), ``reason`` in English, for logs."""

    KINDS = frozenset({"empty", "not_a_feed", "unreadable", "bad_rule", "rule_found_nothing", "bad_listing"})

    def __init__(self, kind: str, text: str, **values: Value):
        if kind not in self.KINDS:
            raise ValueError(f"unknown feed error kind {kind!r}")
        self.kind = kind
        self.message = Message(text, values)
        self.reason = str(self.message)
        super().__init__(self.reason)


@dataclass(slots=True)
class FeedEntry:
    """One item as every source kind delivers it, before dedupe, sanitizing and scoring."""

    guid: str
    link: str  # absolute http(s) address, or ""
    title: str  # plain text
    summary_html: str  # raw, unsanitized
    published_at: datetime | None = None  # aware
    deadline: datetime | None = None  # aware; listings only
    place: str = ""  # listings only


@dataclass
class ParsedFeed:
    entries: list[FeedEntry]
    parser: str  # which reader produced the entries: fastfeedparser, feedparser, page, json, csv
    title: str = ""
    site_url: str = ""
    ttl_minutes: int | None = None  # the feed's own <ttl>, capped at 24 h
    warnings: list[Message] = field(default_factory=list)  # items skipped or read in part


# --- Encodings ----------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CHARSET_PARAMETER = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.I)
_XML_PROLOG = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([\w.:-]+)["']""", re.I)
_XML_PROLOG_TEXT = re.compile(r"""^(\s*<\?xml[^>]{0,200}?encoding\s*=\s*["'])([\w.:-]+)(["'])""", re.I)
_HTML_META = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?([\w.:-]+)""", re.I)
# Single-byte encodings that servers declare by default whatever the file holds; WHATWG reads
# latin-1 and ascii labels as windows-1252.
_SINGLE_BYTE = {"latin-1", "iso8859-1", "ascii", "cp1252", "iso8859-15"}
_WHATWG_ALIASES = {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252"}


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip()).name
    except LookupError:
        return None
    return _WHATWG_ALIASES.get(name, name)


def _charset_from_header(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _CHARSET_PARAMETER.search(content_type)
    return _codec(match.group(1)) if match else None


def _bom(body: bytes) -> tuple[str, int] | None:
    for mark, name in _BOMS:
        if body.startswith(mark):
            return name, len(mark)
    return None


def _prolog_charset(body: bytes) -> str | None:
    head = body[:512]
    if head.startswith(b"<\x00?\x00"):
        return "utf-16-le"
    if head.startswith(b"\x00<\x00?"):
        return "utf-16-be"
    match = _XML_PROLOG.match(head)
    return _codec(match.group(1).decode("ascii")) if match else None


def _meta_charset(body: bytes) -> str | None:
    match = _HTML_META.search(body[:4096])
    return _codec(match.group(1).decode("ascii")) if match else None


def decode_document(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """``(text, encoding)`` of a fetched document.

    A byte-order mark decides first: it cannot be there by accident. Then the declarations in the
    order the issue lists them — HTTP header, XML prolog, HTML ``<meta>`` — and the first one whose
    codec actually decodes the bytes wins. One exception: bytes that are valid UTF-8 and not plain
    ASCII are read as UTF-8 even when a single-byte charset is declared, because servers declare
    ISO-8859-1 by default for files that are really UTF-8 (the reverse cannot happen by chance:
    Spanish text in ISO-8859-1 is never valid UTF-8). Without any usable declaration: UTF-8, then
    windows-1252, which decodes anything.
    """
    bom = _bom(body)
    if bom is not None:
        name, length = bom
        return body[length:].decode(name, errors="replace"), name
    declared = [
        name
        for name in (_charset_from_header(content_type), _prolog_charset(body), _meta_charset(body))
        if name is not None
    ]
    if body.isascii() and (not declared or declared[0] in _SINGLE_BYTE or declared[0] == "utf-8"):
        return body.decode("ascii"), declared[0] if declared else "utf-8"
    utf8_text: str | None
    try:
        utf8_text = body.decode("utf-8")
    except UnicodeDecodeError:
        utf8_text = None
    for name in declared:
        if name in _SINGLE_BYTE and utf8_text is not None:
            return utf8_text, "utf-8"
        if name == "utf-8":
            if utf8_text is not None:
                return utf8_text, "utf-8"
            continue
        try:
            return body.decode(name), name
        except (UnicodeDecodeError, LookupError):
            continue
    if utf8_text is not None:
        return utf8_text, "utf-8"
    return body.decode("cp1252", errors="replace"), "cp1252"


def utf8_document(body: bytes, content_type: str | None = None) -> bytes:
    """The document as UTF-8 bytes whose XML prolog (if any) says so, for the XML parsers.

    Most feeds are UTF-8 already and come back unchanged, without a copy.
    """
    prolog = _prolog_charset(body)
    if _bom(body) is None and prolog in (None, "utf-8"):
        header = _charset_from_header(content_type)
        if body.isascii():
            return body
        if header in (None, "utf-8") or header in _SINGLE_BYTE:
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                return body
    text, _encoding = decode_document(body, content_type)
    text = _XML_PROLOG_TEXT.sub(r"\g<1>utf-8\g<3>", text, count=1)
    return text.encode("utf-8", errors="replace")


# --- Dates --------------------------------------------------------------------------------------

MONTHS = {
    # Spanish
    "enero": 1, "ene": 1, "febrero": 2, "feb": 2, "marzo": 3, "mar": 3, "abril": 4, "abr": 4,
    "mayo": 5, "may": 5, "junio": 6, "jun": 6, "julio": 7, "jul": 7, "agosto": 8, "ago": 8,
    "septiembre": 9, "setiembre": 9, "sep": 9, "sept": 9, "set": 9, "octubre": 10, "oct": 10,
    "noviembre": 11, "nov": 11, "diciembre": 12, "dic": 12,
    # Valencian (folded: març → marc)
    "gener": 1, "gen": 1, "febrer": 2, "febr": 2, "marc": 3, "maig": 5, "juny": 6, "juliol": 7,
    "agost": 8, "ag": 8, "setembre": 9, "novembre": 11, "desembre": 12, "des": 12,
    # English
    "january": 1, "jan": 1, "february": 2, "march": 3, "april": 4, "apr": 4, "june": 6, "july": 7,
    "august": 8, "aug": 8, "september": 9, "october": 10, "november": 11, "december": 12, "dec": 12,
}  # fmt: skip
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY_MONTH_YEAR = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:r|o|er)?(?:\s*(?:de|d')\s*|\s+|\s*[-/.]\s*)({_MONTH_NAMES})\b\.?"
    rf"(?:(?:\s*(?:de|del|,)\s*|\s+|\s*[-/.]\s*)(\d{{4}}))?"
)
_MONTH_DAY_YEAR = re.compile(rf"\b({_MONTH_NAMES})\b\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})")
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?!\d)")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_TIME = re.compile(r"(?<!\d)(\d{1,2})\s*[:h.]\s*(\d{2})(?!\d)")
_DIRECTIVE = re.compile(r"(%.)")
_MONTH_WORD = re.compile(rf"(?<![a-z])({_MONTH_NAMES})(?![a-z])\.?")
# A zone written after a time: Z, +01:00, +0100, +01, GMT, CET, GMT+1 …
_HAS_ZONE = re.compile(
    r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?|[A-Za-z]{1,5}(?:[+-]\d{1,4})?)\s*$"
)
_MIN_YEAR, _MAX_YEAR = 1990, 2100
# Zone names the standard library does not know (it reads them as UTC), in seconds east of UTC.
_EUROPEAN_ZONES = {"CET": 3600, "CEST": 7200, "WET": 0, "WEST": 3600, "EET": 7200, "EEST": 10800}


def has_time_zone(text: str) -> bool:
    return bool(_HAS_ZONE.search(text.strip()))


def _aware(value: datetime, tz: tzinfo) -> datetime | None:
    if not _MIN_YEAR <= value.year <= _MAX_YEAR:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=tz)
    return value


def _guess_year(month: int, day: int, now: datetime) -> int | None:
    """A date written without the year is the one nearest to today (within half a year)."""
    for year in (now.year, now.year - 1, now.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if abs((candidate - now.date()).days) <= 183:
            return year
    try:
        date(now.year, month, day)
    except ValueError:
        return None
    return now.year


def _with_time(text: str, start: int, year: int, month: int, day: int, tz: tzinfo) -> datetime | None:
    hour = minute = 0
    time_match = _TIME.search(text, start, start + 24)
    if time_match:
        hour, minute = int(time_match.group(1)), int(time_match.group(2))
        if hour > 23 or minute > 59:
            hour = minute = 0
    try:
        return _aware(datetime(year, month, day, hour, minute), tz)  # noqa: DTZ001 (zone added by _aware)
    except ValueError:
        return None


def parse_date(
    text: str, *, tz: tzinfo, date_format: str = "", now: datetime | None = None
) -> datetime | None:
    """An aware datetime from how feeds and Spanish or Valencian pages write dates, or None.

    Understands ISO 8601, RFC 822, "3 de marzo de 2026", "3 de març del 2026", "12 d'abril"
    (year guessed), "March 3, 2026", "03/03/2026" (day first) and a time after the date ("10:30",
    "10.30 h"). ``date_format`` (strptime, where %B and %b also accept Spanish and Valencian month
    names) is tried first. A value without a zone is taken in ``tz``.
    """
    text = (text or "").strip()
    if not text or len(text) > 200:
        return None
    if date_format:
        parsed = _parse_with_format(text, date_format, tz)
        if parsed is not None:
            return parsed
    iso = text.replace("Z", "+00:00") if text.endswith("Z") else text
    try:
        return _aware(datetime.fromisoformat(iso), tz)
    except ValueError:
        pass
    rfc = parsedate_tz(text)
    if rfc is not None and rfc[0] > 0:
        try:
            naive = datetime(*rfc[:6])  # noqa: DTZ001 (zone applied below)
        except ValueError:
            naive = None
        if naive is not None:
            # parsedate_tz reports a missing zone as +0000: look at the text instead.
            if rfc[9] is None or not has_time_zone(text):
                return _aware(naive, tz)
            offset = _EUROPEAN_ZONES.get(text.rsplit(None, 1)[-1].upper(), rfc[9])
            return _aware(naive.replace(tzinfo=UTC) - timedelta(seconds=offset), tz)
    return _parse_human_date(fold(text), tz, now or datetime.now(tz))


def _parse_human_date(text: str, tz: tzinfo, now: datetime) -> datetime | None:
    match = _ISO_DATE.search(text)
    if match:
        year, month, day = (int(part) for part in match.groups())
        return _with_time(text, match.end(), year, month, day, tz)
    match = _DAY_MONTH_YEAR.search(text)
    if match:
        day, month = int(match.group(1)), MONTHS[match.group(2)]
        year = int(match.group(3)) if match.group(3) else _guess_year(month, day, now)
        if year is None:
            return None
        return _with_time(text, match.end(), year, month, day, tz)
    match = _MONTH_DAY_YEAR.search(text)
    if match:
        month, day, year = MONTHS[match.group(1)], int(match.group(2)), int(match.group(3))
        return _with_time(text, match.end(), year, month, day, tz)
    match = _NUMERIC_DATE.search(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        if year < 100:
            year += 2000
        return _with_time(text, match.end(), year, month, day, tz)
    return None


def _parse_with_format(text: str, date_format: str, tz: tzinfo) -> datetime | None:
    folded = fold(text)
    # Literal words of the format are folded like the text; the directives keep their case (%Y ≠ %y).
    pattern = "".join(part if part.startswith("%") else fold(part) for part in _DIRECTIVE.split(date_format))
    if "%B" in pattern or "%b" in pattern:
        folded = _MONTH_WORD.sub(lambda m: f"{MONTHS[m.group(1)]:02d}", folded)
        pattern = pattern.replace("%B", "%m").replace("%b", "%m")
    try:
        return _aware(datetime.strptime(folded, pattern), tz)  # noqa: DTZ007 (zone added by _aware)
    except ValueError:
        return None


# --- Feeds --------------------------------------------------------------------------------------

_TTL = re.compile(rb"<(?:\w+:)?ttl>\s*(\d{1,7})\s*</(?:\w+:)?ttl>")
# Where feeds write item dates. One pattern per element, each starting with its literal name, so
# the scan jumps from one occurrence to the next instead of trying every "<" of the document.
_DATE_PATTERNS = {
    marker: re.compile(
        re.escape(marker) + rb"(?:\s[^>]{0,200})?>\s*(?:<!\[CDATA\[)?\s*([^<\]]{4,64}?)\s*(?:\]\]>)?\s*</"
    )
    for marker in (
        b"<pubDate",
        b"<published",
        b"<updated",
        b"<dc:date",
        b"<dcterms:issued",
        b"<dcterms:modified",
        b"<dcterms:created",
        b"<atom:published",
        b"<atom:updated",
    )
}
_ZONE_SAMPLE = 3
_DATE_PATTERNS.update(
    {
        marker: re.compile(re.escape(marker) + rb'\s*:\s*"([^"]{4,64})"')
        for marker in (b'"date_published"', b'"date_modified"')
    }
)
# The names above, found by what they start with ("<" or '"date_') and looked ahead at for the
# rest, so that no occurrence can hide another.
_DATE_MARKERS = tuple(
    re.compile(
        re.escape(start)
        + b"(?=("
        + b"|".join(re.escape(marker[len(start) :]) for marker in _DATE_PATTERNS if marker.startswith(start))
        + b"))"
    )
    for start in (b"<", b'"date_')
)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _string(value) -> str:
    return value if isinstance(value, str) else ""


def _identifier(value) -> str:
    # JSON Feed ids are strings, but numbers are common in the wild.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return ""
    return str(value).strip()


def plain_text(value, limit: int = MAX_TITLE_CHARS) -> str:
    """Text without tags or entities, on one line, at most ``limit`` characters."""
    text = _string(value)
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html_lib.unescape(text)
    return " ".join(text.split())[:limit]


def cap_html(value: str) -> str:
    """At most MAX_SUMMARY_CHARS, cut after a tag so no tag is left half-open (nh3 closes elements)."""
    if len(value) <= MAX_SUMMARY_CHARS:
        return value
    cut = value.rfind(">", 0, MAX_SUMMARY_CHARS)
    return value[: cut + 1] if cut > 0 else value[:MAX_SUMMARY_CHARS]


def _ttl_minutes(raw) -> int | None:
    try:
        minutes = int(raw)
    except (TypeError, ValueError):
        return None
    return min(minutes, TTL_CAP_MINUTES) if minutes > 0 else None


def _looks_like_html(body: bytes, content_type: str | None) -> bool:
    return bool(_HTML_START.match(body[:2048])) or "html" in (content_type or "").lower().split(";")[0]


def _zoneless_instants(body: bytes) -> set[datetime]:
    """The dates written without a zone in the document, as fastfeedparser reads them (as UTC).

    A feed writes all its dates one way: when the first few of an element carry a zone, the rest
    of the document is not scanned for that element (that scan would cost half a parse).
    """
    instants: set[datetime] = set()
    found_at = _date_markers_found(body)
    for marker, pattern in _DATE_PATTERNS.items():
        seen, scanned_to = 0, 0
        for position in found_at.get(marker, ()):
            match = pattern.match(body, position) if position >= scanned_to else None
            if match is None:
                continue
            scanned_to = match.end()
            raw = match.group(1).decode("utf-8", errors="replace").strip()
            if raw and not has_time_zone(raw):
                parsed = parse_date(raw, tz=UTC)
                if parsed is not None:
                    instants.add(parsed)
            elif seen >= _ZONE_SAMPLE and not instants:
                break
            seen += 1
    return instants


def _date_markers_found(body: bytes) -> dict[bytes, list[int]]:
    """Where each date element name of _DATE_PATTERNS starts in ``body``, found in one pass (looking
    for each name in turn would read the whole document once per name the feed does not use)."""
    found_at: dict[bytes, list[int]] = {}
    for markers in _DATE_MARKERS:
        for match in markers.finditer(body):
            found_at.setdefault(match.group(0) + match.group(1), []).append(match.start())
    return found_at


def parse_feed(body: bytes, *, url: str, headers=None, tz: tzinfo = UTC) -> ParsedFeed:
    """Entries of the feed in ``body`` (fetched from ``url`` with response ``headers``).

    Raises FeedError, and only FeedError, for anything that cannot be read.
    """
    headers = headers or {}
    content_type = headers.get("content-type", "") if hasattr(headers, "get") else ""
    if not body or not body.strip():
        raise FeedError("empty", gettext_noop("The address returned nothing to read."))
    try:
        document = utf8_document(body, content_type)
    except Exception as exc:  # hostile bytes must never escape as anything but FeedError
        raise FeedError(
            "unreadable", gettext_noop("The text encoding could not be read: %(error)s."), error=str(exc)
        ) from exc
    try:
        parsed = fastfeedparser.parse(
            document, include_tags=False, include_media=False, include_enclosures=False
        )
        feed = _from_fastfeedparser(parsed, document, url, tz)
    except Exception:  # fastfeedparser rejects with ValueError, and lxml may raise others on garbage
        feed = None
    if feed is not None:
        return feed
    try:
        if document.lstrip()[:1] == b"{":
            return _from_json_feed(document, url, tz)
        return _from_feedparser(document, url, headers, content_type, tz)
    except FeedError:
        raise
    except Exception as exc:  # the tolerant parser's own failures on hostile input
        raise FeedError(
            "unreadable", gettext_noop("The feed could not be read: %(error)s."), error=str(exc)
        ) from exc


def _from_fastfeedparser(parsed, document: bytes, url: str, tz: tzinfo) -> ParsedFeed:
    info = parsed.get("feed") or {}
    raw_entries = parsed.get("entries") or []
    zoneless = _zoneless_instants(document) if tz is not UTC else set()
    entries: list[FeedEntry] = []
    for raw in raw_entries[:MAX_ENTRIES]:
        if not isinstance(raw, dict):
            continue
        link = absolute_url(_string(raw.get("link")), url)
        content = raw.get("content")
        summary = ""
        if isinstance(content, list) and content and isinstance(content[0], dict):
            summary = _string(content[0].get("value"))
        summary = summary or _string(raw.get("description"))
        published = None
        stamp = _string(raw.get("published")) or _string(raw.get("updated"))
        if stamp:
            try:
                published = datetime.fromisoformat(stamp)
            except ValueError:
                published = None
            if published is not None:
                if published.tzinfo is None or published in zoneless:
                    published = published.replace(tzinfo=tz)
                published = _aware(published, tz)
        entries.append(
            FeedEntry(
                guid=(_identifier(raw.get("id")) or link)[:1000],
                link=link,
                title=plain_text(raw.get("title")),
                summary_html=cap_html(summary),
                published_at=published,
            )
        )
    ttl = None
    if b"ttl>" in document:
        match = _TTL.search(document)
        ttl = _ttl_minutes(match.group(1)) if match else None
    return ParsedFeed(
        entries=entries,
        parser="fastfeedparser",
        title=plain_text(info.get("title"), 200),
        site_url=absolute_url(_string(info.get("link")), url),
        ttl_minutes=ttl,
    )


def _from_feedparser(document: bytes, url: str, headers, content_type: str, tz: tzinfo) -> ParsedFeed:
    mime = content_type.split(";")[0].strip() or "application/xml"
    response_headers = {"content-type": f"{mime}; charset=utf-8", "content-location": url}
    parsed = feedparser.parse(
        document,
        response_headers=response_headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    raw_entries = parsed.get("entries") or []
    if not raw_entries and (parsed.get("bozo") or not parsed.get("version")):
        if _looks_like_html(document, content_type):
            raise FeedError("not_a_feed", gettext_noop("The address returns a web page, not a feed."))
        problem = parsed.get("bozo_exception")
        if problem:
            raise FeedError(
                "unreadable",
                gettext_noop("The content is not a feed that can be read (%(error)s)."),
                error=str(problem),
            )
        raise FeedError("unreadable", gettext_noop("The content is not a feed that can be read."))
    entries: list[FeedEntry] = []
    for raw in raw_entries[:MAX_ENTRIES]:
        content = raw.get("content")
        summary = ""
        if isinstance(content, list) and content:
            summary = _string(content[0].get("value"))
        summary = summary or _string(raw.get("summary"))
        stamp = _string(raw.get("published")) or _string(raw.get("updated")) or _string(raw.get("created"))
        link = absolute_url(_string(raw.get("link")), url)
        entries.append(
            FeedEntry(
                # fastfeedparser stands the link in for a missing id; so does this path.
                guid=(_identifier(raw.get("id")) or link)[:1000],
                link=link,
                title=plain_text(raw.get("title")),
                summary_html=cap_html(summary),
                published_at=parse_date(stamp, tz=tz) if stamp else None,
            )
        )
    info = parsed.get("feed") or {}
    return ParsedFeed(
        entries=entries,
        parser="feedparser",
        title=plain_text(info.get("title"), 200),
        site_url=absolute_url(_string(info.get("link")), url),
        ttl_minutes=_ttl_minutes(info.get("ttl")),
    )


def _from_json_feed(document: bytes, url: str, tz: tzinfo) -> ParsedFeed:
    """The tolerant path for JSON Feed (feedparser 6 reads XML only)."""
    try:
        data = json.loads(document)
    except (ValueError, RecursionError) as exc:
        raise FeedError(
            "unreadable", gettext_noop("The content is not valid JSON: %(error)s."), error=str(exc)
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise FeedError(
            "unreadable", gettext_noop("The content is JSON but not a JSON Feed (it has no list of items).")
        )
    entries: list[FeedEntry] = []
    for raw in data["items"][:MAX_ENTRIES]:
        if not isinstance(raw, dict):
            continue
        link = absolute_url(_string(raw.get("url")) or _string(raw.get("external_url")), url)
        summary = _string(raw.get("content_html")) or html_lib.escape(_string(raw.get("content_text")))
        summary = summary or _string(raw.get("summary"))
        stamp = _string(raw.get("date_published")) or _string(raw.get("date_modified"))
        entries.append(
            FeedEntry(
                guid=(_identifier(raw.get("id")) or link)[:1000],
                link=link,
                title=plain_text(raw.get("title")),
                summary_html=cap_html(summary),
                published_at=parse_date(stamp, tz=tz) if stamp else None,
            )
        )
    return ParsedFeed(
        entries=entries,
        parser="json_feed",
        title=plain_text(data.get("title"), 200),
        site_url=absolute_url(_string(data.get("home_page_url")), url),
    )
