"""The composer's form: one text, a variant per channel, the image and its description, who the post
is for and its topic, when to publish; and the live check the page shows while it is written."""

from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from curation.models import Topic
from networks.models import Channel, ChannelStatus
from scheduling.composer import VariantCheck, channel_default_segment, variant_check
from scheduling.forms_publish import DATETIME_INPUT
from scheduling.media import (
    ACCEPTED_TYPES,
    MAX_IMAGE_BYTES,
    ImageFacts,
    image_inspect,
    image_name_from_token,
    image_store,
    image_token,
    stored_image_facts,
)
from scheduling.models import AudienceSegment

ALT_TEXT_MISSING = _(
    "Describe the image for people who cannot see it: the description is needed to publish or schedule."
)


@dataclass(frozen=True)
class LiveCheck:
    """What the composer shows beside the form while it is written (and again on submit)."""

    variants: list[VariantCheck]
    chosen_ids: frozenset[int]
    image_name: str
    image_alt_text: str
    segment: AudienceSegment | None
    # The chosen channel whose default audience `segment` is, when the manager chose none herself.
    segment_default_of: Channel | None
    problems: list[str]  # about the whole post rather than one channel


class ComposeForm(forms.Form):
    NOW, AT, DRAFT = "now", "at", "draft"
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 4}))
    link = forms.URLField(label=_("Link"), required=False, max_length=2000, assume_scheme="https")
    channels = forms.ModelMultipleChoiceField(
        label=_("Channels"),
        queryset=Channel.objects.filter(status=ChannelStatus.ACTIVE),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    image = forms.FileField(
        label=_("Image file"), required=False, widget=forms.FileInput(attrs={"accept": ACCEPTED_TYPES})
    )
    # The image already uploaded (through htmx, or kept from a page shown again), as a signed name.
    image_token = forms.CharField(required=False, widget=forms.HiddenInput)
    image_remove = forms.BooleanField(label=_("Remove the image"), required=False)
    image_alt_text = forms.CharField(
        label=_("Image description (alt text)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What the image shows, for people who cannot see it. Needed to publish or schedule."),
    )
    segment = forms.ModelChoiceField(
        label=_("Audience"),
        queryset=AudienceSegment.objects.filter(is_active=True),
        required=False,
        empty_label=_("Not chosen"),
        help_text=_(
            "Who the post is for: its echoes are timed for when they are online. Left empty with one "
            "channel chosen: that channel's default audience."
        ),
    )
    topic = forms.ModelChoiceField(
        label=_("Topic"),
        queryset=Topic.objects.filter(is_active=True),
        required=False,
        empty_label=_("No topic"),
    )
    when = forms.ChoiceField(
        label=_("When"),
        choices=[(NOW, _("Publish now")), (AT, _("Schedule at")), (DRAFT, _("Save as draft"))],
        widget=forms.RadioSelect,
        initial=NOW,
    )
    at = forms.DateTimeField(label=_("Date and time"), required=False, widget=DATETIME_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._upload_facts: ImageFacts | None = None
        self.fields["image"].help_text = _(
            "JPEG, PNG, GIF or WebP, up to %(size)s. Instagram takes JPEG only."
        ) % {"size": filesizeformat(MAX_IMAGE_BYTES)}
        # Choosing a file uploads it at once (the live check then knows it); `consume` keeps the
        # form's own live check (on every `input` event) from sending the file a second time.
        self.fields["image"].widget.attrs.update(
            {
                "hx-post": reverse("publishing:compose_image"),
                "hx-encoding": "multipart/form-data",
                "hx-trigger": "input consume",
                "hx-target": "#compose-image",
                "hx-swap": "outerHTML",
                "hx-indicator": "#compose-image-uploading",
            }
        )
        self.active_channels = list(self.fields["channels"].queryset)
        for channel in self.active_channels:
            self.fields[self.variant_field(channel)] = forms.CharField(
                label=_("Text for %(channel)s (empty: the same text)") % {"channel": channel},
                widget=forms.Textarea(attrs={"rows": 3}),
                required=False,
            )

    @staticmethod
    def variant_field(channel: Channel) -> str:
        return f"variant_{channel.pk}"

    def variant_fields(self) -> list[forms.BoundField]:
        return [self[self.variant_field(channel)] for channel in self.active_channels]

    def variants(self) -> dict[Channel, str]:
        """Each chosen channel's text (its variant, or the main text). Needs cleaned data."""
        data = self.cleaned_data
        return {
            channel: (data.get(self.variant_field(channel)) or "").strip() or data.get("text", "")
            for channel in data.get("channels", [])
        }

    def with_upload_stored(self) -> "ComposeForm":
        """This form, or — when it carries a valid new image — the same form with the image stored
        and named by its token, so every page shown afterwards (an error elsewhere, the composer
        after an htmx upload) keeps the image without uploading it again."""
        upload = self.files.get("image")
        if not upload or "image" in self.errors:
            return self
        data = self.data.copy()
        data["image_token"] = image_token(image_store(upload))
        data.pop("image_remove", None)
        return type(self)(data, initial=self.initial)

    def image_name(self) -> str:
        """The stored image the post keeps. Needs cleaned data (after with_upload_stored)."""
        return "" if self.cleaned_data.get("image_remove") else self.cleaned_data.get("image_token", "")

    def audience(self) -> tuple[AudienceSegment | None, Channel | None]:
        """Who the post is for: the audience chosen, or else the default of the one channel chosen
        (with that channel). Needs cleaned data."""
        return _audience(self.cleaned_data.get("segment"), self.cleaned_data.get("channels") or [])

    def live_check(self) -> LiveCheck:
        """Counters, problems, image preview and audience for the form as it stands (bound or not)."""
        text, link = self["text"].value() or "", self["link"].value() or ""
        image_name = (
            "" if self["image_remove"].value() else image_name_from_token(self["image_token"].value())
        )
        image = stored_image_facts(image_name) if image_name else None
        alt_text = (self["image_alt_text"].value() or "").strip()
        chosen = list(self._field_value_or("channels", []))
        segment, default_of = _audience(self._field_value_or("segment", None), chosen)
        return LiveCheck(
            variants=[
                variant_check(
                    channel=channel,
                    text=(self[self.variant_field(channel)].value() or "").strip() or text,
                    link=link,
                    image=image,
                )
                for channel in self.active_channels
            ],
            chosen_ids=frozenset(channel.pk for channel in chosen),
            image_name=image_name,
            image_alt_text=alt_text,
            segment=segment,
            segment_default_of=default_of,
            problems=[str(ALT_TEXT_MISSING)] if image is not None and not alt_text else [],
        )

    def clean_image(self):
        upload = self.cleaned_data.get("image")
        if upload:
            self._upload_facts = image_inspect(upload)
        return upload

    def clean_image_token(self) -> str:
        token = self.cleaned_data.get("image_token", "")
        name = image_name_from_token(token)
        if token and not name:
            raise ValidationError(_("The image is no longer available: choose it again."))
        return name

    def clean(self):
        data = super().clean()
        when = data.get("when")
        if when == self.AT and not data.get("at"):
            self.add_error("at", _("Choose the date and time."))
        if when in (self.NOW, self.AT):
            self._clean_for_publishing(data)
        return data

    def _clean_for_publishing(self, data: dict) -> None:
        """What must be settled before anything goes to a network (a draft may lack all of it)."""
        if not data.get("channels"):
            self.add_error("channels", _("Choose at least one channel."))
        image = self._cleaned_image_facts()
        if image is not None and not data.get("image_alt_text", "").strip():
            self.add_error("image_alt_text", ALT_TEXT_MISSING)
        if data.get("channels") and self.audience()[0] is None:
            self.add_error(
                "segment", _("Choose who the post is for: its echoes are timed for that audience.")
            )
        for channel, text in self.variants().items():
            for problem in variant_check(
                channel=channel, text=text, link=data.get("link", ""), image=image
            ).problems:
                self.add_error(None, f"{channel}: {problem}")

    def _cleaned_image_facts(self) -> ImageFacts | None:
        if self.cleaned_data.get("image_remove"):
            return None
        if self.cleaned_data.get("image"):
            return self._upload_facts
        name = self.cleaned_data.get("image_token", "")
        return stored_image_facts(name) if name else None

    def _field_value_or(self, name: str, fallback):
        """The field's current value cleaned by the field itself, or `fallback` if it is not valid."""
        try:
            return self.fields[name].clean(self[name].value()) or fallback
        except ValidationError:
            return fallback


def _audience(segment: AudienceSegment | None, channels) -> tuple[AudienceSegment | None, Channel | None]:
    if segment is not None:
        return segment, None
    if len(channels) == 1:
        default = channel_default_segment(channels[0])
        if default is not None:
            return default, channels[0]
    return None, None
