"""What the desk will say and when: posts, their deliveries per channel, audience segments, the
emergency pause and the manager's calendar feed."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scheduling.echo_planner import echo_reason_text


def hour_weights_valid(value) -> None:
    """Priors are a week of weights: 7 lists (Monday first) of 24 non-negative numbers."""
    from django.core.exceptions import ValidationError

    if value in (None, [], {}):
        return
    if (
        not isinstance(value, list)
        or len(value) != 7
        or any(not isinstance(day, list) or len(day) != 24 for day in value)
        or any(not isinstance(w, int | float) or w < 0 for day in value for w in day)
    ):
        raise ValidationError(_("Write 7 lists (Monday to Sunday) of 24 non-negative numbers, one per hour."))


class AudienceSegment(models.Model):
    """Who a post is for (job seekers, people in work …): each has its own online hours, learned per
    channel by the activity model, with `priors` standing in while data is thin."""

    slug = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    # 7 × 24 weights, Monday 00:00 first, Europe/Madrid hours: how likely this audience is online.
    priors = models.JSONField(
        _("prior online hours"), default=list, blank=True, validators=[hour_weights_valid]
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("audience segment")
        verbose_name_plural = _("audience segments")

    def __str__(self) -> str:
        return self.name


class PostStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    # Composed and handed to its channels: its deliveries say where and when.
    SCHEDULED = "scheduled", _("Scheduled")


class PostOrigin(models.TextChoices):
    DESK = "desk", _("Composed in SocialDesk")
    # Published from the network's own app (her phone): picked up from the channel's timeline.
    NETWORK = "network", _("Published outside SocialDesk")


class EchoState(models.TextChoices):
    NONE = "", _("No echoes")
    # A post made outside SocialDesk, waiting for the manager to echo it or not.
    OFFERED = "offered", _("Offered for echo")
    PLANNED = "planned", _("Echoes planned")
    DISMISSED = "dismissed", _("Not echoed")


class Post(models.Model):
    text = models.TextField(_("text"))
    link = models.URLField(_("link"), max_length=2000, blank=True)
    topic = models.ForeignKey(
        "curation.Topic",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="posts",
        verbose_name=_("topic"),
    )
    segment = models.ForeignKey(
        AudienceSegment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="posts",
        verbose_name=_("audience"),
    )
    # One image per post (Instagram requires it); never published without its alt text.
    image = models.FileField(_("image"), upload_to="posts/%Y/%m/", blank=True)
    image_alt_text = models.CharField(_("image description (alt text)"), max_length=1000, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=PostStatus.choices, default=PostStatus.DRAFT
    )
    origin = models.CharField(_("origin"), max_length=10, choices=PostOrigin.choices, default=PostOrigin.DESK)
    echo_state = models.CharField(
        _("echoes"), max_length=10, choices=EchoState.choices, default=EchoState.NONE, blank=True
    )
    # The curated item the draft was composed from, if any ("compose from item").
    source_item = models.ForeignKey(
        "curation.Item",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="posts",
        verbose_name=_("curated item"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        indexes = [models.Index(fields=["status", "-created_at"], name="scheduling_post_status")]

    def __str__(self) -> str:
        return self.text[:80]


class DeliveryState(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    # The network may or may not have published it (a timeout after sending): reconcile looks first.
    UNKNOWN = "unknown", _("Not confirmed")
    HELD = "held", _("Waiting for the manager")
    CANCELLED = "cancelled", _("Cancelled")


class HeldReason(models.TextChoices):
    OVERDUE = "overdue", _("Its time passed too long ago")
    PAUSE = "pause", _("Its time passed during the emergency pause")
    RECONNECT = "reconnect", _("The channel must be reconnected")
    UNCONFIRMED = "unconfirmed", _("The network did not confirm it")


class Delivery(models.Model):
    """One post on one channel at one time, with its own text: the unit of exactly-once.

    State changes go through scheduling.deliveries (the manager's actions) and scheduling.dispatch
    (claiming, publishing, reconciling). Future deliveries wait here, never in the task queue.
    """

    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("post")
    )
    channel = models.ForeignKey(
        "networks.Channel", on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("channel")
    )
    text = models.TextField(_("text"))
    # When the manager wants it out; `due_at` is when the dispatcher next picks it up (later after
    # a rate limit or a transient error, so lateness is measured from scheduled_at).
    scheduled_at = models.DateTimeField(_("scheduled for"))
    due_at = models.DateTimeField(_("next attempt at"))
    state = models.CharField(
        _("state"), max_length=20, choices=DeliveryState.choices, default=DeliveryState.SCHEDULED
    )
    held_reason = models.CharField(_("held because"), max_length=20, choices=HeldReason.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(_("calls to the network"), default=0)
    external_id = models.CharField(_("id on the network"), max_length=255, blank=True)
    url = models.URLField(_("address on the network"), max_length=2000, blank=True)
    # In plain words for the manager: what went wrong and what she can do.
    last_error = models.TextField(_("last problem"), blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    # Set (and committed) right before the network is called: a row in `sending` with this set may
    # already be on the network, so it is reconciled, never published blindly again.
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    is_echo = models.BooleanField(_("echo"), default=False)
    echo_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="echoes",
        verbose_name=_("echo of"),
    )
    # An echo placed in an off-hours slot the model knows little about, so that it learns.
    is_exploration = models.BooleanField(_("exploring an untried hour"), default=False)
    # Why the planner chose this slot, as data, so that `echo_why` says it in the reader's language.
    echo_score = models.FloatField(_("score of this time"), null=True, blank=True)
    echo_audience = models.CharField(_("audience of this time"), max_length=80, blank=True)
    # The same in words, as echoes planned before echo_score existed wrote it (in the planner's
    # language); new echoes leave it empty.
    echo_reason = models.CharField(_("why this time"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["scheduled_at", "id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            # The dispatcher's claim and the reconcile step: due rows of one state, oldest first.
            models.Index(
                fields=["due_at", "id"], condition=models.Q(state="scheduled"), name="delivery_due_idx"
            ),
            models.Index(fields=["due_at"], condition=models.Q(state="unknown"), name="delivery_unknown_idx"),
            models.Index(
                fields=["claimed_at"], condition=models.Q(state="sending"), name="delivery_sending_idx"
            ),
            models.Index(fields=["state", "scheduled_at"], name="delivery_state_idx"),
            # The activity model and the metrics reader: one channel's published posts by time.
            models.Index(
                fields=["channel", "published_at"],
                condition=models.Q(state="published"),
                name="delivery_published_idx",
            ),
        ]
        constraints = [
            # One post on the network is one delivery: a post picked up from the channel's
            # timeline is recorded once however many workers read it.
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~models.Q(external_id=""),
                name="delivery_unique_network_post",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id} @ {self.scheduled_at:%Y-%m-%d %H:%M}: {self.text[:60]}"

    @property
    def echo_why(self) -> str:
        """Why the planner chose this echo's time, in the reader's language."""
        if self.echo_score is None:
            return self.echo_reason
        return echo_reason_text(
            exploring=self.is_exploration, audience=self.echo_audience, score=self.echo_score
        )


class DeliveryMetrics(models.Model):
    """The latest engagement figures the network reports for one published delivery (the activity
    model's raw data). None: the network does not report that figure."""

    delivery = models.OneToOneField(Delivery, on_delete=models.CASCADE, related_name="metrics")
    impressions = models.PositiveIntegerField(_("impressions"), null=True, blank=True)
    likes = models.PositiveIntegerField(_("likes"), null=True, blank=True)
    shares = models.PositiveIntegerField(_("shares"), null=True, blank=True)
    comments = models.PositiveIntegerField(_("comments"), null=True, blank=True)
    clicks = models.PositiveIntegerField(_("clicks"), null=True, blank=True)
    # Interactions (likes + shares + comments + clicks) the activity model reads.
    engagement = models.FloatField(_("engagement"), default=0)
    fetched_at = models.DateTimeField(_("fetched at"))

    class Meta:
        verbose_name = _("delivery metrics")
        verbose_name_plural = _("delivery metrics")

    def __str__(self) -> str:
        return f"{self.delivery_id}: {self.engagement}"


class EchoRule(models.Model):
    """How one channel echoes: how many off-hours repeats per live post, how far apart, whether
    posts made outside SocialDesk are echoed without asking."""

    channel = models.OneToOneField(
        "networks.Channel", on_delete=models.CASCADE, related_name="echo_rule", verbose_name=_("channel")
    )
    is_enabled = models.BooleanField(_("echo live posts"), default=True)
    echoes_per_post = models.PositiveSmallIntegerField(_("echoes per live post"), default=2)
    min_gap_minutes = models.PositiveIntegerField(
        _("minimum minutes between posts on this channel"), default=120
    )
    # Share of echoes placed in untried off-hours slots so the activity model learns (0 to 1).
    exploration_share = models.FloatField(_("share of echoes exploring untried hours"), default=0.2)
    auto_echo_outside_posts = models.BooleanField(
        _("echo posts made outside SocialDesk automatically"), default=False
    )
    default_segment = models.ForeignKey(
        AudienceSegment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default audience"),
    )
    # Until when the channel's own timeline has been read for posts made outside SocialDesk.
    timeline_checked_at = models.DateTimeField(_("timeline read until"), null=True, blank=True)

    class Meta:
        verbose_name = _("echo rule")
        verbose_name_plural = _("echo rules")

    def __str__(self) -> str:
        return f"{self.channel}"

    @property
    def asks_for_echoes(self) -> bool:
        """Whether a live post on this channel gets echoes at all."""
        return self.is_enabled and self.echoes_per_post > 0


class PublishingPause(models.Model):
    """The emergency pause: while one is open nothing is published."""

    reason = models.TextField(_("reason"))
    started_at = models.DateTimeField(_("paused at"), default=timezone.now)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Optional: the pause ends by itself then (and, as on a manual resume, nothing missed goes out).
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("resumed at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # True until resumed; unique among open pauses, so two managers pausing at once make one pause.
    is_open = models.BooleanField(_("open"), default=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("emergency pause")
        verbose_name_plural = _("emergency pauses")
        constraints = [
            models.UniqueConstraint(
                fields=["is_open"], condition=models.Q(is_open=True), name="one_open_publishing_pause"
            ),
        ]

    def __str__(self) -> str:
        return self.reason[:80]


class CalendarFeedToken(models.Model):
    """The secret in the address of a user's iCalendar feed (her own calendar app reads it without
    logging in); replacing it cuts off every copy of the old address."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed_token"
    )
    token = models.CharField(_("token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("calendar feed address")
        verbose_name_plural = _("calendar feed addresses")

    def __str__(self) -> str:
        return f"{self.user}"
