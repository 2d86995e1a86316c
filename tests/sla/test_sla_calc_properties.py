"""Business-time arithmetic against a brute-force oracle that steps minute by minute.

The oracle only knows the rule: a minute is business time when the calendar's
wall clock, read at its start, shows an open time of that local day. Calendars
open and close on whole local minutes and the zones used have whole-minute
offsets, so every UTC minute is wholly open or wholly closed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expediter.schedules.hours import Range, WeeklyHours
from expediter.sla.calc import (
    BusinessCalendar,
    add_business_minutes,
    add_business_seconds,
    business_seconds_between,
    is_open,
    next_opening,
    open_intervals,
)

ZONES = (
    "Europe/Paris",
    "America/New_York",
    "America/Santiago",  # changes at midnight
    "Australia/Lord_Howe",  # changes by half an hour
    "Asia/Kolkata",
    "UTC",
)
COUNTRIES = ((None, None), ("FR", None), ("FR", "57"), ("US", "NY"))
ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)
LAST_MINUTE = int((datetime(2029, 1, 1, tzinfo=UTC) - ORIGIN).total_seconds() // 60)
MINUTE = timedelta(minutes=1)
ORACLE_STEP_LIMIT = 200_000
PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _transitions() -> list[datetime]:
    """Instants within hours after the test zones change offset, to aim starts near them."""
    found = []
    for name in ZONES:
        zone, instant = ZoneInfo(name), ORIGIN
        offset = instant.astimezone(zone).utcoffset()
        while instant.year < 2029:
            instant += timedelta(hours=6)
            if instant.astimezone(zone).utcoffset() != offset:
                found.append(instant)
                offset = instant.astimezone(zone).utcoffset()
    return found


TRANSITIONS = _transitions()


# --- the oracle --------------------------------------------------------------------


@cache
def _public_holidays(country: str, subdivision: str | None) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision)


@cache
def oracle_ranges(cal: BusinessCalendar, day: date) -> tuple[Range, ...]:
    for opening_day, ranges in cal.openings:
        if opening_day == day:
            return ranges
    if day in cal.holidays:
        return ()
    if cal.country and day in _public_holidays(cal.country, cal.subdivision):
        return ()
    return cal.hours.days[day.weekday()]


def oracle_open(cal: BusinessCalendar, minute_start: datetime) -> bool:
    local = minute_start.astimezone(cal.zone)
    reading = local.hour * 60 + local.minute
    return any(first <= reading < last for first, last in oracle_ranges(cal, local.date()))


def oracle_add(cal: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    if minutes == 0:
        return start
    counted, instant = 0, start
    for _ in range(ORACLE_STEP_LIMIT):
        if oracle_open(cal, instant):
            counted += 1
            if counted == minutes:
                return instant + MINUTE
        instant += MINUTE
    raise AssertionError("the oracle ran out of steps: keep generated spans shorter")


def oracle_between(cal: BusinessCalendar, start: datetime, end: datetime) -> int:
    steps = int((end - start) / MINUTE)
    assert steps <= ORACLE_STEP_LIMIT
    return 60 * sum(oracle_open(cal, start + step * MINUTE) for step in range(steps))


def oracle_next_opening(cal: BusinessCalendar, start: datetime) -> datetime:
    for step in range(ORACLE_STEP_LIMIT):
        if oracle_open(cal, start + step * MINUTE):
            return start + step * MINUTE
    raise AssertionError("the oracle ran out of steps")


# --- generated calendars and instants ------------------------------------------------


def _pair_up(quarter_hours: list[int]) -> tuple[Range, ...]:
    minutes = sorted(15 * quarter for quarter in quarter_hours)
    if len(minutes) % 2:
        minutes.pop()
    return tuple(zip(minutes[::2], minutes[1::2], strict=True))


# 0-3 ranges a day with quarter-hour ends (DST changes fall on them), 24:00 allowed.
DAY_RANGES = st.lists(st.integers(0, 96), max_size=6, unique=True).map(_pair_up)
WEEKS = st.lists(DAY_RANGES, min_size=7, max_size=7)
DAYS_AFTER_START = st.integers(-3, 21)
ANY_MINUTE = st.integers(0, LAST_MINUTE)
NEAR_A_CHANGE = st.tuples(st.sampled_from(TRANSITIONS), st.integers(-2 * 1440, 2 * 1440))


@st.composite
def starts(draw: st.DrawFn) -> datetime:
    """Minute-aligned UTC instants in 2026-2028, often within two days of a DST change."""
    if draw(st.booleans()):
        return ORIGIN + draw(ANY_MINUTE) * MINUTE
    change, minutes = draw(NEAR_A_CHANGE)
    return change + minutes * MINUTE


@st.composite
def calendars(draw: st.DrawFn, around: datetime) -> BusinessCalendar:
    week = draw(WEEKS)
    if not any(week):
        week[draw(st.integers(0, 6))] = ((540, 1020),)
    country, subdivision = draw(st.sampled_from(COUNTRIES))
    closed = draw(st.lists(DAYS_AFTER_START, max_size=3))
    opened = draw(st.lists(st.tuples(DAYS_AFTER_START, DAY_RANGES), max_size=2))
    first_day = around.date()
    return BusinessCalendar(
        zone=ZoneInfo(draw(st.sampled_from(ZONES))),
        hours=WeeklyHours(days=tuple(week)),
        holidays=frozenset(first_day + timedelta(days=days) for days in closed),
        country=country,
        subdivision=subdivision,
        openings=tuple(sorted({first_day + timedelta(days=d): r for d, r in opened}.items())),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[BusinessCalendar, datetime, int]:
    """A calendar, a start, and up to a week of its business time (bounds the oracle)."""
    start = draw(starts())
    cal = draw(calendars(start))
    per_week = cal.hours.minutes_per_week()
    minutes = draw(st.integers(0, min(3000, max(per_week, 60))))
    return cal, start, minutes


# --- properties ------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(scenarios())
def test_due_date_matches_the_oracle_and_measures_back(
    scenario: tuple[BusinessCalendar, datetime, int],
) -> None:
    cal, start, minutes = scenario
    due = add_business_minutes(cal, start, minutes)
    assert due == oracle_add(cal, start, minutes)
    assert business_seconds_between(cal, start, due) == 60 * minutes
    if minutes:
        assert business_seconds_between(cal, start, due - timedelta(seconds=1)) < 60 * minutes


@PROPERTY_SETTINGS
@given(scenarios(), st.integers(0, 3 * 1440))
def test_elapsed_time_matches_the_oracle(
    scenario: tuple[BusinessCalendar, datetime, int], span_minutes: int
) -> None:
    cal, start, _ = scenario
    end = start + span_minutes * MINUTE
    expected = oracle_between(cal, start, end)
    assert business_seconds_between(cal, start, end) == expected
    assert business_seconds_between(cal, end, start) == -expected
    stretches = list(open_intervals(cal, start, end))
    assert sum((last - first) / timedelta(seconds=1) for first, last in stretches) == expected
    assert all(earlier[1] < later[0] for earlier, later in pairwise(stretches))


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.integers(0, 59), st.integers(0, 999_999))
def test_openings_and_seconds_match_the_oracle(
    scenario: tuple[BusinessCalendar, datetime, int], second: int, micro: int
) -> None:
    cal, start, minutes = scenario
    shifted = start + timedelta(seconds=second, microseconds=micro)
    assert is_open(cal, shifted) == oracle_open(cal, start)
    assert next_opening(cal, start) == oracle_next_opening(cal, start)
    expected = (
        oracle_add(cal, start, minutes + 1) - timedelta(seconds=60 - second)
        if second
        else oracle_add(cal, start, minutes)
    )
    assert add_business_seconds(cal, start, 60 * minutes + second) == expected
