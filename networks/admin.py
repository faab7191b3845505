from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from networks.models import Channel, SandboxAccount, SandboxEvent, SandboxPost
from networks.services import channel_disable
from socialdesk.admin import AdministratorAdmin


@admin.register(Channel)
class ChannelAdmin(AdministratorAdmin):
    """Channels are connected through the connect flow; here they are read, and disabled."""

    list_display = ["display_name", "network", "handle", "status", "last_synced_at", "last_error_at"]
    list_filter = ["network", "status"]
    search_fields = ["display_name", "handle", "account_id"]
    readonly_fields = [
        "network",
        "server",
        "account_id",
        "display_name",
        "handle",
        "status",
        "last_error",
        "last_error_at",
        "configuration_outdated",
        "last_synced_at",
        "rate_limited_until",
        "poll_failures",
        "inbound_cursor",
        "next_poll_at",
        "created_at",
        "updated_at",
    ]
    actions = ["disable"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Disable the selected channels"))
    def disable(self, request, queryset):
        for channel in queryset:
            channel_disable(channel=channel, actor=request.user, request=request)
        count = queryset.count()
        self.message_user(
            request,
            ngettext("%(count)d channel disabled.", "%(count)d channels disabled.", count) % {"count": count},
            messages.SUCCESS,
        )


@admin.register(SandboxAccount)
class SandboxAccountAdmin(AdministratorAdmin):
    """The sandbox network's accounts: choose `failure` to make the network misbehave on demand."""

    list_display = ["handle", "display_name", "account_id", "failure", "next_citizen_message_at"]
    fields = ["handle", "display_name", "account_id", "failure", "next_citizen_message_at", "created_at"]
    readonly_fields = ["handle", "display_name", "account_id", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _ReadOnlyAdmin(AdministratorAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SandboxPost)
class SandboxPostAdmin(_ReadOnlyAdmin):
    list_display = ["external_id", "account", "kind", "created_at", "deleted_at"]
    list_filter = ["kind"]


@admin.register(SandboxEvent)
class SandboxEventAdmin(_ReadOnlyAdmin):
    list_display = ["id", "account", "kind", "author_handle", "is_from_us", "hidden", "created_at"]
    list_filter = ["kind", "is_from_us", "hidden"]
