"""The sandbox network's own side: what a real network keeps on its servers.

SocialDesk talks to these rows only through networks.sandbox.SandboxConnector, as it would talk
to X or Facebook through their APIs; the admin (and tests) can change an account's `failure` to
make the network misbehave on demand.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from networks.base import InboundKind

SANDBOX_URL_BASE = "https://sandbox.invalid"  # .invalid never resolves: the sandbox has no public web


class SandboxFailure(models.TextChoices):
    NONE = "", _("None: works normally")
    RATE_LIMITED = "rate_limited", _("Rate limited")
    TRANSIENT = "transient", _("Temporarily unavailable")
    AUTHORIZATION_EXPIRED = "authorization_expired", _("Authorization expired")
    REJECTED = "rejected", _("Rejects every request")


class SandboxAccount(models.Model):
    account_id = models.CharField(_("account id"), max_length=40, unique=True)
    handle = models.CharField(_("handle"), max_length=60, unique=True)
    display_name = models.CharField(_("name"), max_length=200)
    # Like a real provider, the network keeps only a hash of the access token it issued.
    access_token_sha256 = models.CharField(max_length=64, editable=False)
    failure = models.CharField(
        _("fail every request with"),
        max_length=30,
        choices=SandboxFailure.choices,
        blank=True,
        help_text=_(
            "Errors on demand: every call from SocialDesk to this account fails this way until cleared."
        ),
    )
    # When the simulated citizens write next; null means as soon as the simulator runs.
    next_citizen_message_at = models.DateTimeField(_("next citizen message at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["handle"]
        verbose_name = _("sandbox account")
        verbose_name_plural = _("sandbox accounts")

    def __str__(self) -> str:
        return f"@{self.handle}"


class SandboxPostKind(models.TextChoices):
    POST = "post", _("Post")
    REPLY = "reply", _("Public reply")
    PRIVATE_REPLY = "private_reply", _("Private reply")


class SandboxPost(models.Model):
    """Something the account published: a post, or a reply to a citizen."""

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="posts")
    external_id = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=20, choices=SandboxPostKind.choices)
    text = models.TextField()
    link = models.URLField(max_length=2000, blank=True)
    media = models.JSONField(default=list, blank=True)
    in_reply_to = models.CharField(max_length=40, blank=True)
    thread_key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sandbox post")
        verbose_name_plural = _("sandbox posts")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id}"

    @property
    def url(self) -> str:
        return f"{SANDBOX_URL_BASE}/@{self.account.handle}/{self.external_id}"


class SandboxEvent(models.Model):
    """One message the network reports to the account, in arrival order (the row id is the cursor).

    Citizens' comments, mentions and private messages, and the account's own replies (a real API
    returns those too). A second event with an existing external_id is an edit of that message.
    """

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="events")
    external_id = models.CharField(max_length=40, db_index=True)
    kind = models.CharField(max_length=20, choices=InboundKind.choices)
    thread_key = models.CharField(max_length=120)
    author_id = models.CharField(max_length=40)
    author_name = models.CharField(max_length=200)
    author_handle = models.CharField(max_length=60)
    text = models.TextField()
    in_reply_to = models.CharField(max_length=40, blank=True)
    about_post = models.CharField(max_length=40, blank=True)
    is_from_us = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("sandbox event")
        verbose_name_plural = _("sandbox events")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id} @{self.author_handle}"
