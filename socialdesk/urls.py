from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from networks.urls import webhook_urlpatterns
from socialdesk import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The language can be chosen before signing in too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("curation/", include("curation.urls")),
    path("schedule/", include("scheduling.urls")),
    path("publishing/", include("scheduling.urls_publish")),
    path("inbox/", include("inbox.urls")),
    path("channels/", include("networks.urls")),
    path("metrics/", include("metrics.urls")),
    path("webhooks/", include((webhook_urlpatterns, "webhooks"))),
]
