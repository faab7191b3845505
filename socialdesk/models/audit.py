from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Failed sign-in")
    LOGIN_LOCKED = "login_locked", _("Sign-in locked out")
    LOGOUT = "logout", _("Signed out")
    ROLE_CHANGED = "role_changed", _("Role changed")
    CHANNEL_CONNECTED = "channel_connected", _("Channel connected")
    CHANNEL_RECONNECT_NEEDED = "channel_reconnect_needed", _("Channel needs reconnecting")
    CHANNEL_DISABLED = "channel_disabled", _("Channel disabled")
    REPLY_SENT = "reply_sent", _("Reply sent")
    COMMENT_HIDDEN = "comment_hidden", _("Comment hidden")
    COMMENT_UNHIDDEN = "comment_unhidden", _("Comment unhidden")
    DELETED = "deleted", _("Deleted")
    PUBLISHING_PAUSED = "publishing_paused", _("Publishing paused")
    PUBLISHING_RESUMED = "publishing_resumed", _("Publishing resumed")
    DATA_ERASED = "data_erased", _("Personal data erased")
    ECHO_RULE_CHANGED = "echo_rule_changed", _("Echo rule changed")
    POST_PUBLISHED = "post_published", _("Post published or scheduled")
    DELIVERY_MOVED = "delivery_moved", _("Scheduled post moved or edited")
    DELIVERY_CANCELLED = "delivery_cancelled", _("Scheduled post cancelled")
    CALENDAR_FEED_RENEWED = "calendar_feed_renewed", _("Calendar feed address renewed")
    COLLEAGUE_ASKED = "colleague_asked", _("Question sent to a colleague")
    SLA_TARGET_CHANGED = "sla_target_changed", _("Response target changed")
    TOPIC_CHANGED = "topic_changed", _("Curation topic or keyword changed")


class AuditEvent(models.Model):
    """Append-only record of a security-relevant action. Written only by socialdesk.audit.audit_record."""

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too, so the record still says who it was after the user is deleted.
    actor_label = models.CharField(_("who"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=40, choices=AuditAction.choices, db_index=True)
    target_type = models.CharField(_("object type"), max_length=60, blank=True)
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    target_label = models.CharField(_("object"), max_length=200, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_label}"
