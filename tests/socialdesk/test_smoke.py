"""The first minutes of `make run`: demo data, sign in, the desk opens, sign out."""

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from socialdesk.demo import DEMO_CAST, DEMO_PASSWORD_SUFFIX


def test_home_requires_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_page_renders(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert response.templates[0].name == "registration/login.html"


@pytest.mark.parametrize(("username", "first_name", "last_name", "role"), DEMO_CAST)
def test_each_demo_person_signs_in_reaches_the_desk_and_signs_out(db, username, first_name, last_name, role):
    call_command("seed_demo", stdout=io.StringIO())
    browser = Client(enforce_csrf_checks=True)

    def token(html: str) -> str:
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    login_page = browser.get(reverse("login")).content.decode()
    response = browser.post(
        reverse("login"),
        {
            "username": username,
            "password": f"{username}{DEMO_PASSWORD_SUFFIX}",
            "csrfmiddlewaretoken": token(login_page),
        },
        follow=True,
    )
    assert response.redirect_chain == [(reverse("home"), 302)]
    home = response.content.decode()
    assert f"{first_name} {last_name}" in home

    response = browser.post(reverse("logout"), {"csrfmiddlewaretoken": token(home)}, follow=True)
    assert response.redirect_chain == [(reverse("login"), 302)]
    assert browser.get(reverse("home")).status_code == 302
