"""Forms of the publishing pages: the emergency pause and the manager's decision on a delivery."""

from django import forms
from django.utils.translation import gettext_lazy as _

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class PauseForm(forms.Form):
    reason = forms.CharField(
        label=_("Why"),
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("Floods in the Ribera: official warnings only")}),
    )
    ends_at = forms.DateTimeField(
        label=_("Resume by itself at (optional)"), required=False, widget=DATETIME_INPUT
    )


class DeliveryDecisionForm(forms.Form):
    """Publish now, reschedule or drop a delivery that waits for the manager (text may be fixed)."""

    PUBLISH, RESCHEDULE, DROP = "publish", "reschedule", "drop"
    action = forms.ChoiceField(
        choices=[(PUBLISH, _("Publish now")), (RESCHEDULE, _("Reschedule")), (DROP, _("Drop"))]
    )
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    at = forms.DateTimeField(label=_("New time"), required=False, widget=DATETIME_INPUT)

    def clean(self):
        data = super().clean()
        if data.get("action") == self.RESCHEDULE and not data.get("at"):
            self.add_error("at", _("Choose the new time."))
        if data.get("action") in (self.PUBLISH, self.RESCHEDULE) and not (data.get("text") or "").strip():
            self.add_error("text", _("The text cannot be empty."))
        return data
