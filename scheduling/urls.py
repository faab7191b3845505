from django.urls import path

from scheduling import views, views_calendar

app_name = "scheduling"

urlpatterns = [
    path("", views.drafts, name="drafts"),
    path("calendar/", views_calendar.calendar_week, name="calendar"),
    path("calendar/month/", views_calendar.calendar_month, name="calendar_month"),
    path("list/", views_calendar.schedule_list, name="list"),
    path("deliveries/<int:delivery_id>/move/", views_calendar.event_move, name="event_move"),
    path("deliveries/<int:delivery_id>/cancel/", views_calendar.event_cancel, name="event_cancel"),
    path("feed/renew/", views_calendar.feed_renew, name="feed_renew"),
    path("feed/<slug:token>.ics", views_calendar.calendar_feed, name="feed"),
]
