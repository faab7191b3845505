"""The echo planner: off-hours slots only, the gap kept, one echo per day part, best hours first, a
share exploring untried hours; across both clock changes and the Valencian holidays."""

import random
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from scheduling.echo_planner import DayPart, day_part_of, echo_slots_choose
from socialdesk.business_calendar import BusinessCalendar, public_holidays

MADRID = ZoneInfo("Europe/Madrid")
HORIZON = timedelta(days=7)
# Mornings every weekday, two afternoons: the organisation's usual hours.
OFFICE = [
    *[(weekday, time(8), time(15)) for weekday in range(5)],
    (1, time(16), time(18, 30)),
    (3, time(16), time(18, 30)),
]
VALENCIAN_HOLIDAYS = public_holidays("ES", "VC")
CALENDAR = BusinessCalendar(intervals=OFFICE, tz=MADRID, is_closed=lambda day: day in VALENCIAN_HOLIDAYS)
FLAT = [[1.0] * 24 for _ in range(7)]
TRIED = [[5] * 24 for _ in range(7)]


def madrid(*args, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=MADRID, fold=fold)


def grid(value: float, **cells: float) -> list[list[float]]:
    """A week of `value` with some cells set: grid(0.1, thu_10=0.9) (weekday prefix, local hour)."""
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    week = [[value] * 24 for _ in range(7)]
    for name, cell_value in cells.items():
        day, hour = name.split("_")
        week[days.index(day)][int(hour)] = cell_value
    return week


def plan(now: datetime, **overrides):
    arguments = {
        "windows": CALENDAR.off_hours_windows(now, now + HORIZON),
        "scores": FLAT,
        "samples": TRIED,
        "taken": [now],
        "count": 2,
        "min_gap": timedelta(hours=2),
        "exploration_share": 0.0,
        "rng": random.Random(7),
        "tz": MADRID,
        "audience": "Personas que buscan empleo",
    }
    return echo_slots_choose(**{**arguments, **overrides})


# --- Properties -------------------------------------------------------------------------------------

# Weeks around both clock changes (29 March and 25 October 2026) and around San José (19 March) and
# the Dia de la Comunitat Valenciana (9 October).
NOW = st.one_of(
    st.datetimes(min_value=datetime(2026, 3, 12), max_value=datetime(2026, 4, 2)),  # noqa: DTZ001
    st.datetimes(min_value=datetime(2026, 10, 2), max_value=datetime(2026, 10, 29)),  # noqa: DTZ001
).map(lambda naive: naive.replace(second=0, microsecond=0, tzinfo=UTC))


@st.composite
def week_grids(draw):
    rng = random.Random(draw(st.integers(0, 2**32)))
    scores = [[round(rng.random(), 2) for _ in range(24)] for _ in range(7)]
    untried_share = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    samples = [
        [0 if rng.random() < untried_share else rng.randint(1, 9) for _ in range(24)] for _ in range(7)
    ]
    return scores, samples


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    now=NOW,
    grids=week_grids(),
    taken_offsets=st.lists(st.integers(-180, 7 * 24 * 60), max_size=12),
    count=st.integers(0, 6),
    gap_minutes=st.integers(30, 8 * 60),
    exploration_share=st.floats(0, 0.5),
    seed=st.integers(0, 1000),
)
@example(
    now=datetime(2026, 3, 28, 14, tzinfo=UTC),  # the Saturday before spring-forward night
    grids=(FLAT, [[0] * 24 for _ in range(7)]),
    taken_offsets=[],
    count=6,
    gap_minutes=30,
    exploration_share=0.5,
    seed=1,
)
@example(
    now=datetime(2026, 10, 24, 14, tzinfo=UTC),  # the Saturday before fall-back night
    grids=(grid(0.1, sun_2=1.0, sun_3=1.0), TRIED),
    taken_offsets=[],
    count=6,
    gap_minutes=30,
    exploration_share=0.0,
    seed=1,
)
def test_echo_slots_keep_every_rule(now, grids, taken_offsets, count, gap_minutes, exploration_share, seed):
    scores, samples = grids
    min_gap = timedelta(minutes=gap_minutes)
    taken = [now + timedelta(minutes=offset) for offset in taken_offsets]
    slots = plan(
        now,
        scores=scores,
        samples=samples,
        taken=taken,
        count=count,
        min_gap=min_gap,
        exploration_share=exploration_share,
        rng=random.Random(seed),
    )

    assert len(slots) <= count
    assert [slot.at for slot in slots] == sorted(slot.at for slot in slots)
    for slot in slots:
        local = slot.at.astimezone(MADRID)
        assert slot.at.tzinfo is UTC
        assert now <= slot.at < now + HORIZON
        assert not CALENDAR.is_working_time(slot.at)
        assert (local.minute, local.second, local.microsecond) in {(0, 0, 0), (30, 0, 0)}
        assert local.hour >= 7, "nothing in the quiet night"
        assert all(abs(slot.at - t) >= min_gap for t in taken)
        assert slot.reason
        if slot.is_exploration:
            assert samples[local.weekday()][local.hour] == 0
    for a, b in combinations(slots, 2):
        assert abs(a.at - b.at) >= min_gap
        assert (a.at.astimezone(MADRID).date(), day_part_of(a.at.astimezone(MADRID).hour)) != (
            b.at.astimezone(MADRID).date(),
            day_part_of(b.at.astimezone(MADRID).hour),
        )


