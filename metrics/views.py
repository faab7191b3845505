"""The metrics pages: the dashboard, the printable monthly report, the CSV export of every table and
the help page with every definition.

All of them only read (GET and HEAD; anything else is 405) and need READ_METRICS: the supervisor,
the manager and the administrator. The figures come from metrics.reports.report_build; these views
parse the filters, ask for the report, and render it.
"""

from dataclasses import replace
from datetime import date
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from metrics.export import TABLES, table_csv, table_filename
from metrics.formatting import DEFINITIONS, report_present
from metrics.forms import CUSTOM, MonthlyReportForm, ReportFilterForm
from metrics.report_types import Filters
from metrics.reports import report_build, sla_breaches_list
from socialdesk.access import Capability, require


def _today() -> date:
    # Report days are Europe/Madrid days (the project's TIME_ZONE).
    return timezone.localdate()


def _query(filters: Filters) -> str:
    """The query string that asks the dashboard or the CSV export for exactly these filters."""
    return urlencode(
        {
            "preset": CUSTOM,
            "start": filters.start.isoformat(),
            "end": filters.end.isoformat(),
            "network": filters.network,
            "channel": filters.channel_id or "",
            "tag": filters.tag_id or "",
        }
    )


@require(Capability.READ_METRICS)
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    form = ReportFilterForm(request.GET, today=_today())
    page = None
    if not form.is_bound or form.is_valid():
        report = report_build(form.filters(), compare=form.wants_comparison)
        page = report_present(report, report.previous)
    context = {
        "form": form,
        "page": page,
        "export_query": _query(page.report.filters) if page else "",
        "described": form.described(),
        "definitions": DEFINITIONS,
    }
    template = "metrics/_dashboard.html" if request.htmx else "metrics/dashboard.html"
    return render(request, template, context)


@require(Capability.READ_METRICS)
@require_safe
def monthly_report(request: HttpRequest) -> HttpResponse:
    form = MonthlyReportForm(request.GET, today=_today())
    page = None
    if not form.is_bound or form.is_valid():
        # The previous calendar month, not Filters.previous(): months differ in length.
        page = report_present(
            report_build(form.filters(), compare=False), report_build(form.previous_month(), compare=False)
        )
    context = {
        "form": form,
        "page": page,
        "dashboard_query": _query(page.report.filters) if page else "",
        "described": form.described(),
        "definitions": DEFINITIONS,
        "generated_at": timezone.now(),
    }
    return render(request, "metrics/report.html", context)


@require(Capability.READ_METRICS)
@require_safe
def table_export(request: HttpRequest, table: str) -> HttpResponse:
    if table not in TABLES:
        raise Http404
    form = ReportFilterForm(request.GET, today=_today())
    if form.is_bound and not form.is_valid():
        problems = [str(error) for errors in form.errors.values() for error in errors]
        return HttpResponseBadRequest("\n".join(problems), content_type="text/plain; charset=utf-8")
    filters = form.filters()
    report = report_build(filters, compare=False)
    if table == "sla_breaches":
        # The report lists the latest breaches; the file has every one of them.
        report = replace(report, sla_breaches=sla_breaches_list(filters, now=timezone.now()))
    response = HttpResponse(table_csv(report, table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{table_filename(report, table)}"'
    return response


@require(Capability.READ_METRICS)
@require_safe
def help_page(request: HttpRequest) -> HttpResponse:
    return render(request, "metrics/help.html", {"definitions": DEFINITIONS.values()})
