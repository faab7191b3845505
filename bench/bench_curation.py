"""Curation: the real fetch → parse → dedupe → sanitize → score → store path on PostgreSQL.

Feeds are generated once and served from a separate process on loopback (see bench/feedgen.py for
their shape). Each cycle runs the way the worker does: a pool of two processes (the worker's
concurrency on this two-core machine), each running what the ``curation.tasks.fetch_source`` task runs
(``source_fetch_claimed``) for one source id after another. Claiming is left out: with two workers in all, no host can get
more than two requests at a time anyway.

Needs DATABASE_URL pointing at PostgreSQL. The bench drops and creates its own database,
``socialdesk_bench``, on that server and migrates it; nothing else is touched.

Figures:
- wall time of the first cycle (every item new) and of an unchanged cycle (304 or same body hash),
  each from a run without the per-step clocks below (they are the benchmark's, not the pipeline's);
- CPU of the two worker processes during the first 200-source cycle, against the same bytes put
  through bare fastfeedparser and bare nh3 in one process (PostgreSQL's own CPU is not counted),
  and against the floor: the same feeds through only the steps no pipeline can skip, each done the
  cheapest way (bench/curation_floor.py);
  This machine's CPU time varies by tens of per cent from one run to the next, so this is done in
  three rounds, each a first cycle from the same empty state followed at once by the bare runs: the
  figures shown are those of the round with the median ratio, and the three ratios are printed.
  A separate first cycle with a CPU clock around each named step gives the breakdown;
- peak resident memory of a worker process during the 1,000-source cycle (getrusage ru_maxrss,
  which includes what the process inherited from its parent, as a Celery prefork child does).
"""

from __future__ import annotations

import functools
import importlib
import multiprocessing
import os
import resource
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import fastfeedparser
import nh3
from django.conf import settings
from django.db import connection, connections

from bench.curation_floor import Floor, connection_params, floor_cpu, keyword_automaton
from bench.database import bench_database_use
from bench.feedgen import MB, Feed, build_feeds, heavy_tail_sizes, median_sizes
from bench.feedserver import FeedServer
from curation.models import Item, Keyword, Source
from curation.services import source_create, source_fetch_claimed

BENCH_DATABASE = "socialdesk_bench"
WORKERS = 2
BIG_SOURCES, BIG_TOTAL = 200, 45 * MB
MANY_SOURCES = 1000
SEED_BIG, SEED_MANY = 1, 2
COMMIT_PROBES = 100
RATIO_ROUNDS = 3

TARGET_BIG_FIRST_S = 5.0
TARGET_BIG_UNCHANGED_S = 1.5
TARGET_MANY_FIRST_S = 20.0
TARGET_MANY_UNCHANGED_S = 5.0
TARGET_CPU_RATIO = 2.0
TARGET_PEAK_MB = 300.0


@dataclass
class TaskFigures:
    stages: dict[str, float]
    status: str
    new_items: int
    parser: str
    error: str
    cpu_seconds: float
    peak_rss_mb: float
    pid: int


@dataclass
class RatioRound:
    """A first 200-source cycle and, right after it, the bare parse and sanitize of the same bytes."""

    cycle: CycleFigures
    parse_cpu: float
    clean_cpu: float
    entries: int
    floor: Floor

    @property
    def ratio(self) -> float:
        return self._of_bare(self.cycle.cpu_seconds)

    @property
    def floor_ratio(self) -> float:
        return self._of_bare(self.floor.cpu_seconds)

    def _of_bare(self, seconds: float) -> float:
        bare = self.parse_cpu + self.clean_cpu
        return seconds / bare if bare else float("inf")


@dataclass
class CycleFigures:
    wall_seconds: float
    tasks: list[TaskFigures]

    @property
    def cpu_seconds(self) -> float:
        return sum(task.cpu_seconds for task in self.tasks)

    @property
    def peak_rss_mb(self) -> float:
        return max(task.peak_rss_mb for task in self.tasks)

    @property
    def peak_rss_sum_mb(self) -> float:
        per_process: dict[int, float] = {}
        for task in self.tasks:
            per_process[task.pid] = max(per_process.get(task.pid, 0.0), task.peak_rss_mb)
        return sum(per_process.values())

    def stages(self) -> str:
        totals: Counter[str] = Counter()
        for task in self.tasks:
            totals.update(task.stages)
        other = self.cpu_seconds - sum(totals.values())
        parts = [f"{stage} {totals[stage]:.2f}" for stage in STAGES if stage in totals]
        return " · ".join([*parts, f"rest {other:.2f}"]) + " s"

    def summary(self) -> str:
        statuses = Counter(task.status for task in self.tasks)
        parsers = Counter(task.parser for task in self.tasks if task.parser)
        items = sum(task.new_items for task in self.tasks)
        parts = [f"{name} {count}" for name, count in sorted(statuses.items())]
        parts += [f"via {name} {count}" for name, count in sorted(parsers.items())]
        return f"{', '.join(parts)}; {items} new items"

    def errors(self) -> list[str]:
        return sorted({task.error for task in self.tasks if task.error})