@hypothesis_settings(max_examples=100, deadline=None)
@given(now=NOW, grids=week_grids())
def test_without_exploration_the_first_echo_takes_the_best_scored_free_time(now, grids):
    scores, samples = grids
    [slot] = plan(now, scores=scores, samples=samples, taken=[], count=1, exploration_share=0.0)

    # Every half hour of the horizon outside the office and the quiet night, walked on its own.
    best = max(
        scores[local.weekday()][local.hour]
        for local in _half_hours(now, now + HORIZON)
        if local.hour >= 7 and not CALENDAR.is_working_time(local)
    )
    assert slot.score == best
    local = slot.at.astimezone(MADRID)
    assert scores[local.weekday()][local.hour] == best
    assert not slot.is_exploration


def _half_hours(start: datetime, end: datetime):
    # Europe/Madrid is a whole number of hours from UTC, so UTC half hours are local half hours.
    at = start.replace(minute=30 if start.minute > 0 else 0, second=0, microsecond=0)
    if start.minute > 30:
        at = at.replace(minute=0) + timedelta(hours=1)
    while at < end:
        if at >= start:
            yield at.astimezone(MADRID)
        at += timedelta(minutes=30)


# --- Examples -----------------------------------------------------------------------------------


def test_the_best_hour_of_the_audience_wins_with_its_reason():
    # Wednesday 13 May 2026 at 10:00, a plain week: the audience peaks on Thursday at 21:00.
    slots = plan(madrid(2026, 5, 13, 10), scores=grid(0.2, thu_21=0.82), count=1)

    assert [slot.at for slot in slots] == [madrid(2026, 5, 14, 21)]
    assert slots[0].score == 0.82
    with translation.override("en"):  # said in the language of whoever reads it
        assert slots[0].reason == "Best free hour for Personas que buscan empleo: score 0.82."


def test_equal_scores_go_to_the_earliest_free_time():
    # Flat scores: 15:00 and 15:30 are within the 2 h gap of the post, so 16:00 (evening) first,
    # then the night part from 21:00.
    slots = plan(madrid(2026, 5, 13, 14), count=2)

    assert [slot.at for slot in slots] == [madrid(2026, 5, 13, 16), madrid(2026, 5, 13, 21)]


def test_a_time_taken_on_the_channel_pushes_the_echo_away_by_the_gap():
    now = madrid(2026, 5, 13, 10)
    peak = madrid(2026, 5, 14, 21)
    [slot] = plan(
        now, scores=grid(0.2, thu_21=0.9, thu_20=0.5), taken=[now, peak + timedelta(minutes=30)], count=1
    )

    # 21:00 is half an hour from a delivery already there; 20:00 is too; the next best is 2 h away.
    assert abs(slot.at - (peak + timedelta(minutes=30))) >= timedelta(hours=2)
    assert slot.score == 0.2


def test_two_echoes_never_share_a_day_part_even_when_one_evening_scores_best():
    # Friday evening 16:00–21:00 is the only good time; the second echo goes to another part.
    slots = plan(
        madrid(2026, 5, 13, 10),
        scores=grid(0.1, fri_17=0.9, fri_18=0.9, fri_19=0.9, fri_20=0.9),
        min_gap=timedelta(minutes=30),
        count=2,
    )

    parts = {(s.at.astimezone(MADRID).date(), day_part_of(s.at.astimezone(MADRID).hour)) for s in slots}
    assert len(parts) == 2
    assert (date(2026, 5, 15), DayPart.EVENING) in parts


def test_fewer_echoes_when_the_windows_leave_no_room():
    now = madrid(2026, 5, 13, 15)
    windows = [(now, now + timedelta(hours=1))]  # one afternoon hour: one day part

    slots = plan(now, windows=windows, taken=[], min_gap=timedelta(minutes=30), count=4)

    assert len(slots) == 1


