"""The manager's day with the keyboard alone: signing in, the skip link, the inbox and curation
shortcuts, the composer and the calendar's "Edit or move" form. Each step is a key press, and
each outcome is checked where it lands (the database), not only on the page."""

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from curation.models import Item, ItemState
from inbox.models import Reply, ReplyState
from scheduling.composer import variant_check
from scheduling.models import Delivery
from tests.browser.checks import assert_accessible, focused_matches, tab_to

pytestmark = pytest.mark.browser


def spanish(text: str) -> str:
    """What the page (Spanish first) shows for an English msgid."""
    with translation.override("es"):
        return gettext(text)


def focused_attribute(page, name: str) -> str | None:
    return page.evaluate("name => document.activeElement.getAttribute(name)", name)


def test_sign_in_then_skip_to_the_main_content_with_the_keyboard(anonymous_page, live_server, manager):
    page = anonymous_page
    page.goto(reverse("home"))
    assert page.url.startswith(f"{live_server.url}{reverse('login')}")
    assert_accessible(page)
    page.wait_for_function("document.activeElement.id === 'id_username'")

    page.keyboard.type(manager.username)
    page.keyboard.press("Tab")
    assert focused_matches(page, "#id_password")
    page.keyboard.type(f"{manager.username}-password-123")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.url == f"{live_server.url}{reverse('home')}"
    assert page.locator(".site-header .who strong").inner_text() == manager.get_full_name()
    # The first stop on every page is the skip link, drawn on screen once focused.
    page.keyboard.press("Tab")
    assert focused_matches(page, "a.skip-link")
    box = page.locator("a.skip-link").bounding_box()
    assert box is not None and box["y"] >= 0
    page.keyboard.press("Enter")

    assert focused_matches(page, "main#main")
    assert page.url.endswith("#main")


def test_inbox_shortcuts_open_a_conversation_and_send_a_reply(page, desk):
    page.goto(reverse("inbox:queue"))

    page.keyboard.press("?")
    assert page.locator("#shortcuts-help").evaluate("dialog => dialog.open")
    assert_accessible(page)
    page.keyboard.press("Escape")
    assert not page.locator("#shortcuts-help").evaluate("dialog => dialog.open")

    page.keyboard.press("j")
    first = focused_attribute(page, "href")
    page.keyboard.press("j")
    second = focused_attribute(page, "href")
    page.keyboard.press("k")
    assert focused_matches(page, "[data-row-link]")
    assert first != second and focused_attribute(page, "href") == first

    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(first)
    conversation = next(c for c in desk.conversations if page.url.endswith(f"/inbox/{c.pk}/"))

    page.keyboard.press("r")
    assert focused_matches(page, "[data-reply-text]")
    text = "Puede pedir la cita en la sede electrónica o llamando al 012."
    page.keyboard.type(text)
    assert page.locator("[data-length-count]").inner_text() == str(len(text))
    tab_to(page, "[data-reply-form] button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    reply = Reply.objects.get(conversation=conversation)
    assert (reply.text, reply.state, reply.author) == (text, ReplyState.SENT, desk.manager), (
        reply.failure_reason
    )
    shown = page.locator(".messages-thread li.message-out", has_text=text)
    assert spanish("Sent") in shown.locator(".who").inner_text()


def test_curation_shortcuts_shortlist_and_discard_items(page, desk):
    page.goto(reverse("curation:queue"))
    page.keyboard.press("?")
    assert page.locator("#shortcuts-help").evaluate("dialog => dialog.open")
    page.keyboard.press("Escape")

    page.keyboard.press("j")
    first = focused_attribute(page, "id")
    page.keyboard.press("s")
    page.wait_for_selector(f"#{first}.state-shortlisted")
    assert focused_attribute(page, "id") == first, "the swapped row keeps the keyboard"

    page.keyboard.press("j")
    second = focused_attribute(page, "id")
    page.keyboard.press("d")
    page.wait_for_selector(f"#{second}.state-discarded")
    page.keyboard.press("k")

    assert focused_attribute(page, "id") == first
    states = dict(
        Item.objects.filter(pk__in=[desk_item.pk for desk_item in desk.items]).values_list("pk", "state")
    )
    assert states[int(first.removeprefix("item-"))] == ItemState.SHORTLISTED
    assert states[int(second.removeprefix("item-"))] == ItemState.DISCARDED
    assert list(states.values()).count(ItemState.NEW) == 1


def test_composer_with_the_keyboard_counts_live_and_publishes_now(page, desk):
    page.goto(reverse("publishing:compose"))
    text = "Abierta la inscripción en los cursos de formación para el empleo."
    check = variant_check(channel=desk.channel, text=text, link="", image=None)
    with translation.override("es"):
        counter = gettext("%(length)s of %(limit)s") % {"length": check.length, "limit": check.limit}

    tab_to(page, "#id_text")
    page.keyboard.type(text)
    page.locator("#compose-check", has_text=counter).wait_for()
    tab_to(page, "input[name=channels]")
    page.keyboard.press("Space")
    assert page.is_checked("input[name=channels]")
    tab_to(page, "#id_segment")
    page.keyboard.press("ArrowDown")
    assert page.input_value("#id_segment") != ""
    tab_to(page, "input[name=when]")
    assert focused_attribute(page, "value") == "now"
    tab_to(page, "form.compose button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.locator(".errorlist").count() == 0, page.locator(".errorlist").all_inner_texts()
    delivery = Delivery.objects.exclude(pk=desk.delivery.pk).get()
    assert (delivery.channel, delivery.text, delivery.post.segment is not None) == (desk.channel, text, True)
    assert abs(delivery.scheduled_at - timezone.now()).total_seconds() < 60
    assert page.locator(".messages").inner_text().strip() == spanish("Sent to its channels.")


def test_calendar_edit_or_move_with_the_keyboard(page, desk):
    delivery = desk.delivery
    page.goto(f"{reverse('scheduling:calendar')}?week={desk.delivery_week}")

    tab_to(page, f"#delivery-{delivery.pk} summary")
    page.keyboard.press("Enter")
    assert_accessible(page)
    page.keyboard.press("Tab")
    assert focused_matches(page, f"#move-at-{delivery.pk}")
    before = page.input_value(f"#move-at-{delivery.pk}")
    # One step up on the first part of the date (day or month, as the browser's locale orders them).
    page.keyboard.press("ArrowUp")
    moved_to = page.input_value(f"#move-at-{delivery.pk}")
    assert moved_to > before
    tab_to(page, f"#move-text-{delivery.pk}")
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("Inscripción abierta: cursos gratuitos.")
    page.keyboard.press("Tab")
    assert focused_matches(page, f"#delivery-{delivery.pk} [data-move-form] button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    delivery.refresh_from_db()
    assert timezone.localtime(delivery.scheduled_at).strftime("%Y-%m-%dT%H:%M") == moved_to
    assert delivery.text == "Inscripción abierta: cursos gratuitos."
    assert page.locator(".messages .message-success").is_visible()
