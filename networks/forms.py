from django import forms
from django.utils.translation import gettext_lazy as _


class MastodonInstanceForm(forms.Form):
    instance = forms.CharField(
        label=_("Instance"),
        max_length=253,
        help_text=_("The server the account lives on, e.g. mastodon.social or xarxa.cloud."),
        widget=forms.TextInput(
            attrs={"autocomplete": "url", "spellcheck": "false", "autocapitalize": "none"}
        ),
    )


class BlueskyForm(forms.Form):
    handle = forms.CharField(
        label=_("Handle"),
        max_length=253,
        help_text=_("e.g. ocupacio.bsky.social"),
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"}
        ),
    )
    app_password = forms.CharField(
        label=_("App password"),
        max_length=100,
        help_text=_(
            "Create one in Bluesky under Settings › Privacy and security › App passwords. Never give the "
            "account's own password."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    service_url = forms.URLField(
        label=_("Server (only for accounts outside bsky.social)"),
        required=False,
        assume_scheme="https",
        help_text=_("Leave empty for accounts on Bluesky's own servers."),
    )


class ChooseAccountForm(forms.Form):
    account_id = forms.ChoiceField(label=_("Account"), widget=forms.RadioSelect)

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account_id"].choices = [
            (
                account.account_id,
                " · ".join(part for part in (account.display_name, account.description) if part),
            )
            for account in accounts
        ]
