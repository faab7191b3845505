"""Priority words (accent- and case-insensitive, whole words) and the Spanish/Valencian guess."""

import pytest

from inbox.language import detect_language
from inbox.priority import REPEATED_WEIGHT, priority_of

WORDS = [("queja", "complaint", 20), ("reclamació", "complaint", 20), ("urgent", "urgent", 30)]


def test_words_match_whole_words_without_accents_or_case():
    score, reasons = priority_of(texts=["Una RECLAMACIO i és Urgent!"], words=WORDS, unanswered=1)
    assert score == 50
    assert [reason["term"] for reason in reasons] == ["reclamació", "urgent"]


def test_a_word_inside_another_does_not_count():
    assert priority_of(texts=["urgentemente quejarse"], words=WORDS, unanswered=1) == (0, [])


def test_repeated_unanswered_messages_float_up():
    score, reasons = priority_of(texts=["hola", "hola?", "¿hola?"], words=WORDS, unanswered=3)
    assert score == 2 * REPEATED_WEIGHT
    assert reasons == [{"category": "repeated", "count": 3, "weight": 2 * REPEATED_WEIGHT}]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hola, quiero saber cómo pedir cita para el curso", "es"),
        ("Bon dia, vull saber com demanar cita per al curs", "ca"),
        ("Gràcies per la vostra ajuda, moltes gràcies", "ca"),
        ("👍", ""),
        ("OK", ""),
    ],
)
def test_spanish_or_valencian(text, language):
    assert detect_language(text) == language
