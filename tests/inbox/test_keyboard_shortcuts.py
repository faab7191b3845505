"""The inbox's keyboard shortcuts: each page says which keys exist (the help dialog, opened with ?
or its button), inbox.js handles every key the help lists, and what each key moves to is on the
page it works on. The queue asks for new messages by itself (htmx polling)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.inbox.helpers import citizen_writes

INBOX_JS = Path(settings.BASE_DIR) / "static" / "js" / "inbox.js"
# Each key of the issue, and what it reaches on the page (None: it acts on the list itself).
SHORTCUTS = {"j": None, "k": None, "r": "data-reply-text", "e": "data-close-form", "s": 'id="id_until"'}
SHORTCUTS |= {"t": 'id="id_name"', "/": None, "?": 'id="shortcuts-help"'}


@pytest.fixture
def manager_client(manager_client):
    """Pages in English, the source language the assertions quote."""
    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return manager_client


@pytest.fixture
def pages(manager_client, sandbox_channel) -> dict[str, str]:
    conversation = citizen_writes(sandbox_channel, "Hola").conversation
    return {
        "queue": manager_client.get(reverse("inbox:queue")).content.decode(),
        "conversation": manager_client.get(
            reverse("inbox:conversation", args=[conversation.pk])
        ).content.decode(),
    }


def help_dialog(page: str) -> str:
    start = page.index('<dialog id="shortcuts-help"')
    return page[start : page.index("</dialog>", start)]


def handled_keys() -> set[str]:
    return set(re.findall(r'case "(.)":', INBOX_JS.read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", ["queue", "conversation"])
def test_each_page_lists_every_shortcut_and_offers_the_help(pages, name):
    page = pages[name]
    listed = set(re.findall(r"<kbd>(.)</kbd>", help_dialog(page)))

    assert listed == set(SHORTCUTS)
    assert 'data-shortcuts-open aria-keyshortcuts="?"' in page
    assert "js/inbox.js" in page
    for description in ("Next / previous conversation", "Write a reply", "Close the conversation", "Search"):
        assert description in help_dialog(page)


def test_inbox_js_handles_every_key_the_help_lists():
    assert set(SHORTCUTS) <= handled_keys()


def test_what_the_keys_reach_is_on_the_conversation_page(pages):
    for key, target in SHORTCUTS.items():
        if target:
            assert target in pages["conversation"], key
    assert 'id="canned-q"' in pages["conversation"]  # "/" searches the canned replies here


def test_the_queue_has_rows_to_walk_a_search_to_focus_and_refreshes_by_itself(pages):
    queue = pages["queue"]
    assert "data-row-link" in queue  # j / k walk these
    assert 'id="id_q"' in queue  # "/" focuses the search
    assert re.search(r'<div id="queue"[^>]*hx-trigger="every \d+s"', queue)
