import json

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from networks.credentials import credentials_box


class Network(models.TextChoices):
    SANDBOX = "sandbox", _("Sandbox")
    X = "x", "X"
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    LINKEDIN = "linkedin", "LinkedIn"
    YOUTUBE = "youtube", "YouTube"
    MASTODON = "mastodon", "Mastodon"
    BLUESKY = "bluesky", "Bluesky"


class ChannelStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnecting")
    DISABLED = "disabled", _("Disabled")


class Channel(models.Model):
    """One connected account on one network (a Page, a profile, a YouTube channel).

    State changes go through networks.services (channel_connect, channel_mark_needs_reconnect,
    channel_disable); the poll bookkeeping is written by channel_poll.
    """

    network = models.CharField(_("network"), max_length=20, choices=Network.choices)
    # Every network's ids are strings (snowflakes, URNs, DIDs): never store them as numbers.
    account_id = models.CharField(_("account id on the network"), max_length=255)
    # Where account ids are unique only on their own server (Mastodon: each instance numbers its
    # accounts), that server's host; empty for networks with one id space. Part of what tells two
    # channels apart, so an account of one instance never takes over another's channel.
    server = models.CharField(_("server"), max_length=255, blank=True, default="")
    display_name = models.CharField(_("name"), max_length=200)
    handle = models.CharField(_("handle"), max_length=200, blank=True)
    # Ciphertext only (see networks.credentials); read and write through the `credentials` property.
    credentials_encrypted = models.TextField(_("credentials (encrypted)"), blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=20, choices=ChannelStatus.choices, default=ChannelStatus.ACTIVE
    )
    # In plain words for the manager: what went wrong and what happens next.
    last_error = models.TextField(_("last problem"), blank=True)
    last_error_at = models.DateTimeField(_("last problem at"), null=True, blank=True)
    # Set with NEEDS_RECONNECT when the network refuses SocialDesk's own settings (a retired API
    # version): the fix is a settings change, not new credentials.
    configuration_outdated = models.BooleanField(_("settings out of date"), default=False)
    last_synced_at = models.DateTimeField(_("last checked for messages at"), null=True, blank=True)
    rate_limited_until = models.DateTimeField(_("rate limited until"), null=True, blank=True)
    poll_failures = models.PositiveIntegerField(_("failed checks in a row"), default=0)
    # Where the last fetch of inbound messages stopped, in the connector's own terms.
    inbound_cursor = models.JSONField(_("inbound cursor"), default=dict, blank=True)
    # Null while the channel is not polled (disabled, needs reconnecting).
    next_poll_at = models.DateTimeField(_("next check for messages at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["network", "display_name", "id"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        constraints = [
            models.UniqueConstraint(
                fields=["network", "server", "account_id"], name="channel_unique_network_server_account"
            ),
        ]
        indexes = [
            models.Index(fields=["next_poll_at"], condition=Q(status="active"), name="channel_due_poll_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_network_display()})"

    @property
    def credentials(self) -> dict:
        """The decrypted credentials (tokens, secrets) as a dict; {} when none are stored."""
        if not self.credentials_encrypted:
            return {}
        return json.loads(credentials_box().decrypt(self.credentials_encrypted))

    @credentials.setter
    def credentials(self, value: dict) -> None:
        self.credentials_encrypted = credentials_box().encrypt(json.dumps(value)) if value else ""
