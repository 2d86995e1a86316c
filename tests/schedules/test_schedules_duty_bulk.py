"""Duty for a whole team at once: shared shift patterns, and duty as database conditions.

Routing asks who is on duty among hundreds of agents for every decision.
``duty_states`` computes each shift pattern once and ``DutyReader`` answers
from rows a routing roster keeps in memory; both must agree with the
one-agent answers, across DST changes, midnight, validity dates, extra
shifts and time off.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from tests.factories import make_agent

from expediter.schedules import selectors
from expediter.schedules.models import ExtraShift, Shift, TimeOff, TimeOffStatus
from expediter.schedules.services import extra_shift_add, shift_add, timeoff_add
from expediter.staff.models import User

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
PATTERNS = (
    "mon-fri 08:00-16:00",
    "mon-fri 12:00-20:00",
    "mon-sun 22:00-24:00; mon-sun 00:00-06:00",
    "sat-sun 09:00-17:00",
    "mon-sun 00:00-24:00",
)
VALIDITY = [
    (None, None),
    (None, None),
    (dt.date(2026, 3, 28), None),
    (dt.date(2026, 3, 30), None),
    (None, dt.date(2026, 3, 29)),
    (dt.date(2026, 3, 28), dt.date(2026, 3, 31)),
]
INSTANTS = [
    dt.datetime(2026, 3, 27, 15, 59, tzinfo=PARIS),
    dt.datetime(2026, 3, 28, 23, 30, tzinfo=PARIS),
    dt.datetime(2026, 3, 29, 2, 30, tzinfo=dt.UTC),  # the night of the spring change
    dt.datetime(2026, 3, 30, 8, 0, tzinfo=PARIS),
    dt.datetime(2026, 3, 31, 0, 0, tzinfo=PARIS),
    dt.datetime(2026, 4, 1, 19, 59, tzinfo=PARIS),
]


def _crew(rng: random.Random, size: int) -> list[User]:
    crew = []
    for n in range(size):
        agent = make_agent(team="Network", name=f"A{n}")
        for _ in range(rng.choice([0, 1, 1, 1, 2])):
            valid_from, valid_until = rng.choice(VALIDITY)
            shift_add(
                agent=agent,
                hours=rng.choice(PATTERNS),
                time_zone=rng.choice(["Europe/Paris", "America/New_York", "UTC"]),
                valid_from=valid_from,
                valid_until=valid_until,
            )
        if rng.random() < 0.3:
            start = rng.choice(INSTANTS) - dt.timedelta(hours=rng.randint(0, 3))
            extra_shift_add(agent=agent, start=start, end=start + dt.timedelta(hours=4))
        if rng.random() < 0.3:
            start = rng.choice(INSTANTS) - dt.timedelta(hours=rng.randint(0, 5))
            timeoff_add(agent=agent, start=start, end=start + dt.timedelta(hours=6))
        crew.append(agent)
    return crew


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bulk_duty_agrees_with_one_agent_at_a_time(seed: int) -> None:
    crew = _crew(random.Random(seed), size=14)
    ids = [a.pk for a in crew]
    for at in INSTANTS:
        states = selectors.duty_states(agent_ids=ids, at=at)
        for agent_id in ids:
            alone = selectors.agent_times(
                agent_ids=[agent_id], start=at - dt.timedelta(days=1), end=at + dt.timedelta(days=2)
            )[agent_id]
            duty = [(lo, hi) for lo, hi in alone.duty if lo <= at < hi]
            assert states[agent_id].on_duty == bool(duty)
            assert states[agent_id].duty_ends_at == (duty[0][1] if duty else None)
            assert states[agent_id].on_time_off == selectors.on_time_off(agent_id=agent_id, at=at)


def _rows_in_hand(agent_id: int) -> tuple[list[selectors.ShiftValues], list, list]:
    """Every schedule row of the agent, as a routing roster keeps them."""
    shifts = [
        selectors.ShiftValues(s.agent_id, s.hours, s.time_zone, s.valid_from, s.valid_until)
        for s in Shift.objects.filter(agent_id=agent_id)
    ]
    extra = [(e.start, e.end) for e in ExtraShift.objects.filter(agent_id=agent_id)]
    away = TimeOff.objects.filter(agent_id=agent_id, status=TimeOffStatus.APPROVED)
    return shifts, extra, [(t.start, t.end) for t in away]


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_duty_from_rows_in_hand_agrees_with_duty_states(seed: int) -> None:
    crew = _crew(random.Random(seed), size=14)
    ids = [a.pk for a in crew]
    rows = {agent_id: _rows_in_hand(agent_id) for agent_id in ids}
    for at in INSTANTS:
        states = selectors.duty_states(agent_ids=ids, at=at)
        reader = selectors.DutyReader(at)
        for agent_id, (shifts, extra, away) in rows.items():
            assert reader.state(shifts, extra, away) == states[agent_id]
            assert reader.on_time_off(away) == states[agent_id].on_time_off
            on_duty = reader.at_work(shifts, extra) and not reader.on_time_off(away)
            assert on_duty == states[agent_id].on_duty


def test_a_round_the_clock_stretch_ends_two_days_ahead_at_most() -> None:
    agent = make_agent(name="Night and day")
    shift_add(agent=agent, hours="mon-sun 00:00-24:00", time_zone="UTC")
    for at in (dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC), INSTANTS[0]):
        assert selectors.duty_ends_at(agent_id=agent.pk, at=at) == at + dt.timedelta(days=2)


def test_colleagues_on_one_pattern_share_a_state_unless_their_own_time_differs() -> None:
    at = dt.datetime(2026, 3, 30, 10, 0, tzinfo=PARIS)
    crew = [make_agent(name=f"Day {n}") for n in range(3)]
    for agent in crew:
        shift_add(agent=agent, hours="mon-fri 08:00-16:00", time_zone="Europe/Paris")
    timeoff_add(agent=crew[1], start=at + dt.timedelta(hours=2), end=at + dt.timedelta(hours=3))
    extra_shift_add(agent=crew[2], start=at + dt.timedelta(hours=6), end=at + dt.timedelta(hours=8))
    states = selectors.duty_states(agent_ids=[a.pk for a in crew], at=at)
    assert [states[a.pk].duty_ends_at for a in crew] == [
        dt.datetime(2026, 3, 30, 16, 0, tzinfo=PARIS),
        dt.datetime(2026, 3, 30, 12, 0, tzinfo=PARIS),  # time off cuts the stretch short
        dt.datetime(2026, 3, 30, 18, 0, tzinfo=PARIS),  # the extra shift prolongs it
    ]
