from django.urls import path

from scheduling import views_activity, views_compose, views_echo, views_publish

app_name = "publishing"

urlpatterns = [
    path("compose/", views_compose.compose, name="compose"),
    path("compose/check/", views_compose.compose_check, name="compose_check"),
    path("compose/image/", views_compose.compose_image, name="compose_image"),
    path("images/<path:name>", views_compose.image, name="image"),
    path("pause/", views_publish.pause, name="pause"),
    path("pause/start/", views_publish.pause_start, name="pause_start"),
    path("pause/resume/", views_publish.pause_resume, name="pause_resume"),
    path("attention/", views_publish.attention, name="attention"),
    path("deliveries/<int:delivery_id>/decide/", views_publish.delivery_decide, name="delivery_decide"),
    path("echo-rules/", views_echo.echo_rules, name="echo_rules"),
    path("echo-rules/<int:channel_id>/", views_echo.echo_rule_save, name="echo_rule_save"),
    path("activity/", views_activity.activity, name="activity"),
    path("outside/", views_activity.outside, name="outside"),
    path("outside/<int:post_id>/echo/", views_activity.outside_echo, name="outside_echo"),
    path("outside/<int:post_id>/dismiss/", views_activity.outside_dismiss, name="outside_dismiss"),
]
