"""/metrics/: who may read it, the filters, what the dashboard, the printable monthly report and the
help page say, and that they say it accessibly (charts with tables, changes in words, CSP-clean).

The page tests feed hand-built reports (tests/metrics/sample_reports.py) through `report_build`, so
each figure on the page can be traced to one value; tests/metrics/test_dashboard_integration.py goes
through the real rollups.
"""

import csv
import io
import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from inbox.models import Conversation, Tag
from metrics.export import TABLES
from metrics.formatting import (
    DEFINITIONS,
    change_describe,
    duration_human,
    percent_human,
    report_present,
)
from metrics.forms import MonthlyReportForm, ReportFilterForm
from metrics.report_types import Backlog, BestHours, Filters, VolumeRow
from networks.models import Network
from tests.metrics.helpers import answered, madrid, refreshed
from tests.metrics.sample_reports import NOVEMBER, report_build_stub, sample_report
from tests.networks.fixtures import make_sandbox_channel
from tests.socialdesk.test_layout import csp_violations, page_of

DASHBOARD = reverse("metrics:dashboard")
REPORT = reverse("metrics:report")
HELP = reverse("metrics:help")
PAGES = [DASHBOARD, REPORT, HELP, reverse("metrics:export", args=["timings"])]
MADRID = ZoneInfo("Europe/Madrid")
# "Today" for every test here: Thursday 10 December 2026, at noon in Madrid.
TODAY = date(2026, 12, 10)


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(datetime(2026, 12, 10, 12, 0, tzinfo=MADRID), tick=False):
        yield


@pytest.fixture
def reports(monkeypatch):
    return report_build_stub(monkeypatch)


