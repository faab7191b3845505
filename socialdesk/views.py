from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from socialdesk.access import Capability, require
from socialdesk.health import health_report
from socialdesk.selectors import home_summary


@login_not_required
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


@require(Capability.VIEW_HOME)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "socialdesk/home.html", {"summary": home_summary(user=request.user)})
