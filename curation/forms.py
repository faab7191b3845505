"""Forms of the curation pages: queue filters and bulk actions, sources, feed discovery, OPML upload."""

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.template.defaultfilters import filesizeformat
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from curation.models import DEFAULT_TIME_ZONE, HiddenReason, ItemState, Source, SourceKind, time_zone_choices
from curation.opml import MAX_DOCUMENT_BYTES
from curation.selectors import sources_for_filter, topics_for_filter


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=ItemState.choices, required=False)
    topic = forms.ModelChoiceField(
        label=_("Topic"), queryset=topics_for_filter(), required=False, empty_label=_("All topics")
    )
    source = forms.ModelChoiceField(
        label=_("Source"), queryset=sources_for_filter(), required=False, empty_label=_("All sources")
    )

    def filters(self) -> dict:
        """Keyword arguments for ``queue_page``; a value that does not validate is left out."""
        self.is_valid()
        data = self.cleaned_data if self.is_bound else {}
        topic, source = data.get("topic"), data.get("source")
        return {
            "state": data.get("state") or ItemState.NEW,
            "topic_id": topic.pk if topic else None,
            "source_id": source.pk if source else None,
        }


class HiddenFilterForm(forms.Form):
    REASONS = [
        ("", _("Every reason")),
        (HiddenReason.DUPLICATE, _("Duplicates")),
        (HiddenReason.EXCLUDED, _("Excluded words")),
        ("expired", _("Deadline passed")),
    ]
    reason = forms.ChoiceField(label=_("Why hidden"), choices=REASONS, required=False)

    def reason_value(self) -> str | None:
        self.is_valid()
        return (self.cleaned_data.get("reason") if self.is_bound else None) or None


class ItemIdsField(forms.Field):
    """The ticked items: a list of ids from repeated checkboxes."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "invalid": _("An item could not be recognised."),
        "required": _("Tick at least one item."),
    }

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        try:
            return [int(item_id) for item_id in value]
        except (TypeError, ValueError) as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc


class BulkActionForm(forms.Form):
    ACTION_STATES = {
        "shortlist": ItemState.SHORTLISTED,
        "discard": ItemState.DISCARDED,
        "restore": ItemState.NEW,
    }
    action = forms.ChoiceField(
        label=_("With the ticked items"),
        choices=[
            ("shortlist", _("Shortlist")),
            ("discard", _("Discard")),
            ("restore", _("Back to new")),
        ],
    )
    items = ItemIdsField(label=_("Items"))

    @property
    def state(self) -> str:
        return self.ACTION_STATES[self.cleaned_data["action"]]


def _https_by_default(field: models.Field, **kwargs) -> forms.Field | None:
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


GENERAL_FIELDS = [
    "name",
    "kind",
    "url",
    "site_url",
    "category",
    "interval_minutes",
    "time_zone",
    "user_agent",
]
PAGE_FIELDS = [
    "selector_syntax",
    "item_selector",
    "title_selector",
    "link_selector",
    "date_selector",
    "summary_selector",
]
LISTING_FIELDS = [
    "items_path",
    "guid_field",
    "title_field",
    "link_field",
    "summary_field",
    "published_field",
    "deadline_field",
    "place_field",
]
DATE_FIELDS = ["date_format"]
# What "test this rule" needs; the rest of the form (the name, say) may still be unfinished.
RULE_TEST_FIELDS = {"url", "kind", "time_zone", "user_agent", *PAGE_FIELDS, *LISTING_FIELDS, *DATE_FIELDS}


class SourceForm(forms.ModelForm):
    # Declared here for its choices, so the model's default and capitalized label come by hand: without
    # them a new source showed (and saved) the first zone of the list, Africa/Abidjan.
    time_zone = forms.ChoiceField(
        label=capfirst(Source._meta.get_field("time_zone").verbose_name),
        help_text=Source._meta.get_field("time_zone").help_text,
        choices=time_zone_choices,
        initial=DEFAULT_TIME_ZONE,
    )

    class Meta:
        model = Source
        fields = [*GENERAL_FIELDS, *PAGE_FIELDS, *LISTING_FIELDS, *DATE_FIELDS]
        formfield_callback = _https_by_default

    def fieldsets(self) -> list[dict]:
        """The fields in groups, each saying which kinds of source it is for (the page hides the others)."""
        return [
            {"legend": _("Source"), "kinds": "", "fields": [self[name] for name in GENERAL_FIELDS]},
            {
                "legend": _("Web page rule (only for web pages)"),
                "kinds": SourceKind.PAGE,
                "fields": [self[name] for name in PAGE_FIELDS],
            },
            {
                "legend": _("Listing fields (only for JSON and CSV listings)"),
                "kinds": f"{SourceKind.JSON_LISTING} {SourceKind.CSV_LISTING}",
                "fields": [self[name] for name in LISTING_FIELDS],
            },
            {
                "legend": _("Dates (web pages and listings)"),
                "kinds": f"{SourceKind.PAGE} {SourceKind.JSON_LISTING} {SourceKind.CSV_LISTING}",
                "fields": [self[name] for name in DATE_FIELDS],
            },
        ]

    def rule_test_errors(self) -> list[tuple[str, list[str]]]:
        """The errors that stop "test this rule", with their fields' labels."""
        return [
            (self[name].label, errors) for name, errors in self.errors.items() if name in RULE_TEST_FIELDS
        ]

    def rule_test_arguments(self) -> dict | None:
        """Keyword arguments for ``source_rule_test`` from the unsaved values, or None while a field the
        test needs has an error (shown beside that field)."""
        self.is_valid()
        if RULE_TEST_FIELDS & set(self.errors):
            return None
        probe = self.instance  # carries the submitted values, never saved here
        return {
            "url": probe.url,
            "kind": probe.kind,
            "rule": probe.page_rule(),
            "mapping": probe.listing_map(),
            "time_zone": probe.time_zone,
            "user_agent": probe.user_agent,
        }


