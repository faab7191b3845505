from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
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


class Resolution(models.TextChoices):
    REPLIED = "replied", _("Closed after a reply")
    NO_REPLY_NEEDED = "no_reply_needed", _("Closed, no reply needed")


class Language(models.TextChoices):
    SPANISH = "es", _("Spanish")
    VALENCIAN = "ca", _("Valencian")
    UNKNOWN = "", _("Unknown")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class PriorityCategory(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    URGENT = "urgent", _("Urgent")


class PriorityWord(models.Model):
    """A word that floats a citizen's message up, with how much (Spanish and Valencian alike)."""

    term = models.CharField(_("word"), max_length=60, unique=True)
    category = models.CharField(_("category"), max_length=20, choices=PriorityCategory.choices)
    weight = models.PositiveSmallIntegerField(_("weight"), default=10)

    class Meta:
        ordering = ["category", "term"]
        verbose_name = _("priority word")
        verbose_name_plural = _("priority words")

    def __str__(self) -> str:
        return self.term


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
    resolution = models.CharField(
        _("how it was closed"), max_length=20, choices=Resolution.choices, blank=True
    )
    snoozed_until = models.DateTimeField(_("snoozed until"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    spam = models.BooleanField(_("spam"), default=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="conversations", verbose_name=_("tags"))
    priority = models.PositiveIntegerField(_("priority"), default=0)
    # Why the priority is what it is: [{"category": "complaint", "term": "queja"}, {"category": "repeated", "count": 3}]
    priority_reasons = models.JSONField(_("priority reasons"), default=list, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, blank=True)
    # The citizen's latest words, for the queue row (kept by ingest, so the list needs no subquery).
    preview = models.CharField(_("preview"), max_length=280, blank=True)
    # Care cycle bookkeeping for metrics.ReportingEvent: a reopen starts cycle n + 1.
    cycle = models.PositiveIntegerField(_("care cycle"), default=1)
    cycle_started_at = models.DateTimeField(_("care cycle started at"), null=True, blank=True)
    cycle_first_response_at = models.DateTimeField(_("first response in the cycle at"), null=True, blank=True)
    # The citizen's oldest message not answered yet (reply time runs from here); None when all are answered.
    awaiting_since = models.DateTimeField(_("waiting for an answer since"), null=True, blank=True)
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
        indexes = [
            models.Index(fields=["status", "needs_reply"], name="conversation_status_reply_idx"),
            models.Index(
                fields=["-priority", "-last_message_at"],
                condition=Q(status="open", needs_reply=True, spam=False),
                name="conversation_queue_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.thread_key} ({self.channel})"

    def priority_explained(self) -> list[str]:
        """The reasons behind `priority`, in words."""
        explained = []
        for reason in self.priority_reasons:
            if reason.get("category") == "repeated":
                explained.append(_("%(count)s messages without an answer") % {"count": reason["count"]})
            elif reason.get("category") == PriorityCategory.COMPLAINT:
                explained.append(_("complaint: “%(term)s”") % {"term": reason["term"]})
            else:
                explained.append(_("urgent: “%(term)s”") % {"term": reason["term"]})
        return explained


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
    # Sent by an automation (an automatic acknowledgement): not a human response for the metrics.
    automated = models.BooleanField(_("sent by an automation"), default=False)
    hidden = models.BooleanField(_("hidden on the network"), default=False)
    hidden_reason = models.CharField(_("why it was hidden"), max_length=300, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, blank=True)
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


class Note(models.Model):
    """A private note on a conversation: only the desk sees it, never the citizen."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="notes", verbose_name=_("conversation")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("author"),
    )
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return self.text[:60]


class CannedReply(models.Model):
    """A reusable answer; {nombre} and {enlace} are filled in for the conversation."""

    title = models.CharField(_("title"), max_length=120)
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    text = models.TextField(_("text"))

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")

    def __str__(self) -> str:
        return self.title


class ReplyKind(models.TextChoices):
    PUBLIC = "public", _("Public reply")
    PRIVATE = "private", _("Private message")


class ReplyState(models.TextChoices):
    QUEUED = "queued", _("Waiting to be sent")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # The network may have published it (a timeout after sending): look before sending again.
    UNKNOWN = "unknown", _("Unknown: it may have been sent")


class Reply(models.Model):
    """One answer written in SocialDesk, the unit of exactly-once: queued → sending → sent | failed | unknown.

    Only inbox.services.reply_deliver calls the network, and only after claiming queued → sending.
    """

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="replies", verbose_name=_("conversation")
    )
    answering = models.ForeignKey(
        Message, on_delete=models.PROTECT, related_name="+", verbose_name=_("answering")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ReplyKind.choices)
    text = models.TextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("author"),
    )
    state = models.CharField(_("state"), max_length=10, choices=ReplyState.choices, default=ReplyState.QUEUED)
    failure_reason = models.TextField(_("why it failed"), blank=True)
    external_id = models.CharField(_("id on the network"), max_length=255, blank=True)
    automated = models.BooleanField(_("sent by an automation"), default=False)
    message = models.OneToOneField(
        Message,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reply",
        verbose_name=_("message"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sending_since = models.DateTimeField(_("sending since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("reply")
        verbose_name_plural = _("replies")

    def __str__(self) -> str:
        return f"{self.get_state_display()} {self.text[:40]}"

    @property
    def retryable(self) -> bool:
        return self.state in (ReplyState.FAILED, ReplyState.UNKNOWN)


class MessageRevision(models.Model):
    """A text a message had before the citizen edited it on the network: edits keep the history."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("message")
    )
    text = models.TextField(_("earlier text"))
    # When this text stopped being the current one (we saw the edit).
    replaced_at = models.DateTimeField(_("replaced at"))

    class Meta:
        ordering = ["replaced_at", "id"]
        verbose_name = _("earlier version of a message")
        verbose_name_plural = _("earlier versions of messages")

    def __str__(self) -> str:
        return self.text[:60]


class Answer(models.Model):
    """The organisation's answers library: a short vetted answer to a frequent question, with the
    link to the procedure, searchable from the reply composer while typing."""

    question = models.CharField(_("question"), max_length=300)
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    text = models.TextField(_("answer"))
    link = models.URLField(_("link to the procedure"), max_length=2000, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, blank=True)
    is_active = models.BooleanField(_("in use"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["question", "id"]
        verbose_name = _("library answer")
        verbose_name_plural = _("answers library")

    def __str__(self) -> str:
        return self.question


class DepartmentContact(models.Model):
    """Address book of the organisation's units, for asking a colleague about a hard question."""

    name = models.CharField(_("unit or person"), max_length=200)
    email = models.EmailField(_("e-mail"))
    topics = models.CharField(_("what they know about"), max_length=300, blank=True)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("department contact")
        verbose_name_plural = _("department contacts")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class ColleagueRequestState(models.TextChoices):
    WAITING = "waiting", _("Waiting for colleague")
    ANSWERED = "answered", _("Answered")
    CANCELLED = "cancelled", _("Cancelled")


class ColleagueRequest(models.Model):
    """A question forwarded by e-mail to a department contact; the answer comes back as a note."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="colleague_requests", verbose_name=_("conversation")
    )
    contact = models.ForeignKey(
        DepartmentContact, on_delete=models.PROTECT, related_name="requests", verbose_name=_("asked")
    )
    question = models.TextField(_("question"))
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("asked by")
    )
    asked_at = models.DateTimeField(_("asked at"), default=timezone.now)
    # Secret part of the reply-to address and of the e-mail's Message-ID: a reply is matched by it.
    token = models.CharField(_("reply token"), max_length=64, unique=True)
    state = models.CharField(
        _("state"), max_length=10, choices=ColleagueRequestState.choices, default=ColleagueRequestState.WAITING
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer_note = models.OneToOneField(
        Note, on_delete=models.SET_NULL, null=True, blank=True, related_name="colleague_request"
    )

    class Meta:
        ordering = ["-asked_at", "-id"]
        verbose_name = _("question to a colleague")
        verbose_name_plural = _("questions to colleagues")
        indexes = [models.Index(fields=["conversation", "state"], name="colleague_request_state_idx")]

    def __str__(self) -> str:
        return f"{self.contact} · {self.question[:40]}"


class AlertPreference(models.Model):
    """What a user wants by e-mail when she is not at the desk."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_alerts")
    # One e-mail per priority message that arrives outside working hours.
    priority_off_hours = models.BooleanField(_("e-mail me priority messages outside working hours"), default=False)
    daily_digest = models.BooleanField(_("send me a daily digest"), default=False)
    # Blank: the user's own address.
    email = models.EmailField(_("send to"), blank=True)
    last_digest_at = models.DateTimeField(_("last digest sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert preference")
        verbose_name_plural = _("alert preferences")

    def __str__(self) -> str:
        return f"{self.user}"
