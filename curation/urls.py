from django.urls import path

from curation import views, views_topics

app_name = "curation"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("hidden/", views.hidden, name="hidden"),
    path("items/bulk/", views.items_bulk, name="items_bulk"),
    path("items/<int:item_id>/", views.item_detail, name="item"),
    path("items/<int:item_id>/shortlist/", views.item_move, {"action": "shortlist"}, name="item_shortlist"),
    path("items/<int:item_id>/discard/", views.item_move, {"action": "discard"}, name="item_discard"),
    path("items/<int:item_id>/restore/", views.item_move, {"action": "restore"}, name="item_restore"),
    path("items/<int:item_id>/compose/", views.item_compose, name="item_compose"),
    path("sources/", views.sources, name="sources"),
    path("sources/new/", views.source_new, name="source_new"),
    path("sources/discover/", views.source_discover, name="source_discover"),
    path("sources/<int:source_id>/", views.source_edit, name="source_edit"),
    path("sources/<int:source_id>/mute/", views.source_mute_view, name="source_mute"),
    path("sources/<int:source_id>/unmute/", views.source_unmute_view, name="source_unmute"),
    path("sources/<int:source_id>/fetch/", views.source_fetch_now, name="source_fetch"),
    path("sources/<int:source_id>/delete/", views.source_delete_view, name="source_delete"),
    path("topics/", views_topics.topics, name="topics"),
    path("topics/new/", views_topics.topic_new, name="topic_new"),
    path("topics/rescore/", views_topics.items_rescore_view, name="items_rescore"),
    path("topics/try/", views_topics.score_try_view, name="score_try"),
    path("topics/<int:topic_id>/", views_topics.topic_edit, name="topic_edit"),
    path("topics/<int:topic_id>/keywords/", views_topics.keyword_add_view, name="keyword_add"),
    path("keywords/<int:keyword_id>/", views_topics.keyword_change_view, name="keyword_change"),
    path("keywords/<int:keyword_id>/remove/", views_topics.keyword_remove_view, name="keyword_remove"),
    path("opml/", views.opml, name="opml"),
    path("opml/import/", views.opml_upload, name="opml_upload"),
    path("opml/imports/<int:import_id>/", views.opml_import, name="opml_import"),
    path("opml/export/", views.opml_download, name="opml_export"),
]
