"""Publishing: 10,000 deliveries due within the same minute on the sandbox network, two workers.

It runs what beat and the workers run, with a multiprocessing queue standing in for the broker:
this process is beat, calling the dispatcher's claim (``deliveries_claim_due``, the body of the
``dispatch_due_deliveries`` task) every DISPATCH_DELIVERIES_SECONDS and putting the claimed ids on
the queue after its transaction commits; the workers take ids and run what the ``publish_delivery``
task runs (``delivery_publish``: the conditional start, the sandbox connector, the published mark).

Each of the two workers is what ``celery worker`` starts by default: a prefork pool of as many
processes as the machine has CPUs (WORKER_PROCESSES), all taking from the one queue one task at a
time (the settings' prefetch multiplier is 1). On this two-CPU machine that is four processes.

Echoes: the bench channel's echo rule is off (``EchoRule(is_enabled=False)``, the setting a
manager changes on the echo rules page), so the dispatcher's echo hook decides in-process, from the
rule loaded with the delivery, that there is nothing to plan and queues no ``plan_echoes`` task.
The bench counts every task message the workers send (Celery's ``before_task_publish`` signal) and
expects none; the workers' Celery app uses the in-memory transport so that a regression shows up
as that count, not as thousands of stray tasks in a developer's queue.

Needs DATABASE_URL pointing at PostgreSQL. The bench drops and creates its own database,
``socialdesk_bench_publishing``, on that server and migrates it; nothing else is touched.

Figures: time until the last delivery was published, lateness (published_at − scheduled_at) p50
and p99, duplicates (posts on the network beyond one per delivery) and lost deliveries (not
published when the bench stops, DEADLINE_SECONDS after the last one came due: on a machine too
busy to keep up these are late, not lost — the dispatcher would publish or hold them later).
Wall-clock figures depend on what else runs on the machine: the header prints the load average.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import statistics
import time
from datetime import timedelta
from queue import Empty

from celery.signals import before_task_publish
from django.conf import settings
from django.db import connections, transaction
from django.db.models import Count
from django.utils import timezone

from bench.database import bench_database_use
from lib.secretbox import development_key
from networks.models import Network, SandboxPost
from networks.sandbox import sandbox_account_open
from networks.services import channel_connect
from scheduling.dispatch import deliveries_claim_due, delivery_publish
from scheduling.models import Delivery, DeliveryState, EchoRule, Post
from scheduling.tasks import DISPATCH_BATCH
from socialdesk.beat import DISPATCH_DELIVERIES_SECONDS
from socialdesk.celery import app as celery_app

BENCH_DATABASE = "socialdesk_bench_publishing"
WORKERS = 2
# Celery's default --concurrency: one prefork process per CPU.
WORKER_PROCESSES = os.cpu_count() or 1
DELIVERIES = 10_000
SPREAD = timedelta(seconds=60)  # all due within the same minute
LEAD = timedelta(seconds=5)  # the first one comes due this long after setup
DEADLINE_SECONDS = 120.0
TARGET_ALL_PUBLISHED_S = 60.0
TARGET_LATENESS_S = 15.0


def _use_bench_database() -> None:
    bench_database_use(BENCH_DATABASE, benchmark="publishing")


def _schedule_deliveries():
    account, credentials = sandbox_account_open(handle="bench", display_name="Bench")
    channel = channel_connect(
        network=Network.SANDBOX,
        account_id=account.account_id,
        display_name="Bench",
        handle="bench",
        credentials=credentials,
    )
    EchoRule.objects.create(channel=channel, is_enabled=False)
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


def _worker(queue, stop, tasks_sent) -> None:
    connections.close_all()  # never share the parent's connection

    def count_task(**kwargs) -> None:
        with tasks_sent.get_lock():
            tasks_sent.value += 1

    before_task_publish.connect(count_task, weak=False)
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


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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
    queue, stop, tasks_sent = context.Queue(), context.Event(), context.Value("i", 0)
    broker_url, celery_app.conf.broker_url = celery_app.conf.broker_url, "memory://"
    workers = [
        context.Process(target=_worker, args=(queue, stop, tasks_sent))
        for _ in range(WORKERS * WORKER_PROCESSES)
    ]
    cpu_before = _children_cpu_seconds()
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
        celery_app.conf.broker_url = broker_url
    worker_cpu = _children_cpu_seconds() - cpu_before

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
        ("worker processes", f"{WORKERS} workers × {WORKER_PROCESSES}"),
        ("dispatch tick", f"{DISPATCH_DELIVERIES_SECONDS:g} s"),
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
        # What one publication costs the workers, whatever else the machine was doing meanwhile.
        ("worker CPU per publication", f"{worker_cpu / max(len(published), 1) * 1000:.1f} ms"),
        ("posts on the network", SandboxPost.objects.count(), DELIVERIES),
        ("duplicates", duplicates, 0, "ok" if duplicates == 0 else "FAIL"),
        ("not published at the deadline (late or lost)", lost, 0, "ok" if lost == 0 else "FAIL"),
        (
            "tasks queued by publishing (echo planning)",
            tasks_sent.value,
            0,
            "ok" if tasks_sent.value == 0 else "FAIL",
        ),
    ]
