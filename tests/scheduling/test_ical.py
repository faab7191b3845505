"""The manager's iCalendar feed: an address with a secret token (renewing it cuts off the old one),
and a feed her calendar app can read: RFC 5545 structure, one stable event per delivery."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from scheduling.models import CalendarFeedToken, DeliveryState
from socialdesk.models import Role
from tests.lib.test_icalendar import MAX_LINE_OCTETS, components, physical_lines, text_unescape

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def calendar_app():
    """The manager's calendar app: never signed in (the `client` fixture is the manager's browser)."""
    return Client()


def renew(client):
    return client.post(reverse("scheduling:feed_renew"))


def feed_url(token: str) -> str:
    return reverse("scheduling:feed", args=[token])


@pytest.fixture
def token(manager_client, manager) -> str:
    renew(manager_client)
    return CalendarFeedToken.objects.get(user=manager).token


def events_of(response) -> dict[str, dict[str, str]]:
    return {event["UID"]: event for event in components(response.content.decode())}


# --- The address ----------------------------------------------------------------------------------


def test_the_manager_gets_her_address_on_the_calendar_page(manager_client, manager):
    assert "calendar-feed-address" not in manager_client.get(reverse("scheduling:calendar")).content.decode()

    response = renew(manager_client)

    feed_token = CalendarFeedToken.objects.get(user=manager)
    assert len(feed_token.token) >= 40
    assert response["Location"] == f"{reverse('scheduling:calendar')}#calendar-feed"
    page = manager_client.get(reverse("scheduling:calendar")).content.decode()
    assert f'value="http://testserver{feed_url(feed_token.token)}"' in page


def test_a_new_address_cuts_off_the_old_one(calendar_app, manager_client, manager, token):
    assert calendar_app.get(feed_url(token)).status_code == 200

    renew(manager_client)

    new_token = CalendarFeedToken.objects.get(user=manager).token
    assert new_token != token
    assert calendar_app.get(feed_url(token)).status_code == 404
    assert calendar_app.get(feed_url(new_token)).status_code == 200


def test_a_wrong_token_finds_nothing(calendar_app, token):
    assert calendar_app.get(feed_url(token[:-1] + ("A" if token[-1] != "A" else "B"))).status_code == 404
    assert calendar_app.get(feed_url("nothing-like-a-token")).status_code == 404


def test_the_feed_stops_when_its_owner_may_no_longer_read_the_desk(calendar_app, manager, token):
    manager.role = Role.ADMINISTRATOR
    manager.save(update_fields=["role"])
    assert calendar_app.get(feed_url(token)).status_code == 404
    manager.role, manager.is_active = Role.MANAGER, False
    manager.save(update_fields=["role", "is_active"])
    assert calendar_app.get(feed_url(token)).status_code == 404


def test_renewing_is_a_post(manager_client, manager):
    assert manager_client.get(reverse("scheduling:feed_renew")).status_code == 405
    assert not CalendarFeedToken.objects.filter(user=manager).exists()


# --- The feed ---------------------------------------------------------------------------------------


def test_the_feed_is_read_without_signing_in_and_is_a_valid_calendar(calendar_app, token, make_delivery):
    make_delivery("Ofertas de empleo, plazos; requisitos", at=NOW + timedelta(days=2))

    response = calendar_app.get(feed_url(token))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response["Cache-Control"]
    body = response.content.decode()
    lines = physical_lines(body)  # CRLF everywhere, or it fails
    assert (lines[0], lines[-1]) == ("BEGIN:VCALENDAR", "END:VCALENDAR")
    assert "VERSION:2.0" in lines
    assert all(len(line.encode("utf-8")) <= MAX_LINE_OCTETS for line in lines)
    assert len(components(body)) == 1  # every BEGIN has its END


def test_each_delivery_is_an_event_with_a_stable_uid_utc_times_and_its_text(
    calendar_app, token, make_delivery, manager_client
):
    long_text = "Convocatoria de empleo público, plazo abierto; consulta requisitos.\nMás información " * 3
    delivery = make_delivery(long_text, at=datetime(2026, 11, 24, 18, 30, tzinfo=UTC))

    event = events_of(calendar_app.get(feed_url(token)))[f"delivery-{delivery.pk}@testserver"]

    assert event["DTSTART"] == "20261124T183000Z"
    assert event["DTSTAMP"] == "20261120T090000Z"
    summary = text_unescape(event["SUMMARY"])
    assert summary.startswith(f"[{delivery.channel}] Convocatoria de empleo público, plazo")
    assert summary.endswith("…") and "\n" not in summary
    assert text_unescape(event["DESCRIPTION"]) == f"{long_text}\n\n{delivery.post.link}"
    assert "\\," in event["SUMMARY"] and "\\;" in event["DESCRIPTION"] and "\\n" in event["DESCRIPTION"]

    manager_client.post(reverse("scheduling:event_move", args=[delivery.pk]), {"at": "2026-11-25T10:00"})
    moved = events_of(calendar_app.get(feed_url(token)))[f"delivery-{delivery.pk}@testserver"]
    assert moved["DTSTART"] == "20261125T090000Z"  # 10:00 in Madrid, winter time


def test_a_published_delivery_links_to_the_network(calendar_app, token, make_delivery):
    published = make_delivery(
        "Ya publicado",
        at=NOW - timedelta(days=1),
        state=DeliveryState.PUBLISHED,
        url="https://sandbox.example/p/42",
    )
    event = events_of(calendar_app.get(feed_url(token)))[f"delivery-{published.pk}@testserver"]
    assert event["URL"] == "https://sandbox.example/p/42"
    assert text_unescape(event["DESCRIPTION"]).endswith("https://sandbox.example/p/42")


def test_the_feed_lists_what_goes_out_from_two_weeks_back_to_three_months_ahead(
    calendar_app, token, make_delivery
):
    inside = [
        make_delivery("Hace 13 días", at=NOW - timedelta(days=13), state=DeliveryState.PUBLISHED),
        make_delivery("Dentro de 89 días", at=NOW + timedelta(days=89)),
        make_delivery("Ahora mismo", at=NOW + timedelta(minutes=1), state=DeliveryState.SENDING),
    ]
    outside = [
        make_delivery("Hace 15 días", at=NOW - timedelta(days=15), state=DeliveryState.PUBLISHED),
        make_delivery("Dentro de 91 días", at=NOW + timedelta(days=91)),
        make_delivery("Cancelado", at=NOW + timedelta(days=1), state=DeliveryState.CANCELLED),
        make_delivery("Fallido", at=NOW + timedelta(days=1), state=DeliveryState.FAILED),
        make_delivery("Retenido", at=NOW - timedelta(hours=1), state=DeliveryState.HELD),
    ]

    uids = set(events_of(calendar_app.get(feed_url(token))))

    assert uids == {f"delivery-{delivery.pk}@testserver" for delivery in inside}
    assert not uids & {f"delivery-{delivery.pk}@testserver" for delivery in outside}


def test_the_feed_queries_do_not_grow_with_its_events(
    calendar_app, token, make_delivery, django_assert_max_num_queries
):
    for n in range(15):
        make_delivery(f"Entrada {n}", at=timezone.now() + timedelta(hours=n + 1))
    with django_assert_max_num_queries(2):  # the token with its owner, the deliveries
        response = calendar_app.get(feed_url(token))
    assert len(re.findall(r"^BEGIN:VEVENT\r$", response.content.decode(), re.M)) == 15