class MuteForm(forms.Form):
    reason = forms.CharField(label=_("Why mute it"), max_length=300)


class DiscoverForm(forms.Form):
    site = forms.URLField(
        label=_("Site's home page"),
        assume_scheme="https",
        max_length=2000,
        help_text=_("We read the page and list the feeds it announces."),
    )


class OpmlUploadForm(forms.Form):
    file = forms.FileField(
        label=_("OPML file"),
        widget=forms.FileInput(attrs={"accept": ".opml,.xml,text/x-opml,text/xml,application/xml"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Translated here, per request, not once at import in whatever language was active then.
        self.fields["file"].help_text = _("Exported from a feed reader; at most %(size)s.") % {
            "size": filesizeformat(MAX_DOCUMENT_BYTES)
        }

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_DOCUMENT_BYTES:
            raise ValidationError(
                _("The file is too large (%(size)s; at most %(limit)s)."),
                params={"size": filesizeformat(upload.size), "limit": filesizeformat(MAX_DOCUMENT_BYTES)},
            )
        return upload


class TopicForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    hashtags = forms.CharField(
        label=_("Suggested hashtags"),
        max_length=300,
        required=False,
        help_text=_(
            "Separated by spaces, e.g. #Empleo #Ocupació. A post composed from an item of this topic starts with them."
        ),
    )
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("An inactive topic scores nothing and is left out of the filters."),
    )


class KeywordForm(forms.Form):
    phrase = forms.CharField(
        label=_("Word or phrase"),
        max_length=120,
        help_text=_("Accents and capitals do not matter, and plurals are found too."),
    )
    weight = forms.IntegerField(label=_("Weight"), min_value=1, max_value=10, initial=2)
    is_exclusion = forms.BooleanField(
        label=_("Exclusion"),
        required=False,
        help_text=_("An item containing it does not count for this topic."),
    )


class KeywordChangeForm(forms.Form):
    weight = forms.IntegerField(label=_("Weight"), min_value=1, max_value=10)
    is_exclusion = forms.BooleanField(label=_("Exclusion"), required=False)


class ScoreTryForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=500, required=False)
    text = forms.CharField(
        label=_("Text"),
        max_length=20_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Paste a headline and its text to see the score the topics give it now. As for the items "
            "read, only the title and the start of the text count."
        ),
    )
