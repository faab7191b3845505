"""/metrics/export/<table>.csv: every table of the report as CSV (comma, UTF-8 with BOM, one header
row), with the report's raw values, the page's filters, and no cell a spreadsheet would run."""

import csv
import io
from dataclasses import replace
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from metrics.export import TABLES, cell_guard
from metrics.report_types import BestHours, Filters
from tests.metrics.sample_reports import NOVEMBER, report_build_stub, sample_report

LAST_MONTH_QUERY = {"preset": "custom", "start": "2026-11-01", "end": "2026-11-30"}


@pytest.fixture
def reports(monkeypatch):
    return report_build_stub(monkeypatch)


@pytest.fixture
def english(client, supervisor):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(supervisor)
    return client


def export(client, table: str, query=LAST_MONTH_QUERY):
    return client.get(reverse("metrics:export", args=[table]), query)


def rows_of(response) -> list[list[str]]:
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff"), "Excel needs the byte-order mark to read UTF-8"
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


@pytest.mark.parametrize("table", TABLES)
def test_every_table_downloads_as_csv_with_a_header_row(english, reports, table):
    response = export(english, table)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    filename = f"socialdesk-{table.replace('_', '-')}-2026-11-01-2026-11-30.csv"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    header, *rows = rows_of(response)
    assert header and all(header)
    assert rows, "the sample report has something in every table"
    assert all(len(row) == len(header) for row in rows)
    assert response.content.count(b"\r\n") == len(rows) + 1
    assert reports.asked == [NOVEMBER]


def test_the_export_uses_the_pages_filters(english, reports):
    export(english, "volume", {**LAST_MONTH_QUERY, "network": "x"})
    assert reports.asked == [replace(NOVEMBER, network="x")]


def test_without_filters_the_export_is_the_last_30_days(english, reports):
    export(english, "volume", {})
    today = timezone.localdate()
    assert reports.asked == [Filters(start=today - timedelta(days=29), end=today)]


def test_timings_are_whole_seconds(english, reports):
    report = sample_report()
    header, *rows = rows_of(export(english, "timings"))
    assert header == [
        "Time",
        "Clock",
        "When the citizen wrote",
        "Count",
        "Median (s)",
        "90th percentile (s)",
        "Mean (s)",
    ]
    assert len(rows) == len(report.timings)
    # Business time, all messages: median 8100 s, 90th percentile 3 × that, mean 1.5 × (sample_reports).
    assert ["First response time", "Business time", "At any time", "40", "8100", "24300", "12150"] in rows
    assert ["Reply time", "Wall-clock time", "Off-hours", "40", "18000", "54000", "27000"] in rows
    assert [row[0] for row in rows[::6]] == [
        "First response time",
        "Reply time",
        "Resolution time per care cycle",
    ]


def test_response_rate_is_a_fraction_with_what_is_counted_apart(english, reports):
    header, row = rows_of(export(english, "response_rate"))
    assert dict(zip(header, row, strict=True)) == {
        "Care cycles needing a reply": "80",
        "Replied": "70",
        "Response rate": "0.875",
        "Spam": "5",
        "Hidden": "3",
        "Closed, no reply needed": "9",
    }


def test_sla_rows_and_breaches_match_the_report(english, reports):
    _header, *sla = rows_of(export(english, "sla"))
    assert sla == [
        ["Private message", "3600", "40", "30", "10", "0.75"],
        ["Public comment", "7200", "20", "19", "1", "0.95"],
    ]
    _header, *breaches = rows_of(export(english, "sla_breaches"))
    # Datetimes in Europe/Madrid with their offset; an unanswered breach leaves the cell empty.
    assert breaches == [
        ["4242", "Private message", "Facebook", "2026-11-06T16:30:00+01:00", "2026-11-09T09:30:00+01:00",
         "2026-11-09T12:00:00+01:00", "9000"],
        ["4243", "Public comment", "X", "2026-11-20T10:00:00+01:00", "2026-11-20T12:00:00+01:00", "", "600"],
    ]  # fmt: skip


def test_volume_and_heatmap_match_the_report(english, reports):
    report = sample_report()
    _header, *volume = rows_of(export(english, "volume"))
    assert volume == [
        [row.day.isoformat(), *names, str(row.conversations), str(row.messages)]
        for row, names in zip(
            report.volume,
            [("Facebook", "Private message"), ("X", "Mention"), ("Facebook", "Public comment")],
            strict=True,
        )
    ]
    header, *heatmap = rows_of(export(english, "heatmap"))
    assert header == ["Weekday", *(f"{hour:02d}" for hour in range(24))]
    assert [row[0] for row in heatmap] == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
    assert [[int(cell) for cell in row[1:]] for row in heatmap] == report.heatmap


def test_backlog_off_hours_publishing_and_best_hours_match_the_report(english, reports):
    _header, *backlog = rows_of(export(english, "backlog"))
    assert backlog == [
        ["Waiting for a reply now", "6"],
        ["Oldest waiting for (s)", "93600"],
        ["Waiting for < 1 h", "2"],
        ["Waiting for 1–4 h", "3"],
        ["Waiting for > 1 d", "1"],
    ]
    _header, *openings = rows_of(export(english, "opening_backlogs"))
    assert openings == [["2026-11-09T09:00:00+01:00", "11"]]
    off_hours = dict(rows_of(export(english, "off_hours"))[1:])
    assert off_hours["Messages written off-hours"] == "6"
    assert off_hours["Share written off-hours"] == "0.3333"
    assert off_hours["Share answered before the office opened"] == "0.5"
    assert off_hours["First response (Business time): median (s)"] == "1800"
    assert off_hours["First response (Wall-clock time): 90th percentile (s)"] == "61200"
    _header, *publishing = rows_of(export(english, "publishing"))
    assert publishing == [["Facebook", "12", "20", "14.25"], ["Bluesky", "4", "0", ""]]
    _header, *best = rows_of(export(english, "best_hours"))
    assert best == [
        ["Job seekers", "1", "Tuesday", "19:00", "1.0"],
        ["Job seekers", "2", "Thursday", "08:00", "0.82"],
    ]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+34 600 000 000", "'+34 600 000 000"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\tcmd", "'\tcmd"),
        ("Job seekers", "Job seekers"),
        (-5, "-5"),  # a number stays a number
        (0.875, "0.875"),
        (None, ""),
    ],
)
def test_cells_a_spreadsheet_would_run_are_defused(value, written):
    assert cell_guard(value) == written


def test_a_formula_in_a_name_reaches_the_csv_defused(english, reports):
    reports.by_filters[NOVEMBER] = replace(
        sample_report(), best_hours=[BestHours(segment="=cmd|'/c calc'!A1", slots=[(0, 9, 1.0)])]
    )
    _header, row = rows_of(export(english, "best_hours"))
    assert row[0] == "'=cmd|'/c calc'!A1"


def test_an_unknown_table_is_not_found(english, reports):
    assert english.get("/metrics/export/passwords.csv").status_code == 404
    assert reports.asked == []


def test_bad_filters_are_refused_with_the_reason(english, reports):
    response = export(english, "volume", {"preset": "custom", "start": "2026-11-30", "end": "2026-11-01"})
    assert response.status_code == 400
    assert "The period must start on or before the day it ends." in response.content.decode()
    assert reports.asked == []
