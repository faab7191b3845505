from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class SocialDeskConfig(AppConfig):
    name = "socialdesk"
    verbose_name = _("SocialDesk")

    def ready(self) -> None:
        from socialdesk import signals  # noqa: F401  (connects the audit log to sign-in events)


class SocialDeskAdminConfig(admin_apps.AdminConfig):
    """The Django admin, on a site that only administrators reach."""

    default = False  # named in INSTALLED_APPS; SocialDeskConfig stays this module's default
    default_site = "socialdesk.admin_site.SocialDeskAdminSite"
