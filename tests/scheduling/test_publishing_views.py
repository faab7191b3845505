"""The publishing pages: the emergency pause and the deliveries waiting for the manager."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from scheduling.models import DeliveryState, HeldReason, PublishingPause
from scheduling.pause import publishing_pause
from socialdesk.models.audit import AuditAction, AuditEvent


@pytest.mark.parametrize("url_name", ["publishing:pause", "publishing:attention"])
def test_the_manager_and_the_supervisor_read_the_pages_an_outsider_does_not(
    client, manager_client, supervisor_client, outsider, url_name
):
    assert manager_client.get(reverse(url_name)).status_code == 200
    assert supervisor_client.get(reverse(url_name)).status_code == 200
    client.force_login(outsider)
    assert client.get(reverse(url_name)).status_code == 403


def test_the_supervisor_cannot_pause_resume_or_decide(supervisor_client, make_delivery):
    delivery = make_delivery(state=DeliveryState.HELD)
    for url in (
        reverse("publishing:pause_start"),
        reverse("publishing:pause_resume"),
        reverse("publishing:delivery_decide", args=[delivery.pk]),
    ):
        assert supervisor_client.post(url, {"reason": "x", "action": "drop"}).status_code == 403
    assert not PublishingPause.objects.exists()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.HELD
    page = supervisor_client.get(reverse("publishing:pause")).content.decode()
    assert reverse("publishing:pause_start") not in page


def test_the_manager_pauses_with_a_reason_and_an_end_time(manager_client, manager):
    response = manager_client.post(
        reverse("publishing:pause_start"),
        {"reason": "Incendio en la Vall d'Albaida", "ends_at": "2030-01-02T18:30"},
    )
    assert response.status_code == 302
    pause = PublishingPause.objects.get(is_open=True)
    assert (pause.reason, pause.started_by) == ("Incendio en la Vall d'Albaida", manager)
    assert timezone.localtime(pause.ends_at).strftime("%Y-%m-%d %H:%M") == "2030-01-02 18:30"
    assert AuditEvent.objects.filter(action=AuditAction.PUBLISHING_PAUSED, actor=manager).exists()


def test_a_pause_without_a_reason_is_refused(manager_client):
    assert manager_client.post(reverse("publishing:pause_start"), {"reason": " "}).status_code == 400
    assert not PublishingPause.objects.exists()


def test_resuming_lists_what_came_due_during_the_pause(manager_client, manager, make_delivery):
    publishing_pause(reason="Alerta", actor=manager)
    missed = make_delivery("Se perdió durante la pausa", at=timezone.now() - timedelta(minutes=5))

    response = manager_client.post(reverse("publishing:pause_resume"), follow=True)

    assert response.redirect_chain[-1][0] == f"{reverse('publishing:attention')}?reason={HeldReason.PAUSE}"
    assert [delivery.pk for delivery in response.context["deliveries"]] == [missed.pk]
    assert "Se perdió durante la pausa" in response.content.decode()


def test_fix_and_retry_a_failed_delivery(manager_client, make_delivery):
    failed = make_delivery(
        "Texto demasiado largo", state=DeliveryState.FAILED, last_error="Too long", attempts=1
    )

    manager_client.post(
        reverse("publishing:delivery_decide", args=[failed.pk]), {"action": "publish", "text": "Texto corto"}
    )

    failed.refresh_from_db()
    assert (failed.state, failed.text, failed.last_error, failed.attempts) == (
        DeliveryState.SCHEDULED,
        "Texto corto",
        "",
        0,
    )
    assert failed.due_at <= timezone.now()


def test_reschedule_and_drop_a_held_delivery(manager_client, make_delivery):
    held = make_delivery("Uno", state=DeliveryState.HELD, held_reason=HeldReason.OVERDUE)
    dropped = make_delivery("Dos", state=DeliveryState.HELD, held_reason=HeldReason.OVERDUE)

    manager_client.post(
        reverse("publishing:delivery_decide", args=[held.pk]),
        {"action": "reschedule", "text": "Uno", "at": "2030-03-04T20:15"},
    )
    manager_client.post(reverse("publishing:delivery_decide", args=[dropped.pk]), {"action": "drop"})

    held.refresh_from_db()
    dropped.refresh_from_db()
    assert (held.state, held.held_reason) == (DeliveryState.SCHEDULED, "")
    assert timezone.localtime(held.scheduled_at).strftime("%Y-%m-%d %H:%M") == "2030-03-04 20:15"
    assert held.due_at == held.scheduled_at
    assert dropped.state == DeliveryState.CANCELLED


def test_a_reschedule_without_a_time_changes_nothing(manager_client, make_delivery):
    held = make_delivery(state=DeliveryState.HELD, held_reason=HeldReason.OVERDUE)
    manager_client.post(
        reverse("publishing:delivery_decide", args=[held.pk]), {"action": "reschedule", "text": "x"}
    )
    held.refresh_from_db()
    assert held.state == DeliveryState.HELD


@pytest.mark.parametrize("state", [DeliveryState.SENDING, DeliveryState.PUBLISHED, DeliveryState.UNKNOWN])
def test_a_delivery_in_flight_or_done_cannot_be_changed(manager_client, make_delivery, state):
    delivery = make_delivery(state=state)
    manager_client.post(reverse("publishing:delivery_decide", args=[delivery.pk]), {"action": "drop"})
    delivery.refresh_from_db()
    assert delivery.state == state


def test_the_list_takes_the_same_queries_for_2_or_20_deliveries(
    manager_client, make_delivery, django_assert_max_num_queries
):
    counted = []
    for count in (2, 18):
        for n in range(count):
            make_delivery(f"Retenido {count}-{n}", state=DeliveryState.HELD, held_reason=HeldReason.OVERDUE)
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(4):
            response = manager_client.get(reverse("publishing:attention"))
        assert response.status_code == 200
        counted.append(len(queries))
    assert counted[0] == counted[1]