@pytest.mark.parametrize(
    ("now", "peak", "expected"),
    [
        # San José, Thursday 19 March 2026: the office is closed, so its morning is off-hours.
        (madrid(2026, 3, 18, 10), "thu_10", madrid(2026, 3, 19, 10)),
        # Dia de la Comunitat Valenciana, Friday 9 October 2026.
        (madrid(2026, 10, 8, 10), "fri_11", madrid(2026, 10, 9, 11)),
    ],
)
def test_valencian_holidays_count_as_off_hours(now, peak, expected):
    [slot] = plan(now, scores=grid(0.1, **{peak: 1.0}), count=1)

    assert slot.at == expected
    assert CALENDAR.is_working_time(expected - timedelta(days=7)), "a working morning any other week"


@pytest.mark.parametrize(
    ("now", "expected_utc"),
    [
        # Sunday 29 March 2026 (clocks go forward at 02:00): 20:00 local is 18:00 UTC (CEST).
        (madrid(2026, 3, 28, 16), datetime(2026, 3, 29, 18, tzinfo=UTC)),
        # Sunday 25 October 2026 (clocks go back at 03:00): 20:00 local is 19:00 UTC (CET).
        (madrid(2026, 10, 24, 16), datetime(2026, 10, 25, 19, tzinfo=UTC)),
    ],
)
def test_local_hours_follow_the_clock_change(now, expected_utc):
    [slot] = plan(now, scores=grid(0.1, sun_20=1.0), count=1)

    assert slot.at == expected_utc
    assert slot.at.astimezone(MADRID).hour == 20


def test_the_repeated_and_the_skipped_night_hours_are_never_used():
    # Everything off-hours, and the audience "peaks" at 02:00: the quiet night wins over the scores.
    now = madrid(2026, 10, 24, 22)
    windows = [(now, now + timedelta(days=2))]
    slots = plan(
        now, windows=windows, scores=grid(0.1, sun_2=1.0), taken=[], count=6, min_gap=timedelta(minutes=30)
    )

    assert slots
    assert all(slot.at.astimezone(MADRID).hour >= 7 for slot in slots)


def test_exploration_picks_an_untried_hour_and_says_so():
    samples = [row[:] for row in TRIED]
    samples[5][11] = 0  # nobody has posted on Saturday at 11:00
    [slot] = plan(madrid(2026, 5, 13, 10), samples=samples, count=1, exploration_share=1.0)

    local = slot.at.astimezone(MADRID)
    assert (local.weekday(), local.hour) == (5, 11)
    assert slot.is_exploration
    with translation.override("en"):
        assert slot.reason == "Exploring an untried hour for Personas que buscan empleo, so the desk learns it."


def test_without_an_untried_hour_an_exploring_echo_goes_to_the_best_time():
    [slot] = plan(madrid(2026, 5, 13, 10), scores=grid(0.1, sat_12=0.7), count=1, exploration_share=1.0)

    assert slot.at == madrid(2026, 5, 16, 12)
    assert not slot.is_exploration


def test_the_share_of_exploring_echoes_is_the_rule_on_average_and_the_same_for_the_same_seed():
    untried = [[0] * 24 for _ in range(7)]
    now = madrid(2026, 5, 13, 10)

    def exploring(seed: int) -> int:
        slots = plan(now, samples=untried, count=2, exploration_share=0.2, rng=random.Random(seed))
        return sum(slot.is_exploration for slot in slots)

    runs = [exploring(seed) for seed in range(400)]
    # 2 × 0.2 = 0.4 exploring echoes per post on average: one 40 % of the time, never two.
    assert set(runs) == {0, 1}
    assert 0.3 < sum(runs) / len(runs) < 0.5
    assert [exploring(seed) for seed in range(50)] == runs[:50]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"scores": [[0.5] * 24] * 6}, "scores must be 7 rows"),
        ({"samples": [[1] * 23] * 7}, "samples must be 7 rows"),
        ({"count": -1}, "count"),
        ({"exploration_share": 1.5}, "exploration_share"),
        ({"min_gap": timedelta(minutes=-1)}, "min_gap"),
    ],
)
def test_bad_arguments_are_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        plan(madrid(2026, 5, 13, 10), **overrides)


@pytest.mark.parametrize(
    ("hour", "part"),
    [
        (0, None),
        (6, None),
        (7, DayPart.MORNING),
        (11, DayPart.MORNING),
        (12, DayPart.AFTERNOON),
        (15, DayPart.AFTERNOON),
        (16, DayPart.EVENING),
        (20, DayPart.EVENING),
        (21, DayPart.NIGHT),
        (23, DayPart.NIGHT),
    ],
)
def test_day_parts(hour, part):
    assert day_part_of(hour) == part
