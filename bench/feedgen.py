"""Generated feeds with the shape of the real ones the desk follows.

Sizes: a median around 60 KB and a heavy tail up to 2.5 MB (official bulletins that put the whole
text of every item in the feed). Items carry full-content HTML the way publishers send it: scripts,
tracking pixels, inline handlers, iframes, named and numeric entities, links with utm_* parameters.
Most feeds have an ETag and/or Last-Modified; about one in ten has neither, so the body-hash path is
exercised. Some items are syndicated: the same news in several sources under different tracking
parameters, for cross-source dedupe. Everything is derived from a seed and a base time, so the server
process and the baseline measurement build byte-identical bodies.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from html import escape

KB = 1024
MB = 1024 * 1024
SIZE_CAP = int(2.5 * MB)
MEDIAN_SIZE = 60 * KB
SIZE_FLOOR = 12 * KB  # twenty short items
PARAGRAPHS = 2000

_WORDS = [
    "oferta de empleo",
    "curso de formación",
    "orientación laboral",
    "beca",
    "feria de empleo",
    "convocatoria",
    "bolsa de trabajo",
    "ocupació",
    "formació professional",
    "orientació",
    "garantía juvenil",
    "prácticas",
    "ayuntamiento",
    "plazo de inscripción",
    "requisitos",
    "personas desempleadas",
    "contrato",
    "jornada completa",
    "teletrabajo",
    "competencias digitales",
    "emprendimiento",
    "subvención",
    "Labora",
    "SEPE",
    "empresa",
    "trabajadoras y trabajadores",
    "certificado de profesionalidad",
    "inserción laboral",
    "taller",
    "el",
    "la",
    "de",
    "para",
    "con",
    "los",
    "las",
    "y",
    "en",
    "un",
    "una",
    "que",
    "del",
    "por",
    "se",
    "al",
    "sus",
    "este",
    "esta",
    "més",
    "amb",
    "per",
    "nuevo",
    "abierto",
    "plazas",
    "hasta",
    "desde",
    "información",
    "municipio",
    "València",
    "Alacant",
    "Castelló",
    "cuidado",
    "ingeniería",
    "hostelería",
    "comercio",
    "logística",
    "sanidad",
    "educación",
    "agricultura",
    "turismo",
]
_ENTITIES = (
    "&aacute;",
    "&eacute;",
    "&iacute;",
    "&oacute;",
    "&ntilde;",
    "&nbsp;",
    "&#8217;",
    "&#8220;",
    "&amp;",
)
_NOISE = (
    '<script type="text/javascript">window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments);}}gtag("event","view",{{"id":"{n}"}});</script>',
    '<img src="https://pixel.tracker.example.net/p.gif?u={n}&amp;c=rss" width="1" height="1" alt="" style="display:none">',
    '<p><a href="https://www.example.org/noticia/{n}?utm_source=rss&amp;utm_medium=feed&amp;fbclid=IwAR{n}" onclick="track({n})" target="_blank">Leer más</a></p>',
    '<iframe src="https://www.youtube.com/embed/v{n}" width="560" height="315" allowfullscreen></iframe>',
    '<style>.feed-{n}{{color:red}}</style><div class="feed-{n}" onmouseover="steal()">Comparte</div>',
    '<p><a href="javascript:alert({n})">Inscríbete</a> <img src="https://cdn.example.org/img/{n}.jpg" alt="Imagen {n}" onerror="boom()"></p>',
)


@dataclass(frozen=True)
class Feed:
    path: str
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    gzipped: bytes | None  # the body compressed once, for clients that accept gzip


def heavy_tail_sizes(count: int, total: int, median: int = MEDIAN_SIZE, cap: int = SIZE_CAP) -> list[int]:
    """Log-normal quantiles with the given median, clipped to [SIZE_FLOOR, cap], spread chosen so
    the sizes add up to about ``total``."""
    quantiles = [statistics.NormalDist().inv_cdf((index + 0.5) / count) for index in range(count)]

    def sizes_for(sigma: float) -> list[int]:
        return [max(SIZE_FLOOR, min(cap, int(median * math.exp(sigma * q)))) for q in quantiles]

    low, high = 0.01, 6.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if sum(sizes_for(middle)) < total else (low, middle)
    return sizes_for(low)


def median_sizes(count: int, median: int = MEDIAN_SIZE) -> list[int]:
    """Sizes close to the median (±25 %), for the many-small-feeds scenario."""
    rng = random.Random(count)
    return [int(median * rng.uniform(0.75, 1.25)) for _ in range(count)]


def _sentence(rng: random.Random, entities: bool = True) -> str:
    words = rng.choices(_WORDS, k=rng.randint(8, 22))
    words[0] = words[0].capitalize()
    if entities and rng.random() < 0.5:
        words.insert(rng.randint(1, len(words) - 1), rng.choice(_ENTITIES))
    return " ".join(words) + "."


def _paragraphs(seed: int) -> list[str]:
    """A pool of paragraphs and noise to draw item bodies from (drawing is much faster than writing
    every sentence anew, and the parser and sanitizer see the same kind of markup either way)."""
    rng = random.Random(seed)
    pool = []
    for serial in range(PARAGRAPHS):
        if rng.random() < 0.25:
            pool.append(rng.choice(_NOISE).format(n=serial))
        else:
            pool.append("<p>" + " ".join(_sentence(rng) for _ in range(rng.randint(2, 6))) + "</p>")
    return pool


def _item_html(rng: random.Random, pool: list[str], serial: str, size: int) -> str:
    # The reference paragraph makes every item's text unique: no accidental content-hash duplicates.
    parts = [f"<p>Referencia {serial}.</p>"]
    length = len(parts[0])
    while length < size:
        piece = rng.choice(pool)
        parts.append(piece)
        length += len(piece) + 1
    return "\n".join(parts)


@dataclass(frozen=True)
class _Item:
    guid: str
    link: str
    title: str
    summary: str
    html: str
    published: datetime


def _items(
    rng: random.Random, pool: list[str], feed_index: int, count: int, item_size: int, base: datetime
) -> list[_Item]:
    items = []
    for position in range(count):
        syndicated = rng.random() < 0.05
        # A syndicated story is one of a small shared pool, published by several sources, each
        # adding its own tracking parameters to the same link.
        story = rng.randrange(300) if syndicated else feed_index * 1000 + position
        story_rng = random.Random(story * 7919) if syndicated else rng
        slug = f"s{story}" if syndicated else f"f{feed_index}-i{position}"
        link = f"https://noticias.example.org/{slug}"
        if syndicated or rng.random() < 0.3:
            link += f"?utm_source=feed{feed_index}&utm_medium=rss&utm_campaign=c{position}"
        title = _sentence(story_rng, entities=False)[:120]
        items.append(
            _Item(
                guid=f"https://noticias.example.org/?p={story}" if syndicated else f"urn:bench:{slug}",
                link=link,
                title=title,
                summary=_sentence(story_rng) + " " + _sentence(story_rng),
                html=_item_html(story_rng, pool, slug, item_size),
                published=base - timedelta(minutes=story_rng.randrange(60 * 24 * 30)),
            )
        )
    return items


def _rss(items: list[_Item], index: int, rng: random.Random, base: datetime) -> bytes:
    cdata = rng.random() < 0.5
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">',
        f"<channel><title>Fuente {index} — Empleo y formación</title><link>https://site{index}.example.org/</link>",
        f"<description>Noticias de la fuente {index}</description><language>es</language>",
        f"<lastBuildDate>{format_datetime(base)}</lastBuildDate>",
    ]
    if rng.random() < 0.3:
        out.append("<ttl>60</ttl>")
    for item in items:
        content = f"<![CDATA[{item.html}]]>" if cdata else escape(item.html, quote=False)
        permalink = "false" if item.guid.startswith("urn:") else "true"
        out.append(
            f"<item><title>{escape(item.title)}</title><link>{escape(item.link)}</link>"
            f'<guid isPermaLink="{permalink}">{escape(item.guid)}</guid>'
            f"<pubDate>{format_datetime(item.published)}</pubDate><dc:creator>Redacción</dc:creator>"
            f"<category>Empleo</category><description>{escape(item.summary)}</description>"
            f"<content:encoded>{content}</content:encoded></item>"
        )
    out.append("</channel></rss>")
    return "\n".join(out).encode()


def _atom(items: list[_Item], index: int, base: datetime) -> bytes:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ca">',
        f"<title>Font {index} — Ocupació</title><id>urn:bench:feed:{index}</id>",
        f'<link rel="alternate" href="https://site{index}.example.org/"/><updated>{base.isoformat()}</updated>',
    ]
    for item in items:
        out.append(
            f"<entry><title>{escape(item.title)}</title><id>{escape(item.guid)}</id>"
            f'<link rel="alternate" href="{escape(item.link)}"/>'
            f"<published>{item.published.isoformat()}</published><updated>{item.published.isoformat()}</updated>"
            f"<author><name>Redacció</name></author><summary>{escape(item.summary)}</summary>"
            f'<content type="html">{escape(item.html, quote=False)}</content></entry>'
        )
    out.append("</feed>")
    return "\n".join(out).encode()


def _json_feed(items: list[_Item], index: int) -> bytes:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": f"Fuente {index}",
        "home_page_url": f"https://site{index}.example.org/",
        "items": [
            {
                "id": item.guid,
                "url": item.link,
                "title": item.title,
                "summary": item.summary,
                "content_html": item.html,
                "date_published": item.published.isoformat(),
            }
            for item in items
        ],
    }
    return json.dumps(document, ensure_ascii=False).encode()


def build_feed(index: int, size: int, seed: int, base: datetime, pool: list[str]) -> Feed:
    """Feed number ``index`` of about ``size`` bytes; ``pool`` is ``_paragraphs(seed)``."""
    shape = random.Random(seed * 1_000_003 + index)
    # 20 to 100 items, fewer when the feed is small: an item costs ~1 KB of markup before its text.
    count = shape.randint(20, max(20, min(100, size // 1500)))
    form = shape.random()
    validators = shape.random()
    compressed = shape.random() < 0.5
    # Two probe renders tell what the markup costs and how the body grows with the item text; the
    # third render is sized to hit ``size``.
    bare = len(_render(index, count, 0, seed, base, pool, form)[0])
    guess = max(1, (size - bare) // count)
    probe = len(_render(index, count, guess, seed, base, pool, form)[0])
    item_size = max(0, int(guess * (size - bare) / max(1, probe - bare)))
    body, content_type = _render(index, count, item_size, seed, base, pool, form)
    etag = f'"bench-{seed}-{index}"' if validators < 0.75 else None
    last_modified = format_datetime(base, usegmt=True) if 0.5 < validators < 0.9 else None
    # mtime=0: gzip would otherwise stamp the current second, and two builds must be byte-identical.
    gzipped = gzip.compress(body, compresslevel=6, mtime=0) if compressed else None
    return Feed(f"/feeds/{index}.xml", body, content_type, etag, last_modified, gzipped)


def _render(
    index: int, count: int, item_size: int, seed: int, base: datetime, pool: list[str], form: float
) -> tuple[bytes, str]:
    rng = random.Random(seed * 7_000_003 + index)
    items = _items(rng, pool, index, count, item_size, base)
    if form < 0.75:
        return _rss(items, index, rng, base), "application/rss+xml; charset=utf-8"
    if form < 0.92:
        return _atom(items, index, base), "application/atom+xml; charset=utf-8"
    return _json_feed(items, index), "application/feed+json"


def build_feeds(sizes: list[int], seed: int, base: datetime) -> list[Feed]:
    pool = _paragraphs(seed)
    return [build_feed(index, size, seed, base, pool) for index, size in enumerate(sizes)]
