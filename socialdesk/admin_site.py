"""The admin site itself, apart from socialdesk.admin: Django builds it while the apps' admin
modules (django.contrib.auth's among them) are still being imported, so this module imports none."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from socialdesk.access import Capability, user_can


class SocialDeskAdminSite(admin.AdminSite):
    """Only administrators and superusers get in; roles, not Django's model permissions, decide."""

    site_header = _("SocialDesk administration")
    site_title = _("SocialDesk administration")
    index_title = _("Users, office hours and audit log")

    def has_permission(self, request) -> bool:
        # is_staff alone is not enough: a stray flag on a manager must not open the admin.
        user = request.user
        return user.is_active and user.is_staff and user_can(user, Capability.MANAGE_USERS)
