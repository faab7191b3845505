"""Accent- and case-insensitive phrase matching for Spanish and Valencian."""

import re

from hypothesis import given
from hypothesis import strategies as st

from lib.text import Phrase, PhraseMatcher, fold, spaced_words, word_forms, words


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


@given(st.text(max_size=80) | LATIN_TEXT)
def test_spaced_words_are_the_words_with_one_space_either_side_of_each(text):
    assert spaced_words(text) == "".join(f" {word}" for word in words(text)) + " "


def test_spaced_words_fold_what_lies_outside_latin1_and_keep_other_alphabets():
    assert spaced_words("Fira d’Ocupació — STRAßE, Łódź…") == " fira d ocupacio strasse łodz "
    assert spaced_words("Київ: Oferta") == " київ oferta "
    assert spaced_words("…") == " "


def test_a_long_phrase_matches_only_with_all_its_words_in_their_forms():
    matcher = _matcher(("renta valenciana de inclusión social", 3))
    assert matcher.find("la Renta Valenciana de Inclusión Social") != []
    assert matcher.find("rentas valencianas de inclusiones sociales") != []
    assert matcher.find("renta valenciana de inclusión") == []
    assert matcher.find("renta valenciana de inclusión laboral") == []


def _found_word_by_word(phrases: list[Phrase], text: str) -> list[Phrase]:
    """The obvious, slow way: every phrase tried at every position of the text's words; then, of the
    phrases of one label and kind found on exactly the same words, the heaviest; of equals, the one
    spelt as in the text (the longest of several), then the first."""
    tokens = words(text)

    def preference(position: int) -> tuple:
        phrase = phrases[position]
        spelt = len(phrase.text) if phrase.text.lower() in text.lower() else 0
        return (phrase.weight, spelt, -position)

    best_on: dict[tuple, int] = {}
    for position, phrase in enumerate(phrases):
        shape = words(phrase.text)
        found_on = frozenset(
            start
            for start in range(len(tokens) - len(shape) + 1)
            if shape
            and all(
                token in word_forms(word)
                for token, word in zip(tokens[start : start + len(shape)], shape, strict=True)
            )
        )
        if found_on:
            key = (phrase.label, phrase.exclusion, len(shape), found_on)
            if key not in best_on or preference(position) > preference(best_on[key]):
                best_on[key] = position
    return [phrases[position] for position in sorted(best_on.values())]


_VOCABULARY = ["oferta", "ofertas", "ofertes", "de", "d'", "empleo", "empleos", "feria", "fira", "bolsa",
               "trabajo", "treball", "pràctica", "pràctiques", "practica", "curso", "la", "a", "ocupació", "ocupacio",
               "ocupacions", "Ocupació"]  # fmt: skip
_TEXTS = st.lists(st.sampled_from([*_VOCABULARY, ", ", "¡", "EMPLEO", "Ofertes"]), max_size=30).map(" ".join)


def _phrases(vocabulary: list[str], *, words: tuple[int, int]) -> st.SearchStrategy[list[Phrase]]:
    """Up to 8 phrases of these words, with random weights, two labels and some exclusions."""
    return st.lists(
        st.builds(
            Phrase,
            text=st.lists(st.sampled_from(vocabulary), min_size=words[0], max_size=words[1]).map(" ".join),
            weight=st.integers(1, 3),
            label=st.sampled_from(["a", "b"]),
            exclusion=st.booleans(),
        ),
        max_size=8,
    )


_PHRASES = _phrases(_VOCABULARY, words=(1, 5))


@given(_PHRASES, _TEXTS)
def test_the_matcher_finds_what_trying_every_position_finds(phrases, text):
    assert PhraseMatcher(phrases).find(text) == _found_word_by_word(phrases, text)


def test_phrases_of_one_topic_found_on_the_same_words_count_once_the_heaviest():
    convocatoria, convocatoria_va = Phrase("convocatoria", 2, "grants"), Phrase("convocatòria", 3, "grants")
    vacante, vacant = Phrase("vacante", 2, "jobs"), Phrase("vacant", 2, "jobs")
    elsewhere = Phrase("convocatoria", 1, "public")
    matcher = PhraseMatcher([convocatoria, convocatoria_va, vacante, vacant, elsewhere])
    assert matcher.find("Nueva convocatoria con 300 vacantes") == [convocatoria_va, vacante, elsewhere]
    # On different words, each counts.
    assert matcher.find("Convocatòria: una vacant, dues vacants i tres vacantes") == [
        convocatoria_va,
        vacante,
        vacant,
        elsewhere,
    ]


def test_of_equally_heavy_phrases_on_the_same_words_the_one_spelt_as_in_the_text_counts():
    spanish, valencian = Phrase("convocatoria", 2, "grants"), Phrase("convocatòria", 2, "grants")
    vacant, vacante = Phrase("vacant", 2, "jobs"), Phrase("vacante", 2, "jobs")
    matcher = PhraseMatcher([valencian, spanish, vacant, vacante])

    assert matcher.find("Nueva convocatoria: 300 vacantes") == [spanish, vacante]  # the longer spelt
    assert matcher.find("Nova convocatòria: 300 vacants") == [valencian, vacant]
    assert matcher.find("NUEVA CONVOCATORIA") == [spanish]  # case does not matter
    assert matcher.find("convocatoría") == [valencian]  # spelt as neither: the first given


_PREFIXED_VOCABULARY = ["oferta", "ofertas", "de", "empleo", "feria", "la"]
_LONG_PHRASES = _phrases(_PREFIXED_VOCABULARY, words=(3, 6))


@given(_LONG_PHRASES, st.lists(st.sampled_from(_PREFIXED_VOCABULARY), max_size=40).map(" ".join))
def test_long_phrases_sharing_their_first_words_are_told_apart(phrases, text):
    # Past three words a phrase is checked word by word where its start is found: phrases that
    # start alike but go on differently are still found on different words.
    assert PhraseMatcher(phrases).find(text) == _found_word_by_word(phrases, text)
