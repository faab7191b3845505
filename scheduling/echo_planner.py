"""Where the echoes of a live post go: off-hours slots chosen from the audience's activity.

A pure function (no database): the caller brings the off-hours windows of the business calendar, the
activity week of the post's audience on the channel and the times already taken on the channel.

The rules, in the desk's own words:

- **Candidates** are the local (Europe/Madrid) o'clock and half-past instants inside the off-hours
  windows. They are walked in UTC and only then read on the local clock, so every candidate is a
  real instant: the hour skipped when clocks go forward never appears, and the hour repeated when
  they go back appears twice as two different instants.
- **Quiet night**: nothing between 00:00 and 07:00 local time. Nobody reads a public employment
  service at four in the morning, and a public body posting then looks like a mistake.
- **Day parts** of a local day: morning 07:00–12:00, afternoon 12:00–16:00, evening 16:00–21:00,
  night 21:00–24:00. No two echoes of one post share a day part of the same local date, so each
  echo reaches a different moment of someone's day.
- **Gap**: every echo is at least ``min_gap`` away from every taken time on the channel (other
  deliveries, the original itself) and from the other echoes.
- **Best first**: each echo takes the free candidate with the highest score (weekday × local hour);
  on equal scores the earlier one, so a post is repeated while it is still news.
- **Exploration**: a share of the echoes goes to a random free candidate the model has no sample
  for (``samples == 0``), so that off-hours data gets collected at all. The number of exploring
  echoes is ``count × exploration_share`` rounded at random (1.4 is 1 six times in ten and 2 four
  times in ten), so small counts explore too, on average exactly at the chosen share.
"""

import random
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from math import ceil, floor

from django.utils.translation import gettext

Window = tuple[datetime, datetime]
WeekGrid = Sequence[Sequence[float]]

# Candidates are looked at every quarter of an hour in UTC and kept when the local clock reads :00
# or :30; a quarter also catches zones whose offset is not a whole hour.
_STEP = timedelta(minutes=15)
CANDIDATE_MINUTES = (0, 30)
# Local hour from which echoes may go out; 00:00 up to here is the quiet night.
FIRST_HOUR = 7


class DayPart(StrEnum):
    MORNING = "morning"  # 07:00–12:00
    AFTERNOON = "afternoon"  # 12:00–16:00
    EVENING = "evening"  # 16:00–21:00
    NIGHT = "night"  # 21:00–24:00


# (first local hour, day part), in order: a local hour belongs to the last part starting at or before it.
DAY_PARTS = (
    (FIRST_HOUR, DayPart.MORNING),
    (12, DayPart.AFTERNOON),
    (16, DayPart.EVENING),
    (21, DayPart.NIGHT),
)


@dataclass(frozen=True)
class EchoSlot:
    at: datetime  # UTC
    score: float
    is_exploration: bool
    audience: str = ""  # the audience segment's name; empty: the channel's own hours

    @property
    def reason(self) -> str:
        """Why this slot, in plain words for the manager, in the active language."""
        return echo_reason_text(exploring=self.is_exploration, audience=self.audience, score=self.score)


@dataclass(frozen=True)
class _Candidate:
    at: datetime  # UTC
    local_date: date
    day_part: DayPart
    score: float
    samples: int


def day_part_of(local_hour: int) -> DayPart | None:
    """The day part of a local hour, or None during the quiet night (00:00–07:00)."""
    part = None
    for first_hour, day_part in DAY_PARTS:
        if local_hour >= first_hour:
            part = day_part
    return part


