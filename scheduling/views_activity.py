"""The activity heatmap (when each audience is online, per channel) and the posts made outside
SocialDesk waiting for the manager to echo them or not."""

from dataclasses import dataclass
from datetime import time

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from networks.models import Channel, ChannelStatus
from scheduling.activity import (
    ACTIVITY_WINDOW,
    DAYS,
    HOURS,
    ActivityWeek,
    activity_week,
    activity_week_all_channels,
)
from scheduling.models import AudienceSegment, Post, PostOrigin
from scheduling.timeline import (
    OutsidePostNotOffered,
    outside_post_dismiss,
    outside_post_echo,
    outside_posts_offered,
)
from socialdesk.access import Capability, require
from socialdesk.business_calendar import business_calendar

ALL_CHANNELS = "all"
HEAT_LEVELS = 10
OUTSIDE_PAGE_SIZE = 50


class ActivityFilterForm(forms.Form):
    segment = forms.ModelChoiceField(
        label=gettext_lazy("Audience"),
        queryset=AudienceSegment.objects.filter(is_active=True),
        to_field_name="slug",
        required=False,
        empty_label=None,
    )
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), required=False)

    def __init__(self, *args, channels: list[Channel], **kwargs):
        super().__init__(*args, **kwargs)
        self.channels = {str(channel.pk): channel for channel in channels}
        self.fields["channel"].choices = [(ALL_CHANNELS, gettext_lazy("All channels"))] + [
            (pk, str(channel)) for pk, channel in self.channels.items()
        ]

    def selection(self) -> tuple[AudienceSegment | None, Channel | None]:
        """The chosen audience (the first one when none is chosen) and channel (None: all)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        segment = data.get("segment") or self.fields["segment"].queryset.first()
        return segment, self.channels.get(data.get("channel") or ALL_CHANNELS)


class OutsideEchoForm(forms.Form):
    segment = forms.TypedChoiceField(
        label=gettext_lazy("Audience"), coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args, segments: list[AudienceSegment], **kwargs):
        # The audiences come in already read: the page shows one form per post.
        super().__init__(*args, **kwargs)
        self.segments = {segment.pk: segment for segment in segments}
        self.fields["segment"].choices = [("", gettext_lazy("No particular audience"))] + [
            (segment.pk, segment.name) for segment in segments
        ]

    def clean_segment(self) -> AudienceSegment | None:
        pk = self.cleaned_data["segment"]
        return self.segments[pk] if pk is not None else None


@dataclass(frozen=True)
class HeatCell:
    hour: int
    score: int  # 0..100
    level: int  # 0..HEAT_LEVELS-1, the CSS class heat-<level>
    samples: int
    is_learned: bool
    is_office_hours: bool


def heatmap_rows(week: ActivityWeek, weekly_hours) -> list[tuple[str, list[HeatCell]]]:
    """(weekday name, its 24 cells), Monday first, ready for the template."""
    return [
        (
            WEEKDAYS[day],
            [
                HeatCell(
                    hour=hour,
                    score=round(week.scores[day][hour] * 100),
                    level=min(int(week.scores[day][hour] * HEAT_LEVELS), HEAT_LEVELS - 1),
                    samples=week.samples[day][hour],
                    is_learned=week.is_slot_learned(day, hour),
                    is_office_hours=_overlaps_office_hours(hour, weekly_hours[day]),
                )
                for hour in range(HOURS)
            ],
        )
        for day in range(DAYS)
    ]


def _overlaps_office_hours(hour: int, intervals: tuple[tuple[time, time], ...]) -> bool:
    """Whether any part of the hour [hour:00, hour+1:00) is office time."""
    starts, ends = hour * 60, (hour + 1) * 60
    return any(
        opening.hour * 60 + opening.minute < ends and closing.hour * 60 + closing.minute > starts
        for opening, closing in intervals
    )


@require(Capability.READ_DESK)
def activity(request: HttpRequest) -> HttpResponse:
    channels = list(Channel.objects.filter(status=ChannelStatus.ACTIVE))
    form = ActivityFilterForm(request.GET or None, channels=channels)
    segment, channel = form.selection()
    now = timezone.now()
    if channel is None:
        week = activity_week_all_channels(segment=segment, now=now)
    else:
        week = activity_week(channel=channel, segment=segment, now=now)
    context = {
        "form": form,
        "segment": segment,
        "channel": channel,
        "week": week,
        "rows": heatmap_rows(week, business_calendar().weekly_hours),
        "hours": range(HOURS),
        "heat_levels": [(level, level * 100 // HEAT_LEVELS) for level in range(HEAT_LEVELS)],
        "window_weeks": ACTIVITY_WINDOW.days // 7,
    }
    return render(request, "scheduling/activity.html", context, status=400 if form.errors else 200)


@require(Capability.READ_DESK)
def outside(request: HttpRequest) -> HttpResponse:
    page = Paginator(outside_posts_offered(), OUTSIDE_PAGE_SIZE).get_page(request.GET.get("page"))
    segments = list(AudienceSegment.objects.filter(is_active=True))
    items = [
        {
            "delivery": delivery,
            "form": OutsideEchoForm(
                prefix=f"post-{delivery.post_id}",
                initial={"segment": delivery.post.segment_id},
                segments=segments,
            ),
        }
        for delivery in page
    ]
    return render(request, "scheduling/outside.html", {"page": page, "items": items})


@require(Capability.WORK_DESK)
@require_POST
def outside_echo(request: HttpRequest, post_id: int) -> HttpResponse:
    post = get_object_or_404(Post, pk=post_id, origin=PostOrigin.NETWORK)
    segments = list(AudienceSegment.objects.filter(is_active=True))
    form = OutsideEchoForm(request.POST, prefix=f"post-{post.pk}", segments=segments)
    if not form.is_valid():
        messages.error(request, gettext("Choose one of the audiences in the list."))
        return redirect("publishing:outside")
    try:
        echoes = outside_post_echo(
            post=post,
            segment=form.cleaned_data["segment"],
            now=timezone.now(),
            actor=request.user,
            request=request,
        )
    except OutsidePostNotOffered:
        messages.error(request, gettext("This post was already echoed or set aside."))
        return redirect("publishing:outside")
    if echoes:
        messages.success(
            request,
            ngettext("%(count)d echo planned.", "%(count)d echoes planned.", len(echoes))
            % {"count": len(echoes)},
        )
    else:
        messages.warning(
            request,
            gettext(
                "No echo could be planned (echoes are off for this channel, or there is no free "
                "off-hours slot this week). The post is still here."
            ),
        )
    return redirect("publishing:outside")


@require(Capability.WORK_DESK)
@require_POST
def outside_dismiss(request: HttpRequest, post_id: int) -> HttpResponse:
    post = get_object_or_404(Post, pk=post_id, origin=PostOrigin.NETWORK)
    try:
        outside_post_dismiss(post=post)
    except OutsidePostNotOffered:
        messages.error(request, gettext("This post was already echoed or set aside."))
    else:
        messages.success(request, gettext("The post will not be echoed."))
    return redirect("publishing:outside")
