"""Topics and their keywords, as the manager tunes them from the curation room, and scoring again.

A keyword change counts for every item read afterwards (the worker's scorer notices within seconds,
see ``curation.scoring``). The items already in the queue keep the score they were given, unless the
manager asks to score the new ones again: an exclusion added for a false positive ("paro cardíaco")
then hides the items it should have hidden, and a new keyword lifts the ones it should have lifted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils.text import slugify
from django.utils.translation import gettext as _

from curation.models import HiddenReason, Item, ItemState, Keyword, Topic
from curation.scoring import current_scorer, freshness_from, rank_for, scorer_forget
from curation.services import TEXT_HTML_CHARS
from lib.sanitize import html_to_text
from lib.text import fold, words
from socialdesk.audit import audit_record
from socialdesk.models import AuditEvent
from socialdesk.models.audit import AuditAction

RESCORE_BATCH = 500


def topics_with_keywords() -> QuerySet[Topic]:
    """Every topic, active ones first, with its keywords (exclusions first, then the heaviest)."""
    return Topic.objects.prefetch_related(
        Prefetch("keywords", queryset=Keyword.objects.order_by("-is_exclusion", "-weight", "phrase"))
    ).order_by("-is_active", "name")


def topic_create(*, name: str, hashtags: str = "", is_active: bool = True, actor=None, request=None) -> Topic:
    topic = Topic(name=name.strip(), slug=_free_slug(name), hashtags=hashtags.strip(), is_active=is_active)
    topic.full_clean()
    topic.save()
    _audit(topic, "topic_added", actor, request, name=topic.name, hashtags=topic.hashtags, active=is_active)
    return topic


def topic_update(
    *, topic: Topic, name: str, hashtags: str, is_active: bool, actor=None, request=None
) -> Topic:
    topic.name, topic.hashtags, topic.is_active = name.strip(), hashtags.strip(), is_active
    topic.full_clean()
    topic.save()
    _audit(topic, "topic_saved", actor, request, name=topic.name, hashtags=topic.hashtags, active=is_active)
    return topic


def _audit(topic: Topic, change: str, actor, request, **details) -> None:
    """One audit event per change: the supervisor can see who made the queue rank as it does."""
    audit_record(
        action=AuditAction.TOPIC_CHANGED,
        actor=actor,
        target=topic,
        details={"change": change, **details},
        request=request,
    )


def _free_slug(name: str) -> str:
    base = slugify(fold(name))[:40] or "topic"
    slug, number = base, 2
    while Topic.objects.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    return slug


def keyword_add(
    *, topic: Topic, phrase: str, weight: int, is_exclusion: bool, actor=None, request=None
) -> Keyword:
    """Add a word or phrase to ``topic``; ValidationError when it has no word or is there already,
    capitals aside (a spelling with other accents is another word, as the seeded "convocatoria" and
    "convocatòria" are: each is shown as the reason for the texts that spell it so)."""
    phrase = " ".join(phrase.split())
    if not words(phrase):
        raise ValidationError({"phrase": _("Write a word or phrase with at least one letter or digit.")})
    if topic.keywords.filter(phrase__iexact=phrase).exists():
        raise ValidationError(
            {"phrase": _("“%(phrase)s” is already a word of this topic.") % {"phrase": phrase}}
        )
    keyword = Keyword(topic=topic, phrase=phrase, weight=weight, is_exclusion=is_exclusion)
    keyword.full_clean()
    keyword.save()
    _audit(topic, "keyword_added", actor, request, phrase=phrase, weight=weight, exclusion=is_exclusion)
    return keyword


def keyword_update(*, keyword: Keyword, weight: int, is_exclusion: bool, actor=None, request=None) -> Keyword:
    before = {"weight": keyword.weight, "exclusion": keyword.is_exclusion}
    keyword.weight, keyword.is_exclusion = weight, is_exclusion
    keyword.full_clean()
    keyword.save()
    _audit(
        keyword.topic,
        "keyword_changed",
        actor,
        request,
        phrase=keyword.phrase,
        weight=weight,
        exclusion=is_exclusion,
        before=before,
    )
    return keyword


def keyword_remove(*, keyword: Keyword, actor=None, request=None) -> None:
    topic, phrase = keyword.topic, keyword.phrase
    keyword.delete()
    _audit(topic, "keyword_removed", actor, request, phrase=phrase)


@dataclass(frozen=True)
class ScoreTry:
    points: int
    topic: Topic | None
    reasons: list[dict]  # {"word", "weight", "topic"} as stored on items, "topic" being the topic's name
    excluded_by: str


def score_try(*, title: str, text: str) -> ScoreTry:
    """The score the topics as they are now give a headline and its text (nothing is stored)."""
    scorer_forget()  # the person trying may have just changed a word
    score = current_scorer().score(title, text)
    names = dict(Topic.objects.values_list("slug", "name"))
    return ScoreTry(
        points=score.points,
        topic=Topic.objects.filter(pk=score.topic_id).first() if score.topic_id else None,
        reasons=[
            {**reason, "topic": names.get(reason["topic"], reason["topic"])} for reason in score.reasons
        ],
        excluded_by=score.excluded_by,
    )


@dataclass(frozen=True)
class RescoreReport:
    scored: int  # new items scored again
    changed: int  # of which the score, topic or visibility changed
    hidden: int  # now hidden by an exclusion
    shown: int  # back in the queue (an exclusion gone)


def items_rescore_new(*, actor=None) -> RescoreReport:
    """Score again every new item that is not a duplicate, with the topics as they are now, and
    record what changed in the audit log (the topics page shows the last time, for ``actor``).

    Items shortlisted, used or discarded keep their score: the manager has dealt with them. A
    duplicate stays hidden behind its original whatever its words. Batches of RESCORE_BATCH, each
    written in one transaction, so a worker stopped halfway leaves every item with a consistent score.
    """
    scorer_forget()  # the topics just changed: no waiting for the next check
    scorer = current_scorer()
    scored = changed = hidden = shown = 0
    candidates = (
        Item.objects.filter(state=ItemState.NEW)
        .exclude(hidden_reason=HiddenReason.DUPLICATE)
        .only(
            "id",
            "title",
            "summary_html",
            "score",
            "topic_id",
            "score_reasons",
            "rank",
            "hidden_reason",
            "hidden_detail",
            "published_at",
            "first_seen_at",
        )
        .order_by("id")
    )
    last_id = 0
    while True:
        batch = list(candidates.filter(id__gt=last_id)[:RESCORE_BATCH])
        if not batch:
            break
        last_id = batch[-1].pk
        updated = []
        for item in batch:
            before = (item.score, item.topic_id, item.hidden_reason)
            _apply_score(
                item, scorer.score(item.title, html_to_text(item.summary_html, limit=TEXT_HTML_CHARS))
            )
            scored += 1
            if (item.score, item.topic_id, item.hidden_reason) != before:
                changed += 1
                hidden += item.hidden_reason == HiddenReason.EXCLUDED and before[2] != HiddenReason.EXCLUDED
                shown += item.hidden_reason == HiddenReason.VISIBLE and before[2] == HiddenReason.EXCLUDED
                updated.append(item)
        with transaction.atomic():
            Item.objects.bulk_update(
                updated, ["score", "topic", "score_reasons", "rank", "hidden_reason", "hidden_detail"]
            )
    report = RescoreReport(scored=scored, changed=changed, hidden=hidden, shown=shown)
    audit_record(
        action=AuditAction.TOPIC_CHANGED,
        actor=actor,
        details={"change": "items_rescored", **asdict(report)},
    )
    return report


def last_rescore() -> AuditEvent | None:
    """The last time the new items were scored again, with its figures in ``details``."""
    return (
        AuditEvent.objects.filter(action=AuditAction.TOPIC_CHANGED, details__change="items_rescored")
        .order_by("-at", "-id")
        .first()
    )


def _apply_score(item: Item, score) -> None:
    item.score, item.topic_id, item.score_reasons = score.points, score.topic_id, score.reasons
    if score.excluded_by:
        item.hidden_reason, item.hidden_detail = HiddenReason.EXCLUDED, score.excluded_by[:200]
    elif item.hidden_reason == HiddenReason.EXCLUDED:
        item.hidden_reason, item.hidden_detail = HiddenReason.VISIBLE, ""
    freshness = freshness_from(published_at=item.published_at, first_seen_at=item.first_seen_at)
    item.rank = rank_for(score=score.points, when=freshness)