# --- Worker side ----------------------------------------------------------------------------------


# Named steps of the pipeline whose CPU is measured apart (none runs inside another), and where
# they live. Only CPU inside the worker process is counted: PostgreSQL's and the feed server's are
# not; "queries" is the client side of every query (building SQL, adapting parameters, reading rows),
# "copy" that of the COPY of new items.
STAGES = {
    "fetch": ("curation.services", "safe_get"),
    "parse": ("curation.services", "parse_source_body"),
    "sanitize": ("curation.services", "sanitize_html"),
    "to_text": ("curation.services", "html_to_text"),
    "fold": ("curation.services", "fold"),
    "score": ("curation.scoring", "Scorer.score"),
    "queries": ("django.db.backends.utils", "CursorWrapper.execute"),
    "copy": ("curation.services", "_copy_items"),  # the bulk insert goes through the raw cursor
}
_stage_cpu: Counter[str] = Counter()


def _timed(stage: str, function):
    @functools.wraps(function)
    def timed(*args, **kwargs):
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            _stage_cpu[stage] += time.process_time() - started

    return timed


def _instrument_worker() -> None:
    """Pool initializer: wrap each named step (that still exists) with a CPU clock."""
    for stage, (module_name, attribute_path) in STAGES.items():
        owner = importlib.import_module(module_name)
        *parents, name = attribute_path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        if hasattr(owner, name):
            setattr(owner, name, _timed(stage, getattr(owner, name)))


def _fetch_one(source_id: int) -> TaskFigures:
    before = Counter(_stage_cpu)
    started = time.process_time()
    # What the curation.tasks.fetch_source task runs, in this process as a Celery worker child would.
    report = source_fetch_claimed(source_id=source_id)
    cpu = time.process_time() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    error = f"{report.error_kind}: {report.error_detail}" if report.error_kind else ""
    stages = Counter(_stage_cpu)
    stages.subtract(before)
    return TaskFigures(
        stages=dict(stages),
        status=report.status,
        new_items=report.new_items,
        parser=report.parser,
        error=error,
        cpu_seconds=cpu,
        peak_rss_mb=peak_mb,
        pid=os.getpid(),
    )


# --- Parent side ----------------------------------------------------------------------------------


def _run_cycle(source_ids: list[int], *, by_step: bool = True) -> CycleFigures:
    connections.close_all()  # each forked worker opens its own connection
    context = multiprocessing.get_context("fork")
    with context.Pool(WORKERS, initializer=_instrument_worker if by_step else None) as pool:
        started = time.perf_counter()
        tasks = list(pool.imap_unordered(_fetch_one, source_ids, chunksize=1))
        wall = time.perf_counter() - started
    return CycleFigures(wall, tasks)


def _ratio_rounds(ids: list[int], sizes: list[int], base: datetime, urls: list[str]) -> list[RatioRound]:
    """RATIO_ROUNDS times: a first cycle from the same empty state, then at once the bare steps over
    the same bytes and the floor over the same feeds (in a process of their own, idle while the cycle
    runs)."""
    rounds = []
    phrases = list(Keyword.objects.values_list("phrase", flat=True))
    database = connection_params(connection)
    connections.close_all()  # the process forked next opens connections of its own
    context = multiprocessing.get_context("fork")
    initargs = (sizes, SEED_BIG, base, phrases)
    with context.Pool(1, initializer=_build_bare_feeds, initargs=initargs) as bare:
        for _ in range(RATIO_ROUNDS):
            _forget_what_was_fetched()
            cycle = _run_cycle(ids, by_step=False)
            parse_cpu, clean_cpu, entries = bare.apply(_bare_cpu)
            floor = bare.apply(_floor_cpu, (urls, database))
            rounds.append(RatioRound(cycle, parse_cpu, clean_cpu, entries, floor))
    return rounds


def _use_bench_database() -> None:
    bench_database_use(BENCH_DATABASE, benchmark="curation")


