from django.urls import path

from scheduling import views_compose, views_publish

app_name = "publishing"

urlpatterns = [
    path("compose/", views_compose.compose, name="compose"),
    path("compose/check/", views_compose.compose_check, name="compose_check"),
    path("pause/", views_publish.pause, name="pause"),
    path("pause/start/", views_publish.pause_start, name="pause_start"),
    path("pause/resume/", views_publish.pause_resume, name="pause_resume"),
    path("attention/", views_publish.attention, name="attention"),
    path("deliveries/<int:delivery_id>/decide/", views_publish.delivery_decide, name="delivery_decide"),
]
