"""The Django admin: administrators manage people, office hours and closed days, and read the audit log.

Roles, not Django's model permissions, decide who may use it: the site (socialdesk.admin_site) lets
in active staff users with the MANAGE_USERS capability (administrators and superusers), and every
ModelAdmin here asks the site. Other apps register with ``AdministratorAdmin`` for the same rule.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from socialdesk.models import AuditEvent, ClosedDay, User, WorkingInterval
from socialdesk.users import user_role_change_validate, user_set_role


class AdministratorAdmin(admin.ModelAdmin):
    """A ModelAdmin whoever reaches the admin site may use in full."""

    def has_module_permission(self, request) -> bool:
        return self.admin_site.has_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request) -> bool:
        return self.admin_site.has_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.admin_site.has_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.admin_site.has_permission(request)


# Roles replace Django's groups and permissions; showing them would suggest they mattered.
admin.site.unregister(Group)


class UserChangeForm(DjangoUserChangeForm):
    def clean_role(self):
        # A refused change (the last administrator) becomes a form error instead of a crash on save.
        role = self.cleaned_data["role"]
        user_role_change_validate(user=self.instance, role=role)
        return role


@admin.register(User)
class UserAdmin(AdministratorAdmin, DjangoUserAdmin):
    form = UserChangeForm
    list_display = ("username", "first_name", "last_name", "email", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Access"), {"fields": ("role", "is_active", "is_staff", "is_superuser")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
        (_("Access"), {"fields": ("role",)}),
    )
    # Admin access follows the role (socialdesk.users.user_set_role); superusers come from
    # `manage.py createsuperuser`, on the server.
    readonly_fields = ("is_staff", "is_superuser", "last_login", "date_joined")

    def has_delete_permission(self, request, obj=None) -> bool:
        # People are deactivated, not deleted: the audit log and the desk's history point to them.
        return False

    def save_model(self, request, obj, form, change) -> None:
        # The form already put the new role on obj; save everything else, then let the service
        # change the role so is_staff and the audit log follow.
        new_role = obj.role
        obj.role = form.initial.get("role", "") if change else ""
        super().save_model(request, obj, form, change)
        user_set_role(user=obj, role=new_role, by=request.user, request=request)


@admin.register(WorkingInterval)
class WorkingIntervalAdmin(AdministratorAdmin):
    list_display = ("weekday", "starts_at", "ends_at")
    list_filter = ("weekday",)


@admin.register(ClosedDay)
class ClosedDayAdmin(AdministratorAdmin):
    list_display = ("date", "name")
    search_fields = ("name",)
    date_hierarchy = "date"


@admin.register(AuditEvent)
class AuditEventAdmin(AdministratorAdmin):
    """Read-only: the log is written by socialdesk.audit.audit_record and nothing else."""

    list_display = ("at", "actor_label", "action", "target_type", "target_label", "ip_address")
    list_filter = ("action",)
    search_fields = ("actor_label", "target_label", "target_id")
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
