"""The iCalendar writer: RFC 5545 structure, CRLF line endings, folding at 75 octets without
splitting a character, TEXT escaping, UTC date-times."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.icalendar import (
    CRLF,
    MAX_LINE_OCTETS,
    Event,
    calendar_serialize,
    line_fold,
    text_escape,
    uri_value,
    utc_format,
)

MADRID = ZoneInfo("Europe/Madrid")
STAMP = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


# --- A reader just strict enough to check what the writer produces ---------------------------


def physical_lines(body: str) -> list[str]:
    """The lines as a calendar app receives them; fails on any line break that is not CRLF."""
    assert body.endswith(CRLF), "the last line must end with CRLF too"
    lines = body[: -len(CRLF)].split(CRLF)
    for line in lines:
        assert "\r" not in line and "\n" not in line, f"bare CR or LF in {line!r}"
    return lines


def unfold(body: str) -> list[str]:
    """Content lines: each physical line starting with a space continues the previous one."""
    lines: list[str] = []
    for line in physical_lines(body):
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def text_unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def components(body: str) -> list[dict[str, str]]:
    """Each VEVENT as {property name: raw value}, after checking every BEGIN has its END."""
    stack: list[str] = []
    events: list[dict[str, str]] = []
    for line in unfold(body):
        name, _colon, value = line.partition(":")
        assert _colon, f"not a content line: {line!r}"
        if name == "BEGIN":
            stack.append(value)
            if value == "VEVENT":
                events.append({})
        elif name == "END":
            assert stack.pop() == value, f"END:{value} closes something else"
        elif stack[-1] == "VEVENT":
            events[-1][name] = value
    assert stack == [], f"not closed: {stack}"
    return events


# --- Escaping ----------------------------------------------------------------------------------


def test_text_escapes_backslash_semicolon_comma_and_every_line_break():
    assert text_escape("a,b;c\\d") == "a\\,b\\;c\\\\d"
    assert text_escape("one\ntwo\r\nthree\rfour") == "one\\ntwo\\nthree\\nfour"


def test_text_drops_the_control_characters_the_format_forbids_and_keeps_tabs():
    assert text_escape("bell\x07 null\x00 tab\tend\x7f") == "bell null tab\tend"


def test_uri_values_keep_commas_and_lose_line_breaks():
    assert uri_value("https://example.org/a,b;c\r\nX-INJECTED:1") == "https://example.org/a,b;cX-INJECTED:1"


@given(st.text())
def test_escaping_round_trips_and_leaves_no_line_break(text):
    escaped = text_escape(text)
    assert "\n" not in escaped and "\r" not in escaped
    expected = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text.replace("\r\n", "\n").replace("\r", "\n"))
    assert text_unescape(escaped) == expected


# --- Folding -----------------------------------------------------------------------------------


def test_a_short_line_is_not_folded():
    assert line_fold("SUMMARY:hola") == "SUMMARY:hola"


def test_a_long_line_folds_at_75_octets_with_a_space_on_each_continuation():
    folded = line_fold("DESCRIPTION:" + "x" * 200)
    lines = folded.split(CRLF)
    # 212 characters: 75 on the first line, then 74 + 63 after the leading spaces.
    assert [len(line) for line in lines] == [75, 75, 64]
    assert all(line.startswith(" ") for line in lines[1:])


def test_folding_never_splits_a_multi_octet_character():
    # "ñ" is 2 octets, "€" 3, the emoji 4: a naive split at 75 octets would cut one in half.
    folded = line_fold("SUMMARY:" + "ñ€😀" * 40)
    for line in folded.encode("utf-8").split(CRLF.encode()):
        assert len(line) <= MAX_LINE_OCTETS
        line.decode("utf-8")  # raises on a split character


@given(st.text(min_size=0, max_size=400).filter(lambda t: "\r" not in t and "\n" not in t))
def test_folded_lines_fit_and_unfold_to_the_original(line):
    folded = line_fold(line)
    assert all(len(piece.encode("utf-8")) <= MAX_LINE_OCTETS for piece in folded.split(CRLF))
    assert folded.replace(CRLF + " ", "") == line


# --- Date-times --------------------------------------------------------------------------------


def test_times_are_written_in_utc():
    assert utc_format(datetime(2026, 10, 25, 3, 30, tzinfo=MADRID)) == "20261025T023000Z"
    assert utc_format(datetime(2026, 7, 1, 12, 0, tzinfo=MADRID)) == "20260701T100000Z"


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="naive"):
        utc_format(datetime(2026, 1, 1, 12, 0))  # noqa: DTZ001 - the naive datetime is the point


# --- A whole calendar --------------------------------------------------------------------------


def test_an_empty_calendar_is_a_valid_vcalendar():
    body = calendar_serialize([], product_id="-//Test//EN", stamp=STAMP)
    assert unfold(body) == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Test//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "END:VCALENDAR",
    ]


def test_events_carry_the_required_properties_escaped_and_folded():
    start = datetime(2026, 11, 23, 19, 30, tzinfo=MADRID)
    description = "Ofertas de empleo; plazos, requisitos\ny más: " + "información " * 12
    events = [
        Event(
            uid="delivery-7@desk.example",
            start=start,
            end=start + timedelta(minutes=15),
            summary="[Empleo (X)] Ofertas, plazos; todo",
            description=description,
            url="https://example.org/ofertas?a=1,2",
            last_modified=STAMP,
        ),
        Event(uid="delivery-8@desk.example", start=start, summary="Solo lo necesario"),
    ]

    body = calendar_serialize(events, product_id="-//Test//EN", stamp=STAMP, name="Agenda, SocialDesk")
    parsed = components(body)

    assert all(len(line.encode("utf-8")) <= MAX_LINE_OCTETS for line in physical_lines(body))
    assert any(line.startswith(" ") for line in physical_lines(body)), "the long description is folded"
    assert "X-WR-CALNAME:Agenda\\, SocialDesk" in unfold(body)
    first, second = parsed
    assert first["UID"] == "delivery-7@desk.example"
    assert (first["DTSTAMP"], first["DTSTART"], first["DTEND"]) == (
        "20261120T090000Z",
        "20261123T183000Z",
        "20261123T184500Z",
    )
    assert first["LAST-MODIFIED"] == "20261120T090000Z"
    assert first["SUMMARY"] == "[Empleo (X)] Ofertas\\, plazos\\; todo"
    assert text_unescape(first["DESCRIPTION"]) == description
    assert first["URL"] == "https://example.org/ofertas?a=1,2"
    assert set(second) == {"UID", "DTSTAMP", "DTSTART", "SUMMARY"}
