"""Curation: where items come from (Source), what they are about (Topic, Keyword), and the items."""

from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from curation.parsing import ListingMap, PageRule
from lib.messages import Message
from lib.urls import host_of

DEFAULT_INTERVAL_MINUTES = 60
# Nobody's server should hear from us more often than this, whatever a source asks for.
MIN_INTERVAL_MINUTES = 15
MAX_INTERVAL_MINUTES = 24 * 60
DEFAULT_TIME_ZONE = "Europe/Madrid"


class SourceKind(models.TextChoices):
    FEED = "feed", _("Feed (RSS, Atom or JSON Feed)")
    PAGE = "page", _("Web page read with a rule")
    JSON_LISTING = "json_listing", _("Listing in JSON")
    CSV_LISTING = "csv_listing", _("Listing in CSV")


class SelectorSyntax(models.TextChoices):
    CSS = "css", _("CSS selectors")
    XPATH = "xpath", _("XPath")


class FetchStatus(models.TextChoices):
    PENDING = "pending", _("Not fetched yet")
    OK = "ok", _("Read")
    NOT_MODIFIED = "not_modified", _("No changes (the site said so)")
    UNCHANGED = "unchanged", _("No changes (same content as last time)")
    ERROR = "error", _("Error")


class FetchErrorKind(models.TextChoices):
    """Every way a fetch can fail; the label is the plain-words message the manager reads."""

    TIMEOUT = "timeout", _("The site took too long to answer.")
    CONNECTION = "connection", _("The site could not be reached.")
    BLOCKED_ADDRESS = (
        "blocked_address",
        _("The address leads to a private or reserved network, which is never fetched."),
    )
    BAD_SCHEME = "bad_scheme", _("Only http and https addresses can be fetched.")
    BAD_URL = "bad_url", _("The address is not a valid web address.")
    TOO_LARGE = "too_large", _("The content is larger than the size allowed.")
    TOO_MANY_REDIRECTS = (
        "too_many_redirects",
        _("The site sends us from one address to another too many times."),
    )
    TLS = "tls", _("The site's secure connection could not be verified.")
    HTTP_ERROR = "http_error", _("The site answered with an error.")
    RATE_LIMITED = "rate_limited", _("The site asked us to wait before coming back.")
    GONE = "gone", _("The site says this address no longer exists, so the source was muted.")
    EMPTY = "empty", _("The address returned nothing to read.")
    NOT_A_FEED = "not_a_feed", _("The address returns a web page, not a feed.")
    UNREADABLE = "unreadable", _("The content is broken or is not a feed, and could not be read.")
    BAD_RULE = "bad_rule", _("The rule for this page is not valid.")
    RULE_FOUND_NOTHING = "rule_found_nothing", _("The rule found no items on the page: has the page changed?")
    BAD_LISTING = "bad_listing", _("The listing could not be read with its field mapping.")
    INTERNAL = "internal", _("Something went wrong on our side; the details are in the worker's log.")


def error_in_plain_words(kind: FetchErrorKind, detail: Message | None) -> str:
    """What went wrong in the active language: the kind's label, then the detail in brackets."""
    label = str(kind.label)
    detail_text = detail.translated(gettext) if detail is not None else ""
    return f"{label} ({detail_text})" if detail_text and detail_text != label else label


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_("%(zone)s is not a time zone."), params={"zone": value}) from exc


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones())]


