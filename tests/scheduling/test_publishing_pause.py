"""The emergency pause: nothing goes out while paused, and nothing missed goes out by itself after."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from networks.models import SandboxPost
from scheduling import tasks
from scheduling.dispatch import deliveries_claim_due, delivery_publish
from scheduling.models import DeliveryState, HeldReason, PublishingPause
from scheduling.pause import publishing_pause, publishing_pause_expire, publishing_resume
from socialdesk.models import AuditEvent
from socialdesk.models.audit import AuditAction


def test_while_paused_nothing_is_claimed(make_delivery, manager):
    make_delivery()
    publishing_pause(reason="Inundaciones: solo avisos oficiales", actor=manager)
    assert deliveries_claim_due(now=timezone.now(), limit=10) == []


def test_a_delivery_claimed_just_before_the_pause_goes_back_to_waiting(
    make_delivery, manager, sandbox_account
):
    delivery = make_delivery()
    deliveries_claim_due(now=timezone.now(), limit=10)
    publishing_pause(reason="Incendio forestal", actor=manager)

    delivery_publish(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SCHEDULED, 0)
    assert not SandboxPost.objects.exists()


def test_resuming_holds_what_came_due_and_leaves_the_future_scheduled(
    make_delivery, manager, sandbox_account
):
    publishing_pause(reason="Alerta roja", actor=manager)
    missed = make_delivery("Se perdió", at=timezone.now() - timedelta(minutes=1))
    future = make_delivery("Mañana", at=timezone.now() + timedelta(days=1))

    assert publishing_resume(actor=manager) == 1

    missed.refresh_from_db()
    future.refresh_from_db()
    assert (missed.state, missed.held_reason) == (DeliveryState.HELD, HeldReason.PAUSE)
    assert future.state == DeliveryState.SCHEDULED
    assert deliveries_claim_due(now=timezone.now(), limit=10) == []
    assert not SandboxPost.objects.exists()


def test_pause_and_resume_are_audited_with_who_and_why(make_delivery, manager):
    ends_at = timezone.now() + timedelta(hours=6)
    pause = publishing_pause(reason="Inundaciones", ends_at=ends_at, actor=manager)
    make_delivery(at=timezone.now() - timedelta(seconds=1))
    publishing_resume(actor=manager)

    paused, resumed = AuditEvent.objects.filter(target_type="scheduling.PublishingPause").order_by("id")
    assert (paused.action, paused.actor, paused.details["reason"]) == (
        AuditAction.PUBLISHING_PAUSED,
        manager,
        "Inundaciones",
    )
    assert paused.details["ends_at"] == ends_at.isoformat()
    assert (resumed.action, resumed.actor, resumed.details["held"]) == (
        AuditAction.PUBLISHING_RESUMED,
        manager,
        1,
    )
    pause.refresh_from_db()
    assert (pause.is_open, pause.ended_by) == (False, manager)


def test_pausing_again_updates_the_one_open_pause(manager):
    publishing_pause(reason="Primera", actor=manager)
    publishing_pause(reason="Segunda", actor=manager)
    assert list(PublishingPause.objects.values_list("reason", "is_open")) == [("Segunda", True)]


def test_a_pause_needs_a_reason(manager):
    with pytest.raises(ValueError):
        publishing_pause(reason="  ", actor=manager)


def test_a_pause_with_an_end_time_ends_by_itself_holding_what_it_missed(make_delivery, manager):
    ends_at = timezone.now() + timedelta(hours=2)
    publishing_pause(reason="Temporal", ends_at=ends_at, actor=manager)
    missed = make_delivery(at=timezone.now() + timedelta(hours=1))

    assert publishing_pause_expire(now=ends_at - timedelta(seconds=1)) == 0
    with time_machine.travel(ends_at + timedelta(seconds=1)):
        assert tasks.dispatch_due_deliveries() == 0

    missed.refresh_from_db()
    assert missed.state == DeliveryState.HELD
    assert not PublishingPause.objects.filter(is_open=True).exists()
    assert AuditEvent.objects.filter(action=AuditAction.PUBLISHING_RESUMED, actor=None).exists()


def test_the_banner_shows_on_every_page_while_paused_without_a_query(
    manager_client, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        publishing_pause(reason="Inundaciones en la Ribera", actor=manager)
    for url in (reverse("home"), reverse("scheduling:drafts")):
        assert "Inundaciones en la Ribera" in manager_client.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        publishing_resume(actor=manager)
    assert "Inundaciones en la Ribera" not in manager_client.get(reverse("home")).content.decode()
