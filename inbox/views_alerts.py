"""The signed-in user's e-mail alerts: priority messages outside working hours, and a daily digest.

The manager who works the desk chooses them (WORK_DESK). A supervisor changes nothing anywhere,
her own settings included; she reads the same figures on the metrics dashboard.
"""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from inbox.alerts import DIGEST_AT, PRIORITY_ALERT_THRESHOLD, alert_preference_of, alert_preference_update
from inbox.models import AlertPreference
from socialdesk.access import Capability, require


class AlertPreferenceForm(forms.ModelForm):
    class Meta:
        model = AlertPreference
        fields = ["priority_off_hours", "daily_digest", "email"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)
        self.user = user
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["priority_off_hours"].widget.attrs["aria-describedby"] = "priority-help"
        self.fields["daily_digest"].widget.attrs["aria-describedby"] = "digest-help"
        if user.email:
            self.fields["email"].help_text = _("Empty: %(address)s, your account's address.") % {
                "address": user.email
            }
        else:
            self.fields["email"].help_text = _("Your account has no e-mail address: write one here.")

    def clean(self):
        data = super().clean()
        wants_mail = data.get("priority_off_hours") or data.get("daily_digest")
        if wants_mail and not data.get("email") and not self.user.email:
            self.add_error("email", _("Say where to send them: your account has no e-mail address."))
        return data


@require(Capability.WORK_DESK)
def alert_preferences(request: HttpRequest) -> HttpResponse:
    preference = alert_preference_of(request.user)
    form = AlertPreferenceForm(request.POST or None, instance=preference, user=request.user)
    if request.method == "POST" and form.is_valid():
        alert_preference_update(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your alerts are saved."))
        return redirect("inbox:alerts")
    context = {"form": form, "digest_at": DIGEST_AT, "threshold": PRIORITY_ALERT_THRESHOLD}
    return render(request, "inbox/alerts.html", context, status=400 if form.errors else 200)
