from django.urls import path

from networks import views

app_name = "networks"

urlpatterns = [
    path("", views.channels, name="channels"),
    # Before the generic connect route: these two ask for details before anything else.
    path("connect/mastodon/", views.connect_mastodon, name="connect_mastodon"),
    path("connect/bluesky/", views.connect_bluesky, name="connect_bluesky"),
    path("connect/<slug:network>/", views.connect, name="connect"),
    path("connect/<slug:network>/callback/", views.connect_callback, name="connect_callback"),
    path("connect/<slug:network>/choose/", views.choose, name="connect_choose"),
    path("<int:pk>/disable/", views.disable, name="disable"),
]

# Included under /webhooks/ (namespace "webhooks"): called by the networks, not by people.
webhook_urlpatterns = [
    path("meta/", views.meta_webhook, name="meta"),
]
