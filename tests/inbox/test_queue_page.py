"""/inbox/: the queue's views and filters, its constant cost, and the htmx refresh."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from inbox.models import Conversation, Resolution
from inbox.services import (
    conversation_assign,
    conversation_close,
    conversation_mark_spam,
    conversation_snooze,
    conversation_tag,
)
from networks.base import InboundKind
from tests.inbox.helpers import citizen_writes, we_answer_on_the_network
from tests.networks.fixtures import make_sandbox_channel

QUEUE = reverse("inbox:queue")


def shown(response) -> set[str]:
    return {conversation.thread_key for conversation in response.context["page"].object_list}


@pytest.fixture
def desk(sandbox_channel, manager):
    """One conversation in each state."""
    citizen_writes(sandbox_channel, "Necesito ayuda con el paro", thread_key="open")
    citizen_writes(sandbox_channel, "Hola", thread_key="waiting")
    we_answer_on_the_network(sandbox_channel, thread_key="waiting")
    snoozed = citizen_writes(sandbox_channel, "Luego", thread_key="snoozed").conversation
    conversation_snooze(conversation=snoozed, until=timezone.now() + timedelta(hours=2))
    closed = citizen_writes(sandbox_channel, "Gracias", thread_key="closed").conversation
    conversation_close(conversation=closed, actor=manager, resolution=Resolution.NO_REPLY_NEEDED)
    spam = citizen_writes(sandbox_channel, "Gana dinero ya", thread_key="spam").conversation
    conversation_mark_spam(conversation=spam, spam=True)
    mine = citizen_writes(sandbox_channel, "Vull una cita", thread_key="mine").conversation
    conversation_assign(conversation=mine, user=manager)


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ("", {"open", "mine"}),
        ("needs_reply", {"open", "mine"}),
        ("mine", {"mine"}),
        ("all", {"open", "mine", "waiting", "snoozed", "closed"}),
        ("waiting", {"waiting"}),
        ("snoozed", {"snoozed"}),
        ("closed", {"closed"}),
        ("spam", {"spam"}),
    ],
)
def test_each_view_shows_its_conversations(manager_client, desk, view, expected):
    response = manager_client.get(QUEUE, {"view": view} if view else {})

    assert response.status_code == 200
    assert shown(response) == expected


def test_the_view_tabs_show_their_counts(manager_client, desk):
    views = {slug: count for slug, _label, count in manager_client.get(QUEUE).context["views"]}
    assert views == {
        "needs_reply": 2,
        "mine": 1,
        "all": 5,
        "waiting": 1,
        "snoozed": 1,
        "closed": 1,
        "spam": 1,
    }


def test_filters(manager_client, sandbox_channel):
    _, other_channel = make_sandbox_channel("otra", "Otra cuenta")
    citizen_writes(sandbox_channel, "Quiero poner una queja", thread_key="complaint")
    citizen_writes(sandbox_channel, "Bon dia, vull saber com va", thread_key="valencian")
    comment = citizen_writes(
        sandbox_channel, "¿Hay plazas?", thread_key="comment", kind=InboundKind.PUBLIC_COMMENT
    ).conversation
    conversation_tag(conversation=comment, name="cursos")
    citizen_writes(other_channel, "Hola, tengo una pregunta", thread_key="other")

    def filtered(**params):
        return shown(manager_client.get(QUEUE, params))

    assert filtered(channel=other_channel.pk) == {"other"}
    assert filtered(network="sandbox") == {"complaint", "valencian", "comment", "other"}
    assert filtered(network="x") == set()
    assert filtered(kind="public_comment") == {"comment"}
    assert filtered(priority="high") == {"complaint"}
    assert filtered(language="ca") == {"valencian"}
    assert filtered(language="es") == {"complaint", "other"}
    assert filtered(language="unknown") == {"comment"}
    assert filtered(tag=comment.tags.get().pk) == {"comment"}
    assert filtered(q="plazas") == {"comment"}


def test_priority_floats_up_with_its_reason(manager_client, sandbox_channel):
    citizen_writes(sandbox_channel, "Una pregunta", thread_key="calm")
    citizen_writes(sandbox_channel, "Es URGENTE, presento una reclamacion", thread_key="urgent")

    response = manager_client.get(QUEUE)

    assert [c.thread_key for c in response.context["page"].object_list] == ["urgent", "calm"]
    page = response.content.decode()
    assert "reclamación" in page and "urgente" in page


def test_the_query_count_does_not_grow_with_the_rows(
    manager_client, sandbox_channel, django_assert_max_num_queries
):
    def fill(count: int) -> None:
        for number in range(Conversation.objects.count(), count):
            conversation = citizen_writes(
                sandbox_channel, f"Mensaje {number}", thread_key=f"t-{number}", author_id=f"c-{number}"
            ).conversation
            conversation_tag(conversation=conversation, name=f"tag-{number % 3}")

    fill(5)
    with django_assert_max_num_queries(9) as five:
        manager_client.get(QUEUE)
    fill(50)
    with django_assert_max_num_queries(9) as fifty:
        response = manager_client.get(QUEUE)

    assert len(response.context["page"].object_list) == 50
    assert len(five.captured_queries) == len(fifty.captured_queries)


def test_htmx_gets_the_fragment_that_polls_for_new_messages(manager_client, sandbox_channel):
    citizen_writes(sandbox_channel, "Hola")

    full = manager_client.get(QUEUE).content.decode()
    fragment = manager_client.get(
        QUEUE, {"view": "needs_reply"}, headers={"HX-Request": "true"}
    ).content.decode()

    assert "<html" in full and "<html" not in fragment
    assert fragment.strip().startswith('<div id="queue"')
    assert 'hx-trigger="every 20s"' in fragment
    # The fragment is the same markup the full page carries.
    rows = fragment[fragment.index("<ol") : fragment.index("</ol>")]
    assert rows in full


def test_a_citizens_text_is_escaped_and_keeps_its_direction(manager_client, sandbox_channel):
    citizen_writes(sandbox_channel, '<img src=x onerror="alert(1)"> مرحبا 👋')

    page = manager_client.get(QUEUE).content.decode()

    assert "<img src=x" not in page
    assert escape('<img src=x onerror="alert(1)"> مرحبا 👋') in page
    assert 'class="preview" dir="auto"' in page


def test_the_supervisor_reads_the_queue(supervisor_client, sandbox_channel):
    citizen_writes(sandbox_channel, "Hola")
    assert supervisor_client.get(QUEUE).status_code == 200


@pytest.mark.parametrize("who", ["administrator", "outsider"])
def test_who_may_not_read_the_desk_gets_403(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(QUEUE).status_code == 403


@pytest.mark.postgres
def test_search_uses_spanish_full_text_on_postgresql(manager_client, sandbox_channel):
    citizen_writes(sandbox_channel, "Estoy buscando cursos de formación", thread_key="courses")
    citizen_writes(sandbox_channel, "Cita previa para el paro", thread_key="other")

    # Spanish stemming: "curso" finds "cursos" (tests/inbox/test_queue_search.py: the stored vectors).
    assert shown(manager_client.get(QUEUE, {"q": "curso"})) == {"courses"}
