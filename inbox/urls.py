from django.urls import path

from inbox import views, views_alerts, views_library, views_privacy

app_name = "inbox"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("alerts/", views_alerts.alert_preferences, name="alerts"),
    path("<int:conversation_id>/", views.conversation_detail, name="conversation"),
    path("<int:conversation_id>/canned/", views.canned_search, name="canned"),
    path("<int:conversation_id>/answers/", views_library.answers_search_view, name="answers_search"),
    path("<int:conversation_id>/curated-links/", views_library.curated_links_view, name="curated_links"),
    path("<int:conversation_id>/colleagues/ask/", views_library.colleague_ask_view, name="colleague_ask"),
    path(
        "<int:conversation_id>/colleagues/<int:request_id>/cancel/",
        views_library.colleague_cancel_view,
        name="colleague_cancel",
    ),
    path(
        "<int:conversation_id>/colleagues/<int:request_id>/answer/",
        views_library.colleague_paste_view,
        name="colleague_paste",
    ),
    path("answers/", views_library.answers_list, name="answers"),
    path("answers/new/", views_library.answer_new, name="answer_new"),
    path("answers/<int:answer_id>/", views_library.answer_edit, name="answer_edit"),
    path(
        "answers/<int:answer_id>/deactivate/",
        views_library.answer_active,
        {"active": False},
        name="answer_deactivate",
    ),
    path(
        "answers/<int:answer_id>/activate/",
        views_library.answer_active,
        {"active": True},
        name="answer_activate",
    ),
    path("<int:conversation_id>/reply/", views.reply_send, name="reply"),
    path("<int:conversation_id>/replies/<int:reply_id>/retry/", views.reply_retry_view, name="reply_retry"),
    path("<int:conversation_id>/close/", views.close, name="close"),
    path("<int:conversation_id>/reopen/", views.reopen, name="reopen"),
    path("<int:conversation_id>/snooze/", views.snooze, name="snooze"),
    path("<int:conversation_id>/wait/", views.wait, name="wait"),
    path("<int:conversation_id>/assign/", views.assign, name="assign"),
    path("<int:conversation_id>/spam/", views.spam, {"spam": True}, name="spam"),
    path("<int:conversation_id>/not-spam/", views.spam, {"spam": False}, name="not_spam"),
    path("<int:conversation_id>/tags/", views.tag_add, name="tag_add"),
    path("<int:conversation_id>/tags/<int:tag_id>/remove/", views.tag_remove, name="tag_remove"),
    path("<int:conversation_id>/contacts/", views.contact_candidates, name="contact_candidates"),
    path("<int:conversation_id>/contacts/merge/", views.contact_merge_view, name="contact_merge"),
    path(
        "<int:conversation_id>/contacts/erase/",
        views_privacy.contact_erase_confirm,
        name="contact_erase_confirm",
    ),
    path(
        "<int:conversation_id>/contacts/erase/confirm/",
        views_privacy.contact_erase_view,
        name="contact_erase",
    ),
    path(
        "<int:conversation_id>/identities/<int:identity_id>/detach/",
        views.identity_detach_view,
        name="identity_detach",
    ),
    path("<int:conversation_id>/notes/", views.note_add_view, name="note_add"),
    path("<int:conversation_id>/messages/<int:message_id>/hide/", views.hide, {"hidden": True}, name="hide"),
    path(
        "<int:conversation_id>/messages/<int:message_id>/unhide/",
        views.hide,
        {"hidden": False},
        name="unhide",
    ),
]
