"""A small iCalendar (RFC 5545) writer: enough for a read-only feed of timed events that a calendar
app subscribes to. Imports no Django.

What it takes care of: CRLF line endings, lines folded at 75 octets without splitting a UTF-8
character, TEXT values escaped (backslash, semicolon, comma, newline) and stripped of the control
characters the format forbids, date-times written in UTC.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

CRLF = "\r\n"
# RFC 5545 §3.1: "Lines of text SHOULD NOT be longer than 75 octets, excluding the line break."
MAX_LINE_OCTETS = 75
# Control characters are not allowed in TEXT or URI values (§3.3.11); tab is, newlines are escaped.
_FORBIDDEN_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Event:
    """One VEVENT. `uid` must stay the same for the same thing across feeds, so that a calendar app
    updates the event instead of adding a copy."""

    uid: str
    start: datetime
    summary: str
    end: datetime | None = None
    description: str = ""
    url: str = ""
    last_modified: datetime | None = None


def text_escape(value: str) -> str:
    """A TEXT property value (§3.3.11): backslash, semicolon and comma escaped, every kind of line
    break written as \\n, other control characters dropped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _FORBIDDEN_CONTROLS.sub("", value)
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\n", "\\n")


def uri_value(value: str) -> str:
    """A URI property value: no escaping (commas are part of addresses), no line breaks or controls."""
    return _FORBIDDEN_CONTROLS.sub("", value.replace("\r", "").replace("\n", ""))


def utc_format(moment: datetime) -> str:
    """A DATE-TIME in UTC ("form #2", §3.3.5), e.g. 20261025T023000Z. Naive datetimes are refused."""
    if moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: iCalendar times here are written in UTC")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def line_fold(line: str) -> str:
    """Fold a content line (§3.1): each physical line at most 75 octets, continuation lines start
    with one space, and a multi-octet UTF-8 character is never split."""
    pieces: list[str] = []
    current: list[str] = []
    used, limit = 0, MAX_LINE_OCTETS
    for character in line:
        octets = len(character.encode("utf-8"))
        if used + octets > limit:
            pieces.append("".join(current))
            # The leading space of a continuation line counts towards its 75 octets.
            current, used, limit = [], 0, MAX_LINE_OCTETS - 1
        current.append(character)
        used += octets
    pieces.append("".join(current))
    return (CRLF + " ").join(pieces)


def calendar_serialize(events: Iterable[Event], *, product_id: str, stamp: datetime, name: str = "") -> str:
    """A whole VCALENDAR with one VEVENT per event. `stamp` is when the feed was generated (DTSTAMP
    of every event); `name` is what calendar apps show for the subscription (X-WR-CALNAME)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{text_escape(product_id)}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    if name:
        lines.append(f"X-WR-CALNAME:{text_escape(name)}")
    for event in events:
        lines.extend(_event_lines(event, stamp))
    lines.append("END:VCALENDAR")
    return "".join(line_fold(line) + CRLF for line in lines)


def _event_lines(event: Event, stamp: datetime) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{text_escape(event.uid)}",
        f"DTSTAMP:{utc_format(stamp)}",
        f"DTSTART:{utc_format(event.start)}",
    ]
    if event.end is not None:
        lines.append(f"DTEND:{utc_format(event.end)}")
    if event.last_modified is not None:
        lines.append(f"LAST-MODIFIED:{utc_format(event.last_modified)}")
    lines.append(f"SUMMARY:{text_escape(event.summary)}")
    if event.description:
        lines.append(f"DESCRIPTION:{text_escape(event.description)}")
    if event.url:
        lines.append(f"URL:{uri_value(event.url)}")
    lines.append("END:VEVENT")
    return lines
