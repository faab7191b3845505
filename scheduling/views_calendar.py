"""The schedule's pages: the week and month calendars, the upcoming list, moving and dropping a
delivery from them, and the manager's iCalendar feed (with the page action that renews its address).

Moves and drops come from a plain form (keyboard, no JavaScript) or from drag and drop, which
submits that same form through htmx; either way the outcome is a message on the reloaded page.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from lib.icalendar import calendar_serialize
from scheduling.calendar import (
    calendar_entry,
    calendar_feed_token_renew,
    channel_ids_from,
    channel_options,
    feed_deliveries,
    feed_event,
    feed_owner,
    feed_token_of,
    local_today,
    month_calendar,
    month_first,
    upcoming_page,
    week_calendar,
    week_monday,
)
from scheduling.composer import variant_check
from scheduling.deliveries import DeliveryNotChangeable, DeliveryTimeInPast, delivery_cancel, delivery_move
from scheduling.media import post_image_facts
from scheduling.models import Delivery, DeliveryState
from socialdesk.access import Capability, require, user_can
from socialdesk.audit import audit_record
from socialdesk.business_calendar import business_calendar
from socialdesk.models.audit import AuditAction

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class DeliveryMoveForm(forms.Form):
    """A new local time, and a corrected text when the form sends one (a drag sends the time only)."""

    at = forms.DateTimeField(label=_("New time"), widget=DATETIME_INPUT)
    text = forms.CharField(label=_("Text"), required=False, strip=False, widget=forms.Textarea)

    def __init__(self, *args, delivery: Delivery, **kwargs):
        super().__init__(*args, **kwargs)
        self.delivery = delivery

    def clean_text(self) -> str | None:
        if "text" not in self.data:
            return None
        # Browsers send a textarea's line breaks as CRLF: an untouched text must compare equal.
        text = self.cleaned_data["text"].replace("\r\n", "\n")
        if not text.strip():
            raise forms.ValidationError(_("The text cannot be empty."))
        if text != self.delivery.text:
            check = variant_check(
                channel=self.delivery.channel,
                text=text,
                link=self.delivery.post.link,
                image=post_image_facts(self.delivery.post),
            )
            if check.remaining < 0:
                raise forms.ValidationError(
                    _("%(excess)d characters too long for %(network)s."),
                    params={
                        "excess": -check.remaining,
                        "network": self.delivery.channel.get_network_display(),
                    },
                )
        return text


# --- Pages ----------------------------------------------------------------------------------------


def _feed_url(request: HttpRequest) -> str:
    """The manager's own feed address, when she has one (the supervisor changes nothing, so has none)."""
    if not user_can(request.user, Capability.WORK_DESK):
        return ""
    feed_token = feed_token_of(request.user)
    return (
        request.build_absolute_uri(reverse("scheduling:feed", args=[feed_token.token])) if feed_token else ""
    )


def _calendar_context(request: HttpRequest, channel_ids: tuple[int, ...]) -> dict:
    return {
        "channels": channel_options(selected=channel_ids),
        "channel_query": urlencode([("channel", channel_id) for channel_id in channel_ids]),
        "feed_url": _feed_url(request),
    }


@require(Capability.READ_DESK)
def calendar_week(request: HttpRequest) -> HttpResponse:
    today = local_today()
    channel_ids = channel_ids_from(request.GET.getlist("channel"))
    week = week_calendar(
        monday=week_monday(request.GET.get("week"), today=today),
        calendar=business_calendar(),
        today=today,
        channel_ids=channel_ids,
    )
    context = {"week": week, **_calendar_context(request, channel_ids)}
    return render(request, "scheduling/calendar_week.html", context)


@require(Capability.READ_DESK)
def calendar_month(request: HttpRequest) -> HttpResponse:
    today = local_today()
    channel_ids = channel_ids_from(request.GET.getlist("channel"))
    month = month_calendar(
        first=month_first(request.GET.get("month"), today=today), today=today, channel_ids=channel_ids
    )
    context = {"month": month, **_calendar_context(request, channel_ids)}
    return render(request, "scheduling/calendar_month.html", context)


