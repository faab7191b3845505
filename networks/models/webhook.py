from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookSource(models.TextChoices):
    META = "meta", _("Meta (Facebook and Instagram)")


class WebhookEvent(models.Model):
    """One delivery a network pushed to /webhooks/…, kept as it arrived.

    Only deliveries whose signature checked out are stored (a forged one leaves no trace), so every
    row is the network's own words. The body is processed by a task after the 200 went back;
    `processed_at` says it was, `error` what could not be taken from it.
    """

    source = models.CharField(_("source"), max_length=20, choices=WebhookSource.choices)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    # The raw body exactly as signed (the signature covers these bytes, decoded as UTF-8).
    body = models.TextField(_("body"))
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    error = models.TextField(_("problem"), blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.received_at:%Y-%m-%d %H:%M:%S}"
