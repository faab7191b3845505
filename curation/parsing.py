"""Pages without a feed (CSS or XPath rules) and the organisation's own listings (JSON or CSV).

Like lib.feeds, every function here turns its input into ``FeedEntry`` objects or raises
``FeedError`` — nothing else — so a broken page is an error on that source only. No Django here
either: the services hand in the rule or mapping as plain dataclasses.
"""

from __future__ import annotations

import csv
import html as html_lib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from hashlib import blake2b

import cssselect
from lxml import etree
from lxml import html as lxml_html

from lib.feeds import (
    MAX_ENTRIES,
    FeedEntry,
    FeedError,
    ParsedFeed,
    cap_html,
    decode_document,
    parse_date,
    plain_text,
)
from lib.messages import Message, gettext_noop
from lib.urls import absolute_url

CSS = "css"
XPATH = "xpath"
_CSS_TRANSLATOR = cssselect.HTMLTranslator()


@dataclass(frozen=True)
class PageRule:
    """Where the items of a page are. Field selectors are relative to each item."""

    syntax: str  # CSS or XPATH
    item: str
    title: str = ""
    link: str = ""
    date: str = ""
    summary: str = ""
    date_format: str = ""


@dataclass(frozen=True)
class ListingMap:
    """Which field of each record of a JSON or CSV listing is what.

    For JSON, ``items_path`` is the dotted path to the list of records ("" for a top-level list)
    and each field may be a dotted path inside a record ("location.city"). For CSV, fields are
    column headings.
    """

    title: str
    items_path: str = ""
    guid: str = ""
    link: str = ""
    summary: str = ""
    published: str = ""
    deadline: str = ""
    place: str = ""
    date_format: str = ""


# --- Pages --------------------------------------------------------------------------------------


_INVALID_SELECTOR = {
    "item": gettext_noop("The item selector “%(selector)s” is not valid: %(error)s."),
    "title": gettext_noop("The title selector “%(selector)s” is not valid: %(error)s."),
    "link": gettext_noop("The link selector “%(selector)s” is not valid: %(error)s."),
    "date": gettext_noop("The date selector “%(selector)s” is not valid: %(error)s."),
    "summary": gettext_noop("The summary selector “%(selector)s” is not valid: %(error)s."),
}


def _compile(selector: str, syntax: str, what: str) -> etree.XPath:
    try:
        if syntax == CSS:
            return etree.XPath(_CSS_TRANSLATOR.css_to_xpath(selector))
        return etree.XPath(selector)
    except (cssselect.SelectorError, etree.XPathError, ValueError) as exc:
        raise FeedError("bad_rule", _INVALID_SELECTOR[what], selector=selector, error=str(exc)) from exc


def _first(expression: etree.XPath | None, node):
    if expression is None:
        return None
    try:
        found = expression(node)
    except etree.XPathError:
        return None
    if isinstance(found, list):
        return found[0] if found else None
    return found


def _text_of(value) -> str:
    if value is None:
        return ""
    if isinstance(value, etree._Element):
        return plain_text(value.text_content())
    return plain_text(str(value))


def _link_of(value, item) -> str:
    if isinstance(value, etree._Element):
        href = value.get("href")
        if href is None:
            anchors = value.xpath("descendant-or-self::a[@href]")
            href = anchors[0].get("href") if anchors else None
        return href or ""
    if value is not None:
        return str(value)
    anchors = item.xpath("descendant-or-self::a[@href]")
    return anchors[0].get("href", "") if anchors else ""


def _date_text_of(value) -> str:
    if isinstance(value, etree._Element):
        return value.get("datetime") or value.get("content") or value.text_content()
    return "" if value is None else str(value)


def _html_of(value) -> str:
    if value is None:
        return ""
    if isinstance(value, etree._Element):
        inner = [html_lib.escape(value.text)] if value.text else []
        inner.extend(lxml_html.tostring(child, encoding="unicode") for child in value)
        return "".join(inner)
    return html_lib.escape(str(value))


