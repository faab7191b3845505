"""The reply composer's two libraries: the organisation's vetted answers and the curated items.

Both are searched while the manager types, so a search must be cheap and forgiving: "cita previa",
"CITA PRÉVIA" and "cita previa" find the same answer. The answers library holds a few hundred rows,
so its search reads the active answers and compares accent-folded text in Python (lib.text.fold)
instead of depending on PostgreSQL's unaccent extension, and behaves the same on SQLite. Curated
items are many more, so their titles are matched in the database with a pattern in which every
vowel also matches its accented forms.

The answers' upkeep (add, edit, take out of use) is here too: one service per change.
"""

import re

from django.db.models import Case, IntegerField, Value, When
from django.db.models.functions import Coalesce

from curation.models import HiddenReason, Item, ItemState
from inbox.models import Answer
from lib.text import fold, words

ANSWER_RESULTS = 8
CURATED_RESULTS = 8
# The words typed are matched as prefixes ("cit" finds "cita"), so one letter would match nearly
# everything: a search starts at two.
MIN_QUERY_LENGTH = 2

_ACCENTED = {
    "a": "aáàäâAÁÀÄÂ",
    "e": "eéèëêEÉÈËÊ",
    "i": "iíìïîIÍÌÏÎ",
    "o": "oóòöôOÓÒÖÔ",
    "u": "uúùüûUÚÙÜÛ",
    "n": "nñNÑ",
    "c": "cçCÇ",
}


# --- Answers library --------------------------------------------------------------------------


def answers_search(*, q: str, language: str = "", limit: int = ANSWER_RESULTS) -> list[Answer]:
    """Active answers containing every word typed (accents and case ignored), best first.

    Best: in the conversation's ``language``, then in no particular language, then in another;
    within each, answers whose question or keywords hold the words before those where only the
    answer's text does.
    """
    typed = words(q)
    if not typed or len("".join(typed)) < MIN_QUERY_LENGTH:
        return []
    ranked = []
    for answer in Answer.objects.filter(is_active=True).only(
        "id", "question", "keywords", "text", "link", "language"
    ):
        heading = fold(f"{answer.question} {answer.keywords}")
        body = fold(answer.text)
        if not all(word in heading or word in body for word in typed):
            continue
        in_heading = all(word in heading for word in typed)
        ranked.append(
            ((_language_rank(answer.language, language), not in_heading, fold(answer.question)), answer)
        )
    ranked.sort(key=lambda pair: pair[0])
    return [answer for _, answer in ranked[:limit]]


def _language_rank(answer_language: str, wanted: str) -> int:
    if wanted and answer_language == wanted:
        return 0
    if not answer_language:
        return 1
    return 2


def answer_insert_text(answer: Answer) -> str:
    """What goes into the reply: the answer, and its procedure's link unless the text has it already."""
    text = answer.text.strip()
    if answer.link and answer.link not in text:
        return f"{text}\n{answer.link}"
    return text


def answers_for_management(*, q: str = "", include_inactive: bool = True) -> list[Answer]:
    """The library as the management page lists it: matching answers, in use first."""
    answers = Answer.objects.select_related("updated_by")
    if not include_inactive:
        answers = answers.filter(is_active=True)
    typed = words(q)
    listed = list(answers.order_by("-is_active", "question", "id"))
    if not typed:
        return listed
    return [
        answer
        for answer in listed
        if all(word in fold(f"{answer.question} {answer.keywords} {answer.text}") for word in typed)
    ]


def answer_create(*, actor, question: str, keywords: str, text: str, link: str, language: str) -> Answer:
    return Answer.objects.create(
        question=question.strip(),
        keywords=keywords.strip(),
        text=text.strip(),
        link=link.strip(),
        language=language,
        updated_by=actor,
    )


def answer_update(
    *, answer: Answer, actor, question: str, keywords: str, text: str, link: str, language: str
) -> Answer:
    answer.question = question.strip()
    answer.keywords = keywords.strip()
    answer.text = text.strip()
    answer.link = link.strip()
    answer.language = language
    answer.updated_by = actor
    answer.save()
    return answer


def answer_set_active(*, answer: Answer, actor, active: bool) -> Answer:
    """Take an answer out of use (it stops appearing in the composer) or back into use; never deleted,
    so the library keeps what the organisation once said."""
    answer.is_active = active
    answer.updated_by = actor
    answer.save(update_fields=["is_active", "updated_by", "updated_at"])
    return answer


# --- Curated items ----------------------------------------------------------------------------


def curated_links_search(*, q: str, limit: int = CURATED_RESULTS) -> list[Item]:
    """Curated items whose title holds every word typed: shortlisted and used ones first, then new
    ones, newest first within each. Discarded and hidden items, and items without a link, are left out."""
    typed = words(q)
    if not typed or len("".join(typed)) < MIN_QUERY_LENGTH:
        return []
    items = (
        Item.objects.filter(hidden_reason=HiddenReason.VISIBLE)
        .exclude(state=ItemState.DISCARDED)
        .exclude(url="")
    )
    for word in typed:
        items = items.filter(title__regex=_accent_tolerant_pattern(word))
    items = items.annotate(
        chosen=Case(
            When(state__in=[ItemState.SHORTLISTED, ItemState.USED], then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        newest=Coalesce("published_at", "first_seen_at"),
    )
    return list(
        items.only("id", "title", "url", "canonical_url", "state", "published_at", "first_seen_at").order_by(
            "chosen", "-newest", "-id"
        )[:limit]
    )


def curated_link_text(item: Item) -> str:
    """What goes into the reply: "title: link" (the link without tracking parameters when known)."""
    return f"{item.title}: {item.canonical_url or item.url}"


def _accent_tolerant_pattern(word: str) -> str:
    """A regular expression matching ``word`` whatever its accents and case ("ocupacion" finds
    "Ocupación"), written with both cases spelled out so it does not depend on the database's
    locale; the same syntax works on PostgreSQL and on SQLite (Django's REGEXP is Python's re)."""
    pattern = []
    for char in fold(word):
        variants = _ACCENTED.get(char)
        if variants:
            pattern.append(f"[{variants}]")
        elif char.isalpha():
            pattern.append(f"[{char}{char.upper()}]")
        else:
            pattern.append(re.escape(char))
    return "".join(pattern)
