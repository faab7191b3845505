"""Publishing: 10,000 deliveries due within the same minute on the sandbox network, two workers.

It runs what beat and the workers run, with a multiprocessing queue standing in for the broker:
this process is beat, calling the dispatcher's claim (``deliveries_claim_due``, the body of the
``dispatch_due_deliveries`` task) every DISPATCH_DELIVERIES_SECONDS and putting the claimed ids on
the queue after its transaction commits; two worker processes take ids and run what the
``publish_delivery`` task runs (``delivery_publish``), which calls the sandbox connector.

Needs DATABASE_URL pointing at PostgreSQL. The bench drops and creates its own database,
``socialdesk_bench_publishing``, on that server and migrates it; nothing else is touched.

Figures: time until the last delivery was published, lateness (published_at − scheduled_at) p50
and p99, duplicates (posts on the network beyond one per delivery) and lost deliveries (not
published when the bench stops, DEADLINE_SECONDS after the last one came due: on a machine too
busy to keep up these are late, not lost — the dispatcher would publish or hold them later).
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from datetime import timedelta
from queue import Empty

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.models import Count
from django.utils import timezone

from bench import BenchUnavailable
from lib.secretbox import development_key
from networks.models import Network, SandboxPost
from networks.sandbox import sandbox_account_open
from networks.services import channel_connect
from scheduling.dispatch import deliveries_claim_due, delivery_publish
from scheduling.models import Delivery, DeliveryState, Post
from scheduling.tasks import DISPATCH_BATCH
from socialdesk.beat import DISPATCH_DELIVERIES_SECONDS

BENCH_DATABASE = "socialdesk_bench_publishing"
WORKERS = 2
DELIVERIES = 10_000
SPREAD = timedelta(seconds=60)  # all due within the same minute
LEAD = timedelta(seconds=5)  # the first one comes due this long after setup
DEADLINE_SECONDS = 120.0
TARGET_ALL_PUBLISHED_S = 60.0
TARGET_LATENESS_S = 15.0


def _use_bench_database() -> None:
    if connection.vendor != "postgresql":
        raise BenchUnavailable(
            "the publishing benchmark needs PostgreSQL: set DATABASE_URL=postgres://USER@HOST:5432/DB "
            f"(it creates and uses its own database {BENCH_DATABASE!r} on that server)"
        )
    parameters = connection.get_connection_params()
    parameters["dbname"] = "postgres"
    with psycopg.connect(**parameters, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    connections.close_all()
    settings.DATABASES["default"]["NAME"] = BENCH_DATABASE
    connections["default"].settings_dict["NAME"] = BENCH_DATABASE
    call_command("migrate", verbosity=0, interactive=False)


def _schedule_deliveries():
    account, credentials = sandbox_account_open(handle="bench", display_name="Bench")
    channel = channel_connect(
        network=Network.SANDBOX,
        account_id=account.account_id,
        display_name="Bench",
        handle="bench",
        credentials=credentials,
    )
    post = Post.objects.create(text="Bench")
    first = timezone.now() + LEAD
    step = SPREAD / DELIVERIES
    Delivery.objects.bulk_create(
        [
            # Every text differs: the sandbox, like X, refuses the same text twice in a day.
            Delivery(post=post, channel=channel, text=f"Oferta {n}", scheduled_at=at, due_at=at)
            for n in range(DELIVERIES)
            for at in [first + step * n]
        ],
        batch_size=2000,
    )
    return first, first + SPREAD


def _worker(queue, stop) -> None:
    connections.close_all()  # never share the parent's connection
    while not stop.is_set():
        try:
            delivery_id = queue.get(timeout=0.5)
        except Empty:
            continue
        delivery_publish(delivery_id=delivery_id)
    connections.close_all()


def _beat(queue, *, until: float) -> None:
    while time.monotonic() < until:
        tick = time.monotonic()
        with transaction.atomic():
            claimed = deliveries_claim_due(now=timezone.now(), limit=DISPATCH_BATCH)
            transaction.on_commit(lambda ids=claimed: [queue.put(delivery_id) for delivery_id in ids])
        if not Delivery.objects.exclude(state=DeliveryState.PUBLISHED).exists():
            return
        time.sleep(max(0.0, DISPATCH_DELIVERIES_SECONDS - (time.monotonic() - tick)))


def _percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def run() -> list[tuple]:
    _use_bench_database()
    if not settings.SOCIALDESK_ENCRYPTION_KEYS:
        # The development key DEBUG would derive, kept once DEBUG goes off for the measurement.
        settings.SOCIALDESK_ENCRYPTION_KEYS = [development_key(settings.SECRET_KEY)]
    settings.DEBUG = False  # the workers run without DEBUG's query log
    first_due, last_due = _schedule_deliveries()
    connections.close_all()
    context = multiprocessing.get_context("fork")
    queue, stop = context.Queue(), context.Event()
    workers = [context.Process(target=_worker, args=(queue, stop)) for _ in range(WORKERS)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + (last_due - timezone.now()).total_seconds() + DEADLINE_SECONDS
    try:
        _beat(queue, until=deadline)
    finally:
        # What is still queued at the deadline stays unpublished and is counted as lost.
        stop.set()
        for worker in workers:
            worker.join()

    published = list(
        Delivery.objects.filter(state=DeliveryState.PUBLISHED).values_list("scheduled_at", "published_at")
    )
    lateness = [(done - due).total_seconds() for due, done in published] or [float("nan")]
    last_published = max((done for _, done in published), default=None)
    all_out = (last_published - first_due).total_seconds() if last_published else float("nan")
    duplicates = sum(
        row["copies"] - 1
        for row in SandboxPost.objects.values("text").annotate(copies=Count("id")).filter(copies__gt=1)
    )
    lost = DELIVERIES - len(published)
    p50, p99 = _percentile(lateness, 0.5), _percentile(lateness, 0.99)
    return [
        ("deliveries due within one minute", DELIVERIES),
        ("from the first due to the last published", f"{all_out:.1f} s"),
        (
            "lateness p50",
            f"{p50:.1f} s",
            f"≤ {TARGET_LATENESS_S:.0f} s",
            "ok" if p50 <= TARGET_LATENESS_S else "SLOW",
        ),
        (
            "lateness p99",
            f"{p99:.1f} s",
            f"≤ {TARGET_LATENESS_S:.0f} s",
            "ok" if p99 <= TARGET_LATENESS_S else "SLOW",
        ),
        (
            "max lateness",
            f"{max(lateness):.1f} s",
            f"≤ {TARGET_ALL_PUBLISHED_S:.0f} s",
            "ok" if max(lateness) <= TARGET_ALL_PUBLISHED_S else "SLOW",
        ),
        ("posts on the network", SandboxPost.objects.count(), DELIVERIES),
        ("duplicates", duplicates, 0, "ok" if duplicates == 0 else "FAIL"),
        ("not published at the deadline (late or lost)", lost, 0, "ok" if lost == 0 else "FAIL"),
    ]
