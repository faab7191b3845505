"""Text length as each network counts it: graphemes (Bluesky, Mastodon), X's weighted count, URLs as 23."""

from hypothesis import given
from hypothesis import strategies as st

from lib.text_limits import find_urls, grapheme_count, mastodon_length, text_with_link, x_weighted_length


def test_a_grapheme_is_what_a_reader_sees_as_one_character():
    assert grapheme_count("cafe\u0301") == 4  # e + combining accent
    assert grapheme_count("🇪🇸") == 1  # two regional indicators, one flag
    assert grapheme_count("👩‍👩‍👧") == 1  # a family joined with zero-width joiners
    assert grapheme_count("Bon dia") == 7


def test_urls_are_found_without_the_punctuation_that_ends_a_sentence():
    text = "Consulta https://gva.es/ayudas. También (https://labora.gva.es/cursos?id=3) y http://x.es!"
    assert [text[start:end] for start, end in find_urls(text)] == [
        "https://gva.es/ayudas",
        "https://labora.gva.es/cursos?id=3",
        "http://x.es",
    ]
    assert find_urls("gva.es sin esquema") == []


def test_x_counts_every_url_as_23_and_wide_characters_double():
    assert x_weighted_length("Hola https://gva.es/una/direccion/muy/larga/de/verdad") == 5 + 23
    assert x_weighted_length("Ocupació i formació") == 19
    assert x_weighted_length("求职") == 4
    assert x_weighted_length("🇪🇸👩‍👩‍👧") == 4  # an emoji sequence counts 2
    assert x_weighted_length("cafe\u0301") == 4  # normalised to é first


def test_mastodon_counts_urls_as_23_and_remote_mentions_by_their_local_part():
    assert mastodon_length("https://gva.es/una/direccion/muy/larga/de/verdad") == 23
    assert mastodon_length("@lucia@mastodon.online hola") == len("@lucia hola")
    assert mastodon_length("escriu a info@gva.es") == len("escriu a info@gva.es")
    assert mastodon_length("🇪🇸 cafe\u0301") == 6


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60))
def test_counts_never_exceed_what_python_sees_for_text_without_urls(text):
    if find_urls(text):
        return
    assert grapheme_count(text) <= len(text)
    assert mastodon_length(text) <= len(text)


def test_the_link_goes_at_the_end_once():
    assert text_with_link("Ayudas", "https://gva.es/a") == "Ayudas https://gva.es/a"
    assert (
        text_with_link("Ayudas: https://gva.es/a hoy", "https://gva.es/a") == "Ayudas: https://gva.es/a hoy"
    )
    assert text_with_link("", "https://gva.es/a") == "https://gva.es/a"
    assert text_with_link("Ver https://gva.es/abc", "https://gva.es/a") == "Ver https://gva.es/abc https://gva.es/a"
    assert text_with_link("Ver https://gva.es/a.", "https://gva.es/a") == "Ver https://gva.es/a."
    assert text_with_link("Ayudas", "https://gva.es/a", separator="\n\n") == "Ayudas\n\nhttps://gva.es/a"
    assert text_with_link("Ayudas https://gva.es/a", "https://gva.es/a", separator="\n\n") == "Ayudas https://gva.es/a"
    assert text_with_link("Ayudas", "") == "Ayudas"
