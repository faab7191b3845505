"""The schedule's calendar (week and month) and list: where each delivery shows in local time, the
channel filter and colours, moving (drag or form) and cancelling, and who may do it."""

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from networks.sandbox import MAX_LENGTH
from scheduling.calendar import PALETTE_SIZE
from scheduling.deliveries import delivery_schedule
from scheduling.dispatch import deliveries_claim_due
from scheduling.models import Delivery, DeliveryState, HeldReason
from scheduling.pause import publishing_pause
from socialdesk.models import WorkingInterval
from socialdesk.models.audit import AuditAction, AuditEvent
from tests.networks.fixtures import make_sandbox_channel
from tests.socialdesk.test_layout import _colours, contrast, csp_violations

MADRID = ZoneInfo("Europe/Madrid")
# A Tuesday in the week whose Sunday (25 October 2026) the clocks go back at 03:00 to 02:00.
NOW = datetime(2026, 10, 20, 10, 0, tzinfo=MADRID)
CLOCKS_BACK_WEEK = "2026-W43"
STYLESHEET = Path(settings.BASE_DIR) / "static" / "css" / "scheduling.css"


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def other_channel(db):
    return make_sandbox_channel(handle="otro_canal", name="Otro Canal")[1]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=MADRID)


def week_page(client, week: str = CLOCKS_BACK_WEEK, **params):
    return client.get(reverse("scheduling:calendar"), {"week": week, **params})


def placed_in_week(response) -> dict[int, tuple[str, int]]:
    """Each delivery shown in the week's table → (local date, hour row) of the cell holding it."""
    html = response.content.decode()
    placed = {}
    for day, hour, cell in re.findall(
        r'<td class="slot[^"]*" data-slot-date="([\d-]+)" data-slot-hour="(\d+)">(.*?)</td>', html, re.S
    ):
        for delivery_id in re.findall(r'<article [^>]*id="delivery-(\d+)"', cell):
            placed[int(delivery_id)] = (day, int(hour))
    return placed


def message_tags(response) -> list[str]:
    return [message.level_tag for message in get_messages(response.wsgi_request)]


# --- Placement in local time ------------------------------------------------------------------


def test_the_week_places_each_delivery_in_its_local_hour_across_the_clock_change(
    manager_client, make_delivery
):
    before_change = make_delivery("Primera 02:30", at=utc(2026, 10, 25, 0, 30))  # 02:30 summer time
    after_change = make_delivery("Segunda 02:30", at=utc(2026, 10, 25, 1, 30))  # 02:30 winter time
    half_past_three = make_delivery("Las 03:30", at=utc(2026, 10, 25, 2, 30))  # 03:30 winter time
    saturday_night = make_delivery("Sábado noche", at=utc(2026, 10, 24, 21, 30))  # 23:30 summer time

    placed = placed_in_week(week_page(manager_client))

    assert placed == {
        before_change.pk: ("2026-10-25", 2),
        after_change.pk: ("2026-10-25", 2),
        half_past_three.pk: ("2026-10-25", 3),
        saturday_night.pk: ("2026-10-24", 23),
    }


def test_a_week_runs_from_local_monday_midnight_to_the_next(manager_client, make_delivery):
    first = make_delivery("Lunes 00:30", at=utc(2026, 10, 18, 22, 30))  # Monday 19th, 00:30 summer time
    next_week = make_delivery("Lunes siguiente 00:30", at=utc(2026, 10, 25, 23, 30))  # Monday 26th, winter
    previous_week = make_delivery("Domingo anterior", at=utc(2026, 10, 18, 21, 59))  # Sunday 18th, 23:59

    placed = placed_in_week(week_page(manager_client))

    assert placed == {first.pk: ("2026-10-19", 0)}
    assert placed_in_week(week_page(manager_client, "2026-W44")) == {next_week.pk: ("2026-10-26", 0)}
    assert previous_week.pk in placed_in_week(week_page(manager_client, "2026-W42"))


