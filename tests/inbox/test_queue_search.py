"""The queue's search (?q=): which conversations it finds and in what order, on SQLite (the words as
typed) and on PostgreSQL (Spanish full text over the messages' stored search vectors, reached either
through the word's index or by walking the queue, whichever inbox.selectors judges cheaper)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from inbox import selectors
from inbox.models import Message
from inbox.services import message_ingest
from tests.inbox.helpers import citizen_writes
from tests.networks.fixtures import inbound

QUEUE = reverse("inbox:queue")
# The two ways PostgreSQL finds a word's conversations: its index first (the default limit reads
# every hit of these small desks), or the queue walked newest first (no hit read from the index).
INDEX_FIRST, QUEUE_WALKED = selectors.SEARCH_PROBE_LIMIT, 0


def found(client, q: str, view: str = "all") -> list[str]:
    response = client.get(QUEUE, {"view": view, "q": q})
    assert response.status_code == 200
    return [conversation.thread_key for conversation in response.context["page"].object_list]


def writes_at(channel, text: str, thread_key: str, minutes_ago: int) -> Message:
    return citizen_writes(
        channel,
        text,
        thread_key=thread_key,
        author_id=f"citizen-{thread_key}",
        at=timezone.now() - timedelta(minutes=minutes_ago),
    )


@pytest.fixture(params=[INDEX_FIRST, QUEUE_WALKED], ids=["index-first", "queue-walked"])
def search_path(request, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_PROBE_LIMIT", request.param)
    return request.param


@pytest.fixture
def welding_desk(sandbox_channel):
    """Three conversations about welding (one says so only in its first message), one not."""
    writes_at(sandbox_channel, "Busco el curso de soldadura", "old", minutes_ago=300)
    writes_at(sandbox_channel, "¿Queda plaza en soldadura?", "recent", minutes_ago=10)
    writes_at(sandbox_channel, "Me apunté a soldadura", "middle", minutes_ago=120)
    writes_at(sandbox_channel, "Y ahora, ¿qué hago?", "middle", minutes_ago=60)
    writes_at(sandbox_channel, "Necesito cita previa", "other", minutes_ago=5)


def test_search_finds_the_conversations_with_the_words_newest_first(manager_client, welding_desk):
    assert found(manager_client, "soldadura") == ["recent", "middle", "old"]
    assert found(manager_client, "cita previa") == ["other"]
    assert found(manager_client, "carpintería") == []


@pytest.mark.postgres
def test_both_ways_find_the_same_conversations_in_the_same_order(manager_client, welding_desk, search_path):
    assert found(manager_client, "soldadura") == ["recent", "middle", "old"]
    # Spanish stemming and accents: "cursos" and "soldádura" reach "curso" and "soldadura".
    assert found(manager_client, "cursos") == ["old"]
    assert found(manager_client, "soldádura") == ["recent", "middle", "old"]
    # Each view keeps its own order (needs-reply puts priority first).
    queue = found(manager_client, "", view="needs_reply")
    assert found(manager_client, "soldadura", view="needs_reply") == [key for key in queue if key != "other"]


@pytest.mark.postgres
def test_phrases_and_exclusions_in_both_ways(manager_client, sandbox_channel, search_path):
    writes_at(sandbox_channel, "Quiero renovar la demanda de empleo", "phrase", minutes_ago=30)
    writes_at(sandbox_channel, "El empleo que demanda la empresa", "words", minutes_ago=20)
    writes_at(sandbox_channel, "Un curso de inglés", "english", minutes_ago=10)
    writes_at(sandbox_channel, "Un curso de cocina", "cooking", minutes_ago=5)

    assert found(manager_client, '"demanda de empleo"') == ["phrase"]
    assert found(manager_client, "demanda empleo") == ["words", "phrase"]
    assert found(manager_client, "curso -inglés") == ["cooking"]
    # Only words Spanish search leaves out: nothing to look for, nothing found.
    assert found(manager_client, "de la") == []


@pytest.mark.postgres
def test_a_search_past_the_cap_shows_the_newest_in_both_ways(
    manager_client, sandbox_channel, monkeypatch, search_path
):
    for number in range(5):
        writes_at(sandbox_channel, f"Consulta {number} sobre soldadura", f"t-{number}", minutes_ago=number)
    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 3)
    monkeypatch.setattr(selectors, "QUEUE_PAGE_SIZE", 2)

    def page(number: int):
        return manager_client.get(QUEUE, {"view": "all", "q": "soldadura", "page": number}).context["page"]

    assert [conversation.thread_key for conversation in page(1).object_list] == ["t-0", "t-1"]
    assert [conversation.thread_key for conversation in page(2).object_list] == ["t-2"]
    assert page(2).paginator.capped


@pytest.mark.postgres
def test_an_edited_message_is_found_by_its_new_words_only(manager_client, sandbox_channel):
    message_ingest(channel=sandbox_channel, inbound=inbound("m-1", text="Quiero el curso de soldadura"))
    message_ingest(channel=sandbox_channel, inbound=inbound("m-1", text="Quiero el curso de carpintería"))

    assert found(manager_client, "carpintería") == ["t-1"]
    assert found(manager_client, "soldadura") == []


def test_the_queries_of_a_search_do_not_grow_with_what_it_finds(
    manager_client, sandbox_channel, django_assert_max_num_queries
):
    def fill(count: int) -> None:
        for number in range(Message.objects.count(), count):
            writes_at(sandbox_channel, f"Curso {number} de soldadura", f"t-{number}", minutes_ago=number)

    fill(5)
    with django_assert_max_num_queries(11) as five:
        manager_client.get(QUEUE, {"view": "all", "q": "soldadura"})
    fill(60)
    with django_assert_max_num_queries(11) as sixty:
        response = manager_client.get(QUEUE, {"view": "all", "q": "soldadura"})

    assert len(response.context["page"].object_list) == selectors.QUEUE_PAGE_SIZE
    assert len(five.captured_queries) == len(sixty.captured_queries)


@pytest.mark.postgres
def test_messages_keep_a_stored_spanish_search_vector_indexed_once(sandbox_channel):
    message = citizen_writes(sandbox_channel, "Cursos de formación")
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_vector::text FROM inbox_message WHERE id = %s", [message.pk])
        assert cursor.fetchone()[0] == "'curs':1 'formacion':3"
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'inbox_message'")
        indexes = dict(cursor.fetchall())
    assert "gin (search_vector)" in indexes["message_search_vector_idx"]
    # The vector is parsed once per message: no second index computes it again.
    assert not [name for name, definition in indexes.items() if "to_tsvector" in definition]