class Source(models.Model):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=SourceKind.choices, default=SourceKind.FEED)
    url = models.URLField(_("address"), max_length=2000)
    # Derived from url on save: the unit of politeness (at most two requests at a time per host).
    host = models.CharField(_("host"), max_length=255, editable=False, db_index=True)
    site_url = models.URLField(_("web site"), max_length=2000, blank=True)
    # Free grouping, e.g. the folder path of an OPML import ("Empleo / Oficial").
    category = models.CharField(_("category"), max_length=200, blank=True)

    user_agent = models.CharField(
        _("User-Agent"),
        max_length=300,
        blank=True,
        help_text=_("Leave empty to use the desk's own, which names the organisation and its contact page."),
    )
    interval_minutes = models.PositiveIntegerField(
        _("minutes between fetches"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_INTERVAL_MINUTES), MaxValueValidator(MAX_INTERVAL_MINUTES)],
        help_text=_("Leave empty for the default of 60 minutes; never less than 15."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=DEFAULT_TIME_ZONE,
        validators=[validate_time_zone],
        help_text=_("Dates the source writes without a time zone are read in this one."),
    )

    # Pages without a feed: where the items are.
    selector_syntax = models.CharField(
        _("selector syntax"), max_length=10, choices=SelectorSyntax.choices, default=SelectorSyntax.CSS
    )
    item_selector = models.CharField(_("item selector"), max_length=500, blank=True)
    title_selector = models.CharField(_("title selector"), max_length=500, blank=True)
    link_selector = models.CharField(_("link selector"), max_length=500, blank=True)
    date_selector = models.CharField(_("date selector"), max_length=500, blank=True)
    summary_selector = models.CharField(_("summary selector"), max_length=500, blank=True)
    date_format = models.CharField(
        _("date format"),
        max_length=100,
        blank=True,
        help_text=_(
            "Only if dates are not read on their own: a strptime format such as %d de %B de %Y "
            "(month names in Spanish or Valencian)."
        ),
    )

    # Listings (JSON or CSV): which field is what.
    items_path = models.CharField(
        _("path to the records"), max_length=200, blank=True, help_text=_("JSON only, e.g. data.offers")
    )
    guid_field = models.CharField(_("identifier field"), max_length=200, blank=True)
    title_field = models.CharField(_("title field"), max_length=200, blank=True)
    link_field = models.CharField(_("link field"), max_length=200, blank=True)
    summary_field = models.CharField(_("summary field"), max_length=200, blank=True)
    published_field = models.CharField(_("publication date field"), max_length=200, blank=True)
    deadline_field = models.CharField(_("deadline field"), max_length=200, blank=True)
    place_field = models.CharField(_("place field"), max_length=200, blank=True)

    # Fetch state, written only by curation.services.
    etag = models.CharField(max_length=500, blank=True, editable=False)
    last_modified = models.CharField(max_length=100, blank=True, editable=False)
    body_hash = models.CharField(max_length=32, blank=True, editable=False)
    next_fetch_at = models.DateTimeField(_("next fetch"), default=timezone.now, editable=False)
    # Set while a fetch is queued or running; a worker that dies lets it expire.
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    consecutive_errors = models.PositiveIntegerField(_("errors in a row"), default=0, editable=False)
    muted = models.BooleanField(_("muted"), default=False)
    muted_reason = models.CharField(_("why muted"), max_length=300, blank=True)
    muted_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_fetch_at = models.DateTimeField(_("last fetch"), null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(_("last successful fetch"), null=True, blank=True, editable=False)
    last_status = models.CharField(
        _("last status"),
        max_length=20,
        choices=FetchStatus.choices,
        default=FetchStatus.PENDING,
        editable=False,
    )
    last_http_status = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    last_error_kind = models.CharField(
        _("last error"), max_length=30, choices=FetchErrorKind.choices, blank=True, editable=False
    )
    last_error_detail = models.CharField(_("error detail"), max_length=500, blank=True, editable=False)
    # The same detail as a message to translate when shown (lib.messages); the text above is English.
    last_error_message = models.JSONField(
        _("error detail to translate"), default=dict, blank=True, editable=False
    )
    # What the last read content skipped or could not fully read (a record without a title, a date
    # or deadline not understood): {"count": n, "first": [the first few, as lib.messages JSON]}.
    last_warnings = models.JSONField(_("warnings of the last read"), default=dict, blank=True, editable=False)
    last_new_items = models.PositiveIntegerField(default=0, editable=False)
    last_new_item_at = models.DateTimeField(_("last new item"), null=True, blank=True, editable=False)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        indexes = [
            models.Index(fields=["next_fetch_at"], condition=Q(muted=False), name="curation_source_due"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.host = host_of(self.url)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "url" in update_fields:
            kwargs["update_fields"] = {*update_fields, "host"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.url and not self.url.lower().startswith(("http://", "https://")):
            errors["url"] = _("Only http and https addresses can be fetched.")
        if self.kind == SourceKind.PAGE and not self.item_selector.strip():
            errors["item_selector"] = _("A web page needs a selector for its items.")
        if self.kind in (SourceKind.JSON_LISTING, SourceKind.CSV_LISTING) and not self.title_field.strip():
            errors["title_field"] = _("A listing needs the field that holds each title.")
        if errors:
            raise ValidationError(errors)

    @property
    def tzinfo(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(DEFAULT_TIME_ZONE)

    @property
    def interval(self) -> timedelta:
        minutes = self.interval_minutes or DEFAULT_INTERVAL_MINUTES
        return timedelta(minutes=min(max(minutes, MIN_INTERVAL_MINUTES), MAX_INTERVAL_MINUTES))

    @property
    def error_message(self) -> str:
        """The last error in plain words with its detail, in the active language, or ""."""
        if not self.last_error_kind:
            return ""
        detail = Message.from_json(self.last_error_message) or Message(self.last_error_detail)
        return error_in_plain_words(FetchErrorKind(self.last_error_kind), detail)

    @property
    def warning_count(self) -> int:
        count = self.last_warnings.get("count") if isinstance(self.last_warnings, dict) else None
        return count if isinstance(count, int) and count > 0 else 0

    @property
    def warnings_in_plain_words(self) -> list[str]:
        """The first warnings of the last read, in the active language."""
        first = self.last_warnings.get("first") if isinstance(self.last_warnings, dict) else None
        messages = (Message.from_json(data) for data in first) if isinstance(first, list) else ()
        return [message.translated(gettext) for message in messages if message is not None]

    def page_rule(self) -> PageRule:
        return PageRule(
            syntax=self.selector_syntax,
            item=self.item_selector,
            title=self.title_selector,
            link=self.link_selector,
            date=self.date_selector,
            summary=self.summary_selector,
            date_format=self.date_format,
        )

    def listing_map(self) -> ListingMap:
        return ListingMap(
            title=self.title_field,
            items_path=self.items_path,
            guid=self.guid_field,
            link=self.link_field,
            summary=self.summary_field,
            published=self.published_field,
            deadline=self.deadline_field,
            place=self.place_field,
            date_format=self.date_format,
        )


class Topic(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("short name"), max_length=50, unique=True)
    hashtags = models.CharField(
        _("suggested hashtags"),
        max_length=300,
        blank=True,
        help_text=_("Separated by spaces, e.g. #Empleo #Ocupació"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self) -> str:
        return self.name

    @property
    def hashtag_list(self) -> list[str]:
        return [tag if tag.startswith("#") else f"#{tag}" for tag in self.hashtags.split()]


class Keyword(models.Model):
    """A phrase that makes an item belong to a topic (or, as an exclusion, stops it from belonging).

    Matching ignores accents and case and accepts plurals: "subvención" also finds "Subvenciones".
    """

    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="keywords", verbose_name=_("topic")
    )
    phrase = models.CharField(_("word or phrase"), max_length=120)
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    is_exclusion = models.BooleanField(
        _("exclusion"), default=False, help_text=_("An item containing it does not count for this topic.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["topic", "-is_exclusion", "-weight", "phrase"]
        verbose_name = _("keyword")
        verbose_name_plural = _("keywords")
        constraints = [
            models.UniqueConstraint(fields=["topic", "phrase"], name="curation_keyword_unique_phrase"),
        ]

    def __str__(self) -> str:
        return self.phrase


class ItemState(models.TextChoices):
    NEW = "new", _("New")
    SHORTLISTED = "shortlisted", _("Shortlisted")
    USED = "used", _("Used")
    DISCARDED = "discarded", _("Discarded")


class HiddenReason(models.TextChoices):
    VISIBLE = "", _("Not hidden")
    DUPLICATE = "duplicate", _("Same as an item from another source")
    EXCLUDED = "excluded", _("Contains an excluded word")


class Item(models.Model):
    source = models.ForeignKey(
        # No index of its own: the unique (source, guid_hash) constraint leads with it.
        Source,
        on_delete=models.CASCADE,
        related_name="items",
        verbose_name=_("source"),
        db_index=False,
    )
    guid = models.CharField(_("identifier in the source"), max_length=1000)
    guid_hash = models.CharField(max_length=32)
    url = models.URLField(_("original link"), max_length=2000, blank=True)
    canonical_url = models.URLField(_("link without tracking"), max_length=2000, blank=True)
    url_hash = models.CharField(max_length=32, blank=True)
    content_hash = models.CharField(max_length=32, blank=True)

    title = models.CharField(_("title"), max_length=500)
    summary_html = models.TextField(_("summary"), blank=True)  # sanitized with nh3
    excerpt = models.CharField(_("excerpt"), max_length=300, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)

    topic = models.ForeignKey(
        Topic, on_delete=models.SET_NULL, null=True, blank=True, related_name="items", verbose_name=_("topic")
    )
    score = models.IntegerField(_("score"), default=0)
    # [{"word": "oferta de empleo", "weight": 4, "topic": "employment"}, ...]
    score_reasons = models.JSONField(_("why this score"), default=list, blank=True)
    # Score plus freshness, fixed at ingest so the queue can be read straight off an index.
    rank = models.FloatField(default=0)

    state = models.CharField(_("state"), max_length=20, choices=ItemState.choices, default=ItemState.NEW)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    state_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hidden_reason = models.CharField(
        _("why hidden"), max_length=20, choices=HiddenReason.choices, blank=True, default=HiddenReason.VISIBLE
    )
    hidden_detail = models.CharField(_("hidden because of"), max_length=200, blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )

    class Meta:
        ordering = ["-rank", "-id"]
        verbose_name = _("item")
        verbose_name_plural = _("items")
        constraints = [
            models.UniqueConstraint(fields=["source", "guid_hash"], name="curation_item_unique_guid"),
        ]
        indexes = [
            # The reading queue: one state, best first, optionally one topic or one source.
            models.Index(
                fields=["state", "-rank"], condition=Q(hidden_reason=""), name="curation_item_queue"
            ),
            models.Index(
                fields=["topic", "state", "-rank"],
                condition=Q(hidden_reason=""),
                name="curation_item_queue_topic",
            ),
            models.Index(
                fields=["source", "state", "-rank"],
                condition=Q(hidden_reason=""),
                name="curation_item_queue_source",
            ),
            models.Index(
                fields=["hidden_reason", "-first_seen_at"],
                condition=~Q(hidden_reason=""),
                name="curation_item_hidden",
            ),
            # Source health: items per week.
            models.Index(fields=["source", "first_seen_at"], name="curation_item_seen"),
            # Dedupe across sources.
            models.Index(fields=["url_hash"], condition=~Q(url_hash=""), name="curation_item_url"),
            models.Index(
                fields=["content_hash"], condition=~Q(content_hash=""), name="curation_item_content"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def link(self) -> str:
        """Where the item can be read: the address without tracking, else the original one."""
        return self.canonical_url or self.url

    def is_expired(self, now=None) -> bool:
        return self.deadline is not None and self.deadline < (now or timezone.now())

    @property
    def hidden_message(self) -> str:
        """Why the item is not in the queue, in plain words ("" when it is)."""
        if self.hidden_reason == HiddenReason.DUPLICATE:
            return str(HiddenReason.DUPLICATE.label)
        if self.hidden_reason == HiddenReason.EXCLUDED:
            return str(_("Contains the excluded word “%(word)s”.") % {"word": self.hidden_detail})
        if self.is_expired():
            return str(_("Its deadline has passed."))
        return ""


class OpmlImport(models.Model):
    """One OPML file being turned into sources, with its progress (written by curation.opml)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=255, blank=True)
    document = models.TextField()  # the OPML text as uploaded (bounded by the upload size)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)  # new sources
    existing = models.PositiveIntegerField(default=0)  # already there
    skipped = models.PositiveIntegerField(default=0)  # unusable outlines (no or invalid URL)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("OPML import")
        verbose_name_plural = _("OPML imports")

    def __str__(self) -> str:
        return self.file_name or f"OPML import {self.pk}"
