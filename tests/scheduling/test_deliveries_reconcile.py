"""The `unknown` path: nothing is published again before the network has been looked at."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from networks.models import SandboxFailure, SandboxPost, SandboxPostKind
from scheduling.dispatch import (
    RECONCILE_GIVE_UP,
    RECONCILE_INTERVAL,
    SENDING_TIMEOUT,
    deliveries_claim_due,
    deliveries_claim_unknown,
    deliveries_recover_stalled,
    delivery_publish,
    delivery_reconcile,
)
from scheduling.models import DeliveryState, HeldReason


def timed_out(make_delivery, text="Hoy hay feria de empleo [sandbox:timeout]"):
    delivery = make_delivery(text)
    deliveries_claim_due(now=timezone.now(), limit=10)
    delivery_publish(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.UNKNOWN
    return delivery


def test_reconcile_finds_the_post_and_marks_it_published_without_sending_again(
    make_delivery, sandbox_account
):
    delivery = timed_out(make_delivery)
    delivery_reconcile(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    post = SandboxPost.objects.get(account=sandbox_account)
    assert delivery.state == DeliveryState.PUBLISHED
    assert (delivery.external_id, delivery.url) == (post.external_id, post.url)


def test_a_post_another_delivery_already_owns_is_not_taken(make_delivery, sandbox_account):
    delivery = timed_out(make_delivery)
    make_delivery(
        "Hoy hay feria de empleo",
        state=DeliveryState.PUBLISHED,
        external_id=SandboxPost.objects.get().external_id,
    )

    delivery_reconcile(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.UNKNOWN


def test_a_reply_of_the_account_quoting_the_text_is_not_taken_for_the_post(make_delivery, sandbox_account):
    delivery = timed_out(make_delivery)
    real = SandboxPost.objects.get()
    real.delete()  # the network never kept the post; the account replied to someone quoting it
    SandboxPost.objects.create(
        account=sandbox_account,
        external_id="sb-reply-1",
        kind=SandboxPostKind.REPLY,
        text="Hoy hay feria de empleo [sandbox:timeout]",
        in_reply_to="sb-citizen-1",
    )

    delivery_reconcile(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.state, delivery.external_id) == (DeliveryState.UNKNOWN, "")


def test_not_found_it_is_looked_for_again_and_then_held_for_the_manager(make_delivery, sandbox_account):
    delivery = timed_out(make_delivery)
    SandboxPost.objects.all().delete()  # the network never kept it

    delivery_reconcile(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.UNKNOWN

    with time_machine.travel(timezone.now() + RECONCILE_GIVE_UP):
        delivery_reconcile(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.held_reason) == (DeliveryState.HELD, HeldReason.UNCONFIRMED)
    assert delivery.last_error
    assert not SandboxPost.objects.exists()


def test_a_network_that_cannot_answer_now_is_asked_again_later(make_delivery, sandbox_account):
    delivery = timed_out(make_delivery)
    sandbox_account.failure = SandboxFailure.TRANSIENT
    sandbox_account.save()

    delivery_reconcile(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.UNKNOWN


def test_unknown_deliveries_are_claimed_once_per_interval(make_delivery):
    delivery = timed_out(make_delivery)
    later = timezone.now() + RECONCILE_INTERVAL
    assert deliveries_claim_unknown(now=later, limit=10) == [delivery.pk]
    assert deliveries_claim_unknown(now=later, limit=10) == []


def test_a_claim_lost_before_the_call_is_due_again_and_one_lost_during_it_is_reconciled(
    make_delivery, sandbox_account
):
    never_sent = make_delivery("Uno")
    maybe_sent = make_delivery("Dos")
    deliveries_claim_due(now=timezone.now(), limit=10)
    maybe_sent.sent_at = timezone.now()
    maybe_sent.save(update_fields=["sent_at"])

    assert deliveries_recover_stalled(now=timezone.now()) == 0
    assert deliveries_recover_stalled(now=timezone.now() + SENDING_TIMEOUT + timedelta(seconds=1)) == 2

    never_sent.refresh_from_db()
    maybe_sent.refresh_from_db()
    assert never_sent.state == DeliveryState.SCHEDULED
    assert maybe_sent.state == DeliveryState.UNKNOWN
    assert not SandboxPost.objects.exists()
