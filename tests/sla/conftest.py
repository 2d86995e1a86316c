"""SLA fixtures: a Paris office calendar, policies per priority, a controllable Monday."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from expediter.sla.models import Calendar, SlaPolicy
from expediter.sla.services import CalendarSpec, PolicySpec, calendar_create, policy_create

MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # 10:00 in Paris
OFFICE_HOURS = "mon-fri 09:00-12:00,13:00-17:00"


def after(minutes: float) -> dt.datetime:
    return MONDAY + dt.timedelta(minutes=minutes)


@pytest.fixture
def monday(at: Any) -> Callable[[float], dt.datetime]:
    """``monday(minutes)`` moves the clock to that many minutes after Monday 10:00 Paris."""
    at(MONDAY)

    def move(minutes: float) -> dt.datetime:
        return at(after(minutes))  # type: ignore[no-any-return]

    return move


@pytest.fixture
def paris(monday: Any) -> Calendar:
    return calendar_create(
        spec=CalendarSpec(name="Paris office", time_zone="Europe/Paris", hours=OFFICE_HOURS)
    )


@pytest.fixture
def always(monday: Any) -> Calendar:
    """Round the clock, so that business time is wall time in assertions."""
    return calendar_create(
        spec=CalendarSpec(name="Always", time_zone="UTC", hours="mon-sun 00:00-24:00")
    )


@pytest.fixture
def per_priority(always: Calendar) -> dict[int, SlaPolicy]:
    """P1 30 min / 4 h ... P4 8 h / 40 h, round the clock, next response 1 h."""
    targets = {1: (30, 240), 2: (120, 480), 3: (240, 1440), 4: (480, 2400)}
    return {
        priority: policy_create(
            spec=PolicySpec(
                name=f"P{priority}",
                calendar=always.name,
                priority=priority,
                first_response_minutes=first,
                resolution_minutes=resolution,
                next_response_minutes=60,
            )
        )
        for priority, (first, resolution) in targets.items()
    }
