"""Office hours: when the desk is working, and how much working time lies between two moments.

``BusinessCalendar`` is pure and immutable: weekly intervals of local wall-clock time, a predicate for
days the office is closed, and a time zone. ``business_calendar()`` builds the one in force from the
database and the settings.

Conventions every method follows:

- Inputs must be aware datetimes (any time zone); a naive one raises ``NaiveDatetimeError``.
  Outputs are aware datetimes in UTC, so subtracting two of them always gives real elapsed time
  (Python subtracts two datetimes sharing a zoneinfo zone by wall clock, which is wrong across DST).
- Working time is a union of half-open windows ``[opening, closing)``: the opening instant is
  working time, the closing instant is not.
- An interval's local times become instants on each date by "the first moment the office clock
  reads that time": a time repeated when clocks go back counts at its first occurrence, and a time
  skipped when clocks go forward counts from the moment the clock jumps past it. So 01:00–04:00 on
  the spring-forward day lasts two real hours, on the fall-back day four, and an interval lying
  wholly inside the skipped hour is empty that day.
- Searches forward in time (``next_working_start``, ``add_business_time``) give up and return None
  after ``MAX_IDLE_DAYS`` consecutive days without working time, so an empty or always-closed
  calendar answers at once instead of looping.
"""

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings

from socialdesk.models import ClosedDay, WorkingInterval

# A closure longer than a year is not a closure: treat it as "the office never opens".
MAX_IDLE_DAYS = 366
# Days whose windows are remembered per calendar: three years of reports plus slack.
_DAY_CACHE_SIZE = 2048

Window = tuple[datetime, datetime]


class NaiveDatetimeError(ValueError):
    """A naive datetime reached the calendar: it cannot know which moment that is."""


def _never_closed(day: date) -> bool:
    return False