def test_the_week_without_a_parameter_is_this_week_and_links_to_its_neighbours(manager_client):
    response = manager_client.get(reverse("scheduling:calendar"))
    page = response.content.decode()
    assert response.context["week"].monday == date(2026, 10, 19)
    assert "?week=2026-W42" in page and "?week=2026-W44" in page
    assert manager_client.get(reverse("scheduling:calendar"), {"week": "2026-W99"}).context[
        "week"
    ].monday == date(2026, 10, 19)


def test_office_hours_are_shaded_per_local_day(manager_client):
    WorkingInterval.objects.create(weekday=0, starts_at=time(9), ends_at=time(14, 30))
    html = week_page(manager_client).content.decode()
    office = set(
        re.findall(r'<td class="slot slot-office" data-slot-date="([\d-]+)" data-slot-hour="(\d+)"', html)
    )
    assert office == {("2026-10-19", str(hour)) for hour in range(9, 15)}


def test_the_month_places_by_local_day_and_spans_whole_weeks(manager_client, make_delivery):
    first_of_november = make_delivery("1 de noviembre", at=utc(2026, 10, 31, 23, 30))  # 00:30 local, Nov 1st
    crowded = [make_delivery(f"Día lleno {n}", at=local(2026, 11, 10, 8 + n)) for n in range(6)]

    response = manager_client.get(reverse("scheduling:calendar_month"), {"month": "2026-11"})
    month = response.context["month"]
    days = {day.day: day for week in month.weeks for day in week}

    assert (month.weeks[0][0].day, month.weeks[-1][-1].day, len(month.weeks)) == (
        date(2026, 10, 26),
        date(2026, 12, 6),
        6,
    )
    assert [entry.delivery.pk for entry in days[date(2026, 11, 1)].entries] == [first_of_november.pk]
    assert days[date(2026, 10, 31)].entries == []
    assert [entry.delivery.pk for entry in days[date(2026, 11, 10)].entries] == [d.pk for d in crowded[:4]]
    assert days[date(2026, 11, 10)].more == 2
    assert f'id="delivery-{crowded[4].pk}"' not in response.content.decode()
    assert (month.previous, month.next) == ("2026-10", "2026-12")


# --- Channels: filter and colours ----------------------------------------------------------------


def test_the_channel_filter_shows_only_the_chosen_channels(
    manager_client, make_delivery, post, other_channel
):
    mine = make_delivery("En el canal de siempre", at=local(2026, 10, 22, 18))
    other = delivery_schedule(post=post, channel=other_channel, text="En el otro", at=local(2026, 10, 22, 19))

    everything = placed_in_week(week_page(manager_client))
    filtered = week_page(manager_client, channel=other_channel.pk)

    assert set(everything) == {mine.pk, other.pk}
    assert set(placed_in_week(filtered)) == {other.pk}
    assert re.search(
        rf'<input type="checkbox" name="channel" value="{other_channel.pk}" checked>',
        filtered.content.decode(),
    )
    month = manager_client.get(reverse("scheduling:calendar_month"), {"channel": mine.channel_id})
    assert [e.delivery.pk for week in month.context["month"].weeks for day in week for e in day.entries] == [
        mine.pk
    ]


def test_each_channel_has_its_colour_class_and_its_name_in_words(manager_client, make_delivery):
    delivery = make_delivery("Con color", at=local(2026, 10, 22, 18))
    html = week_page(manager_client).content.decode()
    article = re.search(
        rf'<article class="event ([^"]*)" id="delivery-{delivery.pk}".*?</article>', html, re.S
    )
    assert f"channel-color-{delivery.channel_id % PALETTE_SIZE}" in article[1].split()
    with translation.override("es"):
        network = delivery.channel.get_network_display()
    assert "Empleo Test" in article[0] and network in article[0]