@pytest.fixture
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def text_of(response) -> str:
    """The page's visible text with whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|svg)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# --- Who may read ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["supervisor", "manager", "administrator"])
@pytest.mark.parametrize("url", PAGES)
def test_every_role_with_read_metrics_reads_every_page(client, request, reports, role, url):
    client.force_login(request.getfixturevalue(role))
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, db, reports, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert reports.asked == []


@pytest.mark.parametrize("url", PAGES)
def test_a_user_without_role_is_refused(client, outsider, reports, url):
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    assert reports.asked == []


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("url", PAGES)
def test_the_pages_only_read(supervisor_client, reports, url, method):
    assert getattr(supervisor_client, method)(url).status_code == 405
    assert reports.asked == []


def test_the_navigation_leads_to_the_dashboard(supervisor_client, reports):
    page = page_of(supervisor_client.get(DASHBOARD))
    metrics_link = next(e for e in page.elements if e["in_nav"] and e["attrs"].get("href") == DASHBOARD)
    assert metrics_link["attrs"].get("aria-current") == "page"


# --- Filters ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "start", "end"),
    [
        ({}, date(2026, 11, 11), date(2026, 12, 10)),
        ({"preset": "last_30_days"}, date(2026, 11, 11), date(2026, 12, 10)),
        ({"preset": "this_month"}, date(2026, 12, 1), date(2026, 12, 10)),
        ({"preset": "last_month"}, date(2026, 11, 1), date(2026, 11, 30)),
        ({"preset": "last_12_months"}, date(2025, 12, 11), date(2026, 12, 10)),
        (
            {"preset": "custom", "start": "2026-03-01", "end": "2026-03-15"},
            date(2026, 3, 1),
            date(2026, 3, 15),
        ),
        # Dates without a preset are a custom period; a preset wins over stray dates.
        ({"start": "2026-03-01", "end": "2026-03-15"}, date(2026, 3, 1), date(2026, 3, 15)),
        (
            {"preset": "last_month", "start": "2026-03-01", "end": "2026-03-15"},
            date(2026, 11, 1),
            date(2026, 11, 30),
        ),
    ],
)
def test_the_period_comes_from_the_preset_or_the_dates(query, start, end):
    form = ReportFilterForm(query, today=TODAY)
    assert form.is_valid() or not form.is_bound, form.errors
    assert (form.filters().start, form.filters().end) == (start, end)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"preset": "custom", "start": "2026-03-15", "end": "2026-03-01"}, "must start on or before"),
        ({"preset": "custom", "start": "2022-12-31", "end": "2025-12-31"}, "at most 3 years"),
        ({"preset": "custom", "start": "2026-03-01"}, "both dates"),
        ({"preset": "custom", "start": "someday", "end": "2026-03-01"}, "valid date"),
        ({"preset": "yesterday"}, "Select a valid choice"),
    ],
)
def test_bad_periods_are_refused_with_a_clear_error(query, message):
    with translation.override("en"):
        form = ReportFilterForm(query, today=TODAY)
        assert not form.is_valid()
        assert message in str(form.errors)


def test_three_years_exactly_is_allowed():
    form = ReportFilterForm({"preset": "custom", "start": "2023-01-01", "end": "2025-12-31"}, today=TODAY)
    assert form.is_valid(), form.errors


def test_network_channel_and_tag_reach_the_report(supervisor_client, reports):
    _account, sandbox_channel = make_sandbox_channel()
    tag = Tag.objects.create(name="paro")
    supervisor_client.get(
        DASHBOARD,
        {"preset": "last_month", "network": "sandbox", "channel": sandbox_channel.pk, "tag": tag.pk},
    )
    expected = Filters(
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
        network="sandbox",
        channel_id=sandbox_channel.pk,
        tag_id=tag.pk,
    )
    assert reports.asked == [expected]  # the checkbox was not ticked: no comparison


def test_a_first_visit_compares_with_the_previous_thirty_days(supervisor_client, reports):
    supervisor_client.get(DASHBOARD)
    current = Filters(start=date(2026, 11, 11), end=date(2026, 12, 10))
    assert reports.asked == [current, current.previous()]
    assert reports.asked[1] == Filters(start=date(2026, 10, 12), end=date(2026, 11, 10))


def test_an_invalid_filter_shows_the_error_and_no_figures(english, supervisor, reports):
    english.force_login(supervisor)
    response = english.get(DASHBOARD, {"preset": "custom", "start": "2026-03-15", "end": "2026-03-01"})
    assert response.status_code == 200
    assert "The period must start on or before the day it ends." in text_of(response)
    assert "Correct the filters to see the figures." in text_of(response)
    assert reports.asked == []


def test_the_htmx_filter_change_gets_only_the_dashboard_fragment(supervisor_client, reports):
    response = supervisor_client.get(DASHBOARD, {"preset": "last_month"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="metrics-dashboard">')
    assert "<html" not in html
    assert 'id="chart-volume-title"' in html


# --- What the dashboard says ---------------------------------------------------------------------


def test_the_dashboard_shows_the_reports_figures_in_human_units(english, supervisor, reports):
    english.force_login(supervisor)
    text = text_of(english.get(DASHBOARD, {"preset": "last_month"}))
    assert "From 1 Nov 2026 to 30 Nov 2026" in text
    # First response in business time, all splits: median 8100 s, 90th percentile 24300 s, mean 12150 s.
    assert "2 h 15 min 6 h 45 min 3 h 22 min" in text
    # The same in wall-clock time (twice as long), off-hours (× 3): 48600 s = 13 h 30 min.
    assert "13 h 30 min" in text
    # Resolution in wall-clock time: 2 days → days; in business time the same span stays in hours.
    assert "2 d" in text and "24 h" in text
    assert "87.5%" in text  # 70 of 80
    assert "70 of 80 care cycles that needed a reply" in text
    assert "Spam 5" in text and "Hidden 3" in text and "Closed, no reply needed 9" in text
    assert "Private message 1 h 40 30 10 75.0%" in text  # SLA row: target, due, met, breached, compliance
    assert "Waiting for a reply now 6" in text
    assert "1 d 2 h" in text  # the oldest waiting: 93600 s
    assert "Job seekers" in text and "Tuesday 19:00–20:00" in text


def test_spanish_is_the_default_language_of_the_figures(supervisor_client, reports):
    text = text_of(supervisor_client.get(DASHBOARD, {"preset": "last_month"}))
    assert "87,5" in text  # decimal comma
    assert "2 h 15 min" in text


def test_changes_against_the_previous_period_are_said_in_words(english, supervisor, reports):
    previous = NOVEMBER.previous()
    reports.by_filters[previous] = sample_report(previous, scale=0.5)
    english.force_login(supervisor)
    text = text_of(english.get(DASHBOARD, {"preset": "last_month", "compare": "on"}))
    # First response median, business: 2 h 15 min now, 1 h 8 min before (half): 1 h 8 min more, worse.
    assert "↑ 1 h 8 min more than the previous period (worse)" in text
    assert "From 1 Nov 2026 to 30 Nov 2026, compared with 2 Oct 2026 to 31 Oct 2026" in text


def test_the_off_hours_response_time_is_compared_too(english, supervisor, reports):
    previous = NOVEMBER.previous()
    before = sample_report(previous)
    slower = replace(before.off_hours.first_response_business, median=3600)  # 1 h then, 30 min now
    reports.by_filters[previous] = replace(
        before, off_hours=replace(before.off_hours, first_response_business=slower)
    )
    english.force_login(supervisor)
    html = english.get(DASHBOARD, {"preset": "last_month", "compare": "on"}).content.decode()

    off_hours = re.search(r'<section[^>]*id="off-hours".*?</section>', html, flags=re.S).group(0)
    assert "↓ 30 min less than the previous period (better)" in " ".join(
        unescape(re.sub(r"<[^>]+>", " ", off_hours)).split()
    )


def test_posts_per_network_are_compared_too(english, supervisor, reports):
    previous = NOVEMBER.previous()
    before = sample_report(previous)
    # 12 Facebook posts now against 8 then; Bluesky published nothing then.
    reports.by_filters[previous] = replace(before, publishing=[replace(before.publishing[0], posts=8)])
    english.force_login(supervisor)
    html = english.get(DASHBOARD, {"preset": "last_month", "compare": "on"}).content.decode()

    publishing = re.search(r'<section[^>]*id="publishing".*?</section>', html, flags=re.S).group(0)
    rows = [
        " ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())
        for row in re.findall(r"<tr>.*?</tr>", publishing, flags=re.S)
    ]
    assert "Facebook 12 ↑ 4 more than the previous period 20 14.2" in rows[1:]
    assert any(row.startswith("Bluesky 4 ↑ 4 more than the previous period") for row in rows)


def test_messages_per_network_and_per_kind_are_compared_too(english, supervisor, reports):
    previous = NOVEMBER.previous()
    before = sample_report(previous)
    # Then: only the 7 Facebook private messages. Now: Facebook 7 + 9, X 2; private 7, public 9.
    reports.by_filters[previous] = replace(before, volume=before.volume[:1])
    english.force_login(supervisor)
    html = english.get(DASHBOARD, {"preset": "last_month", "compare": "on"}).content.decode()

    volume = re.search(r'<section[^>]*id="volume".*?</section>', html, flags=re.S).group(0)
    rows = {
        " ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())
        for row in re.findall(r"<tr>.*?</tr>", volume, flags=re.S)
    }
    assert "Facebook 8 16 ↑ 9 more than the previous period" in rows
    assert "X 2 2 ↑ 2 more than the previous period" in rows
    assert "Private message 3 7 = Same as the previous period" in rows
    assert "Mention 2 2 ↑ 2 more than the previous period" in rows
    assert "Public comment 5 9 ↑ 9 more than the previous period" in rows


def test_without_comparison_no_change_is_shown(english, supervisor, reports):
    english.force_login(supervisor)
    text = text_of(english.get(DASHBOARD, {"preset": "last_month"}))
    assert "previous period" not in text.replace("Compare with the previous period", "")


def test_breaches_link_to_the_conversation_for_who_may_read_it(client, supervisor, administrator, reports):
    conversation = reverse("inbox:conversation", args=[4242])
    client.force_login(supervisor)
    assert f'href="{conversation}"' in client.get(DASHBOARD).content.decode()
    client.force_login(administrator)  # the administrator does not read citizens' conversations
    html = client.get(DASHBOARD).content.decode()
    assert f'href="{conversation}"' not in html
    assert "#4242" in html


def test_the_latest_breaches_are_listed_and_the_rest_counted(english, supervisor, reports):
    breach = sample_report().sla_breaches[0]
    latest = [
        replace(breach, conversation_id=n) for n in range(100, 50, -1)
    ]  # report_build's 50, latest first
    reports.by_filters[NOVEMBER] = replace(sample_report(), sla_breaches=latest, sla_breaches_total=60)
    english.force_login(supervisor)
    response = english.get(DASHBOARD, {"preset": "last_month"})
    shown = re.findall(r"#(\d+)</a>", response.content.decode())
    assert shown == [str(n) for n in range(100, 50, -1)]
    assert "And 10 more breaches, in the CSV file." in text_of(response)


def test_every_csv_is_linked_with_the_same_filters(supervisor_client, reports):
    page = page_of(supervisor_client.get(DASHBOARD, {"preset": "last_month", "network": "x"}))
    links = {e["attrs"]["href"] for e in page.find("a") if "/export/" in e["attrs"].get("href", "")}
    query = "preset=custom&start=2026-11-01&end=2026-11-30&network=x&channel=&tag="
    assert links == {f"{reverse('metrics:export', args=[table])}?{query}" for table in TABLES}


def test_citizen_chosen_names_are_escaped(supervisor_client, reports):
    script = "<script>alert(1)</script>"
    Tag.objects.create(name=script)
    reports.by_filters[NOVEMBER] = replace(
        sample_report(),
        best_hours=[BestHours(segment=script, slots=[(0, 9, 1.0)])],
        backlog=Backlog(waiting=1, oldest_seconds=60, age_buckets=[(script, 1)]),
    )
    html = supervisor_client.get(DASHBOARD, {"preset": "last_month"}).content.decode()
    assert script not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- Accessibility --------------------------------------------------------------------------------


def test_every_chart_is_named_and_followed_by_a_data_table(supervisor_client, reports):
    html = supervisor_client.get(DASHBOARD).content.decode()
    charts = re.findall(r'<svg [^>]*role="img"[^>]*aria-labelledby="([\w-]+)-title \1-desc"', html)
    assert set(charts) == {"chart-timings", "chart-volume", "chart-heatmap", "chart-backlog"}
    for chart in charts:
        after = html[html.index(f'id="{chart}-desc"') :]
        table = after[after.index("<table") : after.index("</table>")]
        assert f'<caption id="{chart}-table">' in table
        assert '<th scope="col"' in table and '<th scope="row">' in table


def test_every_table_has_a_caption_and_headers_with_scope(supervisor_client, reports):
    page = page_of(supervisor_client.get(DASHBOARD))
    tables = page.find("table")
    assert len(tables) >= 10
    assert len(page.find("caption")) == len(tables)
    assert all(th["attrs"].get("scope") in {"col", "row", "rowgroup"} for th in page.find("th"))


def test_each_section_explains_its_figures(supervisor_client, reports):
    html = supervisor_client.get(DASHBOARD).content.decode()
    for slug in (
        "first-response",
        "response-rate",
        "sla",
        "volume",
        "backlog",
        "opening-backlog",
        "off-hours-coverage",
        "engagement-per-post",
        "best-hours",
        "care-cycle",
        "business-time",
    ):
        assert f'{HELP}#{slug}"' in html, slug
    assert f'<abbr title="{DEFINITIONS["median"].text}">' in html.replace("&#x27;", "'")


@pytest.mark.parametrize("url", [DASHBOARD, REPORT, HELP])
def test_the_pages_need_nothing_the_content_security_policy_blocks(supervisor_client, reports, url):
    response = supervisor_client.get(url)
    assert csp_violations(response) == []
    assert page_of(response).find("link", rel="stylesheet", href="/static/css/metrics.css")


# --- Printable monthly report ---------------------------------------------------------------------


def test_the_monthly_report_compares_with_the_previous_calendar_month(english, supervisor, reports):
    english.force_login(supervisor)
    response = english.get(REPORT, {"month": "2026-03"})
    assert reports.asked == [
        Filters(start=date(2026, 3, 1), end=date(2026, 3, 31)),
        Filters(start=date(2026, 2, 1), end=date(2026, 2, 28)),
    ]
    text = text_of(response)
    assert "Desk report: March 2026" in text
    assert "compared with February 2026" in text
    assert "Generated on 10 Dec 2026, 12:00" in text


def test_the_monthly_report_defaults_to_last_month_and_keeps_the_filters(english, supervisor, reports):
    english.force_login(supervisor)
    text = text_of(english.get(REPORT, {"network": "facebook"}))
    assert reports.asked[0] == Filters(start=date(2026, 11, 1), end=date(2026, 11, 30), network="facebook")
    assert "Network: Facebook" in text


@pytest.mark.parametrize(
    ("month", "message"), [("2027-01", "has not started yet"), ("noviembre", "for example 2026-11")]
)
def test_a_bad_month_is_refused_clearly(english, supervisor, reports, month, message):
    english.force_login(supervisor)
    response = english.get(REPORT, {"month": month})
    assert message in text_of(response)
    assert reports.asked == []


def test_the_printed_report_has_everything_open_and_no_download_links(supervisor_client, reports):
    page = page_of(supervisor_client.get(REPORT))
    assert page.find("article", **{"class": "printable-report"})
    details = page.find("details")
    assert details and all("open" in element["attrs"] for element in details)
    assert not [e for e in page.find("a") if "/export/" in e["attrs"].get("href", "")]
    assert len(page.find("svg")) == 4


def test_printing_leaves_out_navigation_and_forms():
    from pathlib import Path

    from django.conf import settings

    css = (Path(settings.BASE_DIR) / "static" / "css" / "metrics.css").read_text()
    print_rules = css[css.index("@media print") :]
    hidden = print_rules[: print_rules.index("display: none")]
    for selector in (".site-header", ".nav-wrap", ".no-print", ".metrics-filters", ".export-links"):
        assert selector in hidden


# --- Help page and words --------------------------------------------------------------------------

REQUIRED_DEFINITIONS = {
    "first_response",
    "reply_time",
    "resolution",
    "care_cycle",
    "business_time",
    "office_split",
    "response_rate",
    "sla",
    "opening_backlog",
    "off_hours_coverage",
    "engagement_per_post",
    "best_hours",
}


def test_the_help_page_lists_every_definition(english, supervisor):
    english.force_login(supervisor)
    response = english.get(HELP)
    page = page_of(response)
    text = text_of(response)
    assert set(DEFINITIONS) >= REQUIRED_DEFINITIONS
    with translation.override("en"):
        for definition in DEFINITIONS.values():
            term = page.find("dt", id=definition.slug)
            assert term and term[0]["text"] == str(definition.term)
            assert str(definition.text) in text
    assert "a message written on Friday at 16:30 with a 1-hour target" in text
    assert "due on Monday at opening time plus the remaining 30 minutes" in text
    assert "UTF-8 with a byte-order mark" in text


@pytest.mark.parametrize(
    ("seconds", "days", "shown"),
    [
        (None, True, "—"),
        (42, True, "42 s"),
        (61, True, "1 min"),
        (3599, True, "1 h"),
        (8100, True, "2 h 15 min"),
        (86400 + 4 * 3600 + 20 * 60, True, "1 d 4 h"),
        (3 * 86400, True, "3 d"),
        (26 * 3600 + 30 * 60, False, "26 h 30 min"),
    ],
)
def test_durations_read_in_human_units(seconds, days, shown):
    with translation.override("en"):
        assert duration_human(seconds, days=days) == shown


def test_shares_follow_the_language():
    with translation.override("es"):
        assert percent_human(0.875).startswith("87,5")
    with translation.override("en"):
        assert percent_human(0.875) == "87.5%"
        assert percent_human(None) == "—"


@pytest.mark.parametrize(
    ("current", "previous", "lower_is_better", "arrow", "verdict"),
    [
        (600, 300, True, "↑", "worse"),
        (300, 600, True, "↓", "better"),
        (0.9, 0.8, False, "↑", "better"),
        (12, 20, None, "↓", ""),
        (300, 300, True, "=", ""),
    ],
)
def test_a_change_is_said_with_an_arrow_and_in_words(current, previous, lower_is_better, arrow, verdict):
    measure = "share" if isinstance(current, float) else "duration" if lower_is_better else "count"
    with translation.override("en"):
        change = change_describe(current, previous, measure=measure, lower_is_better=lower_is_better)
    assert (change.arrow, change.verdict) == (arrow, verdict)
    assert ("previous period" in change.text) and (verdict in change.text)


def test_no_change_without_both_figures():
    assert change_describe(None, 300, measure="duration", lower_is_better=True) is None
    assert change_describe(300, None, measure="duration", lower_is_better=True) is None


def test_the_month_form_gives_whole_calendar_months():
    form = MonthlyReportForm({"month": "2028-02"}, today=date(2028, 3, 5))
    assert form.is_valid(), form.errors
    assert (form.filters().start, form.filters().end) == (date(2028, 2, 1), date(2028, 2, 29))
    assert form.previous_month() == Filters(start=date(2028, 1, 1), end=date(2028, 1, 31))


def test_networks_are_named_by_their_label(english, supervisor, reports):
    english.force_login(supervisor)
    text = text_of(english.get(DASHBOARD, {"preset": "last_month"}))
    assert f"{Network.FACEBOOK.label} 8 16" in text  # by network: conversations and messages


# --- Through the real report: conversations → rollups → page ----------------------------------------

WEDNESDAY = date(2026, 11, 25)  # office 09:00–17:00 (tests/metrics/conftest.py)
REFRESHED = madrid(2026, 12, 1, 12)


def _desk_day(channel, day: date, conversations: int, *, late: int = 0) -> None:
    """`conversations` citizens write in the morning of `day` and get an answer 10, 20, 30 … minutes
    later; then `late` more are answered the next afternoon, well past the 7-hour private target."""
    for n in range(conversations):
        answered(
            channel, at=madrid(day.year, day.month, day.day, 10, n), after=timedelta(minutes=10 * (n + 1))
        )
    for n in range(late):
        answered(channel, at=madrid(day.year, day.month, day.day, 10, 30 + n), after=timedelta(hours=30))


def test_the_dashboard_shows_what_happened_on_the_desk(english, supervisor, sandbox_channel, office_hours):
    _desk_day(sandbox_channel, WEDNESDAY, 3, late=1)
    refreshed(REFRESHED)
    english.force_login(supervisor)
    # Wednesday and Thursday: the late one was due on Thursday morning.
    query = {"preset": "custom", "start": "2026-11-25", "end": "2026-11-26"}
    response = english.get(DASHBOARD, query)
    text = text_of(response)
    # Four care cycles answered after 10, 20, 30 minutes and 30 hours: the median is 25 minutes.
    assert "First response, median (wall-clock time) 25 min" in text
    assert "Response rate 100.0%" in text
    assert "Conversations 4" in text and "Citizens' messages 4" in text
    conversation = Conversation.objects.order_by("-pk").first()
    assert f'href="{reverse("inbox:conversation", args=[conversation.pk])}"' in response.content.decode()
    assert "Private message 7 h 4 3 1 75.0%" in text  # the seeded 7-hour target: three met, one late

    _header, *breaches = list(
        csv.reader(
            io.StringIO(
                english.get(reverse("metrics:export", args=["sla_breaches"]), query).content.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert [row[0] for row in breaches] == [str(conversation.pk)]
    _header, *timings = list(
        csv.reader(
            io.StringIO(
                english.get(reverse("metrics:export", args=["timings"]), query).content.decode("utf-8-sig")
            )
        )
    )
    assert timings[0][:5] == ["First response time", "Wall-clock time", "At any time", "4", "1500"]


def test_the_dashboards_queries_do_not_grow_with_the_data(
    supervisor_client, sandbox_channel, office_hours, django_assert_max_num_queries
):
    query = {"preset": "custom", "start": "2026-11-02", "end": "2026-11-29", "compare": "on"}
    _desk_day(sandbox_channel, WEDNESDAY, 1)
    refreshed(REFRESHED)
    with CaptureQueriesContext(connection) as small:
        assert supervisor_client.get(DASHBOARD, query).status_code == 200

    for day in (date(2026, 11, 3), date(2026, 11, 10), date(2026, 11, 18), date(2026, 11, 26)):
        _desk_day(sandbox_channel, day, 6, late=2)
    _account, other = make_sandbox_channel(handle="empleo_joven", name="Empleo Joven")
    _desk_day(other, date(2026, 11, 12), 5, late=1)
    refreshed(madrid(2026, 12, 2, 12))
    with django_assert_max_num_queries(len(small)):
        response = supervisor_client.get(DASHBOARD, query)
    assert response.context["page"].report.backlog.waiting == 0
    assert sum(row.conversations for row in response.context["page"].report.volume) == 1 + 4 * 8 + 6


@pytest.mark.parametrize(
    ("start", "end", "unit", "columns"),
    [
        (date(2026, 11, 1), date(2026, 11, 30), "Day", 30),
        (date(2026, 1, 1), date(2026, 12, 31), "Week", 53),  # 1 January 2026 is a Thursday
        (date(2024, 1, 1), date(2026, 12, 31), "Month", 36),
    ],
)
def test_the_volume_chart_groups_long_periods(start, end, unit, columns):
    rows = [
        VolumeRow(day=start, network="x", conversation_kind="mention", conversations=1, messages=2),
        VolumeRow(day=end, network="x", conversation_kind="mention", conversations=1, messages=3),
    ]
    with translation.override("en"):
        chart = report_present(sample_report(Filters(start=start, end=end), volume=rows)).volume_chart
    assert chart.headers[0] == unit
    assert len(chart.rows) == columns
    assert (chart.rows[0][1:], chart.rows[-1][1:]) == (["1", "2"], ["1", "3"])


def test_days_outside_the_period_are_not_charted():
    outside = VolumeRow(
        day=date(2026, 12, 1), network="x", conversation_kind="mention", conversations=9, messages=9
    )
    chart = report_present(sample_report(volume=[outside])).volume_chart
    assert all(row[1:] == ["0", "0"] for row in chart.rows)