@require(Capability.READ_DESK)
def schedule_list(request: HttpRequest) -> HttpResponse:
    channel_ids = channel_ids_from(request.GET.getlist("channel"))
    state = request.GET.get("state", "")
    echoes_only = request.GET.get("echoes") == "1"
    page = upcoming_page(
        today=local_today(),
        channel_ids=channel_ids,
        echoes_only=echoes_only,
        state=state,
        page=request.GET.get("page", 1),
    )
    context = {
        "page": page,
        "entries": [calendar_entry(delivery) for delivery in page.object_list],
        "channels": channel_options(selected=channel_ids),
        "states": DeliveryState.choices,
        "state": state if state in DeliveryState.values else "",
        "echoes_only": echoes_only,
    }
    return render(request, "scheduling/schedule_list.html", context)


# --- Changes --------------------------------------------------------------------------------------


def _back(request: HttpRequest, *, anchor: str = "") -> HttpResponse:
    """Back to the page the change came from, where the queued message says what happened. Under
    htmx (a drag) the page reloads itself in place, keeping its scroll position."""
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Refresh": "true"})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = reverse("scheduling:calendar")
    return redirect(f"{target}#{anchor}" if anchor else target)


def _not_changeable(request: HttpRequest) -> None:
    messages.error(request, gettext("This post is being published or is already done: it cannot change now."))


@require(Capability.WORK_DESK)
@require_POST
def event_move(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery.objects.select_related("channel", "post"), pk=delivery_id)
    form = DeliveryMoveForm(request.POST, delivery=delivery)
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return _back(request, anchor=f"delivery-{delivery.pk}")
    at = form.cleaned_data["at"]
    try:
        delivery_move(delivery=delivery, at=at, text=form.cleaned_data["text"])
    except DeliveryTimeInPast:
        messages.error(request, gettext("That time has already passed: choose a time in the future."))
    except DeliveryNotChangeable:
        _not_changeable(request)
    else:
        audit_record(
            action=AuditAction.DELIVERY_MOVED,
            actor=request.user,
            target=delivery,
            details={"to": at.isoformat(), "text_changed": form.cleaned_data["text"] != delivery.text},
            request=request,
        )
        when = formats.date_format(timezone.localtime(at), "j M Y, H:i")
        messages.success(request, gettext("Moved to %(when)s.") % {"when": when})
    return _back(request, anchor=f"delivery-{delivery.pk}")


@require(Capability.WORK_DESK)
@require_POST
def event_cancel(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery, pk=delivery_id)
    try:
        delivery_cancel(delivery=delivery)
    except DeliveryNotChangeable:
        _not_changeable(request)
    else:
        audit_record(action=AuditAction.DELIVERY_CANCELLED, actor=request.user, target=delivery, request=request)
        messages.success(request, gettext("Cancelled: it will not be published."))
    return _back(request)


# --- The iCalendar feed ---------------------------------------------------------------------------


@require(Capability.WORK_DESK)
@require_POST
def feed_renew(request: HttpRequest) -> HttpResponse:
    calendar_feed_token_renew(user=request.user)
    audit_record(action=AuditAction.CALENDAR_FEED_RENEWED, actor=request.user, target=request.user, request=request)
    messages.success(
        request, gettext("Your calendar has a new address. The old one, if you had one, no longer works.")
    )
    return redirect(f"{reverse('scheduling:calendar')}#calendar-feed")


@login_not_required
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The schedule for the manager's own calendar app, which cannot sign in: the secret token in
    the address stands for her, for as long as she may read the desk."""
    owner = feed_owner(token=token)
    if owner is None or not user_can(owner, Capability.READ_DESK):
        raise Http404
    now = timezone.now()
    body = calendar_serialize(
        (feed_event(delivery, host=request.get_host()) for delivery in feed_deliveries(now=now)),
        product_id="-//SocialDesk//Schedule//EN",
        stamp=now,
        name=gettext("SocialDesk schedule"),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response