def _palette() -> dict[int, dict[str, str]]:
    rules = re.findall(
        r"\.channel-color-(\d+) \{ --channel-bg: (#[0-9a-f]{6}); --channel-edge: (#[0-9a-f]{6}); \}",
        STYLESHEET.read_text(),
    )
    return {int(index): {"bg": bg, "edge": edge} for index, bg, edge in rules}


def test_the_palette_has_one_class_per_colour_and_keeps_text_readable():
    palette, page = _palette(), _colours()
    assert sorted(palette) == list(range(PALETTE_SIZE))
    for colour in palette.values():
        assert contrast(page["ink"], colour["bg"]) >= 4.5, colour  # text
        assert contrast(page["accent"], colour["bg"]) >= 4.5, colour  # links
        assert contrast(colour["edge"], page["paper"]) >= 3, colour  # the coloured edge itself


# --- Echoes and states -------------------------------------------------------------------------------


def _article(html: str, delivery: Delivery) -> str:
    return re.search(rf'<article [^>]*id="delivery-{delivery.pk}".*?</article>', html, re.S)[0]


def test_echoes_exploration_and_states_are_marked(manager_client, make_delivery):
    live = make_delivery("Directo", at=local(2026, 10, 20, 9))
    echo = make_delivery("Eco", at=local(2026, 10, 21, 21), is_echo=True, echo_of=live, is_exploration=True)
    published = make_delivery(
        "Publicado",
        at=local(2026, 10, 20, 8),
        state=DeliveryState.PUBLISHED,
        url="https://sandbox.example/p/1",
    )
    held = make_delivery(
        "Retenido", at=local(2026, 10, 20, 7), state=DeliveryState.HELD, held_reason=HeldReason.PAUSE
    )
    failed = make_delivery(
        "Fallido", at=local(2026, 10, 20, 6), state=DeliveryState.FAILED, last_error="Too long"
    )

    html = week_page(manager_client).content.decode()

    assert "badge-live" in _article(html, live) and "badge-echo" not in _article(html, live)
    assert "badge-echo" in _article(html, echo) and "badge-exploration" in _article(html, echo)
    assert 'href="https://sandbox.example/p/1"' in _article(html, published)
    assert "badge-published" in _article(html, published)
    assert "badge-held" in _article(html, held)
    assert "badge-failed" in _article(html, failed) and reverse("publishing:attention") in _article(
        html, failed
    )


def test_only_waiting_deliveries_get_a_handle_and_forms(manager_client, make_delivery):
    scheduled = make_delivery("Programado", at=local(2026, 10, 22, 9))
    held = make_delivery("Retenido", at=local(2026, 10, 20, 7), state=DeliveryState.HELD)
    published = make_delivery("Publicado", at=local(2026, 10, 20, 8), state=DeliveryState.PUBLISHED)

    html = week_page(manager_client).content.decode()

    for movable in (scheduled, held):
        assert "data-drag-handle" in _article(html, movable)
        assert reverse("scheduling:event_move", args=[movable.pk]) in _article(html, movable)
        assert reverse("scheduling:event_cancel", args=[movable.pk]) in _article(html, movable)
    assert "data-drag-handle" not in _article(html, published)
    assert "<form" not in _article(html, published)
    assert "data-cancel-zone" in html


def test_cancelled_deliveries_are_not_in_the_calendar(manager_client, make_delivery):
    cancelled = make_delivery("Cancelado", at=local(2026, 10, 22, 9), state=DeliveryState.CANCELLED)
    assert cancelled.pk not in placed_in_week(week_page(manager_client))


def test_the_pages_need_nothing_the_content_security_policy_blocks(manager_client, make_delivery):
    make_delivery("Con formularios", at=local(2026, 10, 22, 9))
    make_delivery("Eco", at=local(2026, 10, 22, 21), is_echo=True, is_exploration=True)
    for url in (
        reverse("scheduling:calendar"),
        reverse("scheduling:calendar_month"),
        reverse("scheduling:list"),
    ):
        response = manager_client.get(url)
        assert "data-move-form" in response.content.decode()
        assert csp_violations(response) == [], url


