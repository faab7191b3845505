"""The schedule as the manager's calendar shows it: which deliveries fall in a week or a month of
local time (Europe/Madrid), in which hour or day they sit, the upcoming list, the events of her
iCalendar feed, and the secret address of that feed.

Weeks and months are cut at local midnight, and a delivery sits in the local hour its time reads,
so a post at 02:30 UTC on the night clocks go back shows at 03:30, not at 04:30.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import Truncator

from lib.icalendar import Event
from networks.models import Channel
from scheduling.deliveries import MOVABLE_STATES
from scheduling.models import CalendarFeedToken, Delivery, DeliveryState
from socialdesk.business_calendar import BusinessCalendar

# Channels take these colour classes (.channel-color-0 … in static/css/scheduling.css) by id modulo
# the count; each pair there is checked for text contrast by tests/scheduling/test_calendar.py.
PALETTE_SIZE = 8
# A month cell lists this many posts and then says how many more there are (the week shows all).
MONTH_DAY_SHOWN = 4
LIST_PAGE_SIZE = 50
# The feed: what a calendar app needs to see of the recent past and the coming quarter.
FEED_PAST = timedelta(days=14)
FEED_AHEAD = timedelta(days=90)
FEED_STATES = (DeliveryState.SCHEDULED, DeliveryState.SENDING, DeliveryState.PUBLISHED)
# Calendar apps draw an event without an end as a line nobody notices: give each a short slot.
FEED_EVENT_LENGTH = timedelta(minutes=15)
FEED_SUMMARY_CHARACTERS = 60

_WEEK_PARAMETER = re.compile(r"^(\d{4})-W(\d{1,2})$")
_MONTH_PARAMETER = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass(frozen=True)
class CalendarEntry:
    """One delivery as the calendar and the list draw it."""

    delivery: Delivery
    color: int
    movable: bool


@dataclass(frozen=True)
class ChannelOption:
    channel: Channel
    color: int
    selected: bool


@dataclass(frozen=True)
class WeekDay:
    day: date
    is_today: bool
    # Office hours of that day, e.g. ((09:00, 14:00),); empty when the office is closed.
    office_hours: tuple[tuple[time, time], ...]


@dataclass(frozen=True)
class WeekSlot:
    day: date
    hour: int
    is_office_hours: bool
    entries: list[CalendarEntry]


@dataclass(frozen=True)
class WeekRow:
    hour: int
    slots: list[WeekSlot]


@dataclass(frozen=True)
class Week:
    monday: date
    days: list[WeekDay]
    rows: list[WeekRow]

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def parameter(self) -> str:
        return week_parameter(self.monday)

    @property
    def previous(self) -> str:
        return week_parameter(self.monday - timedelta(days=7))

    @property
    def next(self) -> str:
        return week_parameter(self.monday + timedelta(days=7))


@dataclass(frozen=True)
class MonthDay:
    day: date
    in_month: bool
    is_today: bool
    entries: list[CalendarEntry]
    more: int

    @property
    def week(self) -> str:
        return week_parameter(self.day)


@dataclass(frozen=True)
class Month:
    first: date
    weeks: list[list[MonthDay]]

    @property
    def parameter(self) -> str:
        return month_parameter(self.first)

    @property
    def previous(self) -> str:
        return month_parameter((self.first - timedelta(days=1)).replace(day=1))

    @property
    def next(self) -> str:
        return month_parameter((self.first + timedelta(days=31)).replace(day=1))


# --- Periods from the address ---------------------------------------------------------------------


def local_today() -> date:
    return timezone.localdate()


def week_parameter(day: date) -> str:
    """The ISO week holding `day`, as the address writes it: 2026-W48."""
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(value: str | None, *, today: date) -> date:
    """The Monday of the week `?week=2026-W48` names; this week's for a missing or impossible one."""
    match = _WEEK_PARAMETER.match(value or "")
    if match:
        try:
            return date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            pass
    return today - timedelta(days=today.weekday())


def month_parameter(first: date) -> str:
    return f"{first.year:04d}-{first.month:02d}"


