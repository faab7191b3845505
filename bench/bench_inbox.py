"""Inbox: the queue page, full-text search and Meta's webhook with three years of messages.

A million messages in 200,000 conversations (bench/inboxgen.py) are loaded into the bench's own
database, ``socialdesk_bench_inbox``, dropped and created on the PostgreSQL server of DATABASE_URL.
Then, with DEBUG off:

- the queue page (/inbox/, the needs-reply view, 50 rows) is asked for by a signed-in manager through
  Django's test client, in this process: p50/p95 over QUEUE_REQUESTS after a warm-up, and the number of
  queries with pages of 10 and of 50 rows (they must be equal);
- search: the same page with ?q= over SEARCHES (common and rare words, Spanish and Valencian, accents,
  a phrase, an exclusion), each asked SEARCH_ROUNDS times after one warm-up; the same words searched
  in every conversation (view=all) are shown beside it;
- webhook accept: gunicorn serves the desk (bench/inbox_server.py: the desk's URLs plus one trivial
  view) on loopback with META_APP_SECRET in its environment and its own var/ folder, so Celery's
  filesystem broker there holds what it enqueues. Signed deliveries are posted from a pool of threads,
  and their latency p95 is compared with the trivial view's under the same load;
- 5,000 deliveries, a tenth of them repeated (as Meta repeats a delivery it thinks failed), are posted as
  fast as a pool of POST_THREADS threads can; a real Celery worker processes them from that broker; then
  the messages stored are counted against the distinct messages sent.

Needs DATABASE_URL pointing at PostgreSQL (the load uses COPY; search uses its full-text search).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import inbox.selectors
from bench.database import bench_database_use
from bench.inboxgen import FULL_SCALE, PAGE_ID, inbox_generate
from inbox.models import Message
from lib.secretbox import development_key
from networks.models import Channel, Network, WebhookEvent
from socialdesk.models import Role, User

BENCH_DATABASE = "socialdesk_bench_inbox"
QUEUE_REQUESTS = 60
WARM_UP = 5
SEARCH_ROUNDS = 3
SEARCHES = [
    "cita",
    "cita previa",
    "curso",
    "paro",
    "prestación",
    "certificado",
    "formación",
    "soldadura",
    "València",
    "Morella",
    "apicultura",
    "ocupació",
    "termini",
    "sol·licitud",
    "queixa",
    '"demanda de empleo"',
    "curso -inglés",
]
APP_SECRET = "bench-meta-app-secret"  # noqa: S105 (the bench server is given this one)
SERVER_WORKERS = 3  # as docker-compose.yml runs gunicorn
CELERY_CONCURRENCY = 4  # as the Procfile runs the worker
ACCEPT_REQUESTS = 600
ACCEPT_THREADS = 4
COMMIT_PROBES = 100
EVENTS = 5000
DUPLICATE_SHARE = 0.10
POST_THREADS = 8
# The worker as the Procfile runs it, except that the filesystem broker is asked every 50 ms instead
# of every second (Redis, the production broker, hands a task over as soon as it is queued).
WORKER_SCRIPT = (
    "from socialdesk.celery import app; "
    "app.conf.broker_transport_options = {**app.conf.broker_transport_options, 'polling_interval': 0.05}; "
    f"app.worker_main(['worker', '--pool', 'threads', '--concurrency', '{CELERY_CONCURRENCY}', '--loglevel', 'WARNING'])"
)
PROCESS_DEADLINE_S = 600.0
# A Page that is no channel of the desk: the latency deliveries are stored and enqueued like any
# other, then acknowledged and ignored, so they add no message to count.
OTHER_PAGE_ID = "104857329999999"

TARGET_PAGE_P95_MS = 100.0
TARGET_SEARCH_P95_MS = 300.0
TARGET_ACCEPT_RATIO = 3.0


def _use_bench_database() -> None:
    bench_database_use(BENCH_DATABASE, benchmark="inbox")


def _vacuum_analyze() -> float:
    """What autovacuum would have done in three years: visibility map and statistics."""
    started = time.monotonic()
    parameters = connection.get_connection_params()
    with psycopg.connect(**parameters, autocommit=True) as session:
        session.execute("VACUUM (ANALYZE)")
    return time.monotonic() - started


def _percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def _verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "SLOW"


# --- In-process pages -------------------------------------------------------------------------------


def _manager_client(manager: User) -> Client:
    client = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(manager)
    return client


def _timed_get(client: Client, params: dict) -> float:
    started = time.perf_counter()
    response = client.get("/inbox/", params)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"/inbox/ {params} answered {response.status_code}")
    return elapsed


def _queries_and_rows(client: Client, page_size: int) -> tuple[int, int]:
    """Queries the queue page runs, and the rows it shows, with pages of `page_size` rows."""
    saved = inbox.selectors.QUEUE_PAGE_SIZE
    inbox.selectors.QUEUE_PAGE_SIZE = page_size
    try:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/inbox/")
    finally:
        inbox.selectors.QUEUE_PAGE_SIZE = saved
    return len(queries.captured_queries), response.content.decode().count("data-row>")


def _queue_rows(client: Client) -> list[tuple]:
    for _ in range(WARM_UP):
        _timed_get(client, {})
    times = [_timed_get(client, {}) for _ in range(QUEUE_REQUESTS)]
    queries_10, rows_10 = _queries_and_rows(client, 10)
    queries_50, rows_50 = _queries_and_rows(client, 50)
    p95 = _percentile(times, 0.95)
    return [
        (f"inbox page (needs reply, {rows_50} rows) p50", f"{statistics.median(times):.1f} ms"),
        (
            "inbox page p95",
            f"{p95:.1f} ms",
            f"≤ {TARGET_PAGE_P95_MS:.0f} ms",
            _verdict(p95, TARGET_PAGE_P95_MS),
        ),
        (
            f"queries: {rows_10} rows / {rows_50} rows",
            f"{queries_10} / {queries_50}",
            "equal",
            "ok" if queries_10 == queries_50 and (rows_10, rows_50) == (10, 50) else "FAIL",
        ),
    ]


def _search_times(client: Client, view: str) -> dict[str, list[float]]:
    times = {}
    for words in SEARCHES:
        params = {"view": view, "q": words}
        _timed_get(client, params)
        times[words] = [_timed_get(client, params) for _ in range(SEARCH_ROUNDS)]
    return times


def _search_rows(client: Client) -> list[tuple]:
    rows = []
    for view, label in (("needs_reply", "search (needs reply)"), ("all", "search (all conversations)")):
        times = _search_times(client, view)
        every = [elapsed for per_word in times.values() for elapsed in per_word]
        slowest = max(times, key=lambda words: max(times[words]))
        p95 = _percentile(every, 0.95)
        rows += [
            (f"{label} p50, {len(SEARCHES)} queries × {SEARCH_ROUNDS}", f"{statistics.median(every):.1f} ms"),
            (
                f"{label} p95",
                f"{p95:.1f} ms",
                f"≤ {TARGET_SEARCH_P95_MS:.0f} ms",
                _verdict(p95, TARGET_SEARCH_P95_MS),
            ),
            (f"{label} slowest words", f"{slowest} ({max(times[slowest]):.0f} ms)"),
        ]
    return rows


# --- The server -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    database = settings.DATABASES["default"]
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    return (
        f"postgres://{database.get('USER') or ''}{password}@{database.get('HOST') or '127.0.0.1'}:"
        f"{database.get('PORT') or 5432}/{BENCH_DATABASE}"
    )


def _server_environment(var_dir: Path) -> dict[str, str]:
    """Production settings on plain HTTP, the bench database, and a broker folder of its own."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="socialdesk.settings",
        DATABASE_URL=_database_url(),
        DEBUG="false",
        SECRET_KEY=settings.SECRET_KEY,
        SOCIALDESK_ENCRYPTION_KEYS=",".join(settings.SOCIALDESK_ENCRYPTION_KEYS),
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1",
        META_APP_SECRET=APP_SECRET,
        SOCIALDESK_VAR_DIR=str(var_dir),
    )
    for folder in ("broker/queue", "broker/control", "broker/processed", "cache"):
        (var_dir / folder).mkdir(parents=True, exist_ok=True)
    return environment


