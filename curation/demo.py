"""Demo curation for `make run`: three sample sources and the items they bring, through the real path.

The sample documents in ``curation/demo/`` (an RSS feed in Spanish, an Atom feed in Valencian, a JSON
listing of job offers) are read by the same parsers and stored by the same ``items_store`` as a fetch
would: sanitized, scored by the seeded topics, deduplicated across sources (the job fair is in both
feeds), one item hidden by an exclusion word and one offer past its deadline. Their dates are set
relative to the moment of seeding, so the queue looks like a morning's work.

Their addresses are under ``.invalid`` (a name that never resolves) and the sources are muted with a
reason that says so: they are never fetched. Nothing is seeded on a desk that has sources already.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from curation.models import Source, SourceKind
from curation.services import items_store, parse_source_body, source_create, source_mute

SAMPLES = Path(__file__).resolve().parent / "demo"


@dataclass(frozen=True)
class DemoSource:
    name: str
    url: str
    sample: str  # file name in SAMPLES
    kind: str = SourceKind.FEED
    fields: dict = field(default_factory=dict)
    content_type: str = "application/xml"


DEMO_SOURCES = (
    DemoSource(
        name="Servicio Público de Empleo — noticias (demo)",
        url="https://empleo.demo.invalid/noticias.rss",
        sample="labora-noticias.xml",
    ),
    DemoSource(
        name="Centres de formació — novetats (demo)",
        url="https://formacio.demo.invalid/novetats.atom",
        sample="formacio.xml",
    ),
    DemoSource(
        name="Ofertas de empleo de la red (demo)",
        url="https://ofertas.demo.invalid/ofertas.json",
        sample="ofertas.json",
        kind=SourceKind.JSON_LISTING,
        content_type="application/json",
        fields={
            "items_path": "ofertas",
            "guid_field": "id",
            "title_field": "puesto",
            "link_field": "url",
            "summary_field": "descripcion",
            "published_field": "publicada",
            "deadline_field": "plazo",
            "place_field": "centro",
        },
    ),
)

# {{hours_ago:3:rfc822}}, {{hours_ago:6:iso}}, {{days_ahead:2:date}} in the samples.
_DATE_PLACEHOLDER = re.compile(r"\{\{(hours_ago|days_ahead):(-?\d+):(rfc822|iso|date)\}\}")


def fill_dates(text: str, now: datetime) -> str:
    """The sample with its date placeholders written out, relative to ``now``."""

    def written(match: re.Match[str]) -> str:
        unit, amount, style = match.group(1), int(match.group(2)), match.group(3)
        when = now - timedelta(hours=amount) if unit == "hours_ago" else now + timedelta(days=amount)
        if style == "rfc822":
            return format_datetime(when)
        if style == "date":
            return when.date().isoformat()
        return when.isoformat(timespec="seconds")

    return _DATE_PLACEHOLDER.sub(written, text)


def demo_curation_seed(now: datetime | None = None) -> list[Source]:
    """Create the demo sources and their items; nothing (an empty list) on a desk that has sources."""
    now = now or timezone.now()
    with transaction.atomic():
        if Source.objects.exists():
            return []
        return [_seed_source(demo, now) for demo in DEMO_SOURCES]


def _seed_source(demo: DemoSource, now: datetime) -> Source:
    source = source_create(name=demo.name, url=demo.url, kind=demo.kind, **demo.fields)
    body = fill_dates((SAMPLES / demo.sample).read_text(encoding="utf-8"), now).encode("utf-8")
    parsed = parse_source_body(
        kind=source.kind,
        body=body,
        url=source.url,
        headers={"content-type": demo.content_type},
        tz=source.tzinfo,
        rule=source.page_rule(),
        mapping=source.listing_map(),
    )
    items_store(source=source, entries=parsed.entries, now=now)
    # Stored text, read by whoever opens the page: in the desk's own language, not the terminal's.
    with translation.override(settings.LANGUAGE_CODE):
        reason = gettext(
            "Demo source: its items came with the demo data, from a sample file. Its address does not "
            "exist, so it is never fetched; delete it once you add your own sources."
        )
    return source_mute(source=source, reason=reason)
