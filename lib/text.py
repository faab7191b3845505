"""Accent- and case-insensitive matching of Spanish and Valencian words. Imports no Django.

``fold`` turns "Ocupació", "OCUPACIÓ" and "ocupacio" into the same string, joins the Valencian
"l·l" ("col·legi" → "collegi") and makes typographic apostrophes plain, so "fira d’ocupació" and
"Fira d'Ocupació" are the same phrase.

``PhraseMatcher`` finds weighted phrases in a text by whole words, with one compiled Aho-Corasick
automaton over the text's folded words rather than a regular-expression alternation (Python's
``re`` tries every alternative at every position: milliseconds per article with a hundred
keywords). A word also matches its plural ("oferta" → "ofertas"/"ofertes", "subvención" →
"subvenciones", "subvenció" → "subvencions").

``spaced_words`` gives the text the automaton reads — its folded words, a space either side of each —
with byte translations in C, not one Python string per word.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from operator import itemgetter

import ahocorasick


def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    # Latin-1 Supplement and Latin Extended-A cover every letter of Spanish, Valencian and their
    # neighbours; each maps to its base letter(s).
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        if base and base != char:
            table[code] = base.lower()
    # Combining accents (text written as "e" + U+0301) disappear.
    for code in range(0x300, 0x370):
        table[code] = ""
    table.update(
        {
            ord("·"): "",  # col·legi → collegi
            ord("ŀ"): "l",  # the single-code-point form "ŀl"
            ord("Ŀ"): "l",
            ord("´"): "'",
            ord("`"): "'",
            ord("º"): "o",  # 1º de mayo
            ord("ª"): "a",
            ord("ß"): "ss",
            ord("Æ"): "ae",
            ord("æ"): "ae",
            ord("Ø"): "o",
            ord("ø"): "o",
            ord("Œ"): "oe",
            ord("œ"): "oe",
        }
    )
    # Folded all the way: "Ǿ" decomposes to "Ø", which folds again to "o".
    while any(value.translate(table) != value for value in table.values()):
        table = {code: value.translate(table) for code, value in table.items()}
    return table


# Applied first, as plain replacements: typographic punctuation (very common in Spanish and
# Valencian news) and the letters that fold into two, so the rest of most texts is Latin-1.
_REPLACEMENTS = (
    ("’", "'"),
    ("‘", "'"),
    ("“", '"'),
    ("”", '"'),
    ("—", "-"),
    ("–", "-"),
    ("…", "..."),
    ("ß", "ss"),
    ("æ", "ae"),
    ("œ", "oe"),
)
_FOLD_TABLE = _build_fold_table()
# The same table over Latin-1 bytes: bytes.translate through 256 entries is many times faster than
# str.translate through a dict, and almost every text is Latin-1 after the replacements above.
_LATIN1_TABLE = bytes(
    ord(_FOLD_TABLE.get(code, chr(code))) if len(_FOLD_TABLE.get(code, chr(code))) == 1 else code
    for code in range(256)
)
_LATIN1_DELETE = bytes(code for code in range(256) if _FOLD_TABLE.get(code) == "")
_WORD = re.compile(r"\w+")
# Splitting on spaces after mapping every Latin-1 character that is not part of a word (what \w
# matches: letters, digits, underscore) to a space finds the words three times faster than findall.
_SEPARATORS = bytes(code if chr(code).isalnum() or code == ord("_") else ord(" ") for code in range(256))
_WORDS_TABLE = bytes(_SEPARATORS[folded] for folded in _LATIN1_TABLE)  # fold, then separate, in one pass
# A keyword word also matches its plural: Spanish -s/-es, Valencian -ns (ocupació → ocupacions) and
# -a → -es (oferta → ofertes, pràctica → pràctiques, lliga → lligues).
_PLURAL_ENDINGS = ("", "s", "es", "ns")


def word_forms(word: str) -> frozenset[str]:
    """The word and its plurals: the forms a keyword word matches in a text."""
    forms = {word + ending for ending in _PLURAL_ENDINGS}
    if word.endswith("ca"):
        forms.add(word[:-2] + "ques")
    elif word.endswith("ga"):
        forms.add(word[:-2] + "gues")
    elif word.endswith("a"):
        forms.add(word[:-1] + "es")
    return frozenset(forms)


def _lowered(text: str) -> str:
    text = text.lower()
    if not text.isascii():
        for old, new in _REPLACEMENTS:
            if old in text:
                text = text.replace(old, new)
    return text


def fold(text: str) -> str:
    """Lower-case ``text`` without accents, for comparisons people expect to ignore both."""
    text = _lowered(text)
    try:
        latin1 = text.encode("latin-1")
    except UnicodeEncodeError:
        return text.translate(_FOLD_TABLE)
    return latin1.translate(_LATIN1_TABLE, _LATIN1_DELETE).decode("latin-1")


def words(text: str) -> list[str]:
    """The folded words of ``text`` (apostrophes and punctuation split words: "d'ocupació" → d, ocupacio)."""
    text = _lowered(text)
    try:
        latin1 = text.encode("latin-1")
    except UnicodeEncodeError:
        return _WORD.findall(text.translate(_FOLD_TABLE))
    return latin1.translate(_WORDS_TABLE, _LATIN1_DELETE).decode("latin-1").split()


# --- The folded words of a text as one string --------------------------------------------------------


def _is_word_character(char: str) -> bool:
    return char.isalnum() or char == "_"  # what \w matches


def _word_characters_of(folded: str) -> str:
    return "".join(char if _is_word_character(char) else " " for char in folded)


def _build_spaced_tables() -> tuple[bytes, bytes, tuple[tuple[str, str], ...]]:
    """Over Latin-1 bytes: lower-case, fold and turn every character that is not part of a word into
    a space, in one ``bytes.translate``. The few Latin-1 letters that fold into two (ß → ss) are
    replaced in the text first."""
    table, delete, two_letter = bytearray(range(256)), bytearray(), []
    for code in range(256):
        folded = chr(code).lower().translate(_FOLD_TABLE)
        if not folded:
            delete.append(code)
        elif len(folded) > 1:
            two_letter.append((chr(code), _word_characters_of(folded)))
        else:
            table[code] = ord(folded) if _is_word_character(folded) else ord(" ")
    return bytes(table), bytes(delete), tuple(two_letter)


_SPACED_TABLE, _SPACED_DELETE, _TWO_LETTER_FOLDS = _build_spaced_tables()


class _NotLatin1Word(Exception):
    """The text has a letter or digit that folds to nothing in Latin-1 (Greek, Cyrillic, ł …)."""


def _outside_latin1(error: UnicodeEncodeError) -> tuple[str, int]:
    """Encoding error handler: what a character outside Latin-1 becomes — its folded letters, or a
    space for punctuation (’ “ — …); a word character with no Latin-1 fold stops the fast path."""
    pieces = [_latin1_piece(char) for char in error.object[error.start : error.end]]
    return "".join(pieces), error.end


# Bounded: hostile text can bring every code point there is, and a worker lives long.
@lru_cache(maxsize=4096)
def _latin1_piece(char: str) -> str:
    piece = _word_characters_of(char.lower().translate(_FOLD_TABLE))
    if any(ord(c) > 0xFF for c in piece):
        raise _NotLatin1Word
    return piece


codecs.register_error("socialdesk.text.outside_latin1", _outside_latin1)


# Punctuation outside Latin-1 that Spanish and Valencian texts are full of: replaced in C before
# encoding, since the error handler costs a Python call for each run of them.
_COMMON_SEPARATORS = ("’", "‘", "“", "”", "—", "–", "…", "•")


def spaced_words(text: str) -> str:
    """``words(text)`` as one string, a space either side of every word: " fira d ocupacio "."""
    if not text.isascii():
        for separator in _COMMON_SEPARATORS:
            if separator in text:
                text = text.replace(separator, " ")
        for letter, folded in _TWO_LETTER_FOLDS:
            if letter in text:
                text = text.replace(letter, folded)
    try:
        latin1 = text.encode("latin-1", "socialdesk.text.outside_latin1")
    except _NotLatin1Word:
        return "".join(f" {word}" for word in words(text)) + " "
    spaced = b" " + latin1.translate(_SPACED_TABLE, _SPACED_DELETE) + b" "
    while b"  " in spaced:
        spaced = spaced.replace(b"  ", b" ")
    return spaced.decode("latin-1")


@dataclass(frozen=True)
class Phrase:
    text: str  # as the person wrote it, shown back as the reason for a score
    weight: int
    label: Hashable  # what the phrase belongs to (a topic id)
    exclusion: bool = False


# Words of a phrase whose forms the automaton holds in every combination (at most 5**3 patterns a
# phrase); further words are checked where such a start is found, so a long phrase stays cheap.
_EXPANDED_WORDS = 3


class PhraseMatcher:
    """Finds which phrases occur in a text, each reported once, as whole words.

    One Aho-Corasick automaton (compiled, pyahocorasick) holds each phrase as " word word " in every
    combination of its words' forms (plurals), spaces around it so only whole words match, and reads
    the text's ``spaced_words`` once. It runs in C whatever the number of keywords, which matters:
    scoring reads every new item of every feed.

    Phrases of the same label and kind found on exactly the same words of the text count once, the
    heaviest: "convocatoria" and "convocatòria" are one word once folded, and "vacantes" is the
    plural of both "vacante" and "vacant". Found on other words as well, each counts. Of equally heavy
    ones, the one that counts (and is shown as the reason) is the one spelt as in the text (accents
    included: "convocatòria" in a Valencian text), the longest if several are ("vacante" rather than
    "vacant" for "vacantes"), otherwise the first given.
    """

    def __init__(self, phrases: Iterable[Phrase]):
        self.phrases: list[Phrase] = list(phrases)
        positions_by_shape: dict[tuple[str, ...], list[int]] = {}
        for position, phrase in enumerate(self.phrases):
            shape = tuple(words(phrase.text))
            if shape:
                positions_by_shape.setdefault(shape, []).append(position)
        self._positions_by_shape = list(positions_by_shape.values())
        # Phrases of one shape are always found on the same words: of each label and kind, the one
        # that counts is known now.
        self._counted_by_shape = [self._heaviest(positions) for positions in self._positions_by_shape]
        # Shapes holding equally heavy phrases of one label and kind: the text decides which counts.
        self._tied_shapes = {
            index for index, positions in enumerate(self._positions_by_shape) if self._has_ties(positions)
        }
        self._patterns = _patterns(list(enumerate(positions_by_shape)))
        self._automaton = _automaton(self._patterns)
        # A pattern that starts one shape only, of at most three words: where it is found, that
        # shape shares the words with no other (the common case, settled without comparing).
        self._sole_shape: list[int | None] = [
            shapes[0][0] if len(shapes) == 1 and not shapes[0][1] else None for _pattern, shapes in self._patterns
        ]
        self._sole_patterns: list[set[int]] = [set() for _ in self._positions_by_shape]
        for number, index in enumerate(self._sole_shape):
            if index is not None:
                self._sole_patterns[index].add(number)

    def __bool__(self) -> bool:
        return self._automaton is not None

    def positions(self, text: str) -> list[int]:
        """Where the phrases present in ``text`` are in the list given, in that order, each once."""
        if self._automaton is None:
            return []
        spaced = spaced_words(text)
        # Two patterns never match the same words (those words would be both patterns), so a shape
        # of up to three words is identified by the set of its patterns found: the matches are told
        # apart in C, by pattern number, and Python looks at each pattern found once, not at each of
        # its dozens of matches. Only shapes found by a pattern they share with another shape can be
        # on the very same words as another; a longer shape is checked word by word where its
        # pattern was found, so it adds where.
        found = set(map(_pattern_number, self._automaton.iter(spaced)))
        alone: set[int] = set()
        shared: dict[int, set] = {}
        for number in found:
            index = self._sole_shape[number]
            if index is not None:
                alone.add(index)
                continue
            pattern, shapes = self._patterns[number]
            for index, further in shapes:
                if not further:
                    shared.setdefault(index, set()).add(number)
                else:
                    for end in _ends_followed_by(spaced, pattern, further):
                        shared.setdefault(index, set()).add((number, end, len(further)))
        counted: list[int] = []
        for index in alone:
            if index in shared:
                shared[index] |= self._sole_patterns[index] & found
            else:
                counted += self._counted_in_shape(index, text)
        if shared:
            counted += self._one_per_stretches(shared, text)
        return sorted(counted)

    def _counted_in_shape(self, index: int, text: str) -> list[int]:
        if index in self._tied_shapes:
            return self._heaviest(self._positions_by_shape[index], text)
        return self._counted_by_shape[index]

    def _one_per_stretches(self, stretches: dict[int, set], text: str) -> list[int]:
        """The heaviest phrase (the first of equals) of each label and kind found on the same words."""
        shapes_by_words: dict[frozenset, list[int]] = {}
        for index, found_on in stretches.items():
            shapes_by_words.setdefault(frozenset(found_on), []).append(index)
        counted: list[int] = []
        for shapes in shapes_by_words.values():
            if len(shapes) == 1:
                counted += self._counted_in_shape(shapes[0], text)
            else:  # other shapes on the very same words ("vacante", "vacant": "vacantes")
                positions = [position for index in shapes for position in self._positions_by_shape[index]]
                counted += self._heaviest(positions, text)
        return counted

    def _heaviest(self, positions: list[int], text: str | None = None) -> list[int]:
        """Of these phrases, the one that counts for each label and kind: the heaviest; of equals, the
        one spelt as in ``text`` (when given; the longest of several), then the first."""
        spelt = text.lower() if text is not None else None
        chosen: dict[tuple, int] = {}
        for position in sorted(positions):
            phrase = self.phrases[position]
            best = chosen.get((phrase.label, phrase.exclusion))
            if best is None or _preferred(phrase, self.phrases[best], spelt):
                chosen[(phrase.label, phrase.exclusion)] = position
        return list(chosen.values())

    def _has_ties(self, positions: list[int]) -> bool:
        heaviest: dict[tuple, list[int]] = {}
        for position in positions:
            phrase = self.phrases[position]
            heaviest.setdefault((phrase.label, phrase.exclusion), []).append(phrase.weight)
        return any(weights.count(max(weights)) > 1 for weights in heaviest.values())

    def find(self, text: str) -> list[Phrase]:
        """The phrases present in ``text``, in the order they were given, each once."""
        return [self.phrases[position] for position in self.positions(text)]


def _preferred(phrase: Phrase, best: Phrase, spelt: str | None) -> bool:
    """Whether ``phrase`` counts rather than ``best`` (same label and kind, on the same words)."""
    if phrase.weight != best.weight:
        return phrase.weight > best.weight
    if spelt is None:
        return False
    return _spelt_length(phrase, spelt) > _spelt_length(best, spelt)


def _spelt_length(phrase: Phrase, spelt: str) -> int:
    """How much of the text the phrase spells as it is written (0: not as written)."""
    return len(phrase.text) if phrase.text.lower() in spelt else 0


def _patterns(
    shapes: list[tuple[int, tuple[str, ...]]],
) -> list[tuple[str, list[tuple[int, tuple[frozenset[str], ...]]]]]:
    """Each pattern " form form form " with the shapes it starts: [(shape index, forms each further
    word may take)]."""
    patterns: dict[str, list[tuple[int, tuple[frozenset[str], ...]]]] = {}
    for index, shape in shapes:
        forms = [word_forms(word) for word in shape]
        further = tuple(forms[_EXPANDED_WORDS:])
        for combination in product(*forms[:_EXPANDED_WORDS]):
            patterns.setdefault(f" {' '.join(combination)} ", []).append((index, further))
    return list(patterns.items())


def _automaton(patterns: list[tuple[str, list]]) -> ahocorasick.Automaton | None:
    """The automaton of the patterns, each found as its number in ``patterns``; None without any."""
    if not patterns:
        return None
    automaton = ahocorasick.Automaton()
    for number, (pattern, _shapes) in enumerate(patterns):
        automaton.add_word(pattern, number)
    automaton.make_automaton()
    return automaton


_pattern_number = itemgetter(1)  # of a match (end, value)


def _ends_followed_by(spaced: str, pattern: str, further: tuple[frozenset[str], ...]) -> Iterable[int]:
    """Where each occurrence of ``pattern`` followed by words taking these forms ends."""
    start = spaced.find(pattern)
    while start != -1:
        end = start + len(pattern) - 1  # its closing space
        if _followed_by(spaced, end, further):
            yield end
        start = spaced.find(pattern, start + 1)


def _followed_by(spaced: str, end: int, further: tuple[frozenset[str], ...]) -> bool:
    """Whether the words after the match ending at ``end`` (its closing space) take these forms."""
    following = spaced[end + 1 :].split(" ", len(further))[: len(further)]
    return len(following) == len(further) and all(
        word in forms for word, forms in zip(following, further, strict=True)
    )