@contextmanager
def _process(command: list[str], environment: dict[str, str], log: Path):
    """A child process, ended (by its own id) when the block ends."""
    with open(log, "wb") as output:
        child = subprocess.Popen(
            command, env=environment, stdout=output, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR
        )
    try:
        yield child
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _wait_until_serving(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped: {log.read_text()[-2000:]}")
        try:
            status, _ = _request(port, "GET", "/bench/trivial/")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within a minute: {log.read_text()[-2000:]}")


def _request(
    port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None
) -> tuple[int, float]:
    """One request on a new connection (gunicorn's sync workers close each one); status and ms."""
    started = time.perf_counter()
    link = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        link.request(method, path, body=body or None, headers=headers or {})
        response = link.getresponse()
        response.read()
    finally:
        link.close()
    return response.status, (time.perf_counter() - started) * 1000


def _signed_headers(body: bytes) -> dict[str, str]:
    signature = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}


def _post_delivery(port: int, body: bytes) -> tuple[int, float]:
    return _request(port, "POST", "/webhooks/meta/", body, _signed_headers(body))


# --- Deliveries ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    body: bytes
    external_id: str


def _comment(page_id: str, number: int, rng: random.Random, at: int) -> Delivery:
    comment_id = f"bench{number:07d}_{rng.randrange(10**12):012d}"
    post_id = f"{page_id}_12215000000{rng.randrange(1000):04d}"
    top_level = rng.random() < 0.7
    value = {
        "from": {
            "id": f"87{rng.randrange(40_000):08d}",
            "name": rng.choice(["Lucía Moreno", "Vicent Puig", "Ana Soler"]),
        },
        "message": rng.choice(
            [
                "¿Cuándo se abre el plazo para el curso de soldadura?",
                "Necesito cita previa en la oficina de Torrent",
                "Encara no m'ha arribat el certificat",
                "Es urgente, no puedo renovar la demanda",
            ]
        ),
        "post_id": post_id,
        "comment_id": comment_id,
        "created_time": at,
        "item": "comment",
        "parent_id": post_id if top_level else f"{post_id.split('_')[1]}_9{rng.randrange(3000):06d}",
        "verb": "add",
    }
    payload = {
        "object": "page",
        "entry": [{"id": page_id, "time": at, "changes": [{"field": "feed", "value": value}]}],
    }
    return Delivery(json.dumps(payload, ensure_ascii=False).encode(), comment_id)


