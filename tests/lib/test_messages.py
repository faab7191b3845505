"""lib.messages: English where a message arises, any language where it is shown."""

import json

import pytest

from lib.feeds import FeedError
from lib.messages import Message, gettext_noop
from lib.safe_fetch import FetchError

SELECTOR = gettext_noop("The item selector “%(selector)s” is not valid: %(error)s.")


def test_a_message_reads_in_english_with_its_values():
    message = Message(SELECTOR, {"selector": "li[", "error": "Expected ']'"})

    assert str(message) == "The item selector “li[” is not valid: Expected ']'."


def test_a_message_is_translated_before_its_values_go_in():
    spanish = {SELECTOR: "El selector de elementos «%(selector)s» no es válido: %(error)s."}
    message = Message(SELECTOR, {"selector": "li[", "error": "Expected ']'"})

    assert message.translated(lambda text: spanish.get(text, text)) == (
        "El selector de elementos «li[» no es válido: Expected ']'."
    )


def test_a_message_without_values_keeps_a_percent_sign_as_it_is():
    assert str(Message("HTTP 404 Not Found")) == "HTTP 404 Not Found"
    assert Message("100 % de plazas").translated(str) == "100 % de plazas"


@pytest.mark.parametrize(
    "broken",
    [
        "El selector «%(selectr)s» no es válido.",  # a placeholder misspelt
        "El selector «%(selector)d» no es válido.",  # of the wrong type
        "El selector «%(selector)» no es válido.",  # cut short
    ],
)
def test_a_translation_that_breaks_a_placeholder_falls_back_to_english(broken):
    message = Message(SELECTOR, {"selector": "li[", "error": "x"})

    assert message.translated(lambda _text: broken) == str(message)


def test_a_message_survives_the_json_it_is_stored_as():
    message = Message(SELECTOR, {"selector": "li[", "error": "x"})

    stored = json.loads(json.dumps(message.as_json()))

    assert Message.from_json(stored) == Message(SELECTOR, {"selector": "li[", "error": "x"})


@pytest.mark.parametrize(
    "stored",
    [{}, None, "text", [], {"text": ""}, {"text": 3}, {"values": {"a": "b"}}],
)
def test_anything_else_stored_is_no_message(stored):
    assert Message.from_json(stored) is None


def test_stored_values_of_other_types_are_left_out():
    message = Message.from_json(
        {"text": "Could not connect to %(host)s.", "values": {"host": "e.org", "x": [1]}}
    )

    assert message == Message("Could not connect to %(host)s.", {"host": "e.org"})
    assert Message.from_json({"text": "A", "values": "not a mapping"}) == Message("A")


def test_errors_of_fetching_and_reading_carry_their_message_and_its_english():
    fetch = FetchError("connection", gettext_noop("Could not connect to %(host)s."), host="e.org")
    feed = FeedError("bad_listing", gettext_noop("The listing has no column “%(column)s”."), column="titulo")

    assert (fetch.message.values, fetch.reason, str(fetch)) == (
        {"host": "e.org"},
        "Could not connect to e.org.",
        "Could not connect to e.org.",
    )
    assert feed.reason == "The listing has no column “titulo”."


def test_a_shortened_message_cuts_its_text_values_only():
    message = Message("Could not connect to %(host)s after %(tries)s tries.", {"host": "x" * 900, "tries": 3})

    shortened = message.shortened(500)

    assert shortened.values == {"host": "x" * 500, "tries": 3}
    assert shortened.text == message.text
