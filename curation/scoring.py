"""How relevant an item is to the desk's topics, and where it sits in the reading queue.

Each topic adds up the weights of its keywords found in the item (each keyword once, accents and
case ignored, plurals accepted; two keywords of a topic found on the very same words, such as
"convocatoria" and "convocatòria", count once: the heavier, or of equals the one spelt as in the text (the longest of several), which is the
reason shown). A topic whose exclusion word appears counts nothing for that item;
an item that only matched excluded topics is hidden, with the word that hid it. The item's score is
the sum over its topics, its topic the one that contributed most, and its reasons the words.

The matcher (``lib.text.PhraseMatcher``, one compiled automaton) is built once per process and
rebuilt only when topics or keywords change (a worker looks for changes every few seconds).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Count, Max

from curation.models import Keyword, Topic
from lib.text import Phrase, PhraseMatcher

# One point of score is worth this many hours of freshness: an item two days older needs four more
# points to rank level. Being linear in time, the order between two items never changes as both
# age, so the rank is computed once at ingest and the queue reads it from an index.
FRESHNESS_HOURS_PER_POINT = 12.0
_RANK_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
# Keywords are looked for in the title and the start of the text, where what an item is about is said.
SCORED_TEXT_CHARS = 1_500


def freshness_from(*, published_at: datetime | None, first_seen_at: datetime) -> datetime:
    """When an item's freshness counts from: its publication, unless unknown or later than when it
    was first seen (a date in the future is not believed)."""
    return published_at if published_at and published_at < first_seen_at else first_seen_at


def rank_for(*, score: int, when: datetime) -> float:
    hours = (when - _RANK_EPOCH).total_seconds() / 3600
    return score + hours / FRESHNESS_HOURS_PER_POINT


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
        self._matcher = PhraseMatcher(phrases)
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


def scorer_forget() -> None:
    """Make this process's next ``current_scorer`` look at the topics now (they just changed here)."""
    global _checked_at
    with _cache_lock:
        _checked_at = float("-inf")


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
