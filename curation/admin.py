"""The Django admin for curation, for the administrator; every change goes through the services."""

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from curation.models import Item, Keyword, OpmlImport, Source, Topic
from curation.services import (
    items_discard,
    items_shortlist,
    source_create,
    source_delete,
    source_update,
)

# Addresses typed without a scheme are https (Django 6's default, chosen now without its warning).
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = [
        "name",
        "kind",
        "host",
        "muted",
        "last_status",
        "last_fetch_at",
        "next_fetch_at",
        "consecutive_errors",
    ]
    list_filter = ["kind", "muted", "last_status", "category"]
    search_fields = ["name", "url", "host"]
    readonly_fields = [
        "host",
        "next_fetch_at",
        "claimed_until",
        "last_fetch_at",
        "last_success_at",
        "last_status",
        "last_http_status",
        "last_error_kind",
        "last_error_detail",
        "consecutive_errors",
        "last_new_items",
        "last_new_item_at",
        "last_duration_ms",
        "etag",
        "last_modified",
    ]

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            source_update(source=Source.objects.get(pk=obj.pk), **fields)
        else:
            obj.pk = source_create(**form.cleaned_data).pk

    def delete_model(self, request, obj):
        source_delete(source=obj, actor=request.user, request=request)

    def delete_queryset(self, request, queryset):
        for source in queryset:
            source_delete(source=source, actor=request.user, request=request)


class KeywordInline(admin.TabularInline):
    model = Keyword
    extra = 3


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "hashtags", "is_active"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [KeywordInline]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = ["title", "source", "topic", "score", "state", "hidden_reason", "published_at"]
    list_filter = ["state", "hidden_reason", "topic"]
    search_fields = ["title", "url"]
    list_select_related = ["source", "topic"]
    raw_id_fields = ["source", "duplicate_of", "state_changed_by"]
    readonly_fields = [
        "guid",
        "guid_hash",
        "url_hash",
        "content_hash",
        "rank",
        "score_reasons",
        "state",
        "state_changed_at",
    ]
    actions = ["shortlist", "discard"]

    @admin.action(description=_("Shortlist the selected items"))
    def shortlist(self, request, queryset):
        items_shortlist(item_ids=queryset.values_list("pk", flat=True), actor=request.user)

    @admin.action(description=_("Discard the selected items"))
    def discard(self, request, queryset):
        items_discard(item_ids=queryset.values_list("pk", flat=True), actor=request.user)


@admin.register(OpmlImport)
class OpmlImportAdmin(admin.ModelAdmin):
    list_display = ["file_name", "state", "total", "done", "created", "existing", "skipped", "created_at"]
    readonly_fields = ["document"]
