"""Who is on duty: shifts in local time, DST, time off, extra shifts."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from tests.factories import make_agent

from expediter.core.errors import InvalidInput
from expediter.schedules import selectors
from expediter.schedules.hours import HoursSpecError, parse_hours, wall_ranges_utc
from expediter.schedules.services import shift_add, timeoff_add

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def test_spec_parsing_and_errors() -> None:
    hours = parse_hours("mon-fri 09:00-12:00,13:00-17:00; sat 09:00-12:00")
    assert hours.days[0] == ((540, 720), (780, 1020)) and hours.days[6] == ()
    assert parse_hours("sun 22:00-24:00").days[6] == ((1320, 1440),)
    for bad in (
        "",
        "mon 10:00-09:00",
        "fun 09:00-10:00",
        "mon 9-10",
        "mon 24:00-24:00",
        "fri-mon 09:00-10:00",
        "mon 09:60-10:00",
    ):
        with pytest.raises(HoursSpecError):
            parse_hours(bad)


def test_wall_ranges_on_dst_days() -> None:
    spring = wall_ranges_utc(dt.date(2026, 3, 29), ((60, 240),), "Europe/Paris")
    assert spring == (
        (dt.datetime(2026, 3, 29, 0, 0, tzinfo=UTC), dt.datetime(2026, 3, 29, 2, 0, tzinfo=UTC)),
    )  # 01:00-04:00 lasts 2 h
    autumn = wall_ranges_utc(dt.date(2026, 10, 25), ((60, 240),), "Europe/Paris")
    assert autumn[0][1] - autumn[0][0] == dt.timedelta(hours=4)  # 02:00-03:00 happens twice
    gap_start = wall_ranges_utc(dt.date(2026, 3, 29), ((150, 360),), "Europe/Paris")
    assert gap_start[0][0] == dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 02:30 never shows: 03:00
    new_york = wall_ranges_utc(dt.date(2026, 3, 8), ((0, 1440),), "America/New_York")
    assert new_york[0][1] - new_york[0][0] == dt.timedelta(hours=23)


@pytest.mark.django_db
def test_on_duty_follows_shifts_time_off_and_validity() -> None:
    agent = make_agent()
    shift_add(
        agent=agent,
        hours="mon-fri 08:00-16:00",
        time_zone="Europe/Paris",
        valid_from=dt.date(2026, 3, 1),
    )
    monday = local(2026, 3, 30, 9, 0)  # the day after the spring change
    assert selectors.on_duty(agent_id=agent.pk, at=monday)
    assert not selectors.on_duty(agent_id=agent.pk, at=local(2026, 3, 30, 16, 0))
    assert not selectors.on_duty(agent_id=agent.pk, at=local(2026, 3, 28, 9, 0))  # Saturday
    assert not selectors.on_duty(agent_id=agent.pk, at=local(2026, 2, 27, 9, 0))  # before validity
    assert selectors.duty_ends_at(agent_id=agent.pk, at=monday) == local(2026, 3, 30, 16, 0)
    timeoff_add(agent=agent, start=local(2026, 3, 30, 8, 30), end=local(2026, 3, 30, 12, 0))
    assert selectors.on_time_off(agent_id=agent.pk, at=monday)
    assert not selectors.on_duty(agent_id=agent.pk, at=monday)
    assert selectors.on_duty(agent_id=agent.pk, at=local(2026, 3, 30, 12, 0))


@pytest.mark.django_db
def test_shift_add_validates() -> None:
    agent = make_agent()
    with pytest.raises(InvalidInput) as err:
        shift_add(agent=agent, hours="mon 10:00-09:00")
    assert err.value.field == "hours"
    with pytest.raises(InvalidInput):
        shift_add(agent=agent, hours="mon 09:00-10:00", time_zone="Mars/Olympus")