def _private_message(page_id: str, number: int, rng: random.Random, at: int) -> Delivery:
    mid = f"m_bench{number:07d}{rng.randrange(10**9):09d}"
    # A few hundred people, so several of their messages land in one conversation at once.
    sender = f"76{rng.randrange(600):014d}"
    event = {
        "sender": {"id": sender},
        "recipient": {"id": page_id},
        "timestamp": at * 1000 + number % 1000,
        "message": {"mid": mid, "text": rng.choice(["Hola, ¿me podéis ayudar?", "Bon dia, tinc un dubte"])},
    }
    payload = {"object": "page", "entry": [{"id": page_id, "time": at * 1000, "messaging": [event]}]}
    return Delivery(json.dumps(payload, ensure_ascii=False).encode(), mid)


def deliveries(page_id: str, count: int, *, duplicate_share: float, seed: int) -> list[Delivery]:
    """`count` deliveries in the order they are posted: distinct ones, and repeats of earlier ones
    (the same bytes) making up `duplicate_share` of them, some close behind their first."""
    rng = random.Random(seed)
    at = int(time.time())
    repeats = round(count * duplicate_share)
    distinct = [
        (_comment if rng.random() < 0.6 else _private_message)(page_id, number, rng, at - rng.randrange(600))
        for number in range(count - repeats)
    ]
    posted = list(distinct)
    for _ in range(repeats):
        original = rng.randrange(len(distinct))
        # Close behind the first (earlier inserts shift it a little): often while it is processed.
        posted.insert(min(original + rng.randrange(1, 40), len(posted)), distinct[original])
    return posted


