from django.db import models
from django.utils.translation import gettext_lazy as _

from networks.base import InboundKind
from networks.models import Channel, Network


class Contact(models.Model):
    """One citizen, whatever networks they write from (the manager merges identities into one)."""

    display_name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["display_name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.display_name


class Identity(models.Model):
    """A citizen's account on one network."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="identities", verbose_name=_("contact")
    )
    network = models.CharField(_("network"), max_length=20, choices=Network.choices)
    external_id = models.CharField(_("id on the network"), max_length=255)
    display_name = models.CharField(_("name"), max_length=200, blank=True)
    handle = models.CharField(_("handle"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["network", "handle", "id"]
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        constraints = [
            models.UniqueConstraint(
                fields=["network", "external_id"], name="identity_unique_network_external_id"
            ),
        ]

    def __str__(self) -> str:
        who = self.display_name or self.handle or self.external_id
        return f"{who} ({self.get_network_display()})"


class ConversationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WAITING = "waiting", _("Waiting for the citizen")
    SNOOZED = "snoozed", _("Snoozed")
    CLOSED = "closed", _("Closed")


class Conversation(models.Model):
    """A thread on one channel, as the network threads it (`thread_key`).

    `needs_reply` is kept by ingest: the citizen's latest message is newer than our latest one.
    A citizen's new message opens the conversation again, from any status.
    """

    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="conversations", verbose_name=_("channel")
    )
    thread_key = models.CharField(_("thread key on the network"), max_length=255)
    kind = models.CharField(_("kind"), max_length=20, choices=InboundKind.choices)
    contact = models.ForeignKey(
        Contact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("citizen"),
    )
    about_post = models.CharField(_("about our post (id on the network)"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ConversationStatus.choices, default=ConversationStatus.OPEN
    )
    needs_reply = models.BooleanField(_("needs a reply"), default=False)
    last_message_at = models.DateTimeField(_("last message at"), null=True, blank=True)
    last_inbound_at = models.DateTimeField(_("citizen's last message at"), null=True, blank=True)
    last_outbound_at = models.DateTimeField(_("our last message at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "thread_key"], name="conversation_unique_channel_thread"
            ),
        ]
        indexes = [models.Index(fields=["status", "needs_reply"], name="conversation_status_reply_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.thread_key} ({self.channel})"


class MessageDirection(models.TextChoices):
    INBOUND = "in", _("From the citizen")
    OUTBOUND = "out", _("From us")


class Message(models.Model):
    """One message on a network, stored once per (channel, external_id) however often it arrives."""

    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="messages", verbose_name=_("channel")
    )
    external_id = models.CharField(_("id on the network"), max_length=255)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", verbose_name=_("conversation")
    )
    direction = models.CharField(_("direction"), max_length=3, choices=MessageDirection.choices)
    # The citizen who wrote it; empty for the account's own messages.
    author = models.ForeignKey(
        Identity,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("author"),
    )
    text = models.TextField(_("text"))
    in_reply_to = models.CharField(_("in reply to (id on the network)"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("written at (network time)"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    edited = models.BooleanField(_("edited"), default=False)
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)
    deleted = models.BooleanField(_("deleted by the author"), default=False)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    raw = models.JSONField(_("network payload"), default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="message_unique_channel_external_id"
            ),
        ]
        indexes = [models.Index(fields=["direction", "-created_at"], name="message_direction_created_idx")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.external_id}"
