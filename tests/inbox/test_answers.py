"""The reply composer's libraries: answers searched while typing, curated links, and the answers
library's own page — and who may change it."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from curation.models import HiddenReason, ItemState, Source
from inbox.answers import answers_search, curated_links_search
from inbox.models import Answer, Language
from tests.curation.items import make_item
from tests.inbox.helpers import citizen_writes


@pytest.fixture
def conversation(sandbox_channel):
    return citizen_writes(sandbox_channel, "Hola, ¿cómo renuevo la demanda de empleo?").conversation


def answer(question: str, text: str = "Puede hacerlo en la sede electrónica.", **fields) -> Answer:
    return Answer.objects.create(question=question, text=text, **fields)


def search_url(conversation, q: str) -> str:
    return reverse("inbox:answers_search", args=[conversation.pk]) + f"?q={q}"


# --- Search while typing ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["inscripcion", "INSCRIPCIÓN", "Inscripció", "  inscrip  "])
def test_the_search_ignores_accents_and_capitals_and_matches_word_beginnings(typed):
    wanted = answer("¿Cómo hago la inscripción como demandante?")
    answer("¿Dónde está mi oficina?")

    assert answers_search(q=typed) == [wanted]


@pytest.mark.django_db
def test_every_word_typed_must_be_somewhere_in_question_keywords_or_text():
    by_keyword = answer("Renovar la demanda", keywords="DARDE sellar paro")
    by_text = answer("Cita previa", text="Para sellar el paro pida cita previa en la web.")
    answer("Cursos", text="Consulte los cursos de formación.")

    assert set(answers_search(q="sellar paro")) == {by_keyword, by_text}
    assert answers_search(q="sellar cursos") == []


@pytest.mark.django_db
def test_answers_out_of_use_are_never_offered():
    answer("Ayudas al alquiler", is_active=False)

    assert answers_search(q="alquiler") == []


@pytest.mark.django_db
def test_the_conversations_language_comes_first_then_any_language_then_the_other():
    spanish = answer("Cita previa", language=Language.SPANISH)
    valencian = answer("Cita prèvia", language=Language.VALENCIAN)
    any_language = answer("Cita previa (general)")

    assert answers_search(q="cita previa", language=Language.VALENCIAN) == [valencian, any_language, spanish]
    assert answers_search(q="cita previa", language=Language.SPANISH) == [spanish, any_language, valencian]


@pytest.mark.django_db
def test_a_match_in_the_question_comes_before_a_match_in_the_text_only():
    in_text = answer("Horario", text="Para la demanda de empleo venga por la mañana.")
    in_question = answer("Renovar la demanda de empleo")

    assert answers_search(q="demanda") == [in_question, in_text]


@pytest.mark.django_db
def test_one_letter_finds_nothing_yet():
    answer("Ayudas")

    assert answers_search(q="a") == []


def test_the_composer_fragment_offers_the_text_with_its_link_to_insert(manager_client, conversation):
    answer(
        "Renovar la demanda",
        text="Se renueva en la sede <electrónica> & por teléfono.",
        link="https://example.org/renovar",
    )

    response = manager_client.get(search_url(conversation, "renovar"))

    page = response.content.decode()
    assert response.status_code == 200
    inserted = "Se renueva en la sede <electrónica> & por teléfono.\nhttps://example.org/renovar"
    assert f'data-insert-text="{escape(inserted)}"' in page
    assert "<electrónica>" not in page  # escaped, never raw


def test_the_link_is_not_added_twice_when_the_text_has_it(manager_client, conversation):
    answer("Renovar", text="Renueve en https://example.org/renovar", link="https://example.org/renovar")

    page = manager_client.get(search_url(conversation, "renovar")).content.decode()

    assert 'data-insert-text="Renueve en https://example.org/renovar"' in page


def test_the_composer_prefers_the_conversations_language(manager_client, sandbox_channel):
    conversation = citizen_writes(
        sandbox_channel, "Bon dia, com demane cita?", thread_key="t-ca"
    ).conversation
    conversation.language = Language.VALENCIAN
    conversation.save(update_fields=["language"])
    answer("Cita previa", text="Respuesta en castellano", language=Language.SPANISH)
    answer("Cita prèvia", text="Resposta en valencià", language=Language.VALENCIAN)

    page = manager_client.get(search_url(conversation, "cita")).content.decode()

    assert page.index("Resposta en valencià") < page.index("Respuesta en castellano")


def test_the_composer_shows_both_searches(manager_client, conversation):
    page = manager_client.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()

    assert reverse("inbox:answers_search", args=[conversation.pk]) in page
    assert reverse("inbox:curated_links", args=[conversation.pk]) in page
    assert 'hx-trigger="keyup changed delay:300ms, search"' in page


# --- Curated links ----------------------------------------------------------------------------


@pytest.fixture
def source(db):
    return Source.objects.create(name="Boletín", url="https://news.example.org/feed")


@pytest.mark.django_db
def test_curated_links_put_shortlisted_and_used_items_first_then_the_newest(source):
    new_recent = make_item(source, "oferta-1", title="Oferta de empleo en Alzira", age_hours=1)
    used_old = make_item(
        source, "oferta-2", title="Oferta de empleo en Gandia", age_hours=50, state=ItemState.USED
    )
    shortlisted = make_item(
        source, "oferta-3", title="Oferta de empleo en Xàtiva", age_hours=5, state=ItemState.SHORTLISTED
    )

    assert curated_links_search(q="oferta empleo") == [shortlisted, used_old, new_recent]


@pytest.mark.django_db
def test_curated_links_match_titles_whatever_the_accents_and_capitals(source):
    item = make_item(source, "fira", title="Fira d'Ocupació de València")

    assert curated_links_search(q="ocupacio valencia") == [item]
    assert curated_links_search(q="OCUPACIÓ") == [item]


@pytest.mark.django_db
def test_discarded_hidden_and_linkless_items_are_not_offered(source):
    make_item(source, "a", title="Curso de soldadura", state=ItemState.DISCARDED)
    make_item(source, "b", title="Curso de soldadura", hidden_reason=HiddenReason.DUPLICATE)
    make_item(source, "c", title="Curso de soldadura", url="")
    kept = make_item(source, "d", title="Curso de soldadura avanzada")

    assert curated_links_search(q="soldadura") == [kept]


def test_the_curated_links_fragment_inserts_title_and_link(manager_client, conversation, source):
    make_item(
        source,
        "curso",
        title="Curso <gratuito> de inglés",
        url="https://news.example.org/curso?utm_source=x",
        canonical_url="https://news.example.org/curso",
        state=ItemState.SHORTLISTED,
    )

    response = manager_client.get(reverse("inbox:curated_links", args=[conversation.pk]) + "?q=ingles")

    page = response.content.decode()
    assert response.status_code == 200
    assert (
        f'data-insert-text="{escape("Curso <gratuito> de inglés: https://news.example.org/curso")}"' in page
    )
    assert "<gratuito>" not in page


def test_no_match_says_so(manager_client, conversation):
    response = manager_client.get(reverse("inbox:curated_links", args=[conversation.pk]) + "?q=zzzz")

    assert response.context["results"] == []
    assert "data-insert-text" not in response.content.decode()
    assert 'class="muted"' in response.content.decode()


# --- The library page -------------------------------------------------------------------------


def test_the_manager_adds_edits_and_takes_an_answer_out_of_use(manager_client, manager):
    response = manager_client.post(
        reverse("inbox:answer_new"),
        {
            "question": "¿Cómo pido cita?",
            "keywords": "cita previa",
            "text": "En la web o por teléfono.",
            "link": "https://example.org/cita",
            "language": "es",
        },
    )
    assert response.status_code == 302
    created = Answer.objects.get()
    assert (created.question, created.updated_by, created.is_active) == ("¿Cómo pido cita?", manager, True)

    manager_client.post(
        reverse("inbox:answer_edit", args=[created.pk]),
        {
            "question": "¿Cómo pido cita previa?",
            "keywords": "",
            "text": "En la web.",
            "link": "",
            "language": "",
        },
    )
    created.refresh_from_db()
    assert (created.question, created.text, created.link) == ("¿Cómo pido cita previa?", "En la web.", "")

    manager_client.post(reverse("inbox:answer_deactivate", args=[created.pk]))
    created.refresh_from_db()
    assert created.is_active is False
    assert answers_search(q="cita") == []

    manager_client.post(reverse("inbox:answer_activate", args=[created.pk]))
    created.refresh_from_db()
    assert created.is_active is True


def test_a_bad_answer_is_refused_with_the_reason(manager_client):
    response = manager_client.post(
        reverse("inbox:answer_new"), {"question": "", "text": "x", "link": "not a link", "language": "es"}
    )

    assert response.status_code == 400
    assert not Answer.objects.exists()
    assert response.context["form"].errors.keys() == {"question", "link"}


def test_the_library_page_lists_answers_escaped_and_filters_them(manager_client):
    answer("<b>Cita</b> previa", text="Pida cita")
    answer("Cursos", text="Formación")

    page = manager_client.get(reverse("inbox:answers") + "?q=cita").content.decode()

    assert escape("<b>Cita</b> previa") in page
    assert "<b>Cita</b>" not in page
    assert "Formación" not in page


def test_the_supervisor_reads_the_library_but_changes_nothing(supervisor_client):
    existing = answer("Cita previa")
    data = {"question": "x", "text": "y", "language": ""}

    page = supervisor_client.get(reverse("inbox:answers"))
    assert page.status_code == 200
    assert "Cita previa" in page.content.decode()
    assert reverse("inbox:answer_new") not in page.content.decode()

    assert supervisor_client.get(reverse("inbox:answer_new")).status_code == 403
    assert supervisor_client.post(reverse("inbox:answer_new"), data).status_code == 403
    assert supervisor_client.post(reverse("inbox:answer_edit", args=[existing.pk]), data).status_code == 403
    assert supervisor_client.post(reverse("inbox:answer_deactivate", args=[existing.pk])).status_code == 403
    existing.refresh_from_db()
    assert (existing.question, existing.is_active, Answer.objects.count()) == ("Cita previa", True, 1)


def test_taking_out_of_use_is_post_only(manager_client):
    existing = answer("Cita previa")

    assert manager_client.get(reverse("inbox:answer_deactivate", args=[existing.pk])).status_code == 405
    existing.refresh_from_db()
    assert existing.is_active is True