# --- Moving ------------------------------------------------------------------------------------------


def move(client, delivery: Delivery, *, headers: dict | None = None, **data):
    return client.post(reverse("scheduling:event_move", args=[delivery.pk]), data, headers=headers or {})


def test_the_manager_moves_a_delivery_and_edits_its_text(manager_client, make_delivery):
    delivery = make_delivery("Texto original", at=local(2026, 10, 22, 9, 15))
    back_to = f"{reverse('scheduling:calendar')}?week={CLOCKS_BACK_WEEK}"

    response = move(manager_client, delivery, at="2026-10-24T19:45", text="Texto corregido", next=back_to)

    delivery.refresh_from_db()
    assert (delivery.scheduled_at, delivery.due_at) == (
        local(2026, 10, 24, 19, 45),
        local(2026, 10, 24, 19, 45),
    )
    assert (delivery.state, delivery.text) == (DeliveryState.SCHEDULED, "Texto corregido")
    assert response.status_code == 302
    assert response["Location"] == f"{back_to}#delivery-{delivery.pk}"
    assert message_tags(response) == ["success"]
    assert placed_in_week(week_page(manager_client))[delivery.pk] == ("2026-10-24", 19)


def test_a_drag_posts_the_time_alone_and_the_page_reloads_itself(manager_client, make_delivery):
    delivery = make_delivery("Arrastrado", at=local(2026, 10, 22, 9, 15))

    response = move(manager_client, delivery, headers={"HX-Request": "true"}, at="2026-10-23T21:15")

    delivery.refresh_from_db()
    assert (delivery.scheduled_at, delivery.text) == (local(2026, 10, 23, 21, 15), "Arrastrado")
    assert (response.status_code, response["HX-Refresh"]) == (204, "true")
    assert message_tags(response) == ["success"]


def test_the_form_keeps_line_breaks_as_they_were(manager_client, make_delivery):
    delivery = make_delivery("Primera línea\nSegunda línea", at=local(2026, 10, 22, 9, 15))

    move(manager_client, delivery, at="2026-10-22T20:00", text="Primera línea\r\nSegunda línea")

    delivery.refresh_from_db()
    assert (delivery.scheduled_at, delivery.text) == (local(2026, 10, 22, 20), "Primera línea\nSegunda línea")
    event = AuditEvent.objects.get(action=AuditAction.DELIVERY_MOVED)
    assert (event.target_id, event.details["to"]) == (str(delivery.pk), local(2026, 10, 22, 20).isoformat())


def test_a_held_delivery_moved_to_a_new_time_waits_for_it_again(manager_client, make_delivery):
    held = make_delivery(
        "Retenido", at=local(2026, 10, 19, 9), state=DeliveryState.HELD, held_reason=HeldReason.OVERDUE
    )

    move(manager_client, held, at="2026-10-22T10:00")

    held.refresh_from_db()
    assert (held.state, held.held_reason, held.scheduled_at) == (
        DeliveryState.SCHEDULED,
        "",
        local(2026, 10, 22, 10),
    )


@pytest.mark.parametrize("at", ["2026-10-20T09:59", "2026-10-20T10:00", "2025-01-01T12:00"])
def test_moving_into_the_past_is_refused(manager_client, make_delivery, at):
    delivery = make_delivery("No al pasado", at=local(2026, 10, 22, 9))

    response = move(manager_client, delivery, at=at)

    delivery.refresh_from_db()
    assert (delivery.state, delivery.scheduled_at) == (DeliveryState.SCHEDULED, local(2026, 10, 22, 9))
    assert message_tags(response) == ["error"]
    assert not AuditEvent.objects.filter(action=AuditAction.DELIVERY_MOVED).exists()