def echo_slots_choose(
    *,
    windows: Iterable[Window],
    scores: WeekGrid,
    samples: WeekGrid,
    taken: Iterable[datetime],
    count: int,
    min_gap: timedelta,
    exploration_share: float,
    rng: random.Random,
    tz: tzinfo,
    audience: str = "",
) -> list[EchoSlot]:
    """Up to ``count`` echo slots inside ``windows`` (aware datetimes, half-open), in time order.

    ``scores`` and ``samples`` are 7 × 24 grids, Monday first, in ``tz`` local hours: how active the
    audience is at that hour (0..1) and how many posts that figure rests on (0: untried). ``audience``
    names the audience in the reasons (empty: the post has none and the scores are the channel's).
    Fewer slots come back when the windows, the gap and the day parts leave no room for more."""
    _check_grid("scores", scores)
    _check_grid("samples", samples)
    if count < 0:
        raise ValueError(f"count must not be negative, not {count}")
    if not 0 <= exploration_share <= 1:
        raise ValueError(f"exploration_share must be between 0 and 1, not {exploration_share}")
    if min_gap < timedelta(0):
        raise ValueError(f"min_gap must not be negative, not {min_gap}")
    taken_times = sorted(t.astimezone(UTC) for t in taken)
    candidates = [
        candidate
        for candidate in _candidates(windows, scores, samples, tz)
        if _far_enough(candidate.at, taken_times, min_gap)
    ]
    chosen: list[EchoSlot] = []
    used_parts: set[tuple[date, DayPart]] = set()

    def free() -> list[_Candidate]:
        return [
            candidate
            for candidate in candidates
            if (candidate.local_date, candidate.day_part) not in used_parts
            and all(abs(candidate.at - slot.at) >= min_gap for slot in chosen)
        ]

    def take(candidate: _Candidate, *, exploring: bool) -> None:
        chosen.append(
            EchoSlot(
                at=candidate.at,
                score=candidate.score,
                is_exploration=exploring,
                audience=audience,
            )
        )
        used_parts.add((candidate.local_date, candidate.day_part))

    exploring = min(count, _exploring_count(count, exploration_share, rng))
    for _ in range(count - exploring):
        best = max(free(), key=lambda c: (c.score, -c.at.timestamp()), default=None)
        if best is None:
            break
        take(best, exploring=False)
    for _ in range(exploring):
        options = free()
        untried = [candidate for candidate in options if candidate.samples == 0]
        if untried:
            take(rng.choice(untried), exploring=True)
        elif options:
            # Nothing left to learn in this horizon: the echo still goes out at the best free time.
            take(max(options, key=lambda c: (c.score, -c.at.timestamp())), exploring=False)
    return sorted(chosen, key=lambda slot: slot.at)


def _check_grid(name: str, grid: WeekGrid) -> None:
    if len(grid) != 7 or any(len(day) != 24 for day in grid):
        raise ValueError(f"{name} must be 7 rows (Monday first) of 24 hours")


def _far_enough(at: datetime, taken_times: list[datetime], min_gap: timedelta) -> bool:
    """Whether ``at`` is at least ``min_gap`` from every time in the sorted ``taken_times``."""
    after = bisect_left(taken_times, at)
    neighbours = taken_times[max(after - 1, 0) : after + 1]
    return all(abs(at - t) >= min_gap for t in neighbours)


def _exploring_count(count: int, share: float, rng: random.Random) -> int:
    expected = count * share
    whole = floor(expected)
    return whole + (1 if rng.random() < expected - whole else 0)


def _candidates(
    windows: Iterable[Window], scores: WeekGrid, samples: WeekGrid, tz: tzinfo
) -> list[_Candidate]:
    found: list[_Candidate] = []
    for start, end in windows:
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        at = _ceil_to_step(start)
        while at < end:
            local = at.astimezone(tz)
            part = day_part_of(local.hour)
            if part is not None and local.minute in CANDIDATE_MINUTES and local.second == 0:
                weekday, hour = local.weekday(), local.hour
                found.append(
                    _Candidate(
                        at=at,
                        local_date=local.date(),
                        day_part=part,
                        score=float(scores[weekday][hour]),
                        samples=int(samples[weekday][hour]),
                    )
                )
            at += _STEP
    return found


def _ceil_to_step(t: datetime) -> datetime:
    step = _STEP.total_seconds()
    return datetime.fromtimestamp(ceil(t.timestamp() / step) * step, UTC)


def echo_reason_text(*, exploring: bool, audience: str, score: float) -> str:
    """Why the planner chose an echo's time, in the active language (written when it is read, so
    each person reads it in their own)."""
    if exploring:
        if audience:
            return gettext("Exploring an untried hour for %(audience)s, so the desk learns it.") % {
                "audience": audience
            }
        return gettext("Exploring an untried hour on this channel, so the desk learns it.")
    score_text = f"{score:.2f}"
    if audience:
        return gettext("Best free hour for %(audience)s: score %(score)s.") % {
            "audience": audience,
            "score": score_text,
        }
    return gettext("Best free hour on this channel: score %(score)s.") % {"score": score_text}
