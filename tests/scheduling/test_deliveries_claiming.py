"""Claiming due deliveries: enqueued only after commit, and never claimed twice by two dispatchers."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from networks.models import SandboxPost
from scheduling import tasks
from scheduling.dispatch import deliveries_claim_due
from scheduling.models import Delivery, DeliveryState


def test_the_dispatcher_enqueues_publishing_only_after_its_claim_commits(
    make_delivery, sandbox_account, django_capture_on_commit_callbacks
):
    deliveries = [make_delivery(f"Oferta {n}") for n in range(3)]

    with django_capture_on_commit_callbacks() as callbacks:
        assert tasks.dispatch_due_deliveries() == 3
    assert len(callbacks) == 3
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENDING}
    assert not SandboxPost.objects.exists()

    for callback in callbacks:
        callback()
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.PUBLISHED}
    assert SandboxPost.objects.count() == len(deliveries)


def test_the_whole_path_from_beat_task_to_the_network(make_delivery, django_capture_on_commit_callbacks):
    delivery = make_delivery()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.dispatch_due_deliveries.delay()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PUBLISHED


def _due(make_delivery, count):
    at = timezone.now() - timedelta(seconds=1)
    return [make_delivery(f"Oferta {n}", at=at) for n in range(count)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_delivery_locked_by_another_dispatcher_is_skipped_not_waited_for(make_delivery):
    locked, free = _due(make_delivery, 2)
    holding, release = threading.Event(), threading.Event()

    def other_dispatcher():
        try:
            with transaction.atomic():
                list(Delivery.objects.select_for_update().filter(pk=locked.pk))
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_dispatcher)
    thread.start()
    try:
        assert holding.wait(10)
        assert deliveries_claim_due(now=timezone.now(), limit=10) == [free.pk]
    finally:
        release.set()
        thread.join()
    assert deliveries_claim_due(now=timezone.now(), limit=10) == [locked.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_dispatchers_never_claim_the_same_delivery(make_delivery):
    due = {delivery.pk for delivery in _due(make_delivery, 300)}
    start = threading.Barrier(2)
    claimed: list[list[int]] = [[], []]
    errors = []

    def dispatcher(index):
        try:
            connection.ensure_connection()  # both start claiming at once, not one while the other connects
            start.wait(10)
            while batch := deliveries_claim_due(now=timezone.now(), limit=7):
                claimed[index].extend(batch)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    everything = claimed[0] + claimed[1]
    assert len(everything) == len(set(everything)), "a delivery was claimed twice"
    assert set(everything) == due
    assert claimed[0] and claimed[1], "both dispatchers should have claimed some"
