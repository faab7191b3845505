from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SocialDeskConfig(AppConfig):
    name = "socialdesk"
    verbose_name = _("SocialDesk")

    def ready(self) -> None:
        from socialdesk import signals  # noqa: F401  (connects the audit log to sign-in events)
