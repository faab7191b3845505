"""Topics with weighted Spanish and Valencian keywords and exclusions; rank by score and freshness."""

from datetime import UTC, datetime, timedelta

import pytest

from curation.models import Keyword, Topic
from curation.scoring import FRESHNESS_HOURS_PER_POINT, Scorer, current_scorer, rank_for

pytestmark = pytest.mark.django_db


def _slug_of(score) -> str | None:
    return Topic.objects.get(pk=score.topic_id).slug if score.topic_id else None


def test_the_seeded_topics_exist_with_keywords_in_both_languages():
    slugs = set(Topic.objects.values_list("slug", flat=True))
    assert {"employment", "training", "guidance", "grants", "job-fairs", "public-employment"} <= slugs
    phrases = set(Keyword.objects.values_list("phrase", flat=True))
    assert {
        "oferta de empleo",
        "oferta de treball",
        "fira d'ocupació",
        "borsa de treball",
        "SEPE",
        "LABORA",
    } <= phrases


@pytest.mark.parametrize(
    ("title", "text", "topic", "words"),
    [
        ("Nueva oferta de empleo en València", "", "employment", {"oferta de empleo", "empleo"}),
        ("FIRA D’OCUPACIÓ 2026", "Vine a la fira", "job-fairs", {"fira d'ocupació", "fira"}),
        ("Cursos de formacion gratuitos", "", "training", {"curso", "formación"}),
        ("Oberta la borsa de treball d'auxiliars", "", "public-employment", {"borsa de treball"}),
        ("Beques i subvencions per a joves", "", "grants", {"beca", "subvenció"}),
        (
            "Taller de orientación laboral",
            "Prepara tu currículum",
            "guidance",
            {"orientación laboral", "currículum"},
        ),
    ],
)
def test_items_are_scored_accent_and_case_insensitively_in_spanish_and_valencian(title, text, topic, words):
    score = current_scorer().score(title, text)
    assert _slug_of(score) == topic
    assert words <= {reason["word"] for reason in score.reasons}
    assert score.points == sum(reason["weight"] for reason in score.reasons)


def test_an_exclusion_takes_out_its_topic_only():
    score = current_scorer().score("Sufre un paro cardíaco", "")
    assert score.points == 0
    assert score.excluded_by == "paro cardíaco"
    mixed = current_scorer().score("El líder de la oposición visita la feria de empleo", "")
    assert _slug_of(mixed) == "job-fairs"
    assert mixed.excluded_by == ""
    assert all(reason["topic"] != "public-employment" for reason in mixed.reasons)


def test_nothing_matched_scores_zero_without_topic():
    score = current_scorer().score("El tiempo para mañana", "Sol y nubes")
    assert (score.points, score.topic_id, score.reasons, score.excluded_by) == (0, None, [], "")


def test_a_custom_topic_and_the_cache_follow_keyword_changes():
    Topic.objects.all().delete()
    topic = Topic.objects.create(name="Vivienda", slug="housing")
    Keyword.objects.create(topic=topic, phrase="alquiler", weight=4)
    assert current_scorer().score("Ayudas al alquiler", "").points == 4
    Keyword.objects.create(topic=topic, phrase="ayuda", weight=2)
    assert current_scorer().score("Ayudas al alquiler", "").points == 6
    topic.is_active = False
    topic.save()
    assert current_scorer().score("Ayudas al alquiler", "").points == 0


def test_the_topic_is_the_one_that_contributed_most():
    training = Topic.objects.get(slug="training")
    employment = Topic.objects.get(slug="employment")
    scorer = Scorer([training, employment])
    score = scorer.score("Curso de formación profesional", "con bolsa de empleo")
    assert score.topic_id == training.pk


def test_rank_trades_score_for_freshness():
    now = datetime(2026, 3, 3, tzinfo=UTC)
    assert rank_for(score=0, when=now) > rank_for(score=0, when=now - timedelta(hours=1))
    older_but_better = rank_for(score=5, when=now - timedelta(hours=FRESHNESS_HOURS_PER_POINT * 4))
    assert older_but_better > rank_for(score=0, when=now)
    assert rank_for(score=5, when=now - timedelta(hours=FRESHNESS_HOURS_PER_POINT * 6)) < rank_for(
        score=0, when=now
    )
