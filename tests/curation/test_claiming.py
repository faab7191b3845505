"""Claiming due sources: atomic, at most two per host in flight, fan-out after commit."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from curation import tasks
from curation.models import Source
from curation.services import CLAIM_LEASE, HOST_CONCURRENCY, source_fetch, sources_claim, sources_dispatch_due


def _due(make_source, count: int, host: str = "feeds.example.org", **fields) -> list[Source]:
    sources = [make_source(f"https://{host}/feed/{n}", **fields) for n in range(count)]
    Source.objects.filter(pk__in=[s.pk for s in sources]).update(
        next_fetch_at=timezone.now() - timedelta(minutes=1)
    )
    return sources


def test_due_sources_are_claimed_once(make_source):
    due = _due(make_source, 1, "a.example.org") + _due(make_source, 1, "b.example.org")
    later = make_source("https://c.example.org/rss")
    Source.objects.filter(pk=later.pk).update(next_fetch_at=timezone.now() + timedelta(minutes=30))
    muted = _due(make_source, 1, "d.example.org", muted=True)[0]

    claimed = sources_claim()

    assert claimed == sorted(s.pk for s in due)
    assert later.pk not in claimed and muted.pk not in claimed
    assert all(s.claimed_until is not None for s in Source.objects.filter(pk__in=claimed))
    assert sources_claim() == []  # in flight: nobody claims them again


def test_at_most_two_fetches_per_host_are_in_flight(make_source):
    same_host = _due(make_source, 5, "dogv.gva.es")
    other = _due(make_source, 1, "www.sepe.es")

    first_round = sources_claim()
    assert len([pk for pk in first_round if pk in {s.pk for s in same_host}]) == HOST_CONCURRENCY
    assert other[0].pk in first_round
    assert sources_claim() == []  # the host is busy with two fetches

    finished = Source.objects.get(pk=first_round[0])
    Source.objects.filter(pk=finished.pk).update(
        claimed_until=None, next_fetch_at=timezone.now() + timedelta(hours=1)
    )
    assert len(sources_claim()) == 1


def test_a_claim_left_by_a_dead_worker_expires(make_source):
    source = _due(make_source, 1)[0]
    now = timezone.now()
    assert sources_claim(now=now) == [source.pk]
    assert sources_claim(now=now + CLAIM_LEASE - timedelta(seconds=1)) == []
    assert sources_claim(now=now + CLAIM_LEASE + timedelta(seconds=1)) == [source.pk]


def test_the_batch_limit_leaves_the_rest_for_the_next_tick(make_source):
    for n in range(5):
        _due(make_source, 1, f"h{n}.example.org")
    assert len(sources_claim(limit=3)) == 3
    assert len(sources_claim(limit=3)) == 2


def test_dispatch_queues_one_fetch_per_source_only_after_commit(
    make_source, monkeypatch, django_capture_on_commit_callbacks
):
    sources = _due(make_source, 1, "a.example.org") + _due(make_source, 1, "b.example.org")
    queued = []
    monkeypatch.setattr(tasks.fetch_source, "delay", queued.append)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        claimed = sources_dispatch_due()
    assert queued == []
    for callback in callbacks:
        callback()

    assert sorted(queued) == sorted(claimed) == sorted(s.pk for s in sources)


def test_the_beat_task_and_the_fetch_task_run_the_pipeline(
    feed_server, make_source, allow_loopback, django_capture_on_commit_callbacks
):
    from tests.curation.conftest import rss, rss_item

    url = feed_server.serve("/rss", rss(rss_item("g", "Oferta de empleo", "https://e.org/g")))
    source = make_source(url)
    Source.objects.filter(pk=source.pk).update(next_fetch_at=timezone.now() - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.fetch_due_sources.delay().get() == 1

    source.refresh_from_db()
    assert source.items.count() == 1
    assert source.claimed_until is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_source_locked_by_another_claimer_is_skipped_not_waited_for(make_source):
    locked, free = _due(make_source, 1, "a.example.org")[0], _due(make_source, 1, "b.example.org")[0]
    holding, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                list(Source.objects.select_for_update().filter(pk=locked.pk))
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert holding.wait(10)
        assert sources_claim() == [free.pk]
    finally:
        release.set()
        thread.join()
    assert sources_claim() == [locked.pk]


def test_fetching_releases_the_claim_even_on_error(make_source, allow_loopback):
    source = _due(make_source, 1, "127.0.0.1")[0]
    Source.objects.filter(pk=source.pk).update(url="http://127.0.0.1:9/feed")  # nothing listens there
    source.refresh_from_db()
    sources_claim()

    report = source_fetch(source=source)

    source.refresh_from_db()
    assert report.error_kind in {"connection", "timeout"}
    assert source.claimed_until is None
