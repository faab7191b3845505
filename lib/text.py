"""Accent- and case-insensitive matching of Spanish and Valencian words. Imports no Django.

``fold`` turns "Ocupació", "OCUPACIÓ" and "ocupacio" into the same string, joins the Valencian
"l·l" ("col·legi" → "collegi") and makes typographic apostrophes plain, so "fira d’ocupació" and
"Fira d'Ocupació" are the same phrase.

``PhraseMatcher`` finds weighted phrases in a text by whole words. It works on word tokens and
dictionary look-ups rather than a big regular-expression alternation: Python's ``re`` tries every
alternative at every position, which costs milliseconds per article with a hundred keywords, while
splitting into words and looking them up costs a fraction of that. A word also matches its plural
("oferta" → "ofertas"/"ofertes", "subvención" → "subvenciones", "subvenció" → "subvencions").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable
from dataclasses import dataclass


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


def _forms(word: str) -> frozenset[str]:
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


@dataclass(frozen=True)
class Phrase:
    text: str  # as the person wrote it, shown back as the reason for a score
    weight: int
    label: Hashable  # what the phrase belongs to (a topic id)
    exclusion: bool = False


class PhraseMatcher:
    """Finds which phrases occur in a text, each reported once, as whole words.

    One-word phrases are found by intersecting the text's set of words with theirs. Phrases of
    several words sit in a tree of words (a trie) that one pass over the text walks: at each word,
    only the phrases that can start there are followed, one word further at a time.
    """

    _ENDS = ""  # key of a trie node listing the phrases that end there (never a word: words are \w+)

    def __init__(self, phrases: Iterable[Phrase]):
        self._phrases_by_shape: list[list[Phrase]] = []
        shape_index: dict[tuple[str, ...], int] = {}
        self._single: dict[str, list[int]] = {}  # word form -> one-word phrases it completes
        self._trie: dict = {}  # keyword word -> node; node: keyword word -> node, _ENDS -> [phrases]
        self._words_of_form: dict[str, set[str]] = {}  # form in a text -> keyword words it can be
        for phrase in phrases:
            key = tuple(words(phrase.text))
            if not key:
                continue
            index = shape_index.get(key)
            if index is None:
                index = len(self._phrases_by_shape)
                shape_index[key] = index
                self._phrases_by_shape.append([])
                if len(key) == 1:
                    for form in _forms(key[0]):
                        self._single.setdefault(form, []).append(index)
                else:
                    node = self._trie
                    for word in key:
                        node = node.setdefault(word, {})
                        for form in _forms(word):
                            self._words_of_form.setdefault(form, set()).add(word)
                    node.setdefault(self._ENDS, []).append(index)
            self._phrases_by_shape[index].append(phrase)
        self._single_forms = frozenset(self._single)
        # form in a text -> trie nodes of the phrases it can start
        self._starts: dict[str, list[dict]] = {}
        for word, node in self._trie.items():
            for form in _forms(word):
                self._starts.setdefault(form, []).append(node)

    def __bool__(self) -> bool:
        return bool(self._phrases_by_shape)

    def find(self, text: str) -> list[Phrase]:
        """The phrases present in ``text``, in the order they were given, each once."""
        tokens = words(text)
        found = {index for form in self._single_forms.intersection(tokens) for index in self._single[form]}
        if self._trie:
            found.update(self._in_sequence(tokens))
        return [phrase for index in sorted(found) for phrase in self._phrases_by_shape[index]]

    def _in_sequence(self, tokens: list[str]) -> set[int]:
        words_of_form, starts, ends = self._words_of_form, self._starts, self._ENDS
        matched: set[int] = set()
        for position in [position for position, token in enumerate(tokens) if token in starts]:
            frontier = starts[tokens[position]]
            following = position + 1
            while frontier:
                step = []
                for node in frontier:
                    matched.update(node.get(ends, ()))
                    if following < len(tokens):
                        step.extend(
                            node[word] for word in words_of_form.get(tokens[following], ()) if word in node
                        )
                frontier = step
                following += 1
        return matched
