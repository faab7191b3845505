"""The business calendar: office hours, holidays, closed days and the clock changes of Europe/Madrid."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from socialdesk.business_calendar import (
    MAX_IDLE_DAYS,
    BusinessCalendar,
    NaiveDatetimeError,
    business_calendar,
)
from socialdesk.models import ClosedDay, WorkingInterval

MADRID = ZoneInfo("Europe/Madrid")
SPRING_FORWARD = date(2026, 3, 29)  # 02:00 CET -> 03:00 CEST
FALL_BACK = date(2026, 10, 25)  # 03:00 CEST -> 02:00 CET

# Mornings every weekday, two afternoons: the organisation's usual hours.
OFFICE = [
    *[(weekday, time(8), time(15)) for weekday in range(5)],
    (1, time(16), time(18, 30)),
    (3, time(16), time(18, 30)),
]


def madrid(*args, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=MADRID, fold=fold)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


@pytest.fixture
def office() -> BusinessCalendar:
    return BusinessCalendar(intervals=OFFICE, tz=MADRID)


# --- Examples -------------------------------------------------------------------------------------


def test_friday_afternoon_message_is_due_monday_at_opening_plus_the_hour(office):
    friday = madrid(2026, 5, 8, 16, 30)
    assert office.add_business_seconds(friday, 3600) == madrid(2026, 5, 11, 9, 0)


def test_time_left_on_friday_is_used_before_the_weekend():
    calendar = BusinessCalendar(intervals=[(4, time(8), time(17))], tz=MADRID)
    # 30 minutes on Friday, the other 30 when the office opens the next Friday (the only open day).
    assert calendar.add_business_seconds(madrid(2026, 5, 8, 16, 30), 3600) == madrid(2026, 5, 15, 8, 30)


def test_due_time_on_a_closing_time_is_that_closing_time(office):
    assert office.add_business_time(madrid(2026, 5, 8, 14, 0), hours(1)) == madrid(2026, 5, 8, 15, 0)


def test_several_intervals_a_day(office):
    # Tuesday 12 May 2026: 08:00–15:00 and 16:00–18:30.
    assert office.business_time_between(madrid(2026, 5, 12), madrid(2026, 5, 13)) == hours(9.5)
    assert not office.is_working_time(madrid(2026, 5, 12, 15, 30))
    assert office.next_working_start(madrid(2026, 5, 12, 15, 30)) == madrid(2026, 5, 12, 16, 0)
    assert office.off_hours_windows(madrid(2026, 5, 12), madrid(2026, 5, 13)) == [
        (madrid(2026, 5, 12, 0, 0), madrid(2026, 5, 12, 8, 0)),
        (madrid(2026, 5, 12, 15, 0), madrid(2026, 5, 12, 16, 0)),
        (madrid(2026, 5, 12, 18, 30), madrid(2026, 5, 13, 0, 0)),
    ]


def test_opening_instant_is_working_time_and_closing_instant_is_not(office):
    assert office.is_working_time(madrid(2026, 5, 11, 8, 0))
    assert not office.is_working_time(madrid(2026, 5, 11, 15, 0))
    assert office.is_working_time(madrid(2026, 5, 11, 14, 59, 59, 999999))


def test_next_working_start_inside_working_time_is_now(office):
    now = madrid(2026, 5, 11, 10, 17, 3)
    assert office.next_working_start(now) == now


def test_outputs_are_utc_and_inputs_may_be_in_any_zone(office):
    start = office.next_working_start(datetime(2026, 5, 9, 12, tzinfo=ZoneInfo("America/New_York")))
    assert start == madrid(2026, 5, 11, 8, 0)
    assert start.tzinfo is UTC


@pytest.mark.parametrize(
    "call",
    [
        lambda c, t: c.is_working_time(t),
        lambda c, t: c.next_working_start(t),
        lambda c, t: c.business_seconds_between(t, t),
        lambda c, t: c.off_hours_windows(t, t),
        lambda c, t: c.add_business_seconds(t, 60),
    ],
)
def test_naive_datetimes_are_refused(office, call):
    with pytest.raises(NaiveDatetimeError, match="naive datetime 2026-05-11T10:00:00"):
        call(office, datetime(2026, 5, 11, 10))  # noqa: DTZ001


def test_reversed_span_and_negative_duration_are_refused(office):
    with pytest.raises(ValueError, match="ends before it starts"):
        office.business_seconds_between(madrid(2026, 5, 12), madrid(2026, 5, 11))
    with pytest.raises(ValueError, match="ends before it starts"):
        office.off_hours_windows(madrid(2026, 5, 12), madrid(2026, 5, 11))
    with pytest.raises(ValueError, match="negative"):
        office.add_business_seconds(madrid(2026, 5, 12), -1)


@pytest.mark.parametrize(
    ("interval", "message"),
    [
        ((7, time(8), time(9)), "weekday"),
        ((0, time(9), time(9)), "start before it ends"),
        ((0, time(9), time(8)), "start before it ends"),
        ((0, time(8, tzinfo=UTC), time(9)), "no tzinfo"),
    ],
)
def test_bad_intervals_are_refused(interval, message):
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(intervals=[interval], tz=MADRID)


def test_overlapping_and_touching_intervals_merge():
    calendar = BusinessCalendar(
        intervals=[(0, time(9), time(12)), (0, time(8), time(10)), (0, time(12), time(13))], tz=MADRID
    )
    assert calendar.weekly_hours[0] == ((time(8), time(13)),)
    assert calendar.off_hours_windows(madrid(2026, 5, 11, 7), madrid(2026, 5, 11, 14)) == [
        (madrid(2026, 5, 11, 7), madrid(2026, 5, 11, 8)),
        (madrid(2026, 5, 11, 13), madrid(2026, 5, 11, 14)),
    ]


def test_empty_calendar_answers_at_once():
    calendar = BusinessCalendar(intervals=[], tz=MADRID)
    t = madrid(2026, 5, 11, 10)
    assert not calendar.is_working_time(t)
    assert calendar.next_working_start(t) is None
    assert calendar.add_business_seconds(t, 60) is None
    assert calendar.add_business_seconds(t, 0) == t
    assert calendar.business_seconds_between(t, t + hours(24 * 365 * 3)) == 0
    assert calendar.off_hours_windows(t, t + hours(1)) == [(t, t + hours(1))]


def test_calendar_closed_every_day_gives_up_after_the_idle_limit():
    asked: list[date] = []

    def always_closed(day: date) -> bool:
        asked.append(day)
        return True

    calendar = BusinessCalendar(intervals=OFFICE, tz=MADRID, is_closed=always_closed)
    assert calendar.next_working_start(madrid(2026, 5, 11, 10)) is None
    assert calendar.add_business_seconds(madrid(2026, 5, 11, 10), 60) is None
    # Weekends have no hours, so they are not even asked about; each working day is asked once.
    assert 0 < len(asked) <= MAX_IDLE_DAYS
    assert len(set(asked)) == len(asked)


def test_closure_just_under_the_idle_limit_is_waited_out():
    reopening = date(2027, 5, 10)
    calendar = BusinessCalendar(intervals=OFFICE, tz=MADRID, is_closed=lambda day: day < reopening)
    assert calendar.next_working_start(madrid(2026, 5, 11, 10)) == madrid(2027, 5, 10, 8)


# --- Clock changes (2026: 29 March and 25 October) ----------------------------------------------


def test_night_shift_across_spring_forward_counts_real_hours():
    calendar = BusinessCalendar(intervals=[(6, time(1), time(4))], tz=MADRID)
    day = (madrid(2026, 3, 29), madrid(2026, 3, 30))
    assert calendar.business_time_between(*day) == hours(2)
    assert calendar.off_hours_windows(*day) == [
        (madrid(2026, 3, 29, 0), madrid(2026, 3, 29, 1)),
        (madrid(2026, 3, 29, 4), madrid(2026, 3, 30, 0)),
    ]
    # The whole day is 23 real hours long.
    assert day[1].astimezone(UTC) - day[0].astimezone(UTC) == hours(23)


def test_night_shift_across_fall_back_counts_real_hours():
    calendar = BusinessCalendar(intervals=[(6, time(1), time(4))], tz=MADRID)
    assert calendar.business_time_between(madrid(2026, 10, 25), madrid(2026, 10, 26)) == hours(4)
    assert calendar.is_working_time(madrid(2026, 10, 25, 2, 30, fold=0))
    assert calendar.is_working_time(madrid(2026, 10, 25, 2, 30, fold=1))


def test_interval_inside_the_skipped_hour_is_empty_that_day_only():
    calendar = BusinessCalendar(intervals=[(6, time(2, 15), time(2, 45))], tz=MADRID)
    assert calendar.business_time_between(madrid(2026, 3, 29), madrid(2026, 3, 30)) == timedelta(0)
    assert calendar.next_working_start(madrid(2026, 3, 29)) == madrid(2026, 4, 5, 2, 15)
    assert calendar.business_time_between(madrid(2026, 4, 5), madrid(2026, 4, 6)) == timedelta(minutes=30)


def test_opening_in_the_skipped_hour_opens_when_the_clock_jumps():
    calendar = BusinessCalendar(intervals=[(6, time(2, 30), time(5))], tz=MADRID)
    jump = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert calendar.next_working_start(madrid(2026, 3, 29)) == jump
    assert calendar.business_time_between(madrid(2026, 3, 29), madrid(2026, 3, 30)) == hours(2)
    assert not calendar.is_working_time(jump - timedelta(microseconds=1))


def test_intervals_either_side_of_the_skipped_hour_join():
    calendar = BusinessCalendar(intervals=[(6, time(1), time(2)), (6, time(3), time(4))], tz=MADRID)
    day = (madrid(2026, 3, 29), madrid(2026, 3, 30))
    # 01:00 CET to 04:00 CEST without a gap: the clock goes from 01:59:59 straight to 03:00.
    assert calendar.off_hours_windows(*day) == [
        (madrid(2026, 3, 29, 0), madrid(2026, 3, 29, 1)),
        (madrid(2026, 3, 29, 4), madrid(2026, 3, 30, 0)),
    ]


def test_repeated_time_counts_at_its_first_occurrence():
    calendar = BusinessCalendar(intervals=[(6, time(2, 30), time(9)), (6, time(1), time(2, 15))], tz=MADRID)
    first_2_30 = madrid(2026, 10, 25, 2, 30, fold=0)
    first_2_15 = madrid(2026, 10, 25, 2, 15, fold=0)
    assert first_2_30.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # 01:00 CEST to the first 02:15 (1 h 15 min), then the first 02:30 to 09:00 CET (7 h 30 min).
    assert calendar.business_time_between(madrid(2026, 10, 25), madrid(2026, 10, 26)) == timedelta(
        hours=8, minutes=45
    )
    assert calendar.off_hours_windows(madrid(2026, 10, 25, 1), madrid(2026, 10, 25, 10)) == [
        # Compared in UTC: Python never finds a repeated local time equal to a time in another zone.
        (first_2_15.astimezone(UTC), first_2_30.astimezone(UTC)),
        (madrid(2026, 10, 25, 9), madrid(2026, 10, 25, 10)),
    ]
    # The second 02:15 (CET) is inside the second interval: the office stays open through it.
    assert calendar.is_working_time(madrid(2026, 10, 25, 2, 15, fold=1))


def test_office_hours_keep_their_wall_clock_across_both_changes(office):
    assert office.next_working_start(madrid(2026, 3, 27, 16)) == madrid(2026, 3, 30, 8)
    assert office.next_working_start(madrid(2026, 10, 23, 16)) == madrid(2026, 10, 26, 8)
    week_of_spring = office.business_time_between(madrid(2026, 3, 23), madrid(2026, 3, 30))
    week_of_autumn = office.business_time_between(madrid(2026, 10, 19), madrid(2026, 10, 26))
    assert week_of_spring == week_of_autumn == hours(5 * 7 + 2 * 2.5)


# --- Holidays and closed days from the database -----------------------------------------------


@pytest.fixture
def office_hours(db):
    WorkingInterval.objects.bulk_create(
        WorkingInterval(weekday=w, starts_at=s, ends_at=e) for w, s, e in OFFICE
    )


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 3, 19), "San José (Comunitat Valenciana)"),
        (date(2026, 4, 6), "Easter Monday (Comunitat Valenciana)"),
        (date(2026, 6, 24), "Sant Joan (Comunitat Valenciana)"),
        (date(2026, 10, 9), "Dia de la Comunitat Valenciana"),
        (date(2026, 10, 12), "Fiesta Nacional"),
        (date(2026, 12, 25), "Christmas"),
        (date(2027, 1, 6), "Epiphany"),
    ],
)
def test_public_holidays_of_spain_and_the_comunitat_valenciana_are_closed(office_hours, day, name):
    calendar = business_calendar()
    start = datetime.combine(day, time(0), tzinfo=MADRID)
    assert calendar.business_seconds_between(start, start + timedelta(days=1)) == 0, name
    assert not calendar.is_working_time(datetime.combine(day, time(10), tzinfo=MADRID)), name


def test_an_ordinary_working_day_is_open(office_hours):
    assert business_calendar().is_working_time(madrid(2026, 3, 18, 10))


def test_holidays_follow_the_configured_subdivision(office_hours, settings):
    settings.SOCIALDESK_HOLIDAYS_SUBDIVISION = (
        "MD"  # Comunidad de Madrid: no San José in 2026, but Maundy Thursday
    )
    calendar = business_calendar()
    assert calendar.is_working_time(madrid(2026, 3, 19, 10))
    assert not calendar.is_working_time(madrid(2026, 4, 2, 10))


def test_a_closed_day_counts_as_soon_as_it_is_saved(office_hours):
    assert business_calendar().is_working_time(madrid(2026, 7, 15, 10))
    ClosedDay.objects.create(date=date(2026, 7, 15), name="Fiesta local")
    calendar = business_calendar()
    assert not calendar.is_working_time(madrid(2026, 7, 15, 10))
    assert calendar.next_working_start(madrid(2026, 7, 15, 10)) == madrid(2026, 7, 16, 8)


def test_christmas_week_sla(office_hours):
    # Thursday 24 December 2026 at 18:00, a 2-hour target: 30 minutes that evening, Christmas (Friday)
    # and the weekend are closed, so the rest is due Monday 28 December at 09:30.
    calendar = business_calendar()
    assert calendar.add_business_time(madrid(2026, 12, 24, 18, 0), hours(2)) == madrid(2026, 12, 28, 9, 30)


def test_time_zone_comes_from_the_settings(office_hours, settings):
    settings.SOCIALDESK_BUSINESS_TIME_ZONE = "Atlantic/Canary"
    calendar = business_calendar()
    assert calendar.tz == ZoneInfo("Atlantic/Canary")
    assert calendar.next_working_start(madrid(2026, 5, 11, 7)) == madrid(2026, 5, 11, 9)


def test_calendar_is_built_with_two_queries(office_hours, django_assert_num_queries):
    with django_assert_num_queries(2):
        calendar = business_calendar()
    with django_assert_num_queries(0):
        calendar.business_seconds_between(madrid(2025, 1, 1), madrid(2028, 1, 1))


# --- Properties ---------------------------------------------------------------------------------

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _instants_near(day: date, spread_hours: int) -> st.SearchStrategy[datetime]:
    centre = datetime.combine(day, time(2), tzinfo=MADRID).astimezone(UTC)
    return st.integers(-spread_hours * 3600, spread_hours * 3600).map(lambda s: centre + timedelta(seconds=s))


# Whole seconds, weighted towards the two clock changes of 2026, the rest anywhere in 2025–2027.
instants = st.one_of(
    _instants_near(SPRING_FORWARD, 60),
    _instants_near(FALL_BACK, 60),
    st.integers(-366 * 86400, 2 * 366 * 86400).map(lambda s: EPOCH + timedelta(seconds=s)),
)

# Local times on a quarter-hour grid, often inside or around the hour the clocks change.
wall_times = st.one_of(
    st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
    st.builds(time, st.integers(1, 3), st.integers(0, 59)),
)


@st.composite
def intervals(draw) -> tuple[int, time, time]:
    start, end = sorted(draw(st.lists(wall_times, min_size=2, max_size=2, unique=True)))
    # Sundays are where the clocks change, so they are drawn more often.
    return draw(st.one_of(st.just(6), st.integers(0, 6))), start, end


@st.composite
def calendars(draw) -> BusinessCalendar:
    closed = frozenset(draw(st.lists(st.dates(date(2025, 1, 1), date(2027, 12, 31)), max_size=40)))
    if draw(st.integers(0, 3)) == 0:
        closed |= {SPRING_FORWARD, FALL_BACK}
    return BusinessCalendar(
        intervals=draw(st.lists(intervals(), max_size=8)), tz=MADRID, is_closed=closed.__contains__
    )


# Each example builds a fresh calendar over up to three years: a few milliseconds apiece.
thorough = hypothesis_settings(max_examples=200, deadline=None)


def in_order(count: int) -> st.SearchStrategy[list[datetime]]:
    return st.lists(instants, min_size=count, max_size=count).map(sorted)


@thorough
@given(calendars(), in_order(3))
def test_business_time_is_additive(calendar, moments):
    a, b, c = moments
    assert calendar.business_time_between(a, b) + calendar.business_time_between(
        b, c
    ) == calendar.business_time_between(a, c)


@thorough
@given(calendars(), in_order(2))
def test_business_time_is_bounded_by_elapsed_time(calendar, moments):
    a, b = moments
    assert timedelta(0) <= calendar.business_time_between(a, b) <= b - a
    assert calendar.business_seconds_between(a, b) == calendar.business_time_between(a, b).total_seconds()


@thorough
@given(calendars(), in_order(2), st.integers(min_value=0))
def test_off_hours_and_working_time_partition_the_span(calendar, moments, seed):
    a, b = moments
    windows = calendar.off_hours_windows(a, b)
    off = sum((end - start for start, end in windows), timedelta(0))
    assert off + calendar.business_time_between(a, b) == b - a
    for start, end in windows:
        assert a <= start < end <= b
        assert calendar.business_time_between(start, end) == timedelta(0)
        inside = start + timedelta(microseconds=seed % ((end - start) // timedelta(microseconds=1)))
        for moment in (start, inside, end - timedelta(microseconds=1)):
            assert not calendar.is_working_time(moment)
    for (_start, end), (following_start, _end) in pairwise(windows):
        # Maximal: working time separates two windows.
        assert end < following_start
        assert calendar.is_working_time(end)


@thorough
@given(calendars(), instants)
def test_next_working_start_is_the_first_working_moment(calendar, t):
    start = calendar.next_working_start(t)
    if start is None:
        assert calendar.business_time_between(t, t + timedelta(days=MAX_IDLE_DAYS - 2)) == timedelta(0)
        return
    assert start >= t
    assert calendar.is_working_time(start)
    assert calendar.business_time_between(t, start) == timedelta(0)
    if start > t:
        assert not calendar.is_working_time(start - timedelta(microseconds=1))
        assert calendar.off_hours_windows(t, start) == [(t, start)]


@thorough
@given(calendars(), instants, st.integers(0, 40 * 3600).map(lambda s: timedelta(seconds=s)))
def test_add_business_time_inverts_business_time(calendar, t, duration):
    due = calendar.add_business_time(t, duration)
    if due is None:
        assert duration > timedelta(0)
        return
    assert calendar.business_time_between(t, due) == duration
    # Earliest such moment: a moment earlier would leave working time still to do.
    if duration:
        assert calendar.business_time_between(t, due - timedelta(microseconds=1)) < duration


@thorough
@given(calendars(), in_order(2))
def test_business_time_then_add_lands_at_or_before_the_end(calendar, moments):
    a, b = moments
    spent = calendar.business_time_between(a, b)
    due = calendar.add_business_time(a, spent)
    assert due is not None
    assert a <= due <= b
    assert calendar.business_time_between(due, b) == timedelta(0)


def _working_minutes_by_watching_the_clock(calendar: BusinessCalendar, a: datetime, b: datetime) -> int:
    """An independent reading of the rule, minute by minute: on each local day the office is open
    while the highest reading the clock has shown so far that day lies inside an interval."""
    minute = timedelta(minutes=1)
    u = a - timedelta(hours=26)  # start on an earlier day so the running maximum is right at a
    day, highest, count = None, None, 0
    while u < b:
        local = u.astimezone(MADRID)
        if local.date() != day:
            day, highest = local.date(), local.time()
        highest = max(highest, local.time())
        if u >= a and not calendar.is_closed(day):
            count += any(s <= highest < e for s, e in calendar.weekly_hours[day.weekday()])
        u += minute
    return count


minute_instants = instants.map(lambda t: t.replace(second=0))


@hypothesis_settings(max_examples=100, deadline=None)
@given(calendars(), minute_instants, st.integers(0, 3 * 24 * 60))
@example(
    BusinessCalendar(intervals=[(6, time(1), time(2, 30)), (6, time(2, 45), time(4))], tz=MADRID),
    datetime(2026, 10, 24, 22, tzinfo=UTC),
    24 * 60,
)
@example(
    BusinessCalendar(intervals=[(6, time(1, 30), time(2, 30)), (6, time(2, 45), time(3, 15))], tz=MADRID),
    datetime(2026, 3, 28, 22, tzinfo=UTC),
    24 * 60,
)
def test_business_time_matches_watching_the_clock(calendar, a, length_minutes):
    b = a + timedelta(minutes=length_minutes)
    assert calendar.business_time_between(a, b) == timedelta(
        minutes=_working_minutes_by_watching_the_clock(calendar, a, b)
    )


def test_three_years_of_business_seconds_are_counted_day_by_day(office):
    # 2026 (from a Thursday, 52 weeks and a day): 261 weekdays × 7 h + 52 Tuesdays and 53 Thursdays
    # × 2.5 h; no holidays in this calendar.
    assert office.business_time_between(madrid(2026, 1, 1), madrid(2027, 1, 1)) == hours(261 * 7 + 105 * 2.5)
    three_years = office.business_seconds_between(madrid(2025, 1, 1), madrid(2028, 1, 1))
    assert three_years == sum(
        office.business_seconds_between(madrid(year, 1, 1), madrid(year + 1, 1, 1))
        for year in (2025, 2026, 2027)
    )
