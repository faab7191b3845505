from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportingEventKind(models.TextChoices):
    OPENED = "opened", _("Conversation opened")
    FIRST_RESPONSE = "first_response", _("First response")
    REPLY = "reply", _("Reply")
    RESOLVED = "resolved", _("Resolved")
    REOPENED = "reopened", _("Reopened")


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

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.conversation_id} ({self.occurred_at:%Y-%m-%d %H:%M})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("A reporting event is written once and never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("A reporting event is never deleted.")
