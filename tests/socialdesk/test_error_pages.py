"""The pages a person sees when something fails: a server error (500) and a form sent after the
session expired (CSRF failure, 403). Spanish first, like the rest of the desk.

The 500 page is rendered by django.views.defaults.server_error with no request context at all, so
it must need nothing from the database, the session or the context processors.
"""

import re

import pytest
from django.contrib.auth.decorators import login_not_required
from django.template import loader
from django.test import Client
from django.urls import include, path, reverse
from django.utils import translation
from django.utils.translation import gettext


@login_not_required
def broken_view(request):
    raise RuntimeError("a bug")


# This module is the URL configuration of the tests marked with it: the desk plus a broken page.
urlpatterns = [path("broken/", broken_view), path("", include("socialdesk.urls"))]


def in_spanish(text: str) -> str:
    with translation.override("es"):
        return gettext(text)


def assert_no_inline_code(html: str) -> None:
    """Content-Security-Policy is 'self' only: no inline script, style or event handler."""
    assert not re.search(r"<script>|<style|\sstyle=|\son[a-z]+=", html)


@pytest.mark.urls(__name__)
def test_a_server_error_shows_the_desks_own_page_in_spanish(db):
    client = Client(raise_request_exception=False)

    response = client.get("/broken/")

    html = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="es">' in html
    assert in_spanish("Something went wrong") in html
    assert (
        in_spanish(
            "The desk could not finish what you asked. The error has been recorded for the administrator."
        )
        in html
    )
    assert f'href="{reverse("home")}"' in html
    assert_no_inline_code(html)


def test_the_server_error_page_renders_with_no_context_and_no_database():
    # No db fixture: pytest-django makes any database access here fail the test.
    with translation.override("ca"):
        html = loader.get_template("500.html").render()

    assert '<html lang="ca">' in html
    with translation.override("ca"):
        assert gettext("Something went wrong") in html


def test_a_form_sent_after_the_session_expired_explains_and_says_to_reload(manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    response = client.post(reverse("logout"))

    html = response.content.decode()
    assert response.status_code == 403
    assert '<html lang="es">' in html
    assert in_spanish("The page had expired") in html
    assert (
        in_spanish(
            "Go back, reload the page and send the form again. If you wrote a long text, copy it before reloading."
        )
        in html
    )
    assert_no_inline_code(html)


def test_the_expired_page_is_shown_in_the_language_the_person_chose(manager):
    client = Client(enforce_csrf_checks=True, headers={"accept-language": "ca"})
    client.force_login(manager)

    html = client.post(reverse("logout")).content.decode()

    assert '<html lang="ca">' in html
    with translation.override("ca"):
        assert gettext("The page had expired") in html