def _post_all(port: int, batch: list[Delivery], threads: int) -> list[tuple[int, float]]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda delivery: _post_delivery(port, delivery.body), batch))


def _timed_mix(port: int, latency_batch: list[Delivery]) -> tuple[list[float], list[float]]:
    """Trivial GETs and signed deliveries interleaved in one pool: both meet the same load."""
    work = [("trivial", None)] * len(latency_batch) + [("webhook", delivery) for delivery in latency_batch]
    random.Random(5).shuffle(work)

    def one(item: tuple[str, Delivery | None]) -> tuple[str, int, float]:
        kind, delivery = item
        if delivery is None:
            return (kind, *_request(port, "GET", "/bench/trivial/"))
        return (kind, *_post_delivery(port, delivery.body))

    with ThreadPoolExecutor(ACCEPT_THREADS) as pool:
        results = list(pool.map(one, work))
    refused = sum(1 for _, status, _ in results if status != 200)
    if refused:
        raise RuntimeError(f"{refused} requests were not answered 200")
    return [ms for kind, _, ms in results if kind == "trivial"], [
        ms for kind, _, ms in results if kind == "webhook"
    ]


def _commit_latency_ms() -> float:
    """One small committed write on this PostgreSQL (mostly the WAL flush to disk): the least a
    delivery that is stored before the 200 can cost, and nothing a trivial view pays."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_commit_probe (id int PRIMARY KEY, n int)")
        cursor.execute("INSERT INTO bench_commit_probe VALUES (1, 0)")
        started = time.perf_counter()
        for number in range(COMMIT_PROBES):
            cursor.execute("UPDATE bench_commit_probe SET n = %s WHERE id = 1", [number])
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_commit_probe")
    return elapsed / COMMIT_PROBES * 1000


def _accept_rows(port: int) -> list[tuple]:
    _timed_mix(port, deliveries(OTHER_PAGE_ID, 50, duplicate_share=0, seed=6))  # warm-up
    trivial, accepted = _timed_mix(
        port, deliveries(OTHER_PAGE_ID, ACCEPT_REQUESTS, duplicate_share=0, seed=7)
    )
    trivial_p95, accept_p95 = _percentile(trivial, 0.95), _percentile(accepted, 0.95)
    ratio = accept_p95 / trivial_p95
    return [
        ("PostgreSQL: one small committed write", f"{_commit_latency_ms():.2f} ms"),
        (
            f"trivial view p50 / p95 ({ACCEPT_THREADS} clients, {SERVER_WORKERS} gunicorn workers)",
            f"{statistics.median(trivial):.1f} / {trivial_p95:.1f} ms",
        ),
        (
            "webhook accept p50 / p95 (signed, stored, enqueued), interleaved",
            f"{statistics.median(accepted):.1f} / {accept_p95:.1f} ms",
        ),
        (
            "webhook accept p95 ÷ trivial p95",
            f"{ratio:.2f}×",
            f"≤ {TARGET_ACCEPT_RATIO:g}×",
            _verdict(ratio, TARGET_ACCEPT_RATIO),
        ),
    ]


def _wait_until_processed(stored_before: int, expected_events: int, worker: subprocess.Popen) -> float:
    started = time.monotonic()
    while time.monotonic() - started < PROCESS_DEADLINE_S and worker.poll() is None:
        events = WebhookEvent.objects.all()
        if (
            events.count() - stored_before >= expected_events
            and not events.filter(processed_at=None).exists()
        ):
            break
        time.sleep(0.5)
    return time.monotonic() - started


def _burst_rows(port: int, environment: dict[str, str], var_dir: Path) -> list[tuple]:
    page = Channel.objects.get(network=Network.FACEBOOK, account_id=PAGE_ID)
    batch = deliveries(PAGE_ID, EVENTS, duplicate_share=DUPLICATE_SHARE, seed=11)
    expected = {delivery.external_id for delivery in batch}
    messages_before = Message.objects.filter(channel=page).count()
    stored_before = WebhookEvent.objects.count()
    worker_command = [sys.executable, "-c", WORKER_SCRIPT]
    with _process(worker_command, environment, var_dir / "worker.log") as worker:
        started = time.perf_counter()
        answers = _post_all(port, batch, POST_THREADS)
        posting = time.perf_counter() - started
        processing = _wait_until_processed(stored_before, len(batch), worker)
    refused = sum(1 for status, _ in answers if status != 200)
    unprocessed = WebhookEvent.objects.filter(processed_at=None).count()
    stored = Message.objects.filter(channel=page, external_id__in=expected).count()
    created = Message.objects.filter(channel=page).count() - messages_before
    duplicates, lost = created - stored, len(expected) - stored
    return [
        (
            f"{len(batch)} deliveries ({len(batch) - len(expected)} repeated) posted by {POST_THREADS} threads",
            f"{posting:.1f} s ({len(batch) / posting:.0f}/s)",
        ),
        ("answers other than 200", refused, 0, "ok" if refused == 0 else "FAIL"),
        ("processed by a Celery worker after the last post", f"{processing:.1f} s"),
        ("deliveries not processed at the deadline", unprocessed, 0, "ok" if unprocessed == 0 else "FAIL"),
        (
            "messages expected / stored",
            f"{len(expected)} / {stored}",
            "equal",
            "ok" if stored == len(expected) else "FAIL",
        ),
        ("duplicate messages", duplicates, 0, "ok" if duplicates == 0 else "FAIL"),
        ("lost messages", lost, 0, "ok" if lost == 0 else "FAIL"),
    ]


def _webhook_rows() -> list[tuple]:
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="bench-inbox-") as folder:
        var_dir = Path(folder)
        environment = _server_environment(var_dir)
        server_command = [
            sys.executable,
            "-m",
            "gunicorn",
            "bench.inbox_server:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(SERVER_WORKERS),
            "--log-level",
            "warning",
        ]
        connections.close_all()
        with _process(server_command, environment, var_dir / "gunicorn.log") as server:
            _wait_until_serving(port, server, var_dir / "gunicorn.log")
            return _accept_rows(port) + _burst_rows(port, environment, var_dir)


# --- The run --------------------------------------------------------------------------------------------


def run() -> list[tuple]:
    _use_bench_database()
    if not settings.SOCIALDESK_ENCRYPTION_KEYS:
        # The development key DEBUG would derive, kept once DEBUG goes off for the measurement.
        settings.SOCIALDESK_ENCRYPTION_KEYS = [development_key(settings.SECRET_KEY)]
    manager = User.objects.create_user(username="bench-manager", role=Role.MANAGER, first_name="Marta")
    loaded = inbox_generate(scale=FULL_SCALE, now=timezone.now(), assignee_id=manager.pk)
    vacuumed = _vacuum_analyze()
    settings.DEBUG = False
    rows: list[tuple] = [
        (
            "generated",
            f"{loaded.messages:,} messages, {loaded.conversations:,} conversations, "
            f"{loaded.contacts:,} contacts ({loaded.identities:,} identities), {loaded.needs_reply:,} need a reply",
        ),
        ("load time (COPY and indexes)", f"{loaded.seconds:.1f} s", "< 180 s", _verdict(loaded.seconds, 180)),
        ("VACUUM ANALYZE after the load", f"{vacuumed:.1f} s"),
    ]
    client = _manager_client(manager)
    rows += _queue_rows(client)
    rows += _search_rows(client)
    rows += _webhook_rows()
    return rows