class BusinessCalendar:
    """Weekly office hours in one time zone, minus closed days. Immutable; safe to share."""

    __slots__ = ("_is_closed", "_tz", "_weekly", "_windows_on")

    def __init__(
        self,
        *,
        intervals: Iterable[tuple[int, time, time]],
        tz: tzinfo,
        is_closed: Callable[[date], bool] = _never_closed,
    ) -> None:
        """``intervals`` are ``(weekday, starts_at, ends_at)`` with Monday = 0 and naive local times,
        ``starts_at < ends_at``; overlapping or touching intervals of a weekday are merged.
        ``is_closed(day)`` says whether the office is closed on that local date."""
        weekly: list[list[tuple[time, time]]] = [[] for _ in range(7)]
        for weekday, starts_at, ends_at in intervals:
            if not 0 <= weekday <= 6:
                raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {weekday!r}")
            if starts_at.tzinfo is not None or ends_at.tzinfo is not None:
                raise ValueError("working intervals are local wall-clock times and carry no tzinfo")
            if not starts_at < ends_at:
                raise ValueError(f"a working interval must start before it ends: {starts_at}–{ends_at}")
            weekly[weekday].append((starts_at, ends_at))
        self._weekly = tuple(_merge(sorted(day)) for day in weekly)
        self._tz = tz
        self._is_closed = is_closed
        self._windows_on = lru_cache(maxsize=_DAY_CACHE_SIZE)(self._compute_windows_on)

    @property
    def tz(self) -> tzinfo:
        return self._tz

    @property
    def weekly_hours(self) -> tuple[tuple[tuple[time, time], ...], ...]:
        """Seven tuples (Monday first) of merged ``(starts_at, ends_at)`` local times."""
        return self._weekly

    def is_closed(self, day: date) -> bool:
        return self._is_closed(day)

    def is_working_time(self, t: datetime) -> bool:
        t = _as_utc(t)
        return any(start <= t < end for start, end in self._windows_on(self._local_date(t)))

    def next_working_start(self, t: datetime) -> datetime | None:
        """The earliest working instant at or after ``t``: ``t`` itself when the office is open at
        ``t``, otherwise the next opening. None when the office does not open within
        ``MAX_IDLE_DAYS`` days."""
        return next((start for start, _end in self._windows_from(_as_utc(t))), None)

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Exact working time inside ``[a, b)``; ``a`` must not be after ``b``."""
        return sum((end - start for start, end in self._windows_between(a, b)), timedelta(0))

    def business_seconds_between(self, a: datetime, b: datetime) -> float:
        """Working seconds inside ``[a, b)``; ``a`` must not be after ``b``."""
        return self.business_time_between(a, b).total_seconds()

    def off_hours_windows(self, a: datetime, b: datetime) -> list[Window]:
        """The maximal stretches of ``[a, b)`` outside working time, in order. Together with the
        working windows they cover ``[a, b)`` exactly."""
        cursor = _as_utc(a)
        off: list[Window] = []
        for start, end in self._windows_between(a, b):
            if start > cursor:
                off.append((cursor, start))
            cursor = end
        b = _as_utc(b)
        if cursor < b:
            off.append((cursor, b))
        return off

    def add_business_time(self, t: datetime, duration: timedelta) -> datetime | None:
        """The earliest instant ``u`` with ``business_time_between(t, u) == duration`` — a due time
        that falls exactly on a closing time is that closing time, not the next opening. None when
        the office stops opening (see ``MAX_IDLE_DAYS``) before the duration is used up."""
        if duration < timedelta(0):
            raise ValueError(f"cannot add a negative working time: {duration}")
        t = _as_utc(t)
        if not duration:
            return t
        remaining = duration
        for start, end in self._windows_from(t):
            if remaining <= end - start:
                return start + remaining
            remaining -= end - start
        return None

    def add_business_seconds(self, t: datetime, seconds: float) -> datetime | None:
        """``add_business_time`` with the duration in seconds."""
        return self.add_business_time(t, timedelta(seconds=seconds))

    # --- Windows -----------------------------------------------------------------------------

    def _local_date(self, t: datetime) -> date:
        return t.astimezone(self._tz).date()

    def _compute_windows_on(self, day: date) -> tuple[Window, ...]:
        """The day's working windows as UTC instants, without the ones a skipped hour empties.
        Two may touch (01:00–02:00 and 03:00–04:00 on the spring-forward day); callers treat
        touching windows as one stretch."""
        hours = self._weekly[day.weekday()]
        if not hours or self._is_closed(day):
            return ()
        windows = (
            (_first_reading(day, start, self._tz), _first_reading(day, end, self._tz)) for start, end in hours
        )
        return tuple((start, end) for start, end in windows if start < end)

    def _windows_between(self, a: datetime, b: datetime) -> Iterator[Window]:
        """Working windows clipped to ``[a, b)``, in order, none empty."""
        a, b = _as_utc(a), _as_utc(b)
        if b < a:
            raise ValueError(f"the span ends before it starts: {a.isoformat()} > {b.isoformat()}")
        day, last_day = self._local_date(a), self._local_date(b)
        while day <= last_day:
            for start, end in self._windows_on(day):
                start, end = max(start, a), min(end, b)
                if start < end:
                    yield start, end
            day += timedelta(days=1)

    def _windows_from(self, t: datetime) -> Iterator[Window]:
        """Working windows from ``t`` on, the first clipped to start at ``t``; stops after
        ``MAX_IDLE_DAYS`` consecutive days without any."""
        if not any(self._weekly):
            return
        day, idle_days = self._local_date(t), 0
        while idle_days < MAX_IDLE_DAYS:
            windows = [(max(start, t), end) for start, end in self._windows_on(day) if end > t]
            idle_days = 0 if windows else idle_days + 1
            yield from windows
            day += timedelta(days=1)


def _as_utc(t: datetime) -> datetime:
    if not isinstance(t, datetime):
        raise TypeError(f"expected an aware datetime, got {type(t).__name__}")
    if t.utcoffset() is None:
        raise NaiveDatetimeError(
            f"naive datetime {t.isoformat()}: give an aware one (django.utils.timezone.now(), or attach tzinfo)"
        )
    return t.astimezone(UTC)


def _merge(intervals: list[tuple[time, time]]) -> tuple[tuple[time, time], ...]:
    merged: list[tuple[time, time]] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def _first_reading(day: date, wall: time, tz: tzinfo) -> datetime:
    """The first instant (UTC) at which a clock in ``tz`` reads ``wall`` on ``day``; for a reading
    the clock skips, the instant it jumps past it."""
    local = datetime.combine(day, wall, tzinfo=tz).replace(fold=0)  # the first of a repeated reading
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    # Skipped: fold=1 reads the wall time with the offset after the jump, which lands before the
    # jump; fold=0 lands after it. The jump itself is at a whole second between the two.
    target = local.replace(tzinfo=None)
    before = int(local.replace(fold=1).astimezone(UTC).timestamp()) - 1
    after = int(instant.timestamp()) + 1
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, tz).replace(tzinfo=None) >= target:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)


# --- From the database ---------------------------------------------------------------------


@cache
def public_holidays(country: str, subdivision: str) -> holidays.HolidayBase:
    # Fixed rules, so one object per process; it fills in each year the first time it is asked.
    return holidays.country_holidays(country, subdiv=subdivision or None)


def business_calendar() -> BusinessCalendar:
    """The calendar in force now: office hours and closed days from the database, public holidays
    of ``SOCIALDESK_HOLIDAYS_COUNTRY``/``SOCIALDESK_HOLIDAYS_SUBDIVISION``, in
    ``SOCIALDESK_BUSINESS_TIME_ZONE``.

    Two small queries and nothing kept between calls, so a day closed in the admin counts at once
    everywhere. Build it once per request or task and pass it on rather than calling it per row.
    """
    official_holidays = public_holidays(
        settings.SOCIALDESK_HOLIDAYS_COUNTRY, settings.SOCIALDESK_HOLIDAYS_SUBDIVISION
    )
    closed_days = frozenset(ClosedDay.objects.values_list("date", flat=True))

    def is_closed(day: date) -> bool:
        return day in closed_days or day in official_holidays

    return BusinessCalendar(
        intervals=WorkingInterval.objects.values_list("weekday", "starts_at", "ends_at"),
        tz=ZoneInfo(settings.SOCIALDESK_BUSINESS_TIME_ZONE),
        is_closed=is_closed,
    )
