"""How relevant an item is to the desk's topics, and where it sits in the reading queue.

Each topic adds up the weights of its keywords found in the item (each keyword once, accents and
case ignored, plurals accepted). A topic whose exclusion word appears counts nothing for that item;
an item that only matched excluded topics is hidden, with the word that hid it. The item's score is
the sum over its topics, its topic the one that contributed most, and its reasons the words.

The matcher is compiled once per process and rebuilt only when topics or keywords change (a
worker looks for changes every few seconds). Scoring runs for every new item of every feed, so the
matcher looks phrases up with set operations (which run in C) rather than walking the text word by
word in Python: see ``KeywordMatcher``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise

from django.db.models import Count, Max

from curation.models import Keyword, Topic
from lib.text import Phrase, words
from lib.text import _forms as word_forms  # the plural rule of PhraseMatcher, kept in one place

# One point of score is worth this many hours of freshness: an item two days older needs four more
# points to rank level. Being linear in time, the order between two items never changes as both
# age, so the rank is computed once at ingest and the queue reads it from an index.
FRESHNESS_HOURS_PER_POINT = 12.0
_RANK_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
# Keywords are looked for in the title and the start of the text, where what an item is about is said.
SCORED_TEXT_CHARS = 1_500


def rank_for(*, score: int, when: datetime) -> float:
    hours = (when - _RANK_EPOCH).total_seconds() / 3600
    return score + hours / FRESHNESS_HOURS_PER_POINT


class KeywordMatcher:
    """Which phrases occur in a text: the same answer as ``lib.text.PhraseMatcher`` (whole words,
    accents and case ignored, each word also in its plural forms, each phrase once, in the order
    given), found with set operations that run in C rather than a walk over every word in Python.

    One-word phrases: the set of the text's words intersected with the forms of the phrases' words.
    Longer phrases: the text's pairs of consecutive words intersected with the pairs of forms that
    begin a phrase; a phrase of three words or more is then looked for only where its pair occurs.
    """

    def __init__(self, phrases: Sequence[Phrase]):
        self._positions_by_shape: list[list[int]] = []  # shape -> positions of its phrases in the list
        shape_index: dict[tuple[str, ...], int] = {}
        self._single: dict[str, list[int]] = {}  # word form -> one-word shapes it completes
        self._pairs: dict[tuple[str, str], list[int]] = {}  # pair of forms -> two-word shapes
        # pair of forms -> form of the third word -> the longer shapes that go on so, with the forms
        # each of their further words may take
        self._longer: dict[tuple[str, str], dict[str, list[tuple[int, tuple[frozenset[str], ...]]]]] = {}
        for position, phrase in enumerate(phrases):
            key = tuple(words(phrase.text))
            if not key:
                continue
            index = shape_index.get(key)
            if index is None:
                index = shape_index[key] = len(self._positions_by_shape)
                self._positions_by_shape.append([])
                self._index_shape(key, index)
            self._positions_by_shape[index].append(position)
        self._single_forms = frozenset(self._single)
        self._first_pairs = frozenset(self._pairs) | frozenset(self._longer)

    def _index_shape(self, key: tuple[str, ...], index: int) -> None:
        forms = [word_forms(word) for word in key]
        if len(key) == 1:
            for form in forms[0]:
                self._single.setdefault(form, []).append(index)
            return
        for pair in ((first, second) for first in forms[0] for second in forms[1]):
            if len(key) == 2:
                self._pairs.setdefault(pair, []).append(index)
                continue
            by_third = self._longer.setdefault(pair, {})
            for third in forms[2]:
                by_third.setdefault(third, []).append((index, tuple(forms[3:])))

    def __bool__(self) -> bool:
        return bool(self._positions_by_shape)

    def positions(self, text: str) -> list[int]:
        """Where the phrases present in ``text`` are in the list given (each once, in the order
        ``PhraseMatcher.find`` reports them)."""
        tokens = words(text)
        found = {index for form in self._single_forms.intersection(tokens) for index in self._single[form]}
        if self._first_pairs:
            for pair in self._first_pairs.intersection(pairwise(tokens)):
                found.update(self._pairs.get(pair, ()))
                if pair in self._longer:
                    found.update(_continued(tokens, pair, self._longer[pair]))
        return [position for index in sorted(found) for position in self._positions_by_shape[index]]


def _continued(
    tokens: list[str],
    pair: tuple[str, str],
    by_third: dict[str, list[tuple[int, tuple[frozenset[str], ...]]]],
) -> list[int]:
    """The longer shapes (see ``KeywordMatcher._longer``) that go on after ``pair`` in ``tokens``."""
    found: list[int] = []
    first, second = pair
    position, stop = -1, len(tokens) - 2  # a third word must follow
    while True:
        try:
            position = tokens.index(first, position + 1, stop)  # the search runs in C
        except ValueError:
            return found
        if tokens[position + 1] != second:
            continue
        for index, further in by_third.get(tokens[position + 2], ()):
            start = position + 3
            if not further or _each_in(tokens[start : start + len(further)], further):
                found.append(index)


def _each_in(tokens: list[str], forms: tuple[frozenset[str], ...]) -> bool:
    return len(tokens) == len(forms) and all(
        token in allowed for token, allowed in zip(tokens, forms, strict=True)
    )


@dataclass
class Score:
    points: int = 0
    topic_id: int | None = None
    reasons: list[dict] = field(default_factory=list)
    excluded_by: str = ""  # set when every topic the item matched was excluded
    reasons_json: str = "[]"  # ``reasons`` as JSON, for the bulk insert (joined from serialized pieces)


class Scorer:
    def __init__(self, topics: list[Topic]):
        phrases: list[Phrase] = []
        for topic in topics:
            phrases.extend(
                Phrase(
                    text=keyword.phrase, weight=keyword.weight, label=topic.pk, exclusion=keyword.is_exclusion
                )
                for keyword in topic.keywords.all()
            )
        self._matcher = KeywordMatcher(phrases)
        self._phrases = phrases
        slugs = {topic.pk: topic.slug for topic in topics}
        # By position in ``phrases``; built once per phrase and shared by every item it scores (they
        # are only ever serialized). Exclusions are never a reason.
        self._reasons = [
            {"word": phrase.text, "weight": phrase.weight, "topic": slugs[phrase.label]} for phrase in phrases
        ]
        self._reasons_json = [json.dumps(reason) for reason in self._reasons]

    def score(self, title: str, text: str) -> Score:
        if not self._matcher:
            return Score()
        # Positions rather than Phrase objects: hashing a dataclass costs a Python call each time.
        found = self._matcher.positions(f"{title}\n{text[:SCORED_TEXT_CHARS]}")
        if not found:
            return Score()
        phrases = self._phrases
        excluded: dict[int, str] = {}
        for position in found:
            if phrases[position].exclusion:
                excluded.setdefault(phrases[position].label, phrases[position].text)
        counted = [position for position in found if phrases[position].label not in excluded]
        if not counted:
            return Score(excluded_by=next(iter(excluded.values()), ""))
        totals: dict[int, int] = {}
        for position in counted:
            label = phrases[position].label
            totals[label] = totals.get(label, 0) + phrases[position].weight
        topic_id = max(totals, key=lambda label: (totals[label], -label))
        return Score(
            points=sum(totals.values()),
            topic_id=topic_id,
            reasons=[self._reasons[position] for position in counted],
            reasons_json="[" + ", ".join([self._reasons_json[position] for position in counted]) + "]",
        )


# How often a worker asks whether topics or keywords changed: a change reaches scoring within this
# time, and a worker fetching many sources a second does not ask for every one of them.
RECHECK_SECONDS = 5.0

_cache_lock = threading.Lock()
_cached: tuple[tuple, Scorer] | None = None
_checked_at = float("-inf")


def _version() -> tuple:
    topics = Topic.objects.aggregate(count=Count("id"), changed=Max("updated_at"))
    keywords = Keyword.objects.aggregate(count=Count("id"), changed=Max("updated_at"))
    return (topics["count"], topics["changed"], keywords["count"], keywords["changed"])


def current_scorer() -> Scorer:
    """The scorer for the active topics, rebuilt when they change (checked every RECHECK_SECONDS
    with two small queries)."""
    global _cached, _checked_at
    with _cache_lock:
        if _cached is not None and time.monotonic() - _checked_at < RECHECK_SECONDS:
            return _cached[1]
    version = _version()
    with _cache_lock:
        _checked_at = time.monotonic()
        if _cached is not None and _cached[0] == version:
            return _cached[1]
    scorer = Scorer(list(Topic.objects.filter(is_active=True).prefetch_related("keywords")))
    with _cache_lock:
        _cached = (version, scorer)
    return scorer
