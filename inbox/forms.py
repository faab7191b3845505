from django import forms
from django.utils.translation import gettext_lazy as _

from inbox.models import Language, ReplyKind, Resolution, Tag
from inbox.selectors import DEFAULT_VIEW, QUEUE_VIEWS
from networks.base import InboundKind
from networks.models import Channel, Network

UNKNOWN_LANGUAGE = "unknown"


class QueueFilterForm(forms.Form):
    view = forms.ChoiceField(
        label=_("View"), required=False, choices=[(slug, view.label) for slug, view in QUEUE_VIEWS.items()]
    )
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    network = forms.ChoiceField(
        label=_("Network"), required=False, choices=[("", _("Any")), *Network.choices]
    )
    channel = forms.ModelChoiceField(
        label=_("Channel"), required=False, queryset=Channel.objects.all(), empty_label=_("Any")
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any")), *InboundKind.choices])
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=[("", _("Any")), ("high", _("Priority only"))]
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[
            ("", _("Any")),
            (Language.SPANISH, Language.SPANISH.label),
            (Language.VALENCIAN, Language.VALENCIAN.label),
            (UNKNOWN_LANGUAGE, _("Unknown")),
        ],
    )
    tag = forms.ModelChoiceField(
        label=_("Tag"), required=False, queryset=Tag.objects.all(), empty_label=_("Any")
    )

    def filters(self) -> dict:
        """The selector's keyword arguments; an invalid value is ignored rather than refused."""
        data = self.cleaned_data if self.is_valid() else {}
        language = data.get("language") or None
        channel = data.get("channel")
        tag = data.get("tag")
        return {
            "view": data.get("view") or DEFAULT_VIEW,
            "q": data.get("q", "").strip(),
            "network": data.get("network", ""),
            "channel": channel.pk if channel else None,
            "kind": data.get("kind", ""),
            "priority_only": data.get("priority") == "high",
            "language": "" if language == UNKNOWN_LANGUAGE else language,
            "tag": tag.pk if tag else None,
        }


class ReplyForm(forms.Form):
    kind = forms.ChoiceField(label=_("Reply as"), choices=ReplyKind.choices)
    text = forms.CharField(
        label=_("Reply"), widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"}), max_length=5000
    )

    def __init__(self, *args, kinds: list[ReplyKind], max_length: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind.value, kind.label) for kind in kinds]
        self.fields["text"].widget.attrs.update({"data-max-length": str(max_length), "data-reply-text": ""})


class CloseForm(forms.Form):
    resolution = forms.ChoiceField(label=_("How"), choices=Resolution.choices)


class SnoozeForm(forms.Form):
    until = forms.DateTimeField(
        label=_("Until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: until the citizen writes again."),
    )


class TagForm(forms.Form):
    name = forms.CharField(label=_("Tag"), max_length=60)


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Private note"), widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}))


class HideForm(forms.Form):
    reason = forms.CharField(label=_("Why"), max_length=300)
