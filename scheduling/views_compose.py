"""The composer page, and its live counters (the same fragment, re-rendered by htmx)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from scheduling.composer import post_compose
from scheduling.forms_compose import ComposeForm
from scheduling.models import Post, PostStatus
from socialdesk.access import Capability, require


@require(Capability.WORK_DESK)
def compose(request: HttpRequest) -> HttpResponse:
    draft = None
    if request.GET.get("post"):
        draft = get_object_or_404(Post, pk=request.GET["post"], status=PostStatus.DRAFT)
    if request.method != "POST":
        initial = {"text": draft.text, "link": draft.link} if draft else {}
        form = ComposeForm(initial=initial)
        return render(
            request, "scheduling/compose.html", {"form": form, "checks": form.checks(), "draft": draft}
        )
    form = ComposeForm(request.POST)
    if not form.is_valid():
        context = {"form": form, "checks": form.checks(), "draft": draft}
        return render(request, "scheduling/compose.html", context, status=400)
    when = form.cleaned_data["when"]
    post_compose(
        text=form.cleaned_data["text"],
        link=form.cleaned_data["link"],
        variants=form.variants(),
        at=form.cleaned_data["at"] if when == ComposeForm.AT else None,
        draft=when == ComposeForm.DRAFT,
        actor=request.user,
        post=draft,
        topic=draft.topic if draft else None,
    )
    if when == ComposeForm.DRAFT:
        messages.success(request, gettext("Saved as a draft."))
        return redirect("scheduling:drafts")
    messages.success(request, gettext("Sent to its channels."))
    return redirect("publishing:compose")


@require(Capability.WORK_DESK)
@require_POST
def compose_check(request: HttpRequest) -> HttpResponse:
    return render(
        request, "scheduling/_compose_counters.html", {"checks": ComposeForm(request.POST).checks()}
    )
