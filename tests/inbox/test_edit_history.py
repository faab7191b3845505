"""A citizen's edits and deletions on the network: the desk keeps every earlier text and shows it."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from inbox.models import MessageRevision
from inbox.services import message_ingest
from tests.networks.fixtures import inbound

WRITTEN = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
FIRST_EDIT = datetime(2026, 3, 5, 9, 10, tzinfo=UTC)
SECOND_EDIT = datetime(2026, 3, 5, 9, 40, tzinfo=UTC)


@pytest.fixture
def manager_client(manager_client):
    """Pages in English, the source language the assertions quote."""
    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return manager_client


def ingest(channel, text: str, **more):
    return message_ingest(channel=channel, inbound=inbound("m-1", text=text, created_at=WRITTEN, **more))


def page_of(client, message) -> str:
    return client.get(reverse("inbox:conversation", args=[message.conversation_id])).content.decode()


def test_each_edit_keeps_the_text_it_replaced_with_when(sandbox_channel):
    with time_machine.travel(WRITTEN, tick=False):
        message = ingest(sandbox_channel, "Quiero cita el lunes")
    with time_machine.travel(FIRST_EDIT, tick=False):
        ingest(sandbox_channel, "Quiero cita el martes")
    with time_machine.travel(SECOND_EDIT, tick=False):
        ingest(sandbox_channel, "Quiero cita el miércoles")

    message.refresh_from_db()
    assert (message.text, message.edited, message.edited_at) == (
        "Quiero cita el miércoles",
        True,
        SECOND_EDIT,
    )
    assert list(message.revisions.values_list("text", "replaced_at")) == [
        ("Quiero cita el lunes", FIRST_EDIT),
        ("Quiero cita el martes", SECOND_EDIT),
    ]


def test_a_redelivery_with_the_same_text_is_not_an_edit(sandbox_channel):
    message = ingest(sandbox_channel, "Quiero cita el lunes")
    ingest(sandbox_channel, "Quiero cita el lunes")

    message.refresh_from_db()
    assert message.edited is False
    assert not MessageRevision.objects.exists()


def test_the_page_shows_the_edited_badge_and_the_earlier_versions_escaped(manager_client, sandbox_channel):
    with time_machine.travel(WRITTEN, tick=False):
        message = ingest(sandbox_channel, "<b>Quiero</b> cita el lunes")
    with time_machine.travel(FIRST_EDIT, tick=False):
        ingest(sandbox_channel, "Quiero cita el martes")

    page = page_of(manager_client, message)

    assert 'class="edited-badge"' in page
    history = page[page.index('<details class="message-history">') : page.index("</details>")]
    assert "1 earlier version" in history
    assert escape("<b>Quiero</b> cita el lunes") in history
    assert "<b>Quiero</b>" not in page
    assert 'datetime="2026-03-05T10:10:00+01:00"' in history  # shown in the desk's time zone
    # The current text is the message itself, not part of the history.
    assert "Quiero cita el martes" not in history


def test_an_unedited_message_has_no_history(manager_client, sandbox_channel):
    message = ingest(sandbox_channel, "Quiero cita el lunes")

    page = page_of(manager_client, message)

    assert "message-history" not in page
    assert "edited-badge" not in page


def test_a_message_deleted_on_the_network_stays_with_its_text_and_says_so(manager_client, sandbox_channel):
    message = ingest(sandbox_channel, "Quiero cita el lunes")
    ingest(sandbox_channel, "", deleted=True)

    message.refresh_from_db()
    assert (message.deleted, message.text) == (True, "Quiero cita el lunes")
    page = page_of(manager_client, message)
    item = page[page.index('class="message-in deleted"') :]
    item = item[: item.index("</li>")]
    assert "deleted by the author" in item
    assert "Quiero cita el lunes" in item


def test_the_thread_costs_the_same_queries_however_many_edits(
    manager_client, sandbox_channel, django_assert_max_num_queries
):
    url = None
    for number in range(3):
        message = message_ingest(
            channel=sandbox_channel, inbound=inbound(f"m-{number}", text="Hola", created_at=WRITTEN)
        )
        url = reverse("inbox:conversation", args=[message.conversation_id])
    manager_client.get(url)
    with django_assert_max_num_queries(100) as before:
        manager_client.get(url)
    for number in range(3):
        message_ingest(
            channel=sandbox_channel, inbound=inbound(f"m-{number}", text="Adiós", created_at=WRITTEN)
        )

    with django_assert_max_num_queries(len(before.captured_queries)):
        response = manager_client.get(url)

    assert response.content.decode().count('class="message-history"') == 3