def month_first(value: str | None, *, today: date) -> date:
    """The first day of the month `?month=2026-11` names; this month's for a missing or impossible one."""
    match = _MONTH_PARAMETER.match(value or "")
    if match:
        try:
            return date(int(match[1]), int(match[2]), 1)
        except ValueError:
            pass
    return today.replace(day=1)


def channel_ids_from(values: list[str]) -> tuple[int, ...]:
    """The channel filter from the address (`?channel=3&channel=5`); anything not a number is ignored."""
    return tuple(sorted({int(value) for value in values if value.isdigit()}))


# --- Reads ----------------------------------------------------------------------------------------


def channel_color(channel_id: int) -> int:
    return channel_id % PALETTE_SIZE


def calendar_entry(delivery: Delivery) -> CalendarEntry:
    return CalendarEntry(
        delivery=delivery, color=channel_color(delivery.channel_id), movable=delivery.state in MOVABLE_STATES
    )


def channel_options(*, selected: tuple[int, ...]) -> list[ChannelOption]:
    """Every channel for the filter, with its colour. One query."""
    return [
        ChannelOption(channel=channel, color=channel_color(channel.pk), selected=channel.pk in selected)
        for channel in Channel.objects.order_by("network", "display_name", "id")
    ]


def local_midnight(day: date) -> datetime:
    # Midnight exists on every day in Europe/Madrid (clocks change at 02:00 and 03:00).
    return datetime.combine(day, time(0), tzinfo=timezone.get_current_timezone())


def deliveries_between(*, first: date, last: date, channel_ids: tuple[int, ...] = ()) -> list[Delivery]:
    """Deliveries (cancelled ones left out) from local midnight of `first` to the end of `last`, in
    time order, with their channel. One query."""
    deliveries = (
        Delivery.objects.filter(
            scheduled_at__gte=local_midnight(first), scheduled_at__lt=local_midnight(last + timedelta(days=1))
        )
        .exclude(state=DeliveryState.CANCELLED)
        .select_related("channel")
        .order_by("scheduled_at", "id")
    )
    if channel_ids:
        deliveries = deliveries.filter(channel_id__in=channel_ids)
    return list(deliveries)


def _by_local_hour(deliveries: list[Delivery]) -> dict[tuple[date, int], list[CalendarEntry]]:
    slots: dict[tuple[date, int], list[CalendarEntry]] = {}
    for delivery in deliveries:
        local = timezone.localtime(delivery.scheduled_at)
        slots.setdefault((local.date(), local.hour), []).append(calendar_entry(delivery))
    return slots


def _has_office_hours(calendar: BusinessCalendar, day: date, hour: int) -> bool:
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time(hour), tzinfo=tz)
    end = (
        local_midnight(day + timedelta(days=1))
        if hour == 23
        else datetime.combine(day, time(hour + 1), tzinfo=tz)
    )
    return start < end and calendar.business_seconds_between(start, end) > 0


def week_calendar(
    *, monday: date, calendar: BusinessCalendar, today: date, channel_ids: tuple[int, ...] = ()
) -> Week:
    """The seven days from `monday`, hour by hour, each hour with its deliveries and whether the
    office works in it. One query for the deliveries, whatever their number."""
    days = [monday + timedelta(days=offset) for offset in range(7)]
    slots = _by_local_hour(deliveries_between(first=days[0], last=days[-1], channel_ids=channel_ids))
    rows = [
        WeekRow(
            hour=hour,
            slots=[
                WeekSlot(
                    day=day,
                    hour=hour,
                    is_office_hours=_has_office_hours(calendar, day, hour),
                    entries=slots.get((day, hour), []),
                )
                for day in days
            ],
        )
        for hour in range(24)
    ]
    week_days = [
        WeekDay(
            day=day,
            is_today=day == today,
            office_hours=() if calendar.is_closed(day) else calendar.weekly_hours[day.weekday()],
        )
        for day in days
    ]
    return Week(monday=monday, days=week_days, rows=rows)


