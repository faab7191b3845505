"""The filters of the metrics pages: a period (a preset or two dates), network, channel and tag, and
whether to compare with the previous period. Days are Europe/Madrid days, as in the reports."""

from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from inbox.models import Tag
from metrics.report_types import Filters
from networks.models import Channel, Network

MAX_YEARS = 3

LAST_30_DAYS = "last_30_days"
THIS_MONTH = "this_month"
LAST_MONTH = "last_month"
LAST_12_MONTHS = "last_12_months"
CUSTOM = "custom"
PRESETS = [
    (LAST_30_DAYS, _("Last 30 days")),
    (THIS_MONTH, _("This month")),
    (LAST_MONTH, _("Last month")),
    (LAST_12_MONTHS, _("Last 12 months")),
    (CUSTOM, _("Custom dates")),
]


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def month_bounds(first: date) -> tuple[date, date]:
    """First and last day of the month `first` falls in."""
    start = first.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following - timedelta(days=1)


def preset_period(preset: str, today: date) -> tuple[date, date]:
    if preset == THIS_MONTH:
        return today.replace(day=1), today
    if preset == LAST_MONTH:
        return month_bounds(today.replace(day=1) - timedelta(days=1))
    if preset == LAST_12_MONTHS:
        return years_before(today, 1) + timedelta(days=1), today
    return today - timedelta(days=29), today


class _SegmentFields(forms.Form):
    """Network, channel and tag: shared by the dashboard and the monthly report."""

    network = forms.ChoiceField(
        label=_("Network"), required=False, choices=[("", _("All networks")), *Network.choices]
    )
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        required=False,
        queryset=Channel.objects.order_by("display_name"),
        empty_label=_("All channels"),
    )
    tag = forms.ModelChoiceField(
        label=_("Tag"), required=False, queryset=Tag.objects.all(), empty_label=_("All tags")
    )

    def described(self) -> list[tuple[str, str]]:
        """(label, chosen value) of network, channel and tag, for the page and the printed report."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        network = data.get("network", "")
        return [
            (self.fields["network"].label, Network(network).label if network else _("All networks")),
            (self.fields["channel"].label, str(data.get("channel") or _("All channels"))),
            (self.fields["tag"].label, str(data.get("tag") or _("All tags"))),
        ]

    def _filters(self, start: date, end: date) -> Filters:
        channel, tag = self.cleaned_data.get("channel"), self.cleaned_data.get("tag")
        return Filters(
            start=start,
            end=end,
            network=self.cleaned_data.get("network", ""),
            channel_id=channel.pk if channel else None,
            tag_id=tag.pk if tag else None,
        )


class ReportFilterForm(_SegmentFields):
    """Without any parameter (the first visit): the last 30 days, compared with the 30 days before."""

    preset = forms.ChoiceField(label=_("Period"), required=False, choices=PRESETS)
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("With “Custom dates”."),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Included."),
    )
    compare = forms.BooleanField(label=_("Compare with the previous period"), required=False, label_suffix="")

    field_order = ["preset", "start", "end", "network", "channel", "tag", "compare"]

    def __init__(self, data=None, *, today: date, **kwargs):
        # A first visit compares; once the form was sent, the checkbox says.
        super().__init__(data or None, initial={"preset": LAST_30_DAYS, "compare": True}, **kwargs)
        self.today = today

    def clean(self) -> dict:
        data = super().clean()
        preset = data.get("preset") or (CUSTOM if data.get("start") or data.get("end") else LAST_30_DAYS)
        data["preset"] = preset
        if preset != CUSTOM:
            data["start"], data["end"] = preset_period(preset, self.today)
            return data
        start, end = data.get("start"), data.get("end")
        if "start" in self.errors or "end" in self.errors:
            return data
        if start is None or end is None:
            raise ValidationError(_("Give both dates of a custom period."), code="incomplete")
        if start > end:
            raise ValidationError(_("The period must start on or before the day it ends."), code="reversed")
        if start <= years_before(end, MAX_YEARS):
            raise ValidationError(
                _("A period can be at most %(years)s years long."),
                code="too_long",
                params={"years": MAX_YEARS},
            )
        return data

    def filters(self) -> Filters:
        """The report's filters (call after is_valid(); an unbound form gives the default)."""
        if not self.is_bound:
            return Filters(*preset_period(LAST_30_DAYS, self.today))
        return self._filters(self.cleaned_data["start"], self.cleaned_data["end"])

    @property
    def wants_comparison(self) -> bool:
        return True if not self.is_bound else bool(self.cleaned_data.get("compare"))


class MonthlyReportForm(_SegmentFields):
    """`?month=2026-11`; without it, last month (the one a supervisor forwards)."""

    month = forms.DateField(
        label=_("Month"),
        required=False,
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages={"invalid": _("Give the month as year and month, for example 2026-11.")},
    )

    field_order = ["month", "network", "channel", "tag"]

    def __init__(self, data=None, *, today: date, **kwargs):
        super().__init__(data or None, **kwargs)
        self.today = today

    def clean_month(self) -> date:
        month = self.cleaned_data.get("month")
        if month is None:
            return self.today.replace(day=1) - timedelta(days=1)
        if month > self.today:
            raise ValidationError(_("That month has not started yet."), code="future")
        return month

    def filters(self) -> Filters:
        if not self.is_bound:
            return Filters(*month_bounds(self.today.replace(day=1) - timedelta(days=1)))
        return self._filters(*month_bounds(self.cleaned_data["month"]))

    def previous_month(self) -> Filters:
        """The calendar month before (not Filters.previous(): months differ in length)."""
        current = self.filters()
        start, end = month_bounds(current.start - timedelta(days=1))
        return Filters(
            start=start,
            end=end,
            network=current.network,
            channel_id=current.channel_id,
            tag_id=current.tag_id,
        )
