from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from scheduling.selectors import drafts_page
from socialdesk.access import Capability, require


@require(Capability.READ_DESK)
def drafts(request: HttpRequest) -> HttpResponse:
    return render(request, "scheduling/drafts.html", {"page": drafts_page(page=request.GET.get("page", 1))})