@pytest.mark.parametrize("state", [DeliveryState.PUBLISHED, DeliveryState.SENDING, DeliveryState.CANCELLED])
def test_a_delivery_that_is_not_waiting_cannot_move(manager_client, make_delivery, state):
    delivery = make_delivery("Ya hecho", at=local(2026, 10, 20, 8), state=state)

    response = move(manager_client, delivery, at="2026-10-22T10:00", text="Otro texto")

    delivery.refresh_from_db()
    assert (delivery.state, delivery.scheduled_at, delivery.text) == (
        state,
        local(2026, 10, 20, 8),
        "Ya hecho",
    )
    assert message_tags(response) == ["error"]


def test_during_the_pause_a_moved_delivery_stays_scheduled_and_is_not_sent(
    manager_client, manager, make_delivery
):
    publishing_pause(reason="Inundaciones", actor=manager)
    delivery = make_delivery("Durante la pausa", at=local(2026, 10, 22, 9))

    move(manager_client, delivery, at="2026-10-20T10:05")

    delivery.refresh_from_db()
    assert (delivery.state, delivery.scheduled_at) == (DeliveryState.SCHEDULED, local(2026, 10, 20, 10, 5))
    assert deliveries_claim_due(now=local(2026, 10, 20, 10, 6), limit=10) == []
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SCHEDULED


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({"at": "2026-10-22T10:00", "text": "   "}, "empty text"),
        ({"at": "2026-10-22T10:00", "text": "x" * (MAX_LENGTH + 1)}, "too long for the network"),
        ({"at": "mañana"}, "not a time"),
        ({"at": "2027-03-28T02:30"}, "a time the clock skips in spring"),
    ],
)
def test_bad_input_is_refused_with_a_message(manager_client, make_delivery, data, why):
    delivery = make_delivery("Sin cambios", at=local(2026, 10, 22, 9))

    response = move(manager_client, delivery, **data)

    delivery.refresh_from_db()
    assert (delivery.scheduled_at, delivery.text) == (local(2026, 10, 22, 9), "Sin cambios"), why
    assert message_tags(response) == ["error"], why


def test_after_a_change_the_page_goes_back_only_to_this_site(manager_client, make_delivery):
    delivery = make_delivery("Vuelta", at=local(2026, 10, 22, 9))
    response = move(manager_client, delivery, at="2026-10-22T11:00", next="https://evil.example/")
    assert response["Location"] == f"{reverse('scheduling:calendar')}#delivery-{delivery.pk}"


# --- Cancelling --------------------------------------------------------------------------------------


def test_the_manager_cancels_a_delivery(manager_client, make_delivery):
    delivery = make_delivery("A cancelar", at=local(2026, 10, 22, 9))

    response = manager_client.post(
        reverse("scheduling:event_cancel", args=[delivery.pk]), headers={"HX-Request": "true"}
    )

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.CANCELLED
    assert (response.status_code, response["HX-Refresh"]) == (204, "true")
    event = AuditEvent.objects.get(action=AuditAction.DELIVERY_CANCELLED)
    assert (event.target_id, event.actor.role) == (str(delivery.pk), "manager")
    assert delivery.pk not in placed_in_week(week_page(manager_client))


def test_a_published_delivery_cannot_be_cancelled(manager_client, make_delivery):
    delivery = make_delivery("Publicado", at=local(2026, 10, 20, 8), state=DeliveryState.PUBLISHED)

    response = manager_client.post(reverse("scheduling:event_cancel", args=[delivery.pk]))

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PUBLISHED
    assert message_tags(response) == ["error"]


# --- The supervisor reads, changes nothing -----------------------------------------------------------


