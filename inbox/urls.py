from django.urls import path

from inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:conversation_id>/", views.conversation_detail, name="conversation"),
    path("<int:conversation_id>/canned/", views.canned_search, name="canned"),
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
