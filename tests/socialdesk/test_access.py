"""Every URL in the project is either public on purpose or names the capability it needs.

The routes are discovered from the URL configuration, so a view added by any app is checked here
without touching this file. A new public view (a webhook, say) goes into PUBLIC_VIEWS with the
reason it may be reached without signing in.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LoginView
from django.urls import URLPattern, URLResolver, get_resolver, include, path, reverse
from django.urls.resolvers import RegexPattern

from socialdesk.access import ROLE_CAPABILITIES, Capability, require
from socialdesk.models import Role

PUBLIC_VIEWS = {
    "django.contrib.auth.views.LoginView": "signing in",
    "django.contrib.auth.views.LogoutView": "signing out (POST only)",
    "django.views.i18n.set_language": "choosing the language, also on the sign-in page",
    "socialdesk.views.healthz": "probed by the load balancer and monitoring, reveals no data",
    "networks.views.meta_webhook": "called by Meta; every delivery is checked by its X-Hub-Signature-256",
    "scheduling.views_calendar.calendar_feed": (
        "read by the manager's calendar app, which cannot sign in: the secret token in the address "
        "stands for her (404 for any other token)"
    ),
}
# The admin site (socialdesk.admin_site) checks staff status and the role in every one of its own views.
PUBLIC_NAMESPACES = {"admin"}


@dataclass(frozen=True)
class Route:
    pattern: str
    name: str | None  # with its namespaces, ready for reverse()
    namespaces: tuple[str, ...]
    callback: Callable
    has_parameters: bool

    @property
    def view_path(self) -> str:
        view = getattr(self.callback, "view_class", self.callback)
        return f"{view.__module__}.{view.__qualname__}"

    @property
    def is_public(self) -> bool:
        return self.view_path in PUBLIC_VIEWS or bool(PUBLIC_NAMESPACES & set(self.namespaces))

    @property
    def capability(self) -> Capability | None:
        return getattr(self.callback, "required_capability", None)


def _walk(
    resolver: URLResolver, prefix: str = "", namespaces: tuple[str, ...] = (), has_parameters=False
) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        with_parameters = has_parameters or entry.pattern.regex.groups > 0
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry, pattern, inner, with_parameters)
        elif isinstance(entry, URLPattern):
            name = ":".join((*namespaces, entry.name)) if entry.name else None
            yield Route(pattern, name, namespaces, entry.callback, with_parameters)


ROUTES = list(_walk(get_resolver()))
GUARDED_PAGES = [route for route in ROUTES if not route.is_public and route.name and not route.has_parameters]
ROLES = {"manager": Role.MANAGER, "supervisor": Role.SUPERVISOR, "administrator": Role.ADMINISTRATOR}


def test_routes_are_discovered_through_includes():
    names = {route.name for route in ROUTES}
    assert {"home", "login", "logout", "healthz", "set_language", "admin:index"} <= names


def problem_with(route: Route) -> str | None:
    if route.is_public:
        return None
    if not isinstance(route.capability, Capability):
        return (
            f"{route.pattern} → {route.view_path} has no @require(Capability.…): decorate it "
            "(outermost), or add it to PUBLIC_VIEWS in tests/socialdesk/test_access.py with the reason"
        )
    if not getattr(route.callback, "login_required", True):
        return f"{route.pattern} → {route.view_path} is login_not_required but not in PUBLIC_VIEWS"
    return None


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.pattern or "/")
def test_every_view_is_public_on_purpose_or_names_its_capability(route):
    assert problem_with(route) is None, problem_with(route)


def test_the_check_catches_unguarded_and_wrongly_public_views():
    def unguarded(request):
        raise AssertionError("never called")

    guarded = require(Capability.READ_DESK)(unguarded)
    urlconf = URLResolver(
        RegexPattern(r"^/"),
        [
            path("open/", unguarded, name="open"),
            path("guarded/", guarded, name="guarded"),
            path("public-by-mistake/", login_not_required(require(Capability.READ_DESK)(unguarded))),
            path("inner/<int:pk>/", include(([path("x/", guarded)], "inner"))),
            path("login/", LoginView.as_view()),
        ],
    )
    problems = {route.pattern: problem_with(route) for route in _walk(urlconf)}
    assert "has no @require" in problems["open/"]
    assert problems["guarded/"] is None
    assert "login_not_required" in problems["public-by-mistake/"]
    assert problems["inner/<int:pk>/x/"] is None
    assert problems["login/"] is None
    assert [route.has_parameters for route in _walk(urlconf)] == [False, False, False, True, False]
    assert [route.name for route in _walk(urlconf)] == ["open", "guarded", None, None, None]


def test_every_public_view_still_exists():
    """An allow-list entry for a view that is gone would silently let its replacement through."""
    present = {route.view_path for route in ROUTES}
    assert set(PUBLIC_VIEWS) <= present


@pytest.mark.parametrize("route", GUARDED_PAGES, ids=lambda route: route.name)
def test_anonymous_visitor_is_sent_to_sign_in(client, db, route):
    url = reverse(route.name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{reverse('login')}?next=")


@pytest.mark.parametrize("route", GUARDED_PAGES, ids=lambda route: route.name)
def test_user_without_role_is_refused(client, outsider, route):
    client.force_login(outsider)
    response = client.get(reverse(route.name))
    assert response.status_code == 403
    assert "403.html" in [template.name for template in response.templates]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", GUARDED_PAGES, ids=lambda route: route.name)
def test_each_role_gets_exactly_its_capabilities(client, request, route, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse(route.name))
    if route.capability in ROLE_CAPABILITIES[ROLES[role]]:
        # 405: an action that only takes POST, guarded before the method check.
        assert response.status_code in {200, 302, 405}, response.status_code
        assert not response.get("Location", "").startswith(reverse("login"))
    else:
        assert response.status_code == 403


def test_forbidden_page_is_in_the_layout_and_explains(client, outsider):
    client.force_login(outsider)
    response = client.get(reverse("home"))
    page = response.content.decode()
    assert response.status_code == 403
    assert "<main" in page
    assert "Tu cuenta aún no tiene un rol" in page
    assert "Olga" in page  # the layout still says who is signed in


def test_missing_page_is_in_the_layout(manager_client):
    response = manager_client.get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Página no encontrada" in page
    assert 'aria-label="Principal"' in page  # the navigation is still there
