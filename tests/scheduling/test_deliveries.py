"""One delivery through the network: each outcome the sandbox can produce, and the rules around
the call (lateness, channel state, a task run twice)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django.utils.translation import gettext

from networks.models import ChannelStatus, SandboxPost
from scheduling.dispatch import (
    MAX_ATTEMPTS,
    RECONCILE_INTERVAL,
    SENDING_TIMEOUT,
    deliveries_claim_due,
    delivery_publish,
)
from scheduling.models import DeliveryState, HeldReason


def claim_and_publish(delivery):
    assert deliveries_claim_due(now=timezone.now(), limit=10) == [delivery.pk]
    delivery_publish(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


def test_a_due_delivery_is_published_once_with_its_network_id_and_url(make_delivery, sandbox_account):
    delivery = claim_and_publish(make_delivery())

    post = SandboxPost.objects.get(account=sandbox_account)
    assert delivery.state == DeliveryState.PUBLISHED
    assert (delivery.external_id, delivery.url) == (post.external_id, post.url)
    assert post.text == "Ofertas de empleo de esta semana https://example.org/ofertas"
    assert delivery.attempts == 1
    assert delivery.published_at is not None


def test_running_the_task_again_after_it_published_changes_nothing(make_delivery, sandbox_account):
    delivery = claim_and_publish(make_delivery())
    delivery_publish(delivery_id=delivery.pk)
    assert SandboxPost.objects.filter(account=sandbox_account).count() == 1


def test_a_future_delivery_is_not_claimed(make_delivery):
    make_delivery(at=timezone.now() + timedelta(minutes=1))
    assert deliveries_claim_due(now=timezone.now(), limit=10) == []


def test_claiming_moves_rows_to_sending_oldest_first_up_to_the_limit(make_delivery):
    now = timezone.now()
    late = make_delivery("b", at=now - timedelta(seconds=10))
    later = make_delivery("c", at=now - timedelta(seconds=5))
    make_delivery("d", at=now - timedelta(seconds=1))

    assert deliveries_claim_due(now=now, limit=2) == [late.pk, later.pk]
    late.refresh_from_db()
    assert (late.state, late.claimed_at) == (DeliveryState.SENDING, now)


def test_rate_limited_goes_back_to_scheduled_at_the_networks_reset_time(make_delivery, sandbox_account):
    delivery = claim_and_publish(make_delivery("Hoy [sandbox:rate-limited]"))

    assert delivery.state == DeliveryState.SCHEDULED
    assert delivery.due_at > timezone.now() + timedelta(minutes=1)
    assert delivery.scheduled_at < delivery.due_at
    assert delivery.last_error
    assert not SandboxPost.objects.filter(account=sandbox_account).exists()


def test_a_transient_error_before_sending_backs_off_and_gives_up_after_the_cap(make_delivery):
    delivery = make_delivery("Hoy [sandbox:transient]")
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        before = timezone.now()
        delivery = claim_and_publish(delivery)
        assert delivery.state == DeliveryState.SCHEDULED
        waits.append(delivery.due_at - before)
        delivery.due_at = timezone.now()
        delivery.save(update_fields=["due_at"])
    assert waits == sorted(waits) and waits[0] < waits[-1]

    delivery = claim_and_publish(delivery)
    assert delivery.state == DeliveryState.FAILED
    assert delivery.attempts == MAX_ATTEMPTS
    assert str(MAX_ATTEMPTS) in delivery.last_error


def test_rejected_fails_with_the_networks_reason(make_delivery):
    delivery = claim_and_publish(make_delivery("Hoy [sandbox:rejected]"))
    assert delivery.state == DeliveryState.FAILED
    assert delivery.last_error == gettext("The sandbox refused this request.")


def test_the_same_text_twice_is_rejected_in_plain_words(make_delivery):
    claim_and_publish(make_delivery())
    second = claim_and_publish(make_delivery())
    assert second.state == DeliveryState.FAILED
    assert "24" in second.last_error


def test_expired_authorization_holds_it_and_the_channel_needs_reconnecting(make_delivery, sandbox_channel):
    delivery = claim_and_publish(make_delivery("Hoy [sandbox:expired]"))

    assert (delivery.state, delivery.held_reason) == (DeliveryState.HELD, HeldReason.RECONNECT)
    sandbox_channel.refresh_from_db()
    assert sandbox_channel.status == ChannelStatus.NEEDS_RECONNECT


def test_a_channel_that_needs_reconnecting_is_not_called(make_delivery, sandbox_channel, sandbox_account):
    sandbox_channel.status = ChannelStatus.NEEDS_RECONNECT
    sandbox_channel.save()
    delivery = claim_and_publish(make_delivery())
    assert (delivery.state, delivery.held_reason, delivery.attempts) == (
        DeliveryState.HELD,
        HeldReason.RECONNECT,
        0,
    )
    assert not SandboxPost.objects.filter(account=sandbox_account).exists()


def test_a_timeout_after_sending_marks_it_unknown_for_reconcile(make_delivery, sandbox_account):
    delivery = claim_and_publish(make_delivery("Hoy [sandbox:timeout]"))

    assert delivery.state == DeliveryState.UNKNOWN
    assert delivery.due_at >= timezone.now() + RECONCILE_INTERVAL - timedelta(seconds=5)
    assert delivery.external_id == ""
    assert SandboxPost.objects.filter(account=sandbox_account).count() == 1


@pytest.mark.parametrize("minutes_late, state", [(29, DeliveryState.PUBLISHED), (31, DeliveryState.HELD)])
def test_overdue_deliveries_beyond_the_allowed_lateness_wait_for_the_manager(
    make_delivery, settings, minutes_late, state
):
    settings.SOCIALDESK_MAX_LATENESS_MINUTES = 30
    delivery = claim_and_publish(make_delivery(at=timezone.now() - timedelta(minutes=minutes_late)))
    assert delivery.state == state
    if state == DeliveryState.HELD:
        assert (delivery.held_reason, delivery.attempts) == (HeldReason.OVERDUE, 0)


def test_a_second_run_while_the_first_is_calling_the_network_does_nothing(make_delivery, sandbox_account):
    delivery = make_delivery()
    deliveries_claim_due(now=timezone.now(), limit=10)
    # The first run committed sent_at and is waiting for the network.
    delivery.state, delivery.sent_at = DeliveryState.SENDING, timezone.now()
    delivery.save(update_fields=["state", "sent_at"])

    delivery_publish(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENDING
    assert not SandboxPost.objects.filter(account=sandbox_account).exists()


def test_a_rerun_after_the_worker_died_mid_call_reconciles_instead_of_publishing(
    make_delivery, sandbox_account
):
    delivery = make_delivery()
    deliveries_claim_due(now=timezone.now(), limit=10)
    delivery.sent_at = timezone.now()
    delivery.save(update_fields=["sent_at"])

    with time_machine.travel(timezone.now() + SENDING_TIMEOUT + timedelta(seconds=1)):
        delivery_publish(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.UNKNOWN
    assert not SandboxPost.objects.filter(account=sandbox_account).exists()


@pytest.mark.parametrize("state", [DeliveryState.SCHEDULED, DeliveryState.CANCELLED, DeliveryState.HELD])
def test_only_a_claimed_delivery_is_published(make_delivery, sandbox_account, state):
    delivery = make_delivery(state=state)
    delivery_publish(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == state
    assert not SandboxPost.objects.filter(account=sandbox_account).exists()