def parse_page(body: bytes, *, url: str, rule: PageRule, content_type: str = "", tz: tzinfo) -> ParsedFeed:
    """Items of an HTML page found by ``rule``; FeedError when the rule is invalid or finds nothing."""
    if rule.syntax not in (CSS, XPATH):
        raise FeedError(
            "bad_rule",
            gettext_noop("Unknown selector syntax “%(syntax)s”: use css or xpath."),
            syntax=rule.syntax,
        )
    if not rule.item.strip():
        raise FeedError("bad_rule", gettext_noop("The rule needs a selector for the items."))
    item_expression = _compile(rule.item, rule.syntax, "item")
    fields = {
        name: _compile(selector, rule.syntax, name) if selector.strip() else None
        for name, selector in (
            ("title", rule.title),
            ("link", rule.link),
            ("date", rule.date),
            ("summary", rule.summary),
        )
    }
    if not body.strip():
        raise FeedError("empty", gettext_noop("The address returned nothing to read."))
    text, _encoding = decode_document(body, content_type)
    try:
        document = lxml_html.document_fromstring(
            text.encode("utf-8"), parser=lxml_html.HTMLParser(encoding="utf-8", huge_tree=False)
        )
        items = item_expression(document)
    except (etree.ParserError, etree.XPathError, ValueError) as exc:
        raise FeedError(
            "unreadable", gettext_noop("The page could not be read: %(error)s."), error=str(exc)
        ) from exc
    if not isinstance(items, list) or not items:
        raise FeedError("rule_found_nothing", gettext_noop("The item selector found nothing on the page."))
    base_href = document.xpath("string(//base/@href)")
    base = absolute_url(base_href, url) or url
    entries: list[FeedEntry] = []
    warnings: list[Message] = []
    for item in items[:MAX_ENTRIES]:
        if not isinstance(item, etree._Element):
            raise FeedError(
                "bad_rule", gettext_noop("The item selector must select elements, not text or attributes.")
            )
        link = absolute_url(_link_of(_first(fields["link"], item), item), base)
        title = _text_of(_first(fields["title"], item)) if fields["title"] else _text_of(item)
        if not title and not link:
            warnings.append(Message(gettext_noop("An item without title or link was skipped.")))
            continue
        date_text = _date_text_of(_first(fields["date"], item))
        published = parse_date(date_text, tz=tz, date_format=rule.date_format) if date_text else None
        if date_text and published is None:
            warnings.append(_unread_date(gettext_noop("The date “%(date)s” could not be read."), date_text))
        entries.append(
            FeedEntry(
                guid=link or _digest(title),
                link=link,
                title=title,
                summary_html=cap_html(_html_of(_first(fields["summary"], item))),
                published_at=published,
            )
        )
    if not entries:
        raise FeedError(
            "rule_found_nothing", gettext_noop("The items found have neither a title nor a link.")
        )
    title = plain_text(document.xpath("string(//title)"), 200)
    return ParsedFeed(entries=entries, parser="page", title=title, site_url=url, warnings=warnings)


def _digest(text: str) -> str:
    return blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


# --- Listings -----------------------------------------------------------------------------------


def _dig(record, path: str):
    value = record
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _field(record, path: str) -> str:
    if not path:
        return ""
    value = record.get(path) if path in record else _dig(record, path)
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()


def _deadline(text: str, mapping: ListingMap, tz: tzinfo) -> datetime | None:
    parsed = parse_date(text, tz=tz, date_format=mapping.date_format)
    # A deadline at midnight is a deadline written as a day: it runs to the end of that day.
    if parsed is not None and parsed.time() == time(0, 0):
        parsed = parsed.replace(hour=23, minute=59, second=59)
    return parsed


