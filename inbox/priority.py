"""How urgent a conversation looks, and why (imports no Django).

Words match whole words, ignoring case and accents ("reclamacion" is "reclamación"). Each
unanswered message beyond the first adds REPEATED_WEIGHT: a citizen who writes three times
without an answer floats up even with calm words.
"""

import re
import unicodedata
from collections.abc import Iterable

REPEATED_WEIGHT = 5


def fold(text: str) -> str:
    """Lower case without accents (ç and ñ keep their letter)."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def priority_of(
    *, texts: Iterable[str], words: Iterable[tuple[str, str, int]], unanswered: int
) -> tuple[int, list[dict]]:
    """`texts`: the citizen's unanswered messages; `words`: (term, category, weight).
    Returns the priority and its reasons; each word counts once however often it appears."""
    folded = fold(" ".join(texts))
    score = 0
    reasons: list[dict] = []
    for term, category, weight in words:
        if re.search(rf"(?<!\w){re.escape(fold(term))}(?!\w)", folded):
            score += weight
            reasons.append({"category": category, "term": term, "weight": weight})
    if unanswered > 1:
        extra = (unanswered - 1) * REPEATED_WEIGHT
        score += extra
        reasons.append({"category": "repeated", "count": unanswered, "weight": extra})
    return score, reasons
