"""The reading queue's pages as items pile up: 100,000 items (the issue's figure) and 1,000,000 (a
year or more of a large desk that never clears its queue).

Items are written by PostgreSQL itself (generate_series) in the proportions a desk has: three in five
new (one in ten of all items a hidden duplicate, among those), one in five shortlisted, one in five
discarded, scores 0-8, a first-seen time a minute apart. Each figure is the median of 7 calls of the selector the page uses, database time
included, after one call to warm the cache.

Figures, at each size: the queue's tab counts, its first page of 50 (the paginator's count and the
rows, with each row's source, topic and "also in"), a deep page, and the hidden items' first page.

Needs DATABASE_URL pointing at PostgreSQL; works in its own database, ``socialdesk_bench_queue``.
"""

from __future__ import annotations

import statistics
import time

from django.db import connection

from bench.database import bench_database_use
from curation.selectors import hidden_page, queue_counts, queue_page
from curation.services import source_create

SIZES = (100_000, 1_000_000)
CALLS = 7
PER_PAGE = 50


def _add_items(source_id: int, first: int, last: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO curation_item (source_id, guid, guid_hash, url, canonical_url, url_hash,
                content_hash, title, summary_html, excerpt, first_seen_at, place, score, score_reasons,
                rank, state, hidden_reason, hidden_detail)
            SELECT %s, n::text, md5(n::text), '', '', '', '', 'Oferta ' || n, '<p>Texto</p>', 'Texto',
                now() - make_interval(mins => n), '', n %% 9, '[]', (n %% 9) - n / 720.0,
                (ARRAY['new', 'new', 'new', 'shortlisted', 'discarded'])[1 + n %% 5],
                CASE WHEN n %% 10 = 0 THEN 'duplicate' ELSE '' END, ''
            FROM generate_series(%s, %s) AS n
            """,
            [source_id, first, last],
        )
        cursor.execute("ANALYZE curation_item")


def _median_ms(call) -> float:
    call()
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _figures(size: int) -> list[tuple]:
    label = f"{size:,} items"
    return [
        (f"{label}: queue tab counts", f"{_median_ms(queue_counts):.1f} ms"),
        (
            f"{label}: queue, first page of {PER_PAGE}",
            f"{_median_ms(lambda: list(queue_page(per_page=PER_PAGE).object_list)):.1f} ms",
        ),
        (
            f"{label}: queue, page 200",
            f"{_median_ms(lambda: list(queue_page(page=200, per_page=PER_PAGE).object_list)):.1f} ms",
        ),
        (
            f"{label}: hidden items, first page",
            f"{_median_ms(lambda: list(hidden_page(per_page=PER_PAGE).object_list)):.1f} ms",
        ),
    ]


def run() -> list[tuple]:
    bench_database_use("socialdesk_bench_queue", benchmark="curation queue")
    source = source_create(name="Fuente", url="https://empleo.example.org/rss")
    rows: list[tuple] = []
    written = 0
    for size in SIZES:
        _add_items(source.pk, written + 1, size)
        written = size
        rows += _figures(size)
    return rows