def month_calendar(*, first: date, today: date, channel_ids: tuple[int, ...] = ()) -> Month:
    """The weeks (Monday to Sunday) that hold the month's days, each day with its first deliveries
    and how many more it has. One query."""
    start = first - timedelta(days=first.weekday())
    last_of_month = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    last = last_of_month + timedelta(days=6 - last_of_month.weekday())
    by_day: dict[date, list[CalendarEntry]] = {}
    for delivery in deliveries_between(first=start, last=last, channel_ids=channel_ids):
        by_day.setdefault(timezone.localdate(delivery.scheduled_at), []).append(calendar_entry(delivery))
    days = [start + timedelta(days=offset) for offset in range((last - start).days + 1)]
    month_days = [
        MonthDay(
            day=day,
            in_month=day.month == first.month,
            is_today=day == today,
            entries=by_day.get(day, [])[:MONTH_DAY_SHOWN],
            more=max(0, len(by_day.get(day, [])) - MONTH_DAY_SHOWN),
        )
        for day in days
    ]
    return Month(first=first, weeks=[month_days[i : i + 7] for i in range(0, len(month_days), 7)])


def upcoming_page(
    *,
    today: date,
    channel_ids: tuple[int, ...] = (),
    echoes_only: bool = False,
    state: str = "",
    page: int | str = 1,
) -> Page:
    """Deliveries from the start of today on, in time order, with their channel; cancelled ones only
    when asked for by state. Two queries (the count and the page)."""
    deliveries = Delivery.objects.filter(scheduled_at__gte=local_midnight(today)).select_related("channel")
    if state in DeliveryState.values:
        deliveries = deliveries.filter(state=state)
    else:
        deliveries = deliveries.exclude(state=DeliveryState.CANCELLED)
    if channel_ids:
        deliveries = deliveries.filter(channel_id__in=channel_ids)
    if echoes_only:
        deliveries = deliveries.filter(is_echo=True)
    return Paginator(deliveries.order_by("scheduled_at", "id"), LIST_PAGE_SIZE).get_page(page)


# --- The iCalendar feed ---------------------------------------------------------------------------


def feed_deliveries(*, now: datetime) -> QuerySet[Delivery]:
    """What the feed lists: deliveries going out or gone out, two weeks back to three months ahead."""
    return (
        Delivery.objects.filter(
            state__in=FEED_STATES, scheduled_at__gte=now - FEED_PAST, scheduled_at__lt=now + FEED_AHEAD
        )
        .select_related("channel", "post")
        .order_by("scheduled_at", "id")
    )


def feed_event(delivery: Delivery, *, host: str) -> Event:
    """One delivery as a VEVENT: the desk's own post only (no citizen's words ever go in the feed)."""
    one_line = " ".join(delivery.text.split())
    url = delivery.url or delivery.post.link
    return Event(
        uid=f"delivery-{delivery.pk}@{host}",
        start=delivery.scheduled_at,
        end=delivery.scheduled_at + FEED_EVENT_LENGTH,
        summary=f"[{delivery.channel}] {Truncator(one_line).chars(FEED_SUMMARY_CHARACTERS)}",
        description=f"{delivery.text}\n\n{url}" if url else delivery.text,
        url=url,
        last_modified=delivery.updated_at,
    )


def feed_token_of(user) -> CalendarFeedToken | None:
    return CalendarFeedToken.objects.filter(user=user).first()


def feed_owner(*, token: str):
    """The user whose feed address carries `token`, or None: one equality match on the token's
    unique index (tokens carry 256 random bits, so there is nothing to learn from guessing)."""
    found = CalendarFeedToken.objects.select_related("user").filter(token=token).first()
    return found.user if found is not None else None


def calendar_feed_token_renew(*, user) -> CalendarFeedToken:
    """Give `user` a new feed address; the old one stops working at once."""
    feed_token, _created = CalendarFeedToken.objects.update_or_create(
        user=user, defaults={"token": secrets.token_urlsafe(32), "created_at": timezone.now()}
    )
    return feed_token