def _listing_feed(records, *, mapping: ListingMap, url: str, tz: tzinfo, parser: str) -> ParsedFeed:
    """The records as items, with a warning for each record skipped and each date not understood
    (an offer whose deadline cannot be read would never leave the queue)."""
    entries: list[FeedEntry] = []
    warnings: list[Message] = []
    for record in records[:MAX_ENTRIES]:
        if not isinstance(record, Mapping):
            warnings.append(Message(gettext_noop("A record that is not a set of fields was skipped.")))
            continue
        title = plain_text(_field(record, mapping.title))
        link = absolute_url(_field(record, mapping.link), url)
        if not title:
            warnings.append(Message(gettext_noop("A record without a title was skipped.")))
            continue
        summary = _field(record, mapping.summary)
        published_text = _field(record, mapping.published)
        deadline_text = _field(record, mapping.deadline)
        published = (
            parse_date(published_text, tz=tz, date_format=mapping.date_format) if published_text else None
        )
        deadline = _deadline(deadline_text, mapping, tz) if deadline_text else None
        if published_text and published is None:
            warnings.append(
                _unread_date(gettext_noop("The date “%(date)s” could not be read."), published_text)
            )
        if deadline_text and deadline is None:
            warnings.append(
                _unread_date(gettext_noop("The deadline “%(date)s” could not be read."), deadline_text)
            )
        place = plain_text(_field(record, mapping.place), 200)
        guid = _field(record, mapping.guid) or link or _digest(f"{title}\n{deadline_text}\n{place}")
        entries.append(
            FeedEntry(
                guid=guid[:1000],
                link=link,
                title=title,
                summary_html=f"<p>{html_lib.escape(summary[:5000])}</p>" if summary else "",
                published_at=published,
                deadline=deadline,
                place=place,
            )
        )
    return ParsedFeed(entries=entries, parser=parser, site_url=url, warnings=warnings)


def _unread_date(text: str, date_text: str) -> Message:
    return Message(text, {"date": date_text.strip()[:60]})


def parse_json_listing(
    body: bytes, *, url: str, mapping: ListingMap, content_type: str = "", tz: tzinfo
) -> ParsedFeed:
    if not mapping.title:
        raise FeedError("bad_listing", gettext_noop("The listing needs to say which field holds the title."))
    text, _encoding = decode_document(body, content_type)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise FeedError(
            "bad_listing", gettext_noop("The listing is not valid JSON: %(error)s."), error=str(exc)
        ) from exc
    records = _dig(data, mapping.items_path) if mapping.items_path else data
    if not isinstance(records, list):
        if mapping.items_path:
            raise FeedError(
                "bad_listing",
                gettext_noop("The listing has no list of records at “%(path)s”."),
                path=mapping.items_path,
            )
        raise FeedError("bad_listing", gettext_noop("The listing has no list of records at the top level."))
    return _listing_feed(records, mapping=mapping, url=url, tz=tz, parser="json")


def parse_csv_listing(
    body: bytes, *, url: str, mapping: ListingMap, content_type: str = "", tz: tzinfo
) -> ParsedFeed:
    if not mapping.title:
        raise FeedError("bad_listing", gettext_noop("The listing needs to say which column holds the title."))
    text, _encoding = decode_document(body, content_type)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        reader = csv.DictReader(io.StringIO(text), dialect=dialect)
        records = []
        for row in reader:
            records.append({(key or "").strip(): value for key, value in row.items() if isinstance(key, str)})
            if len(records) >= MAX_ENTRIES:
                break
    except csv.Error as exc:
        raise FeedError(
            "bad_listing", gettext_noop("The listing is not valid CSV: %(error)s."), error=str(exc)
        ) from exc
    if records and mapping.title not in records[0]:
        raise FeedError(
            "bad_listing", gettext_noop("The listing has no column “%(column)s”."), column=mapping.title
        )
    return _listing_feed(records, mapping=mapping, url=url, tz=tz, parser="csv")
