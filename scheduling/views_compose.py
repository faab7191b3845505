"""The composer page; its live check and its image upload (the page's own fragments, re-rendered by
htmx); and the post images, shown to the desk only."""

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from scheduling.composer import post_compose
from scheduling.forms_compose import ComposeForm
from scheduling.media import image_mime_type, image_servable, image_token
from scheduling.models import Post, PostStatus
from socialdesk.access import Capability, require

# Image names are never reused (image_store draws a random one), so the browser may keep them.
IMAGE_CACHE_SECONDS = 24 * 60 * 60


@require(Capability.WORK_DESK)
def compose(request: HttpRequest) -> HttpResponse:
    draft = None
    if request.GET.get("post"):
        draft = get_object_or_404(Post, pk=request.GET["post"], status=PostStatus.DRAFT)
    if request.method != "POST":
        return _compose_page(request, ComposeForm(initial=_initial(draft)), draft)
    form = ComposeForm(request.POST, request.FILES).with_upload_stored()
    if not form.is_valid():
        return _compose_page(request, form, draft, status=400)
    when = form.cleaned_data["when"]
    at = form.cleaned_data["at"] if when == ComposeForm.AT else None
    post_compose(
        text=form.cleaned_data["text"],
        link=form.cleaned_data["link"],
        variants=form.variants(),
        at=at,
        draft=when == ComposeForm.DRAFT,
        actor=request.user,
        post=draft,
        topic=form.cleaned_data["topic"],
        segment=form.audience()[0],
        image=form.image_name(),
        image_alt_text=form.cleaned_data["image_alt_text"].strip(),
    )
    if when == ComposeForm.DRAFT:
        messages.success(request, gettext("Saved as a draft."))
        return redirect("scheduling:drafts")
    if at is not None and at > timezone.now():
        when_text = formats.date_format(timezone.localtime(at), "DATETIME_FORMAT")
        messages.success(request, gettext("Scheduled for %(when)s.") % {"when": when_text})
    else:
        messages.success(request, gettext("Sent to its channels."))
    return redirect("publishing:compose")


@require(Capability.WORK_DESK)
@require_POST
def compose_check(request: HttpRequest) -> HttpResponse:
    return render(
        request, "scheduling/_compose_counters.html", {"live": ComposeForm(request.POST).live_check()}
    )


@require(Capability.WORK_DESK)
@require_POST
def compose_image(request: HttpRequest) -> HttpResponse:
    """A file chosen in the composer: checked and stored at once, then the image part of the form
    and the live check come back (the Instagram "needs an image" problem goes away)."""
    form = ComposeForm(request.POST, request.FILES).with_upload_stored()
    context = {"form": form, "live": form.live_check(), "refresh_check": True}
    return render(request, "scheduling/_compose_image.html", context)


@require(Capability.READ_DESK)
@require_safe
def image(request: HttpRequest, name: str) -> HttpResponse:
    """A post image for the desk's pages. Never public here: the web server serves MEDIA_URL to the
    networks that fetch images themselves (Instagram)."""
    if not image_servable(name) or not default_storage.exists(name):
        raise Http404
    response = FileResponse(default_storage.open(name, "rb"), content_type=image_mime_type(name))
    response["Cache-Control"] = f"private, max-age={IMAGE_CACHE_SECONDS}"
    return response


def _compose_page(
    request: HttpRequest, form: ComposeForm, draft: Post | None, status: int = 200
) -> HttpResponse:
    context = {"form": form, "live": form.live_check(), "draft": draft}
    return render(request, "scheduling/compose.html", context, status=status)


def _initial(draft: Post | None) -> dict:
    """The composer opened on a draft (one started from a curated item, say) starts from it."""
    if draft is None:
        return {}
    return {
        "text": draft.text,
        "link": draft.link,
        "topic": draft.topic_id,
        "segment": draft.segment_id,
        "image_token": image_token(draft.image.name) if draft.image else "",
        "image_alt_text": draft.image_alt_text,
    }
