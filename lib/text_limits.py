"""How long a text is in each network's own arithmetic, and where a link goes in it. Imports no Django.

Networks do not count Python ``len()`` characters:

- **Graphemes** (what a reader sees as one character: "é" written as e + accent, a flag, a family
  emoji) are counted by Bluesky (300) and by Mastodon (500). ``regex``'s ``\\X`` follows Unicode's
  extended grapheme clusters (UAX #29), kept current with each Unicode release.
- **X's weighted length** (280), as twitter-text v3 defines it: the text is NFC-normalised, every URL
  counts as 23 whatever its length (t.co wrapping), an emoji sequence counts 2, a code point in the
  Latin/Greek/Cyrillic/general-punctuation ranges counts 1 and any other (CJK, …) counts 2.
- **Mastodon** also counts every URL as 23 and a remote mention ``@user@domain`` as ``@user``.

Only URLs that start with ``http://`` or ``https://`` are recognised: X and Mastodon also link a bare
domain ("gva.es"), which they would count as 23, so a text full of bare domains may be measured a
little short.
"""

import unicodedata

import regex

URL_WEIGHT = 23

# https?://… up to whitespace, without the punctuation that usually ends a sentence after a link.
_URL = regex.compile(r"https?://[^\s<>\"]+?(?=[.,;:!?¡¿)\]\"'»]*(?:\s|$))", regex.IGNORECASE)
_GRAPHEME = regex.compile(r"\X")
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")
_REMOTE_MENTION = regex.compile(r"(?<![\w/])(@\w+(?:[\w.-]*\w)?)@[\w.-]+\w", regex.UNICODE)

# twitter-text v3 configuration: code point ranges that weigh 1 (100 on its scale of 100).
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def text_with_link(text: str, link: str, *, separator: str = " ") -> str:
    """What is posted where the link is part of the text (and of its length): the link goes at the
    end, after ``separator``, unless the text already carries that very link (a longer address that
    starts like it is another link)."""
    if not link or carries_link(text, link):
        return text
    return f"{text}{separator}{link}" if text else link


def carries_link(text: str, link: str) -> bool:
    """Whether ``link`` is one of the URLs written in ``text``."""
    return link in text and any(text[start:end] == link for start, end in find_urls(text))


def find_urls(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of every http(s) URL in the text."""
    return [match.span() for match in _URL.finditer(text)]


def grapheme_count(text: str) -> int:
    return len(_GRAPHEME.findall(text))


def x_weighted_length(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for start, end in find_urls(text):
        total += _x_weight(text[position:start]) + URL_WEIGHT
        position = end
    return total + _x_weight(text[position:])


def mastodon_length(text: str) -> int:
    text = _REMOTE_MENTION.sub(r"\1", text)
    total = 0
    position = 0
    for start, end in find_urls(text):
        total += grapheme_count(text[position:start]) + URL_WEIGHT
        position = end
    return total + grapheme_count(text[position:])


def _x_weight(text: str) -> int:
    total = 0
    for grapheme in _GRAPHEME.findall(text):
        if _EMOJI.search(grapheme):
            total += 2
        else:
            total += sum(1 if _x_light(ord(char)) else 2 for char in grapheme)
    return total


def _x_light(code_point: int) -> bool:
    return any(low <= code_point <= high for low, high in _X_LIGHT_RANGES)
