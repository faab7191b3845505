"""Publishing pages: the emergency pause, and the deliveries waiting for the manager's decision."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from scheduling.deliveries import DeliveryNotChangeable, delivery_cancel, delivery_reschedule
from scheduling.forms_publish import DeliveryDecisionForm, PauseForm
from scheduling.models import Delivery, HeldReason
from scheduling.pause import publishing_pause, publishing_pause_open, publishing_resume
from scheduling.selectors_publish import deliveries_needing_attention, pauses_recent
from socialdesk.access import Capability, require


def _pause_page(request: HttpRequest, form: PauseForm, status: int = 200) -> HttpResponse:
    context = {"pause": publishing_pause_open(), "pauses": pauses_recent(), "form": form}
    return render(request, "scheduling/pause.html", context, status=status)


@require(Capability.READ_DESK)
def pause(request: HttpRequest) -> HttpResponse:
    return _pause_page(request, PauseForm())


@require(Capability.WORK_DESK)
@require_POST
def pause_start(request: HttpRequest) -> HttpResponse:
    form = PauseForm(request.POST)
    if not form.is_valid():
        return _pause_page(request, form, status=400)
    publishing_pause(
        reason=form.cleaned_data["reason"],
        ends_at=form.cleaned_data["ends_at"],
        actor=request.user,
        request=request,
    )
    messages.warning(request, gettext("Publishing is paused. Nothing goes out until you resume."))
    return redirect("publishing:pause")


@require(Capability.WORK_DESK)
@require_POST
def pause_resume(request: HttpRequest) -> HttpResponse:
    held = publishing_resume(actor=request.user, request=request)
    messages.success(
        request,
        ngettext(
            "Publishing resumed. %(count)d post came due during the pause: decide what to do with it.",
            "Publishing resumed. %(count)d posts came due during the pause: decide what to do with them.",
            held,
        )
        % {"count": held},
    )
    return redirect(f"{reverse('publishing:attention')}?reason={HeldReason.PAUSE}")


@require(Capability.READ_DESK)
def attention(request: HttpRequest) -> HttpResponse:
    held_reason = request.GET.get("reason", "")
    context = {
        "deliveries": deliveries_needing_attention(held_reason=held_reason),
        "held_reason": held_reason if held_reason in HeldReason.values else "",
        "reasons": HeldReason.choices,
    }
    return render(request, "scheduling/attention.html", context)


@require(Capability.WORK_DESK)
@require_POST
def delivery_decide(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery, pk=delivery_id)
    form = DeliveryDecisionForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(str(error) for field_errors in form.errors.values() for error in field_errors)
        messages.error(request, errors)
        return redirect("publishing:attention")
    action, text = form.cleaned_data["action"], form.cleaned_data["text"]
    try:
        if action == DeliveryDecisionForm.DROP:
            delivery_cancel(delivery=delivery)
            messages.success(request, gettext("The post was dropped from that channel."))
        else:
            at = form.cleaned_data["at"] if action == DeliveryDecisionForm.RESCHEDULE else None
            delivery_reschedule(delivery=delivery, at=at, text=text)
            messages.success(request, gettext("Scheduled again."))
    except DeliveryNotChangeable:
        messages.error(
            request, gettext("This post is being published or is already done: it cannot change now.")
        )
    return redirect("publishing:attention")
