"""Items for page tests, stored directly (the fetch pipeline that normally makes them is tested apart)."""

from datetime import timedelta

from django.utils import timezone

from curation.models import Item
from curation.scoring import rank_for


def make_item(source, guid: str, *, score: int = 0, age_hours: float = 1, topic=None, **fields) -> Item:
    published = fields.pop("published_at", timezone.now() - timedelta(hours=age_hours))
    fields.setdefault("title", guid)
    fields.setdefault("url", f"https://news.example.org/{guid}")
    return Item.objects.create(
        source=source,
        guid=guid,
        guid_hash=guid,
        score=score,
        topic=topic,
        published_at=published,
        rank=rank_for(score=score, when=published),
        **fields,
    )
