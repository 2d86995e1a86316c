"""Business time exact to the microsecond, for clocks that pause at arbitrary instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.sla.calc import (
    add_business_seconds,
    add_business_time,
    business_seconds_between,
    business_time_between,
    calendar_from_spec,
    is_open,
)

OFFICE = calendar_from_spec(
    time_zone="Europe/Paris", hours="mon-fri 09:00-12:00,13:00-17:00", country="FR"
)
ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)
instants = st.integers(min_value=0, max_value=3 * 365 * 86_400 * 10**6).map(
    lambda us: ORIGIN + timedelta(microseconds=us)
)
amounts = st.integers(min_value=0, max_value=200 * 3600 * 10**6).map(
    lambda us: timedelta(microseconds=us)
)


def test_fractions_of_a_second_are_kept() -> None:
    start = datetime(2026, 3, 2, 9, 0, 0, 250_000, tzinfo=UTC)  # 10:00:00.25 in Paris
    assert add_business_time(OFFICE, start, timedelta(seconds=1.5)) == start + timedelta(
        seconds=1.5
    )
    later = start + timedelta(seconds=10, microseconds=400_000)
    assert business_time_between(OFFICE, start, later) == timedelta(seconds=10.4)
    assert business_time_between(OFFICE, later, start) == -timedelta(seconds=10.4)


def test_zero_is_the_start_and_negative_amounts_are_refused() -> None:
    saturday = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    assert add_business_time(OFFICE, saturday, timedelta(0)) == saturday
    with pytest.raises(ValueError, match="negative"):
        add_business_time(OFFICE, saturday, timedelta(microseconds=-1))


@settings(max_examples=150, deadline=None)
@given(instants, amounts)
def test_adding_then_measuring_gives_the_amount_back(start: datetime, amount: timedelta) -> None:
    due = add_business_time(OFFICE, start, amount)
    assert business_time_between(OFFICE, start, due) == amount
    if amount:
        # the earliest such instant: just before it, a little business time was still missing
        assert business_time_between(OFFICE, start, due - timedelta(microseconds=1)) < amount
        assert is_open(OFFICE, due - timedelta(microseconds=1))


@settings(max_examples=100, deadline=None)
@given(instants, st.integers(min_value=0, max_value=500 * 3600))
def test_whole_seconds_agree_with_the_seconds_functions(start: datetime, seconds: int) -> None:
    start = start.replace(microsecond=0)
    due = add_business_time(OFFICE, start, timedelta(seconds=seconds))
    assert due == add_business_seconds(OFFICE, start, seconds)
    assert business_seconds_between(OFFICE, start, due) == seconds
