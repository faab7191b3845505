"""Read-only views of the inbox for staff who may read the desk.

The administrator role runs accounts and people and is not to read citizens' conversations
(socialdesk.access), so these pages open only to a staff user with READ_DESK.
"""

from django.contrib import admin
from django.db import models

from inbox.models import (
    Answer,
    CannedReply,
    Contact,
    Conversation,
    DepartmentContact,
    Identity,
    Message,
    PriorityWord,
)
from socialdesk.access import Capability, user_can
from socialdesk.admin import AdministratorAdmin


class DeskReadOnlyAdmin(admin.ModelAdmin):
    def has_module_permission(self, request):
        return request.user.is_staff and user_can(request.user, Capability.READ_DESK)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Contact)
class ContactAdmin(DeskReadOnlyAdmin):
    list_display = ["display_name", "created_at"]
    search_fields = ["display_name"]


@admin.register(Identity)
class IdentityAdmin(DeskReadOnlyAdmin):
    list_display = ["display_name", "handle", "network", "contact"]
    list_filter = ["network"]
    list_select_related = ["contact"]
    search_fields = ["display_name", "handle", "external_id"]


@admin.register(Conversation)
class ConversationAdmin(DeskReadOnlyAdmin):
    list_display = ["thread_key", "channel", "kind", "status", "needs_reply", "last_message_at"]
    list_filter = ["status", "needs_reply", "kind"]
    list_select_related = ["channel"]


@admin.register(Message)
class MessageAdmin(DeskReadOnlyAdmin):
    list_display = ["external_id", "channel", "direction", "author", "created_at", "edited", "deleted"]
    list_filter = ["direction", "edited", "deleted"]
    list_select_related = ["channel", "author"]


class DeskSettingsAdmin(admin.ModelAdmin):
    """What the manager configures for the desk: staff with WORK_DESK edit, READ_DESK staff read."""

    def has_module_permission(self, request):
        return request.user.is_staff and user_can(request.user, Capability.READ_DESK)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def _may_change(self, request) -> bool:
        return request.user.is_staff and user_can(request.user, Capability.WORK_DESK)

    def has_add_permission(self, request):
        return self._may_change(request)

    def has_change_permission(self, request, obj=None):
        return self._may_change(request)

    def has_delete_permission(self, request, obj=None):
        return self._may_change(request)


@admin.register(PriorityWord)
class PriorityWordAdmin(DeskSettingsAdmin):
    list_display = ["term", "category", "weight"]
    list_filter = ["category"]
    search_fields = ["term"]


@admin.register(CannedReply)
class CannedReplyAdmin(DeskSettingsAdmin):
    list_display = ["title", "keywords"]
    search_fields = ["title", "keywords", "text"]


# The organisation's reference data, not citizens' conversations: the administrator keeps it up to
# date on the admin site (the manager edits answers on /inbox/answers/ too).


@admin.register(DepartmentContact)
class DepartmentContactAdmin(AdministratorAdmin):
    list_display = ["name", "email", "topics", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "email", "topics"]

    def has_delete_permission(self, request, obj=None):
        # Questions sent keep pointing at their contact: take one out of use instead.
        return False


@admin.register(Answer)
class AnswerAdmin(AdministratorAdmin):
    list_display = ["question", "language", "is_active", "updated_at", "updated_by"]
    list_filter = ["is_active", "language"]
    list_select_related = ["updated_by"]
    search_fields = ["question", "keywords", "text"]
    fields = ["question", "keywords", "text", "link", "language", "is_active"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_delete_permission(self, request, obj=None):
        # The library keeps what the organisation once said: take an answer out of use instead.
        return False

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
