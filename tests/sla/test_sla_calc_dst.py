"""Every daylight-saving change of Paris and New York in 2026-2028, by name.

Expected values are written out as wall times with their offsets, worked out
by hand from the rule "the desk is open while its wall clock reads an open
time": a skipped hour is never read, a repeated hour is read twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from expediter.sla.calc import (
    BusinessCalendar,
    add_business_minutes,
    business_seconds_between,
    calendar_from_spec,
    is_open,
    open_intervals,
)

HOUR = 3600

# (zone, the Sunday of the change, offset before, offset after)
SPRING = [
    ("Europe/Paris", "2026-03-29", "+01:00", "+02:00"),
    ("Europe/Paris", "2027-03-28", "+01:00", "+02:00"),
    ("Europe/Paris", "2028-03-26", "+01:00", "+02:00"),
    ("America/New_York", "2026-03-08", "-05:00", "-04:00"),
    ("America/New_York", "2027-03-14", "-05:00", "-04:00"),
    ("America/New_York", "2028-03-12", "-05:00", "-04:00"),
]
AUTUMN = [
    ("Europe/Paris", "2026-10-25", "+02:00", "+01:00"),
    ("Europe/Paris", "2027-10-31", "+02:00", "+01:00"),
    ("Europe/Paris", "2028-10-29", "+02:00", "+01:00"),
    ("America/New_York", "2026-11-01", "-04:00", "-05:00"),
    ("America/New_York", "2027-11-07", "-04:00", "-05:00"),
    ("America/New_York", "2028-11-05", "-04:00", "-05:00"),
]
# The repeated hour: Paris reads 02:00-03:00 twice, New York 01:00-02:00.
REPEATED_HOUR = {"Europe/Paris": "02", "America/New_York": "01"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def always_open(zone: str) -> BusinessCalendar:
    return calendar_from_spec(time_zone=zone, hours="mon-sun 00:00-24:00")


def night_window(zone: str) -> BusinessCalendar:
    """Open 01:00-04:00 every day: it covers the changed hour in both zones."""
    return calendar_from_spec(time_zone=zone, hours="mon-sun 01:00-04:00")


def next_day(day: str) -> str:
    return (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()


@pytest.mark.parametrize(("zone", "day", "before", "after"), SPRING)
def test_spring_day_lasts_23_hours_around_the_clock(
    zone: str, day: str, before: str, after: str
) -> None:
    cal = always_open(zone)
    start, end = at(f"{day}T00:00{before}"), at(f"{next_day(day)}T00:00{after}")
    assert business_seconds_between(cal, start, end) == 23 * HOUR
    assert add_business_minutes(cal, at(f"{day}T00:30{before}"), 180) == at(f"{day}T04:30{after}")


@pytest.mark.parametrize(("zone", "day", "before", "after"), AUTUMN)
def test_autumn_day_lasts_25_hours_around_the_clock(
    zone: str, day: str, before: str, after: str
) -> None:
    cal = always_open(zone)
    start, end = at(f"{day}T00:00{before}"), at(f"{next_day(day)}T00:00{after}")
    assert business_seconds_between(cal, start, end) == 25 * HOUR
    assert add_business_minutes(cal, at(f"{day}T00:30{before}"), 180) == at(f"{day}T02:30{after}")


@pytest.mark.parametrize(("zone", "day", "before", "after"), SPRING)
def test_spring_skipped_hour_is_not_business_time(
    zone: str, day: str, before: str, after: str
) -> None:
    cal = night_window(zone)
    midnight, next_midnight = at(f"{day}T00:00{before}"), at(f"{next_day(day)}T00:00{after}")
    assert business_seconds_between(cal, midnight, next_midnight) == 2 * HOUR
    assert add_business_minutes(cal, at(f"{day}T01:00{before}"), 60) == at(f"{day}T03:00{after}")
    assert add_business_minutes(cal, at(f"{day}T01:00{before}"), 90) == at(f"{day}T03:30{after}")
    assert add_business_minutes(cal, at(f"{day}T01:00{before}"), 150) == at(
        f"{next_day(day)}T01:30{after}"
    )
    assert list(open_intervals(cal, midnight, next_midnight)) == [
        (at(f"{day}T01:00{before}"), at(f"{day}T04:00{after}"))
    ]


@pytest.mark.parametrize(("zone", "day", "before", "after"), AUTUMN)
def test_autumn_repeated_hour_is_business_time_twice(
    zone: str, day: str, before: str, after: str
) -> None:
    cal = night_window(zone)
    hour = REPEATED_HOUR[zone]
    midnight, next_midnight = at(f"{day}T00:00{before}"), at(f"{next_day(day)}T00:00{after}")
    assert business_seconds_between(cal, midnight, next_midnight) == 4 * HOUR
    start = at(f"{day}T01:00{before}")
    # New York repeats 01:00-02:00: 90 real minutes after the first 01:00 the clock reads
    # 01:30 for the second time; Paris repeats 02:00-03:00 and reads 02:30 for the first time.
    ninety = f"{day}T01:30{after}" if hour == "01" else f"{day}T02:30{before}"
    assert add_business_minutes(cal, start, 90) == at(ninety)
    assert add_business_minutes(cal, start, 150) == at(f"{day}T02:30{after}")
    assert add_business_minutes(cal, start, 240) == at(f"{day}T04:00{after}")
    assert add_business_minutes(cal, start, 241) == at(f"{next_day(day)}T01:01{after}")


@pytest.mark.parametrize(("zone", "day", "before", "after"), AUTUMN)
def test_autumn_range_starting_inside_the_repeated_hour_opens_at_both_readings(
    zone: str, day: str, before: str, after: str
) -> None:
    hour = REPEATED_HOUR[zone]
    cal = calendar_from_spec(time_zone=zone, hours=f"mon-sun {hour}:30-04:00")
    midnight, next_midnight = at(f"{day}T00:00{before}"), at(f"{next_day(day)}T00:00{after}")
    assert list(open_intervals(cal, midnight, next_midnight)) == [
        (at(f"{day}T{hour}:30{before}"), at(f"{day}T{hour}:00{after}")),
        (at(f"{day}T{hour}:30{after}"), at(f"{day}T04:00{after}")),
    ]
    assert not is_open(cal, at(f"{day}T{hour}:15{after}"))
    assert is_open(cal, at(f"{day}T{hour}:15{after}") + timedelta(minutes=30))


@pytest.mark.parametrize(("zone", "day", "before", "after"), SPRING)
def test_spring_range_inside_the_skipped_hour_never_opens(
    zone: str, day: str, before: str, after: str
) -> None:
    skipped = "02"  # both zones skip 02:00-03:00
    cal = calendar_from_spec(time_zone=zone, hours=f"mon-sun {skipped}:10-{skipped}:50")
    midnight, next_midnight = at(f"{day}T00:00{before}"), at(f"{next_day(day)}T00:00{after}")
    assert business_seconds_between(cal, midnight, next_midnight) == 0
    assert add_business_minutes(cal, midnight, 10) == at(f"{next_day(day)}T02:20{after}")


def test_the_midnight_that_never_happens_in_santiago() -> None:
    # Chile moves from 00:00 to 01:00 on Sunday 6 September 2026.
    cal = calendar_from_spec(time_zone="America/Santiago", hours="sat 20:00-24:00; sun 00:00-02:00")
    start, end = at("2026-09-05T12:00-04:00"), at("2026-09-06T12:00-03:00")
    assert business_seconds_between(cal, start, end) == 5 * HOUR
    assert list(open_intervals(cal, start, end)) == [
        (at("2026-09-05T20:00-04:00"), at("2026-09-06T02:00-03:00"))
    ]


def test_the_evening_read_twice_in_santiago() -> None:
    # Chile moves from 00:00 back to 23:00 on Saturday 4 April 2026.
    cal = calendar_from_spec(time_zone="America/Santiago", hours="sat 22:00-24:00")
    start, end = at("2026-04-04T12:00-03:00"), at("2026-04-05T12:00-04:00")
    assert business_seconds_between(cal, start, end) == 3 * HOUR
    assert add_business_minutes(cal, at("2026-04-04T22:00-03:00"), 150) == at(
        "2026-04-04T23:30-04:00"
    )


def test_the_two_readings_of_a_repeated_time_are_an_hour_apart() -> None:
    new_york = ZoneInfo("America/New_York")
    first = datetime(2026, 11, 1, 1, 30, tzinfo=new_york)
    second = datetime(2026, 11, 1, 1, 30, tzinfo=new_york, fold=1)
    assert business_seconds_between(always_open("America/New_York"), first, second) == HOUR
    window = night_window("America/New_York")
    # A fold=1 datetime never compares equal across zones (PEP 495): compare offsets instead.
    assert add_business_minutes(window, first, 60) == at("2026-11-01T01:30-05:00")
