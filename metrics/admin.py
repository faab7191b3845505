"""The administrator sets the response targets (SLA) here; nobody else reaches the admin site."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from metrics.models import SlaTarget
from metrics.sla import sla_target_save
from socialdesk.admin import AdministratorAdmin


@admin.register(SlaTarget)
class SlaTargetAdmin(AdministratorAdmin):
    list_display = ("conversation_kind", "target_hours", "is_active", "updated_at")
    list_editable = ("is_active",)
    fields = ("conversation_kind", "business_seconds", "is_active")

    @admin.display(description=_("business hours"))
    def target_hours(self, obj: SlaTarget) -> str:
        return f"{obj.business_seconds / 3600:g}"

    def get_readonly_fields(self, request, obj=None):
        # A target belongs to its kind: change the time, or add the kind that has none.
        return ("conversation_kind",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        # Switched off (is_active), never deleted: past reports keep their meaning.
        return False

    def save_model(self, request, obj, form, change) -> None:
        sla_target_save(target=obj, actor=request.user, request=request)