def _commit_latency_ms() -> float:
    """How long one small committed write takes on this PostgreSQL (mostly the WAL flush to disk):
    every fetch commits at least once, so this bounds how fast a cycle can be here."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_commit_probe (id int PRIMARY KEY, n int)")
        cursor.execute("INSERT INTO bench_commit_probe VALUES (1, 0)")
        started = time.perf_counter()
        for number in range(COMMIT_PROBES):
            cursor.execute("UPDATE bench_commit_probe SET n = %s WHERE id = 1", [number])
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_commit_probe")
    return elapsed / COMMIT_PROBES * 1000


def _forget_what_was_fetched() -> None:
    """Back to the state before the first cycle: no items, no validators or body hashes."""
    with connection.cursor() as cursor:
        cursor.execute(f'TRUNCATE "{Item._meta.db_table}" RESTART IDENTITY CASCADE')
    Source.objects.update(etag="", last_modified="", body_hash="", next_fetch_at=datetime.now(UTC))


def _empty_curation_tables() -> None:
    tables = ", ".join(f'"{model._meta.db_table}"' for model in (Item, Source))
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def _create_sources(server: FeedServer) -> list[int]:
    return [
        source_create(name=f"Fuente {index}", url=server.url(info)).pk
        for index, info in enumerate(server.feeds)
    ]


_bare_feeds: list[Feed] = []
_floor_automaton: list = []


def _build_bare_feeds(sizes: list[int], seed: int, base: datetime, phrases: list[str]) -> None:
    """Initializer of the process that runs the bare steps and the floor: the bytes the server serves,
    built there, so the benchmark's own process (and the workers forked from it) never hold them."""
    _bare_feeds[:] = build_feeds(sizes, seed, base)
    _floor_automaton[:] = [keyword_automaton(phrases)]


def _bare_cpu() -> tuple[float, float, int]:
    return _baseline_cpu(_bare_feeds)


def _floor_cpu(urls: list[str], database: dict) -> Floor:
    return floor_cpu(urls, _floor_automaton[0], database)


def _baseline_cpu(feeds: list[Feed]) -> tuple[float, float, int]:
    """CPU seconds of bare fastfeedparser over the bodies, and of bare nh3 over every entry's HTML."""
    parse_cpu = clean_cpu = 0.0
    entries = 0
    for feed in feeds:
        started = time.process_time()
        parsed = fastfeedparser.parse(feed.body)
        parse_cpu += time.process_time() - started
        fragments = [_entry_html(entry) for entry in parsed.get("entries", [])]
        entries += len(fragments)
        started = time.process_time()
        for fragment in fragments:
            nh3.clean(fragment)
        clean_cpu += time.process_time() - started
    return parse_cpu, clean_cpu, entries


def _entry_html(entry) -> str:
    content = entry.get("content") or []
    if content and content[0].get("value"):
        return content[0]["value"]
    return entry.get("description") or entry.get("summary") or ""


def _round_figures(one: RatioRound) -> str:
    return f"{one.ratio:.2f}× ({one.cycle.cpu_seconds:.2f} / {one.parse_cpu + one.clean_cpu:.2f} s)"


def _verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"


def _time_rows(
    label: str, first: CycleFigures, unchanged: CycleFigures, targets: tuple[float, float]
) -> list:
    return [
        (
            f"{label}: first cycle",
            f"{first.wall_seconds:.2f} s",
            f"≤ {targets[0]:g} s",
            _verdict(first.wall_seconds, targets[0]),
        ),
        (f"{label}: first cycle did", first.summary()),
        (
            f"{label}: unchanged cycle",
            f"{unchanged.wall_seconds:.2f} s",
            f"≤ {targets[1]:g} s",
            _verdict(unchanged.wall_seconds, targets[1]),
        ),
        (f"{label}: unchanged cycle did", unchanged.summary()),
    ]


