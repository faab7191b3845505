"""The main pages, as the manager sees them with work on the desk, pass axe-core's WCAG 2.1 AA rules
and run within the Content-Security-Policy (the page fixture fails the test on any violation).
One desk for all of them: each page is a subtest of its own."""

from collections.abc import Callable

import pytest
from django.urls import reverse

from scheduling.pause import publishing_pause
from tests.browser.checks import assert_accessible
from tests.browser.desk import Desk

pytestmark = pytest.mark.browser

PAGES: dict[str, Callable[[Desk], str]] = {
    "home": lambda desk: reverse("home"),
    "inbox queue": lambda desk: reverse("inbox:queue"),
    "conversation": lambda desk: reverse("inbox:conversation", args=[desk.conversations[0].pk]),
    "curation queue": lambda desk: reverse("curation:queue"),
    "hidden items": lambda desk: reverse("curation:hidden"),
    "an item": lambda desk: reverse("curation:item", args=[desk.hidden_item.pk]),
    "sources": lambda desk: reverse("curation:sources"),
    "new source": lambda desk: reverse("curation:source_new"),
    "OPML": lambda desk: reverse("curation:opml"),
    "topics and keywords": lambda desk: reverse("curation:topics"),
    "new topic": lambda desk: reverse("curation:topic_new"),
    "composer": lambda desk: reverse("publishing:compose"),
    "calendar": lambda desk: f"{reverse('scheduling:calendar')}?week={desk.delivery_week}",
    "channels": lambda desk: reverse("networks:channels"),
    "emergency pause": lambda desk: reverse("publishing:pause"),
    "posts waiting": lambda desk: reverse("publishing:attention"),
    "echo rules": lambda desk: reverse("publishing:echo_rules"),
    "activity": lambda desk: reverse("publishing:activity"),
    "posted outside": lambda desk: reverse("publishing:outside"),
    "metrics": lambda desk: reverse("metrics:dashboard"),
}


def test_main_pages_meet_wcag_21_aa(page, desk, subtests):
    for name, path in PAGES.items():
        with subtests.test(page=name):
            response = page.goto(path(desk))

            assert response.ok, f"{name}: HTTP {response.status}"
            assert_accessible(page)

    with subtests.test(page="emergency pause, paused, with the banner"):
        publishing_pause(reason="Aviso por lluvias torrenciales", actor=desk.manager)
        page.goto(reverse("publishing:pause"))

        assert page.locator(".pause-banner").is_visible()
        assert_accessible(page)


def test_text_for_screen_readers_only_is_hidden_on_every_page_that_has_it(page, desk):
    # The home page links each message to its conversation, the link's full name read out only.
    page.goto(reverse("home"))
    hidden = page.locator(".citizen-message-link .visually-hidden").first
    assert hidden.inner_text().strip()
    box = hidden.bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1


def test_the_rooms_share_their_views_and_filters_styles(page, desk, subtests):
    # Each room loads socialdesk.css and its own stylesheet: a shared component styled only in
    # another room's stylesheet shows as a bare list there.
    for path in (reverse("inbox:queue"), reverse("curation:queue"), reverse("publishing:attention")):
        with subtests.test(path=path):
            page.goto(path)
            views = page.locator(".state-counts").first
            assert views.evaluate("e => getComputedStyle(e).display") == "flex"
            assert views.evaluate("e => getComputedStyle(e).listStyleType") == "none"
            filters = page.locator("form.filters")
            if filters.count():
                assert filters.first.evaluate("e => getComputedStyle(e).display") == "flex"
