"""The composer's form: one text, a variant per channel, when to publish."""

from django import forms
from django.utils.translation import gettext_lazy as _

from networks.models import Channel, ChannelStatus
from scheduling.composer import variant_check
from scheduling.forms_publish import DATETIME_INPUT


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
    when = forms.ChoiceField(
        label=_("When"),
        choices=[(NOW, _("Publish now")), (AT, _("Schedule at")), (DRAFT, _("Save as draft"))],
        widget=forms.RadioSelect,
        initial=NOW,
    )
    at = forms.DateTimeField(label=_("Date and time"), required=False, widget=DATETIME_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
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

    def variants(self) -> dict[Channel, str]:
        """Each chosen channel's text (its variant, or the main text). Needs cleaned data."""
        data = self.cleaned_data
        return {
            channel: (data.get(self.variant_field(channel)) or "").strip() or data.get("text", "")
            for channel in data.get("channels", [])
        }

    def checks(self) -> list:
        """The length counter and problems of every active channel, for the text as it stands."""
        text = (self.data.get("text") or "") if self.is_bound else ""
        link = (self.data.get("link") or "") if self.is_bound else ""
        return [
            variant_check(
                channel=channel,
                text=((self.data.get(self.variant_field(channel)) or "").strip() if self.is_bound else "")
                or text,
                link=link,
            )
            for channel in self.active_channels
        ]

    def clean(self):
        data = super().clean()
        when = data.get("when")
        if when == self.AT and not data.get("at"):
            self.add_error("at", _("Choose the date and time."))
        if when in (self.NOW, self.AT):
            if not data.get("channels"):
                self.add_error("channels", _("Choose at least one channel."))
            for channel, text in self.variants().items():
                for problem in variant_check(channel=channel, text=text, link=data.get("link", "")).problems:
                    self.add_error(None, f"{channel}: {problem}")
        return data
