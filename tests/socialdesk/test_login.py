"""Signing in and out, and the lock-out after repeated wrong passwords (django-axes)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def browser():
    """A client that, like a browser, must send the CSRF token it was given."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    return settings


@pytest.fixture(autouse=True)
def _leave_no_language_behind():
    """LocaleMiddleware activates the request's language in this thread and leaves it there; without
    this, the next test on the same worker would run in Valencian or English."""
    yield
    translation.deactivate()


def sign_in(browser: Client, username: str, password: str, **extra):
    form = browser.get(reverse("login"), **extra)
    token = CSRF_INPUT.search(form.content.decode()).group(1)
    return browser.post(
        reverse("login"), {"username": username, "password": password, "csrfmiddlewaretoken": token}, **extra
    )


def is_signed_in(browser: Client) -> bool:
    return browser.get(reverse("home")).status_code == 200


def test_login_form_is_labelled_for_password_managers_and_screen_readers(client, db):
    page = client.get(reverse("login")).content.decode()
    assert '<label for="id_username">Nombre de usuario</label>' in page
    assert '<label for="id_password">Contraseña</label>' in page
    assert re.search(
        r'<input type="text" name="username"[^>]*autocomplete="username"[^>]*required id="id_username">', page
    )
    assert re.search(
        r'<input type="password" name="password"[^>]*autocomplete="current-password"[^>]*required', page
    )
    assert 'action="/login/"' in page
    assert 'method="post"' in page


def test_language_can_be_chosen_before_signing_in(client, db):
    page = client.get(reverse("login")).content.decode()
    assert f'action="{reverse("set_language")}"' in page


def test_right_password_signs_in_and_goes_home(browser, manager):
    response = sign_in(browser, "marta", "marta-password-123")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert is_signed_in(browser)


def test_next_page_is_honoured_but_only_on_this_site(browser, manager):
    form = browser.get(f"{reverse('login')}?next=/admin/")
    token = CSRF_INPUT.search(form.content.decode()).group(1)
    assert 'name="next" value="/admin/"' in form.content.decode()
    response = browser.post(
        reverse("login"),
        {
            "username": "marta",
            "password": "marta-password-123",
            "next": "https://evil.example/",
            "csrfmiddlewaretoken": token,
        },
    )
    assert response["Location"] == reverse("home")


def test_wrong_password_is_announced_and_keeps_the_username(browser, manager):
    response = sign_in(browser, "marta", "wrong-password")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<div class="form-errors" id="login-errors" role="alert" tabindex="-1" autofocus>' in page
    assert "introduzca un nombre de usuario y clave correctos" in page
    assert "<title>Error: Iniciar sesión · SocialDesk</title>" in page
    assert 'value="marta"' in page
    assert not is_signed_in(browser)


def test_empty_fields_are_tied_to_their_message(browser, db):
    page = sign_in(browser, "", "").content.decode()
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="id_username_error"' in page
    assert '<ul class="errorlist" id="id_username_error"><li>Este campo es obligatorio.</li></ul>' in page


def test_login_without_csrf_token_is_refused(browser, manager):
    browser.get(reverse("login"))
    response = browser.post(reverse("login"), {"username": "marta", "password": "marta-password-123"})
    assert response.status_code == 403
    assert not is_signed_in(browser)


def test_sign_out_is_a_post_with_csrf(browser, manager):
    sign_in(browser, "marta", "marta-password-123")
    home = browser.get(reverse("home")).content.decode()
    assert f'<form class="sign-out" method="post" action="{reverse("logout")}">' in home
    token = CSRF_INPUT.search(home).group(1)

    assert browser.get(reverse("logout")).status_code == 405
    assert is_signed_in(browser)

    response = browser.post(reverse("logout"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert not is_signed_in(browser)


def test_signed_in_user_skips_the_login_page(manager_client):
    response = manager_client.get(reverse("login"))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


# --- Lock-out -------------------------------------------------------------------------------------


def lock_out(browser: Client, username: str, **extra):
    """Fail exactly as often as the limit allows; the last failure is the one that locks."""
    limit = django_settings.AXES_FAILURE_LIMIT
    for attempt in range(1, limit + 1):
        response = sign_in(browser, username, f"wrong-{attempt}", **extra)
        expected = 429 if attempt == limit else 200
        assert response.status_code == expected, f"attempt {attempt} of {limit}"
    return response


def test_axes_is_configured_to_lock_username_and_address_together():
    assert django_settings.AXES_FAILURE_LIMIT >= 3
    assert django_settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert django_settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert django_settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_after_too_many_failures_even_the_right_password_is_refused(axes_on, browser, manager):
    locked = lock_out(browser, "marta")
    assert "registration/locked_out.html" in [template.name for template in locked.templates]
    assert "Demasiados intentos fallidos" in locked.content.decode()

    response = sign_in(browser, "marta", "marta-password-123")

    assert response.status_code == 429
    assert "Demasiados intentos fallidos" in response.content.decode()
    assert not is_signed_in(browser)


def test_lock_out_is_only_for_that_username_from_that_address(axes_on, browser, manager, supervisor):
    lock_out(browser, "marta")

    other_user = sign_in(Client(enforce_csrf_checks=True), "sergio", "sergio-password-123")
    assert other_user.status_code == 302

    elsewhere = Client(enforce_csrf_checks=True)
    same_user_elsewhere = sign_in(elsewhere, "marta", "marta-password-123", REMOTE_ADDR="192.0.2.44")
    assert same_user_elsewhere.status_code == 302
    assert is_signed_in(elsewhere)


def test_lock_out_ends_after_the_cool_off(axes_on, browser, manager):
    lock_out(browser, "marta")
    later = timezone.now() + django_settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        response = sign_in(browser, "marta", "marta-password-123")
    assert response.status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(axes_on, browser, manager):
    limit = django_settings.AXES_FAILURE_LIMIT
    for attempt in range(limit - 1):
        sign_in(browser, "marta", f"wrong-{attempt}")
    assert sign_in(browser, "marta", "marta-password-123").status_code == 302
    browser.logout()
    for attempt in range(limit - 1):
        assert sign_in(browser, "marta", f"wrong-again-{attempt}").status_code == 200


@pytest.mark.parametrize(
    ("language", "heading", "minutes"),
    [
        ("es", "Demasiados intentos fallidos", "15 minutos"),
        ("ca", "Massa intents fallits", "15 minuts"),
        ("en", "Too many failed sign-ins", "15 minutes"),
    ],
)
def test_lock_out_page_speaks_the_chosen_language(axes_on, browser, manager, language, heading, minutes):
    axes_on.AXES_COOLOFF_TIME = timedelta(minutes=15)
    browser.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    page = lock_out(browser, "marta").content.decode()
    assert f'<html lang="{language}">' in page
    assert heading in page
    assert minutes in page
