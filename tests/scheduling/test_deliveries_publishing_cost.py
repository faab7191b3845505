"""What one publication costs the desk's database, the echo hook deciding without a query, and two
runs of the same publishing task at once still publishing once."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from networks.models import SandboxPost
from scheduling.dispatch import deliveries_claim_due, delivery_publish
from scheduling.models import Delivery, DeliveryState, EchoRule, Post, PostOrigin


def _claimed(make_delivery, text="Ofertas de empleo de esta semana", **fields):
    delivery = make_delivery(text, **fields)
    assert deliveries_claim_due(now=timezone.now(), limit=10) == [delivery.pk]
    return delivery


def test_a_publication_reads_and_writes_the_delivery_in_three_statements(make_delivery, sandbox_account):
    delivery = _claimed(make_delivery)

    with CaptureQueriesContext(connection) as queries:
        delivery_publish(delivery_id=delivery.pk)

    ours = [query["sql"] for query in queries if "scheduling_" in query["sql"]]
    # Start (the pause and the channel checked in the same UPDATE), load with channel, post and
    # echo rule, then the published mark: no lock, no separate pause or echo-rule query.
    assert [sql.split()[0] for sql in ours] == ["UPDATE", "SELECT", "UPDATE"]
    assert "scheduling_publishingpause" in ours[0]
    assert "scheduling_echorule" in ours[1]
    assert not any("FOR UPDATE" in sql for sql in ours)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.PUBLISHED, 1)
    assert SandboxPost.objects.filter(account=sandbox_account).count() == 1


def test_a_channel_whose_echoes_are_off_queues_no_planning(
    make_delivery, sandbox_channel, django_capture_on_commit_callbacks
):
    EchoRule.objects.create(channel=sandbox_channel, is_enabled=False)
    delivery = _claimed(make_delivery)

    with django_capture_on_commit_callbacks() as callbacks:
        delivery_publish(delivery_id=delivery.pk)

    assert callbacks == []
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PUBLISHED


@pytest.mark.parametrize(
    "rule, origin, is_echo, queued",
    [
        (None, PostOrigin.DESK, False, 1),  # no rule saved: the defaults echo
        ({"is_enabled": True, "echoes_per_post": 0}, PostOrigin.DESK, False, 0),
        (None, PostOrigin.NETWORK, False, 0),
        (None, PostOrigin.DESK, True, 0),
    ],
)
def test_planning_is_queued_only_when_the_echoes_could_be_planned(
    make_delivery, sandbox_channel, post, django_capture_on_commit_callbacks, rule, origin, is_echo, queued
):
    if rule is not None:
        EchoRule.objects.create(channel=sandbox_channel, **rule)
    Post.objects.filter(pk=post.pk).update(origin=origin)
    delivery = _claimed(make_delivery, is_echo=is_echo)

    with django_capture_on_commit_callbacks() as callbacks:
        delivery_publish(delivery_id=delivery.pk)

    assert len(callbacks) == queued
    assert Delivery.objects.get(pk=delivery.pk).state == DeliveryState.PUBLISHED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_of_the_same_publishing_task_at_once_publish_it_once(make_delivery, sandbox_account):
    """A redelivered task can run while the first is still running: both start together, many times."""
    deliveries = [_claimed(make_delivery, f"Oferta {n}") for n in range(20)]
    errors = []

    def run(delivery_id, start):
        try:
            start.wait(10)
            delivery_publish(delivery_id=delivery_id)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    for delivery in deliveries:
        start = threading.Barrier(2)
        threads = [threading.Thread(target=run, args=(delivery.pk, start)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    assert SandboxPost.objects.filter(account=sandbox_account).count() == len(deliveries)
    assert set(Delivery.objects.values_list("state", "attempts")) == {(DeliveryState.PUBLISHED, 1)}
