"""The layout every page shares: landmarks, skip link, navigation per role, who is signed in,
nothing the Content-Security-Policy would block, and colours that meet WCAG 2.1 AA."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from socialdesk.middleware import CONTENT_SECURITY_POLICY
from tests.socialdesk.test_access import GUARDED_PAGES

STYLESHEET = Path(settings.BASE_DIR) / "static" / "css" / "socialdesk.css"


class Page(HTMLParser):
    """Just enough of the DOM for these checks: elements in order, with their attributes and text."""

    VOID = {"meta", "link", "input", "br", "img", "hr", "source", "area", "base", "col", "embed", "wbr"}

    def __init__(self, html: str):
        super().__init__()
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": "", "parents": [e["tag"] for e in self._open]}
        element["in_nav"] = any(e["tag"] == "nav" for e in self._open)
        self.elements.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data

    def find(self, tag, **attrs) -> list[dict]:
        return [
            e
            for e in self.elements
            if e["tag"] == tag and all(e["attrs"].get(name) == value for name, value in attrs.items())
        ]

    def nav_links(self) -> dict[str, str | None]:
        return {
            " ".join(e["text"].split()): e["attrs"].get("aria-current")
            for e in self.elements
            if e["tag"] == "a" and e["in_nav"]
        }


def page_of(response) -> Page:
    return Page(response.content.decode())


def test_landmarks_and_skip_link(manager_client):
    page = page_of(manager_client.get(reverse("home")))
    first_link = next(e for e in page.elements if e["tag"] == "a")
    assert first_link["attrs"] == {"class": "skip-link", "href": "#main"}
    assert first_link["text"] == "Saltar al contenido principal"
    assert len(page.find("header")) == 1
    assert len(page.find("main", id="main")) == 1
    assert page.find("nav", **{"aria-label": "Principal"})
    assert len(page.find("h1")) == 1
    assert page.find("meta", name="viewport", content="width=device-width, initial-scale=1")


NAVIGATION = ["Hoy", "Bandeja de entrada", "Curación de contenidos", "Publicar", "Programación", "Métricas", "Canales"]


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("manager", NAVIGATION),
        ("supervisor", ["Hoy", "Bandeja de entrada", "Curación de contenidos", "Programación", "Métricas"]),
        ("administrator", ["Hoy", "Métricas", "Canales"]),
    ],
)
def test_navigation_shows_what_the_role_may_open(client, request, role, visible):
    client.force_login(request.getfixturevalue(role))
    links = page_of(client.get(reverse("home"))).nav_links()
    assert list(links) == visible


@pytest.mark.parametrize(("role", "shown"), [("administrator", True), ("manager", False)])
def test_administration_link_is_for_staff_administrators(client, request, role, shown):
    """The admin site lets in staff who may manage users (socialdesk.admin_site): the link says the same."""
    person = request.getfixturevalue(role)
    person.is_staff = True
    person.save(update_fields=["is_staff"])
    client.force_login(person)
    page = page_of(client.get(reverse("home")))
    assert ("Administración" in page.nav_links()) is shown
    assert bool(page.find("a", href=reverse("admin:index"))) is shown


def test_user_without_role_gets_no_navigation(client, outsider):
    client.force_login(outsider)
    assert not page_of(client.get(reverse("home"))).find("nav")


def test_current_page_is_marked(manager_client):
    links = page_of(manager_client.get(reverse("home"))).nav_links()
    assert links["Hoy"] == "page"
    assert [name for name, current in links.items() if current] == ["Hoy"]


def test_current_section_is_marked_on_the_sections_inner_pages(rf, manager):
    """An app's inner pages (its URL namespace) keep its item marked, with aria-current="true"."""
    from django.template.loader import render_to_string
    from django.urls import ResolverMatch

    request = rf.get("/inbox/42/")
    request.user = manager
    request.resolver_match = ResolverMatch(
        lambda r: None, (), {}, url_name="conversation", namespaces=["inbox"]
    )
    html = render_to_string(
        "socialdesk/nav_item.html",
        {"url_name": "home", "section": "inbox", "label": "Inbox"},
        request=request,
    )
    assert 'aria-current="true"' in html
    request.resolver_match = ResolverMatch(lambda r: None, (), {}, url_name="list", namespaces=["curation"])
    html = render_to_string(
        "socialdesk/nav_item.html",
        {"url_name": "home", "section": "inbox", "label": "Inbox"},
        request=request,
    )
    assert "aria-current" not in html


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        ("manager", "Marta (Responsable de redes sociales)"),
        ("supervisor", "Sergio (Supervisión)"),
        ("administrator", "Ana (Administración)"),
    ],
)
def test_page_says_who_is_signed_in_and_as_what(client, request, role, shown):
    client.force_login(request.getfixturevalue(role))
    page = page_of(client.get(reverse("home")))
    who = page.find("p", **{"class": "who"})[0]
    assert " ".join(who["text"].split()) == f"Sesión iniciada como {shown}"


def test_page_says_when_there_is_no_role(client, outsider):
    client.force_login(outsider)
    who = page_of(client.get(reverse("home"))).find("p", **{"class": "who"})[0]
    assert " ".join(who["text"].split()) == "Sesión iniciada como Olga (sin rol)"


