"""Topics and keywords tuned from the curation room, and the new items scored again with them."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from curation.models import HiddenReason, Item, ItemState, Keyword, Topic
from curation.scoring import current_scorer, rank_for
from curation.topics import items_rescore_new, keyword_add, topic_create
from tests.curation.items import make_item

HEART = "<p>Jornada de salud: qué hacer ante un paro cardíaco. Oferta de empleo de socorrista.</p>"


@pytest.fixture
def jobs(db) -> Topic:
    Topic.objects.all().delete()  # only this test's topic scores
    topic = topic_create(name="Empleo", hashtags="#Empleo")
    keyword_add(topic=topic, phrase="oferta de empleo", weight=5, is_exclusion=False)
    return topic


def test_the_page_lists_each_topic_with_its_words_and_exclusions(manager_client, jobs):
    keyword_add(topic=jobs, phrase="paro cardíaco", weight=1, is_exclusion=True)

    page = manager_client.get(reverse("curation:topics")).content.decode()

    section = re.search(rf'<section class="topic" id="topic-{jobs.pk}".*?</section>', page, re.S).group(0)
    assert '<th scope="row">oferta de empleo</th>' in section and "<td>5</td>" in section
    assert '<th scope="row">paro cardíaco</th>' in section and "<strong>Exclusión</strong>" in section
    assert f'action="{reverse("curation:keyword_add", args=[jobs.pk])}"' in section


def test_the_supervisor_reads_the_topics_and_changes_nothing(supervisor_client, jobs):
    page = supervisor_client.get(reverse("curation:topics")).content.decode()

    assert "oferta de empleo" in page
    forms = re.findall(r'<form method="post" action="([^"]+)"', page.split('<main id="main"')[1])
    assert forms == [reverse("curation:score_try")]  # trying a text changes nothing
    response = supervisor_client.post(
        reverse("curation:keyword_add", args=[jobs.pk]), {"phrase": "beca", "weight": 2}
    )
    assert response.status_code == 403 and not Keyword.objects.filter(phrase="beca").exists()


def test_the_manager_adds_an_exclusion_and_it_counts_for_the_next_item_read(manager_client, jobs):
    assert current_scorer().score("Socorrista", HEART).points == 5

    response = manager_client.post(
        reverse("curation:keyword_add", args=[jobs.pk]),
        {"phrase": "  Paro   cardíaco ", "weight": 1, "is_exclusion": "on"},
    )

    assert response.status_code == 302 and response["Location"].endswith(f"#topic-{jobs.pk}")
    assert jobs.keywords.get(is_exclusion=True).phrase == "Paro cardíaco"
    assert current_scorer().score("Socorrista", HEART).excluded_by == "Paro cardíaco"


@pytest.mark.parametrize(
    ("phrase", "error"),
    [("OFERTA DE EMPLEO", "ya es una palabra de este tema"), ("¡¡ !!", "al menos una letra o un número")],
)
def test_a_word_already_there_or_without_letters_is_refused_and_says_why(manager_client, jobs, phrase, error):
    response = manager_client.post(
        reverse("curation:keyword_add", args=[jobs.pk]), {"phrase": phrase, "weight": 2}
    )

    assert response.status_code == 400
    assert error in response.content.decode()
    assert jobs.keywords.count() == 1


def test_a_weight_out_of_range_is_refused(manager_client, jobs):
    response = manager_client.post(
        reverse("curation:keyword_add", args=[jobs.pk]), {"phrase": "beca", "weight": 11}
    )
    assert response.status_code == 400 and not jobs.keywords.filter(phrase="beca").exists()


def test_the_manager_changes_a_weight_makes_a_word_an_exclusion_and_removes_it(manager_client, jobs):
    keyword = jobs.keywords.get()

    manager_client.post(reverse("curation:keyword_change", args=[keyword.pk]), {"weight": 8})
    keyword.refresh_from_db()
    assert (keyword.weight, keyword.is_exclusion) == (8, False)
    assert current_scorer().score("x", HEART).points == 8

    manager_client.post(reverse("curation:keyword_change", args=[keyword.pk]), {"weight": 0})
    keyword.refresh_from_db()
    assert keyword.weight == 8  # refused

    manager_client.post(reverse("curation:keyword_remove", args=[keyword.pk]))
    assert not Keyword.objects.filter(pk=keyword.pk).exists()
    assert current_scorer().score("x", HEART).points == 0


def test_a_new_topic_gets_a_free_short_name_and_an_inactive_one_scores_nothing(manager_client, jobs):
    manager_client.post(
        reverse("curation:topic_new"), {"name": "Empleo", "hashtags": "#Feina", "is_active": "on"}
    )
    second = Topic.objects.exclude(pk=jobs.pk).get()
    assert (second.name, second.slug, second.hashtags, second.is_active) == (
        "Empleo",
        "empleo-2",
        "#Feina",
        True,
    )

    manager_client.post(
        reverse("curation:topic_edit", args=[jobs.pk]), {"name": "Empleo público", "hashtags": ""}
    )
    jobs.refresh_from_db()
    assert (jobs.name, jobs.is_active) == ("Empleo público", False)
    assert current_scorer().score("Oferta de empleo", "").points == 0


def _new_item(source, guid: str, html: str, **fields) -> Item:
    return make_item(source, guid, title="Aviso", summary_html=html, **fields)


@pytest.mark.django_db
def test_scoring_again_hides_what_a_new_exclusion_catches_and_lifts_what_a_new_word_earns(make_source, jobs):
    source = make_source()
    heart = _new_item(source, "heart", HEART, score=5, topic=jobs)
    course = _new_item(source, "course", "<p>Curso de soldadura con beca.</p>")
    dealt_with = _new_item(source, "used", HEART, score=5, topic=jobs, state=ItemState.USED)
    duplicate = _new_item(source, "dup", HEART, hidden_reason=HiddenReason.DUPLICATE, duplicate_of=heart)
    keyword_add(topic=jobs, phrase="paro cardíaco", weight=1, is_exclusion=True)
    keyword_add(topic=jobs, phrase="beca", weight=3, is_exclusion=False)

    report = items_rescore_new()

    heart.refresh_from_db()
    course.refresh_from_db()
    assert (report.scored, report.changed, report.hidden, report.shown) == (2, 2, 1, 0)  # heart and course
    assert (heart.hidden_reason, heart.hidden_detail, heart.score) == (
        HiddenReason.EXCLUDED,
        "paro cardíaco",
        0,
    )
    assert (course.score, course.topic, course.score_reasons) == (
        3,
        jobs,
        [{"word": "beca", "weight": 3, "topic": jobs.slug}],
    )
    assert course.rank == rank_for(score=3, when=course.published_at)  # ranked with its new score
    dealt_with.refresh_from_db()
    duplicate.refresh_from_db()
    assert (dealt_with.score, dealt_with.hidden_reason) == (5, HiddenReason.VISIBLE)  # the manager used it
    assert duplicate.hidden_reason == HiddenReason.DUPLICATE

    Keyword.objects.filter(phrase="paro cardíaco").delete()
    report = items_rescore_new()
    heart.refresh_from_db()
    assert (report.shown, heart.hidden_reason, heart.hidden_detail, heart.score) == (1, "", "", 5)


def test_the_button_scores_the_new_items_again_in_the_background(
    manager_client, make_source, jobs, django_capture_on_commit_callbacks
):
    item = _new_item(make_source(), "heart", HEART)
    keyword_add(topic=jobs, phrase="paro cardíaco", weight=1, is_exclusion=True)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = manager_client.post(reverse("curation:items_rescore"))

    assert response.status_code == 302 and len(callbacks) == 1
    item.refresh_from_db()
    assert item.hidden_reason == HiddenReason.EXCLUDED
    page = manager_client.get(reverse("curation:topics")).content.decode()
    assert re.search(
        r"Puntuados de nuevo por última vez el .+ \(a petición de marta\)\. Contenidos nuevos leídos: 1; "
        r"cambiados: 1; ocultados por una exclusión: 1; de vuelta en la cola: 0\.",
        page,
    )


def test_a_change_made_here_is_scored_at_once_by_this_process(monkeypatch, make_source, jobs):
    monkeypatch.setattr("curation.scoring.RECHECK_SECONDS", 3600.0)  # as in production: a few seconds
    current_scorer()  # cached with the topics as they were
    item = _new_item(make_source(), "course", "<p>Curso con beca.</p>")
    keyword_add(topic=jobs, phrase="beca", weight=3, is_exclusion=False)

    items_rescore_new()

    item.refresh_from_db()
    assert item.score == 3


def test_a_keyword_service_refuses_a_phrase_without_words(jobs):
    with pytest.raises(ValidationError):
        keyword_add(topic=jobs, phrase="...", weight=1, is_exclusion=False)
    assert jobs.keywords.count() == 1


def test_every_change_to_topics_and_words_is_in_the_audit_log(manager_client, manager, jobs):
    from socialdesk.models import AuditEvent
    from socialdesk.models.audit import AuditAction

    manager_client.post(reverse("curation:keyword_add", args=[jobs.pk]), {"phrase": "beca", "weight": 2})
    beca = jobs.keywords.get(phrase="beca")
    manager_client.post(
        reverse("curation:keyword_change", args=[beca.pk]), {"weight": 2, "is_exclusion": "on"}
    )
    manager_client.post(reverse("curation:keyword_remove", args=[beca.pk]))
    manager_client.post(reverse("curation:topic_edit", args=[jobs.pk]), {"name": "Empleo", "is_active": "on"})

    events = AuditEvent.objects.filter(action=AuditAction.TOPIC_CHANGED, actor=manager).order_by("id")
    assert [(event.target_id, event.details["change"]) for event in events] == [
        (str(jobs.pk), "keyword_added"),
        (str(jobs.pk), "keyword_changed"),
        (str(jobs.pk), "keyword_removed"),
        (str(jobs.pk), "topic_saved"),
    ]
    assert events[1].details == {
        "change": "keyword_changed",
        "phrase": "beca",
        "weight": 2,
        "exclusion": True,
        "before": {"weight": 2, "exclusion": False},
    }


def test_a_pasted_text_shows_the_score_the_topics_give_it_and_nothing_is_stored(supervisor_client, jobs):
    keyword_add(topic=jobs, phrase="paro cardíaco", weight=1, is_exclusion=True)
    items_before = Item.objects.count()

    scored = supervisor_client.post(
        reverse("curation:score_try"),
        {"title": "Nueva oferta de empleo", "text": "Ofertas de empleo en Elche."},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    excluded = supervisor_client.post(
        reverse("curation:score_try"),
        {"title": "Oferta de empleo", "text": "Qué hacer ante un paro cardíaco"},
    ).content.decode()
    nothing = supervisor_client.post(
        reverse("curation:score_try"), {"title": "Fiestas", "text": ""}
    ).content.decode()

    assert "<!doctype" not in scored  # htmx gets the result alone
    assert "<strong>Puntuación 5</strong>, tema «Empleo»." in scored
    assert "<li>oferta de empleo (5) — Empleo</li>" in scored
    assert "Oculto:</strong> contiene la palabra excluida «paro cardíaco»." in excluded
    assert "Puntuación 0" in nothing
    assert Item.objects.count() == items_before
