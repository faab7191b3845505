"""Metrics: the supervisor's report over three years of a busy desk, on PostgreSQL.

Loads 200,000 conversations started over three years on eight channels, with their messages and
reporting events (bench/metricsgen.py: about a million events and as many messages), and three
years of published posts. Then measures what the issue sets targets for:

- a full rollup rebuild (``rollups_rebuild``, what ``manage.py rebuild_rollups`` runs): ≤ 60 s;
- ``report_build`` for a 12-month range: p95 ≤ 500 ms; for a 1-month range: p95 ≤ 150 ms. Each run
  is the whole report the dashboard shows, comparison with the previous period included
  (``compare=True``), after two warm-up runs;
- and, for information, an incremental refresh after a day of new conversations, and each report's
  CPU time (this process and its PostgreSQL backend, from /proc): on a machine busy with other
  work, wall-clock time stretches and CPU time says what an idle machine would take.

Needs DATABASE_URL pointing at PostgreSQL. The bench drops and creates its own database,
``socialdesk_bench_metrics``, on that server and migrates it; nothing else is touched.
BENCH_METRICS_CONVERSATIONS sets another number of conversations (for a quick look).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from bench.database import bench_database_use
from bench.metricsgen import (
    END,
    MADRID,
    Desk,
    deliveries_generate,
    desk_generate,
    desk_load,
    desk_setup,
    sequences_reset,
)
from inbox.models import Conversation, Message
from metrics.models import CareCycleFact, ReportingEvent, TimingFact
from metrics.report_types import Filters
from metrics.reports import report_build
from metrics.rollups import rollups_rebuild, rollups_refresh

BENCH_DATABASE = "socialdesk_bench_metrics"
CONVERSATIONS = int(os.environ.get("BENCH_METRICS_CONVERSATIONS", "200000"))
SEED = 20261127
WARM_UP_RUNS = 2
RUNS = 25
NEW_DAY_CONVERSATIONS = 250
TARGET_REBUILD_S = 60.0
TARGET_YEAR_P95_MS = 500.0
TARGET_MONTH_P95_MS = 150.0


def _use_bench_database() -> None:
    bench_database_use(BENCH_DATABASE, benchmark="metrics")


def _load(desk: Desk, conversations: int, seed: int) -> None:
    for chunk in desk_generate(desk, conversations=conversations, seed=seed):
        with transaction.atomic():
            desk_load(chunk)
    sequences_reset()


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _database_cpu_ns() -> int | None:
    """CPU time used so far by this connection's PostgreSQL backend (same machine only)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/schedstat") as stats:
            return int(stats.read().split()[0])
    except OSError:
        return None


def _timed_reports(filters: Filters) -> tuple[list[float], list[float]]:
    """Wall-clock milliseconds of each run, and CPU milliseconds (this process and the database
    backend together): on a busy machine the second says what an idle one would take."""
    for _ in range(WARM_UP_RUNS):
        report_build(filters, now=END)
    wall, cpu = [], []
    for _ in range(RUNS):
        database_before, process_before = _database_cpu_ns(), time.process_time()
        started = time.perf_counter()
        report_build(filters, now=END)
        wall.append((time.perf_counter() - started) * 1000)
        database_after = _database_cpu_ns()
        database = (database_after - database_before) / 1e6 if database_before is not None else 0.0
        cpu.append((time.process_time() - process_before) * 1000 + database)
    return wall, cpu


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def _verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"


def run() -> list[tuple]:
    _use_bench_database()
    settings.DEBUG = False  # no query log
    started = time.monotonic()
    desk = desk_setup()
    _load(desk, CONVERSATIONS, SEED)
    deliveries = deliveries_generate(desk, seed=SEED)
    _analyze()
    load_seconds = time.monotonic() - started

    database_before, process_before = _database_cpu_ns(), time.process_time()
    started = time.monotonic()
    rollups_rebuild()
    rebuild_seconds = time.monotonic() - started
    rebuild_cpu = time.process_time() - process_before
    database_after = _database_cpu_ns()  # the same connection: the rebuild ran on this backend
    if database_before is not None and database_after is not None:
        rebuild_cpu += (database_after - database_before) / 1e9

    today = END.astimezone(MADRID).date()
    year, year_cpu = _timed_reports(Filters(start=today - timedelta(days=364), end=today))
    month, month_cpu = _timed_reports(Filters(start=today - timedelta(days=29), end=today))

    # A day of new conversations after the desk's "now", then the beat's refresh.
    next_day = Desk(
        channels=desk.channels,
        tag_ids=desk.tag_ids,
        calendar=desk.calendar,
        end=END + timedelta(days=1),
        days=1,
    )
    _load(next_day, NEW_DAY_CONVERSATIONS, SEED + 7)
    started = time.monotonic()
    rollups_refresh(now=timezone.now())
    refresh_ms = (time.monotonic() - started) * 1000

    year_p95, month_p95 = _p95(year), _p95(month)
    return [
        ("conversations", f"{Conversation.objects.count():,}"),
        ("messages", f"{Message.objects.count():,}"),
        ("reporting events", f"{ReportingEvent.objects.count():,}"),
        ("deliveries published", f"{deliveries:,}"),
        (
            "care cycle facts / span facts",
            f"{CareCycleFact.objects.count():,} / {TimingFact.objects.count():,}",
        ),
        ("generate and load", f"{load_seconds:.1f} s"),
        (
            "full rollup rebuild",
            f"{rebuild_seconds:.1f} s",
            f"≤ {TARGET_REBUILD_S:.0f} s",
            _verdict(rebuild_seconds, TARGET_REBUILD_S),
        ),
        ("full rollup rebuild: CPU (process + database)", f"{rebuild_cpu:.1f} s"),
        ("report, 12 months (+ previous) p50", f"{statistics.median(year):.0f} ms"),
        (
            f"report, 12 months (+ previous) p95 of {RUNS}",
            f"{year_p95:.0f} ms",
            f"≤ {TARGET_YEAR_P95_MS:.0f} ms",
            _verdict(year_p95, TARGET_YEAR_P95_MS),
        ),
        ("report, 12 months: CPU (process + database) p95", f"{_p95(year_cpu):.0f} ms"),
        ("report, 1 month (+ previous) p50", f"{statistics.median(month):.0f} ms"),
        (
            f"report, 1 month (+ previous) p95 of {RUNS}",
            f"{month_p95:.0f} ms",
            f"≤ {TARGET_MONTH_P95_MS:.0f} ms",
            _verdict(month_p95, TARGET_MONTH_P95_MS),
        ),
        ("report, 1 month: CPU (process + database) p95", f"{_p95(month_cpu):.0f} ms"),
        (f"refresh after {NEW_DAY_CONVERSATIONS} new conversations", f"{refresh_ms:.0f} ms"),
    ]