def test_language_selector_is_labelled(client, db):
    page = page_of(client.get(reverse("login")))
    assert page.find("label", **{"for": "language-select"})[0]["text"] == "Idioma"
    form = page.find("form", **{"class": "language"})[0]
    assert form["attrs"]["method"] == "post"
    assert [o["attrs"]["value"] for o in page.find("option")] == ["es", "ca", "en"]


# --- Content-Security-Policy -------------------------------------------------------------------


def csp_violations(response) -> list[str]:
    """What in this page the Content-Security-Policy would block: inline script, style or handlers,
    and anything loaded from another site."""
    found = []
    if response.get("Content-Security-Policy") != CONTENT_SECURITY_POLICY:
        found.append("the Content-Security-Policy header is missing or different")
    for element in page_of(response).elements:
        tag, attrs = element["tag"], element["attrs"]
        found += [f"<{tag} {attr}=…> inline handler" for attr in attrs if attr.startswith("on")]
        if "style" in attrs:
            found.append(f"<{tag} style=…> inline style")
        if tag == "style":
            found.append("<style> element")
        if tag == "script" and (element["text"].strip() or not attrs.get("src", "").startswith("/static/")):
            found.append(f"<script> not from /static/: {attrs}")
        found += [
            f"<{tag} {attr}={attrs[attr]}> from another site"
            for attr in ("src", "href", "action")
            if re.match(r"^(https?:)?//", attrs.get(attr) or "")
        ]
    return found


def test_content_security_policy_check_sees_violations(rf):
    from django.http import HttpResponse

    response = HttpResponse(
        '<script>alert(1)</script><p style="color:red" onclick="x()">'
        '<img src="https://cdn.example/x.png"><script src="/static/ok.js"></script>'
    )
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    assert len(csp_violations(response)) == 4


def test_layout_pages_need_nothing_the_policy_blocks(client, manager, outsider):
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "style-src 'self'" in CONTENT_SECURITY_POLICY
    assert csp_violations(client.get(reverse("login"))) == []
    client.force_login(manager)
    assert csp_violations(client.get(reverse("home"))) == []
    assert csp_violations(client.get("/no-such-page/")) == []
    client.force_login(outsider)
    assert csp_violations(client.get(reverse("home"))) == []


@pytest.mark.parametrize("route", GUARDED_PAGES, ids=lambda route: route.name)
def test_every_page_needs_nothing_the_policy_blocks(client, request, route):
    """Every app's pages, found from the URL configuration, as each role that may open them."""
    for role in ("manager", "supervisor", "administrator"):
        client.force_login(request.getfixturevalue(role))
        response = client.get(reverse(route.name))
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            assert csp_violations(response) == [], (role, route.name)


def test_layout_assets_are_served_from_static(manager_client):
    page = page_of(manager_client.get(reverse("home")))
    scripts = [e["attrs"]["src"] for e in page.find("script")]
    styles = [e["attrs"]["href"] for e in page.find("link", rel="stylesheet")]
    assert scripts == ["/static/vendor/htmx/htmx.min.js"]
    assert styles == ["/static/css/socialdesk.css"]
    for url in scripts + styles:
        assert finders.find(url.removeprefix("/static/")), url


def test_htmx_requests_carry_the_csrf_token(manager_client):
    html = manager_client.get(reverse("home")).content.decode()
    assert re.search(r"""<body hx-headers='\{"X-CSRFToken": "[^"]{20,}"\}'>""", html)


# --- Contrast (WCAG 2.1 AA: 4.5:1 for text, 3:1 for focus rings and control borders) ---------------


def _colours() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", STYLESHEET.read_text(), re.S).group(1)
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", root))


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


TEXT_PAIRS = [
    ("ink", "paper"),
    ("ink", "surface"),
    ("muted", "paper"),
    ("muted", "surface"),
    ("accent", "paper"),  # links
    ("accent", "surface"),
    ("on-accent", "accent"),  # buttons, hovered navigation
    ("on-accent", "header-bg"),  # hovered buttons
    ("header-ink", "header-bg"),
    ("header-ink", "accent"),
    ("header-soft", "header-bg"),
    ("header-bg", "paper"),  # current navigation item
    ("error", "paper"),
    ("error", "error-bg"),
    ("success", "success-bg"),
]
NON_TEXT_PAIRS = [
    ("focus", "paper"),
    ("focus", "surface"),
    ("focus-on-dark", "header-bg"),
    ("focus-on-dark", "accent"),
    ("border", "paper"),  # input borders
    ("header-soft", "header-bg"),  # header control borders
]


def test_contrast_formula_matches_known_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize(("foreground", "background"), TEXT_PAIRS)
def test_text_colours_meet_wcag_aa(foreground, background):
    colours = _colours()
    assert contrast(colours[foreground], colours[background]) >= 4.5


@pytest.mark.parametrize(("foreground", "background"), NON_TEXT_PAIRS)
def test_focus_and_control_colours_meet_wcag_aa(foreground, background):
    colours = _colours()
    assert contrast(colours[foreground], colours[background]) >= 3
