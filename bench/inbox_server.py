"""The inbox benchmark's web server: the desk's own WSGI application and URLs, plus one trivial view
to compare the webhook endpoint with. gunicorn runs it as ``bench.inbox_server:application``, with
the bench database and settings in its environment; the app itself gains nothing.

The trivial view answers "ok" without touching the database: what any request costs through the
same middleware on the same server, and nothing more.
"""

import os

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialdesk.settings")
settings.ROOT_URLCONF = __name__
application = get_wsgi_application()

TRIVIAL_PATH = "bench/trivial/"


@login_not_required  # the bench asks it without a session, as Meta asks the webhook
def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path(TRIVIAL_PATH, trivial), path("", include("socialdesk.urls"))]