def test_the_supervisor_cannot_move_or_cancel(supervisor_client, make_delivery):
    delivery = make_delivery("Intocable", at=local(2026, 10, 22, 9))

    assert move(supervisor_client, delivery, at="2026-10-23T09:00").status_code == 403
    assert supervisor_client.post(reverse("scheduling:event_cancel", args=[delivery.pk])).status_code == 403
    assert supervisor_client.post(reverse("scheduling:feed_renew")).status_code == 403

    delivery.refresh_from_db()
    assert (delivery.state, delivery.scheduled_at) == (DeliveryState.SCHEDULED, local(2026, 10, 22, 9))


@pytest.mark.parametrize("url_name", ["scheduling:calendar", "scheduling:calendar_month", "scheduling:list"])
def test_the_supervisor_sees_the_schedule_without_handles_or_forms(
    supervisor_client, make_delivery, url_name
):
    delivery = make_delivery("Solo lectura", at=local(2026, 10, 22, 9))

    html = supervisor_client.get(reverse(url_name)).content.decode()

    assert f'id="delivery-{delivery.pk}"' in html
    for change in (
        "draggable",
        "data-movable",
        "data-cancel-zone",
        'method="post" action="/schedule/',
        "calendar-feed",
    ):
        assert change not in html, change


# --- The list ---------------------------------------------------------------------------------------


def test_the_list_shows_upcoming_deliveries_with_filters(manager_client, make_delivery, post, other_channel):
    yesterday = make_delivery("Ayer", at=local(2026, 10, 19, 12), state=DeliveryState.PUBLISHED)
    earlier_today = make_delivery("Esta mañana", at=local(2026, 10, 20, 8), state=DeliveryState.PUBLISHED)
    echo = make_delivery("Eco", at=local(2026, 10, 21, 21), is_echo=True)
    cancelled = make_delivery("Cancelado", at=local(2026, 10, 22, 9), state=DeliveryState.CANCELLED)
    elsewhere = delivery_schedule(
        post=post, channel=other_channel, text="Otro canal", at=local(2026, 12, 1, 9)
    )

    def listed(**params) -> list[int]:
        response = manager_client.get(reverse("scheduling:list"), params)
        return [entry.delivery.pk for entry in response.context["entries"]]

    assert listed() == [earlier_today.pk, echo.pk, elsewhere.pk]
    assert yesterday.pk not in listed()
    assert listed(echoes="1") == [echo.pk]
    assert listed(state=DeliveryState.CANCELLED) == [cancelled.pk]
    assert listed(channel=other_channel.pk) == [elsewhere.pk]


def test_the_list_is_paginated(manager_client, make_delivery):
    for n in range(51):
        make_delivery(f"Entrada {n}", at=local(2026, 10, 21, 9) + timedelta(minutes=n))
    first, second = (manager_client.get(reverse("scheduling:list"), {"page": page}) for page in (1, 2))
    assert (len(first.context["entries"]), len(second.context["entries"])) == (50, 1)
    assert 'rel="next"' in first.content.decode()


# --- Cost and navigation -----------------------------------------------------------------------------


def test_the_week_costs_the_same_queries_for_one_delivery_or_many(
    manager_client, make_delivery, post, other_channel, django_assert_max_num_queries
):
    make_delivery("Una", at=local(2026, 10, 21, 9))
    with CaptureQueriesContext(connection) as one:
        week_page(manager_client)
    for n in range(20):
        channel_kwargs = {"channel": other_channel} if n % 2 else {}
        if channel_kwargs:
            delivery_schedule(post=post, text=f"Más {n}", at=local(2026, 10, 22, n), **channel_kwargs)
        else:
            make_delivery(f"Más {n}", at=local(2026, 10, 23, n), is_echo=True)
    with django_assert_max_num_queries(len(one)):
        response = week_page(manager_client)
    assert len(placed_in_week(response)) == 21


def test_the_navigation_schedule_entry_opens_the_calendar(manager_client):
    html = manager_client.get(reverse("home")).content.decode()
    assert re.search(rf'<li><a href="{reverse("scheduling:calendar")}"[^>]*>', html)
