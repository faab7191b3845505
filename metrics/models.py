"""What the supervisor's reports are made of.

ReportingEvent is the source: one append-only fact per thing that matters to response quality.
SlaTarget holds the administrator's response targets. The rest is derived and can be thrown away
and rebuilt from the events, the messages and the conversations at any time (metrics.rollups):
one row per care cycle (CareCycleFact), one per measured span (TimingFact), message traffic per
day and per hour, and a monthly histogram of the spans that makes a year's percentiles fast.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from networks.base import InboundKind


class ReportingEventKind(models.TextChoices):
    OPENED = "opened", _("Conversation opened")
    FIRST_RESPONSE = "first_response", _("First response")
    REPLY = "reply", _("Reply")
    RESOLVED = "resolved", _("Resolved")
    REOPENED = "reopened", _("Reopened")
    # Written by metrics.sla once per care cycle whose first response is overdue.
    SLA_BREACHED = "sla_breached", _("Response target missed")


class AppendOnlyError(Exception):
    """A reporting event was to be changed or deleted: they are facts, written once."""


class ReportingEvent(models.Model):
    """One fact about response quality, written by metrics.services.reporting_event_record when it happens.

    `wall_seconds` and `business_seconds` measure the span the event closes (citizen's message →
    response, cycle start → resolution, closing → reopening), the business part with the calendar
    in force at that moment; both are None for an event that closes no span (opened).
    """

    kind = models.CharField(_("kind"), max_length=20, choices=ReportingEventKind.choices)
    occurred_at = models.DateTimeField(_("when"))
    # Kept as plain ids, not foreign keys: the record outlives what it describes.
    conversation_id = models.BigIntegerField(_("conversation"))
    channel_id = models.BigIntegerField(_("channel"))
    network = models.CharField(_("network"), max_length=20)
    conversation_kind = models.CharField(_("conversation kind"), max_length=20)
    cycle = models.PositiveIntegerField(_("care cycle"))
    started_at = models.DateTimeField(_("span started at"), null=True, blank=True)
    wall_seconds = models.FloatField(_("seconds"), null=True, blank=True)
    business_seconds = models.FloatField(_("business-hours seconds"), null=True, blank=True)
    # Whether the event happened inside office hours (calendar in force then).
    in_office_hours = models.BooleanField(_("in office hours"))
    # Whether the span's start (the citizen's message) was inside office hours, calendar in force
    # then; None for an event that closes no span. The reports split timings by it.
    started_in_office_hours = models.BooleanField(_("span started in office hours"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # "desk" (sent from SocialDesk), "network" (seen on the network, written elsewhere), "system".
    source = models.CharField(_("source"), max_length=10)
    details = models.JSONField(_("details"), default=dict, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("reporting event")
        verbose_name_plural = _("reporting events")
        indexes = [
            models.Index(fields=["kind", "occurred_at"], name="reporting_kind_occurred_idx"),
            models.Index(fields=["conversation_id", "cycle"], name="reporting_conversation_idx"),
        ]
        constraints = [
            # One breach per care cycle, whoever notices it first.
            models.UniqueConstraint(
                fields=["conversation_id", "cycle"],
                condition=models.Q(kind="sla_breached"),
                name="reporting_one_breach_per_cycle",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.conversation_id} ({self.occurred_at:%Y-%m-%d %H:%M})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("A reporting event is written once and never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("A reporting event is never deleted.")


class SlaTarget(models.Model):
    """How soon the first response to a care cycle of one kind is due, in business seconds from
    the citizen's first message of the cycle. Set by the administrator; inactive: no target."""

    conversation_kind = models.CharField(
        _("kind of conversation"), max_length=20, choices=InboundKind.choices, unique=True
    )
    business_seconds = models.PositiveIntegerField(
        _("first response due within (business seconds)"),
        validators=[MinValueValidator(60)],
        help_text=_("Working time only: 1 hour = 3600, 4 hours = 14400, one 7-hour working day = 25200."),
    )
    is_active = models.BooleanField(_("in use"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["conversation_kind"]
        verbose_name = _("response target")
        verbose_name_plural = _("response targets")

    def __str__(self) -> str:
        return f"{self.get_conversation_kind_display()}: {self.business_seconds / 3600:g} h"


# --- Rollups: derived, rebuilt by metrics.rollups ------------------------------------------------

# A wait longer than this is looked up through its own index when counting who was waiting at an
# opening; shorter ones are found by looking back this far from the opening. Three days cover a
# weekend from Friday morning; longer waits (Easter, a forgotten conversation) are few.
LONG_WAIT_SECONDS = 3 * 24 * 3600


class TimingMetric(models.IntegerChoices):
    FIRST_RESPONSE = 1, _("First response")
    REPLY = 2, _("Reply")
    RESOLUTION = 3, _("Resolution")


class CareCycleFact(models.Model):
    """One care cycle of one conversation as the reports count it (metrics.rollups builds it from
    the conversation's reporting events and current flags)."""

    conversation_id = models.BigIntegerField()
    cycle = models.PositiveIntegerField()
    channel_id = models.BigIntegerField()
    network = models.CharField(max_length=20)
    conversation_kind = models.CharField(max_length=20)
    # Local (business time zone) date and exact moment the citizen wrote, opening the cycle.
    day = models.DateField()
    started_at = models.DateTimeField()
    started_in_office = models.BooleanField()
    first_response_at = models.DateTimeField(null=True)
    resolved_at = models.DateTimeField(null=True)
    resolution = models.CharField(max_length=20, blank=True)
    # The SLA target in force for the kind, counted in business time from started_at.
    sla_due_at = models.DateTimeField(null=True)
    # Answered, but after sla_due_at.
    sla_late = models.BooleanField(default=False)
    # An SLA_BREACHED event exists for this cycle.
    sla_breach_recorded = models.BooleanField(default=False)
    # For a cycle started off-hours: when the office opened next.
    next_opening_at = models.DateTimeField(null=True)
    spam = models.BooleanField(default=False)
    # Every message the citizen wrote in the conversation is hidden on the network.
    hidden = models.BooleanField(default=False)
    # Never answered, and still open or closed after more than LONG_WAIT_SECONDS.
    long_wait = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation_id", "cycle"], name="metrics_cycle_unique"),
        ]
        indexes = [
            models.Index(fields=["day"], name="metrics_cycle_day_idx"),
            models.Index(fields=["sla_due_at"], name="metrics_cycle_due_idx"),
            # Unanswered cycles waiting at an opening (metrics.reports), read from the index alone.
            models.Index(
                fields=["started_at"],
                include=["resolved_at", "spam", "hidden", "network", "channel_id", "conversation_id"],
                condition=models.Q(first_response_at__isnull=True),
                name="metrics_cycle_unanswered_idx",
            ),
            models.Index(
                fields=["started_at"], condition=models.Q(long_wait=True), name="metrics_cycle_longwait_idx"
            ),
            # The breach recorder's candidates: overdue and not answered, or answered late.
            models.Index(
                fields=["sla_due_at"],
                condition=models.Q(sla_breach_recorded=False)
                & (
                    models.Q(sla_late=True)
                    | (models.Q(first_response_at__isnull=True) & ~models.Q(resolution="no_reply_needed"))
                ),
                name="metrics_cycle_breach_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.conversation_id}/{self.cycle} {self.day}"


class TimingFact(models.Model):
    """One measured span that counts in the reports: a first response, a reply (from the oldest
    unanswered message to the answer) or a resolution. Spam and hidden conversations, and cycles
    closed as needing no reply without one, have none. The buckets group durations for
    metrics.reports' exact percentiles (see metrics.rollups.duration_bucket)."""

    metric = models.PositiveSmallIntegerField(choices=TimingMetric.choices)
    conversation_id = models.BigIntegerField()
    cycle = models.PositiveIntegerField()
    channel_id = models.BigIntegerField()
    network = models.CharField(max_length=20)
    conversation_kind = models.CharField(max_length=20)
    # Local date and moment the span started (when the citizen wrote), and when it ended.
    day = models.DateField()
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    started_in_office = models.BooleanField()
    wall_seconds = models.FloatField()
    business_seconds = models.FloatField()
    wall_bucket = models.SmallIntegerField()
    business_bucket = models.SmallIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["conversation_id"], name="metrics_timing_conv_idx"),
            models.Index(fields=["day", "metric"], name="metrics_timing_day_idx"),
            models.Index(
                fields=["metric", "wall_bucket", "day"],
                include=["started_in_office", "wall_seconds"],
                name="metrics_timing_wall_idx",
            ),
            models.Index(
                fields=["metric", "business_bucket", "day"],
                include=["started_in_office", "business_seconds"],
                name="metrics_timing_business_idx",
            ),
            # Reply spans waiting at an opening (metrics.reports), read from the index alone.
            models.Index(
                fields=["started_at"],
                include=["ended_at", "network", "channel_id", "conversation_id"],
                condition=models.Q(metric=2),
                name="metrics_timing_reply_idx",
            ),
            models.Index(
                fields=["started_at"],
                condition=models.Q(metric=2, wall_seconds__gt=LONG_WAIT_SECONDS),
                name="metrics_timing_longreply_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} #{self.conversation_id}/{self.cycle}: {self.wall_seconds:.0f} s"


class TimingHistogram(models.Model):
    """How many spans of one metric fell in each duration bucket, per local month: a year's
    percentiles start from twelve months of these instead of every span."""

    month = models.DateField()  # first day of the month
    metric = models.PositiveSmallIntegerField(choices=TimingMetric.choices)
    started_in_office = models.BooleanField()
    clock = models.CharField(max_length=8)  # "wall" or "business"
    bucket = models.SmallIntegerField()
    count = models.PositiveIntegerField()
    total_seconds = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "metric", "started_in_office", "clock", "bucket"],
                name="metrics_histogram_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.get_metric_display()} {self.clock} #{self.bucket}: {self.count}"


class DailyRollup(models.Model):
    """Per local day, channel and kind: the citizens' messages, and the care cycles opened that
    day with how they went (the response rate's and the off-hours coverage's counts)."""

    day = models.DateField()
    channel_id = models.BigIntegerField()
    network = models.CharField(max_length=20)
    conversation_kind = models.CharField(max_length=20)
    messages = models.PositiveIntegerField(default=0)
    off_hours_messages = models.PositiveIntegerField(default=0)
    cycles_opened = models.PositiveIntegerField(default=0)
    spam_cycles = models.PositiveIntegerField(default=0)
    hidden_cycles = models.PositiveIntegerField(default=0)
    no_reply_needed_cycles = models.PositiveIntegerField(default=0)
    needing_reply_cycles = models.PositiveIntegerField(default=0)
    replied_cycles = models.PositiveIntegerField(default=0)
    # Of the cycles needing a reply, those the citizen opened off-hours, and of these the ones
    # answered before the office opened again.
    off_hours_cycles = models.PositiveIntegerField(default=0)
    off_hours_answered = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel_id", "conversation_kind"], name="metrics_daily_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel_id} {self.conversation_kind}: {self.messages}"


class DailySla(models.Model):
    """Per local day a first response was due, channel and kind: the cycles that count for the
    SLA answered by the due time, answered later, and not answered."""

    day = models.DateField()
    channel_id = models.BigIntegerField()
    network = models.CharField(max_length=20)
    conversation_kind = models.CharField(max_length=20)
    met = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)
    unanswered = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel_id", "conversation_kind"], name="metrics_daily_sla_unique"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.day} {self.channel_id} {self.conversation_kind}: {self.met}/{self.late}/{self.unanswered}"
        )


class HourlyTraffic(models.Model):
    """Citizens' messages per local day, hour and channel: the weekday × hour heatmap."""

    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    weekday = models.PositiveSmallIntegerField()  # 0 = Monday
    channel_id = models.BigIntegerField()
    network = models.CharField(max_length=20)
    messages = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "hour", "channel_id"], name="metrics_hourly_unique"),
        ]
        indexes = [
            models.Index(
                fields=["day"],
                include=["weekday", "hour", "messages", "network", "channel_id"],
                name="metrics_hourly_day_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.hour:02d}h {self.channel_id}: {self.messages}"


class RollupState(models.Model):
    """Where the incremental refresh stopped (one row). Every source row with an id up to a high
    water mark is in the rollups; later ones are looked at again on the next refresh."""

    event_high_water = models.BigIntegerField(default=0)
    message_high_water = models.BigIntegerField(default=0)
    audit_high_water = models.BigIntegerField(default=0)
    conversations_checked_at = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField(null=True)
    rebuilt_at = models.DateTimeField(null=True)
    # Set while a full rebuild runs: refreshes and breach recording wait for it.
    rebuilding_since = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"rollups refreshed at {self.refreshed_at}"