def run() -> list[tuple]:
    _use_bench_database()
    # The worker runs with DEBUG off; DEBUG's query log would add memory and CPU of its own.
    settings.DEBUG = False
    # Loopback is where the generated feeds live; never set outside tests and benchmarks.
    settings.SOCIALDESK_FETCH_ALLOW_PRIVATE = ["127.0.0.0/8"]
    base = datetime.now(UTC).replace(microsecond=0)
    rows: list[tuple] = [("PostgreSQL: one small committed write", f"{_commit_latency_ms():.2f} ms")]

    big_sizes = heavy_tail_sizes(BIG_SOURCES, BIG_TOTAL)
    with FeedServer(big_sizes, SEED_BIG, base) as server:
        served = sum(info.size for info in server.feeds)
        without = sum(1 for info in server.feeds if not info.has_validators)
        rows.append(
            (
                "200 sources: feeds served",
                f"{served / MB:.1f} MB, largest {max(i.size for i in server.feeds) / MB:.2f} MB, "
                f"{without} without ETag/Last-Modified",
            )
        )
        ids = _create_sources(server)
        big_by_step = _run_cycle(ids)
        rounds = _ratio_rounds(ids, big_sizes, base, [server.url(info) for info in server.feeds])
        big_unchanged = _run_cycle(ids, by_step=False)
    median = sorted(rounds, key=lambda one: one.ratio)[len(rounds) // 2]
    big_first = median.cycle
    rows += _time_rows("200 sources", big_first, big_unchanged, (TARGET_BIG_FIRST_S, TARGET_BIG_UNCHANGED_S))
    rows += [
        ("CPU: bare fastfeedparser parse (200 feeds)", f"{median.parse_cpu:.2f} s"),
        (f"CPU: bare nh3 sanitize ({median.entries} entries)", f"{median.clean_cpu:.2f} s"),
        ("CPU: pipeline, both workers, first 200-source cycle", f"{big_first.cpu_seconds:.2f} s"),
        ("CPU: a first cycle with a clock on each step", f"{big_by_step.cpu_seconds:.2f} s"),
        ("CPU: by step, clocked run", big_by_step.stages()),
        ("CPU: ratio in each round (pipeline / bare)", " · ".join(map(_round_figures, rounds))),
        (
            "CPU: pipeline ÷ (parse + sanitize), median round",
            f"{median.ratio:.2f}×",
            f"≤ {TARGET_CPU_RATIO:g}×",
            _verdict(median.ratio, TARGET_CPU_RATIO),
        ),
        (
            "CPU: floor, the unavoidable steps alone, each round",
            " · ".join(
                f"{one.floor.cpu_seconds:.2f} s = {one.floor_ratio:.2f}× bare "
                f"({one.floor.own_ratio:.2f}× its own parse + sanitize)"
                for one in rounds
            ),
        ),
        ("CPU: floor by step, median round", median.floor.by_step()),
    ]

    _empty_curation_tables()
    with FeedServer(median_sizes(MANY_SOURCES), SEED_MANY, base) as server:
        served = sum(info.size for info in server.feeds)
        rows.append(("1,000 sources: feeds served", f"{served / MB:.1f} MB"))
        ids = _create_sources(server)
        many_by_step = _run_cycle(ids)
        _forget_what_was_fetched()
        many_first = _run_cycle(ids, by_step=False)
        many_unchanged = _run_cycle(ids, by_step=False)
        many_unchanged_by_step = _run_cycle(ids)
    rows += _time_rows(
        "1,000 sources", many_first, many_unchanged, (TARGET_MANY_FIRST_S, TARGET_MANY_UNCHANGED_S)
    )
    rows += [
        ("CPU: pipeline, both workers, unchanged 200-source cycle", f"{big_unchanged.cpu_seconds:.2f} s"),
        ("CPU: pipeline, both workers, first 1,000-source cycle", f"{many_first.cpu_seconds:.2f} s"),
        ("CPU: the same 1,000-source cycle with a clock on each step", f"{many_by_step.cpu_seconds:.2f} s"),
        ("CPU: by step, clocked 1,000-source run", many_by_step.stages()),
        ("CPU: pipeline, both workers, unchanged 1,000-source cycle", f"{many_unchanged.cpu_seconds:.2f} s"),
        ("CPU: by step, clocked unchanged 1,000-source run", many_unchanged_by_step.stages()),
    ]
    rows += [
        (
            "memory: worker peak RSS, 1,000-source cycle",
            f"{many_first.peak_rss_mb:.0f} MB",
            f"≤ {TARGET_PEAK_MB:g} MB",
            _verdict(many_first.peak_rss_mb, TARGET_PEAK_MB),
        ),
        ("memory: both workers' peaks added", f"{many_first.peak_rss_sum_mb:.0f} MB"),
        ("memory: worker peak RSS, 200-source cycle (2.5 MB feeds)", f"{big_first.peak_rss_mb:.0f} MB"),
    ]
    for cycle in (
        big_by_step,
        *(one.cycle for one in rounds),
        big_unchanged,
        many_by_step,
        many_first,
        many_unchanged,
    ):
        for error in cycle.errors()[:5]:
            rows.append(("error seen", error))
    return rows
