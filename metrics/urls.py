from django.urls import path

from metrics import views

app_name = "metrics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("report/", views.monthly_report, name="report"),
    path("export/<slug:table>.csv", views.table_export, name="export"),
    path("help/", views.help_page, name="help"),
]
