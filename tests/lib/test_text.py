"""Accent- and case-insensitive phrase matching for Spanish and Valencian."""

import re

from hypothesis import given
from hypothesis import strategies as st

from lib.text import Phrase, PhraseMatcher, fold, words


def test_fold_ignores_accents_case_and_valencian_punctuation():
    assert fold("OCUPACIÓ") == fold("ocupacio") == "ocupacio"
    assert fold("Fira d’Ocupació") == "fira d'ocupacio"
    assert fold("col·legi") == "collegi"
    assert fold("Formación de 1º") == "formacion de 1o"
    assert fold("cafe\u0301") == "cafe"  # a combining accent
    assert fold("AÑO") == "ano"


def test_words_split_on_apostrophes_and_punctuation():
    assert words("Fira d'Ocupació, València!") == ["fira", "d", "ocupacio", "valencia"]


def _matcher(*phrases: tuple[str, int]) -> PhraseMatcher:
    return PhraseMatcher(Phrase(text=text, weight=weight, label="t") for text, weight in phrases)


def test_phrases_match_whole_words_in_any_case_and_with_or_without_accents():
    matcher = _matcher(("oferta de empleo", 5), ("beca", 3), ("curso", 1))
    found = matcher.find("NUEVA OFERTA DE EMPLEO; ninguna becaria; recursos humanos")
    assert [phrase.text for phrase in found] == ["oferta de empleo"]


def test_plurals_of_spanish_and_valencian_words_match():
    matcher = _matcher(
        ("subvención", 1), ("subvenció", 1), ("oferta", 1), ("pràctica", 1), ("persona desocupada", 1)
    )
    found = matcher.find("Subvenciones y subvencions; ofertes; pràctiques per a persones desocupades")
    assert [phrase.text for phrase in found] == [
        "subvención",
        "subvenció",
        "oferta",
        "pràctica",
        "persona desocupada",
    ]


def test_each_phrase_is_reported_once_in_the_order_given():
    matcher = _matcher(("empleo", 2), ("feria de empleo", 5))
    found = matcher.find("Feria de empleo: empleo, empleo y más empleo")
    assert [phrase.text for phrase in found] == ["empleo", "feria de empleo"]


def test_a_phrase_cut_at_the_end_of_the_text_does_not_match():
    assert _matcher(("bolsa de trabajo", 1)).find("abre la bolsa de") == []


def test_an_empty_matcher_finds_nothing():
    matcher = PhraseMatcher([Phrase(text="  ¡! ", weight=1, label="t")])
    assert not matcher
    assert matcher.find("anything") == []


LATIN_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x24F, blacklist_categories=("Cs",))
    | st.sampled_from("’‘“”—–…·\u0301"),
    max_size=60,
)


@given(LATIN_TEXT)
def test_the_fast_latin1_path_folds_like_the_general_one(text):
    # "Ā" is not Latin-1, so it sends the whole text down the general path; it folds to "a".
    assert fold(text + "Ā") == fold(text) + "a"


@given(st.text(max_size=80))
def test_words_are_what_a_word_pattern_finds_in_the_folded_text(text):
    assert words(text) == re.findall(r"\w+", fold(text))
