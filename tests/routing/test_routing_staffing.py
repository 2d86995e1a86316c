"""Erlang C staffing against published figures, square-root staffing, and input checks."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.routing.staffing import (
    erlang_b,
    erlang_c,
    halfin_whitt_wait_probability,
    required_agents,
    service_level,
    square_root_agents,
)


def test_published_example_ten_erlangs_fourteen_agents() -> None:
    # 100 calls per half hour, 3 minutes each: A = 10 erlangs; with 14 agents
    # the textbook gives P(wait) = 0.1741, occupancy 71.4 %, and 88.8 % answered in 20 s.
    assert erlang_c(14, 10.0) == pytest.approx(0.1741, abs=5e-5)
    level = service_level(14, 10.0, handle_minutes=3, answer_within_minutes=20 / 60)
    assert level == pytest.approx(0.8884, abs=5e-5)


def test_published_example_needs_fourteen_agents_for_eighty_percent_in_twenty_seconds() -> None:
    result = required_agents(
        arrivals_per_hour=200, handle_minutes=3, answer_within_minutes=20 / 60, target=0.8
    )
    assert result.agents == result.raw_agents == 14
    assert result.offered_load == pytest.approx(10.0)
    assert result.wait_probability == pytest.approx(0.1741, abs=5e-5)
    assert result.occupancy == pytest.approx(0.714, abs=5e-4)
    assert result.service_level == pytest.approx(0.8884, abs=5e-5)
    assert service_level(13, 10.0, handle_minutes=3, answer_within_minutes=20 / 60) < 0.8


def test_erlang_b_small_cases_match_the_closed_form() -> None:
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(1, 3.0) == pytest.approx(3 / 4)
    assert erlang_b(2, 3.0) == pytest.approx((9 / 2) / (1 + 3 + 9 / 2))


def test_recursion_stays_finite_for_loads_where_factorials_overflow() -> None:
    wait = erlang_c(1100, 1000.0)
    assert 0.0 < wait < 0.05
    assert math.isfinite(wait)


def test_an_unstable_desk_always_waits() -> None:
    assert erlang_c(10, 10.0) == 1.0
    assert erlang_c(5, 10.0) == 1.0
    assert service_level(10, 10.0, handle_minutes=5, answer_within_minutes=60) == 0.0


def test_shrinkage_rounds_the_roster_up() -> None:
    base = dict(arrivals_per_hour=200, handle_minutes=3, answer_within_minutes=20 / 60, target=0.8)
    assert required_agents(**base, shrinkage=0.3).agents == 20  # 14 / 0.7 is exactly 20
    assert required_agents(**base, shrinkage=0.25).agents == 19  # ceil(18.67)
    shrunk = required_agents(**base, shrinkage=0.25)
    assert shrunk.raw_agents == 14
    assert shrunk.service_level == pytest.approx(0.8884, abs=5e-5)


def test_as_dict_carries_the_contract_keys_first() -> None:
    result = required_agents(
        arrivals_per_hour=30, handle_minutes=10, answer_within_minutes=5, target=0.9, shrinkage=0.2
    )
    document = result.as_dict()
    assert list(document)[:4] == ["agents", "service_level", "wait_probability", "occupancy"]
    assert document["agents"] == result.agents
    assert document["raw_agents"] == result.raw_agents


def test_target_zero_asks_only_for_a_stable_desk() -> None:
    result = required_agents(
        arrivals_per_hour=60, handle_minutes=5.5, answer_within_minutes=0, target=0
    )
    assert result.raw_agents == 6  # the fewest agents above 5.5 erlangs


def test_target_one_is_reached_in_floating_point() -> None:
    result = required_agents(
        arrivals_per_hour=60, handle_minutes=5, answer_within_minutes=1, target=1.0
    )
    assert result.service_level == 1.0
    assert result.raw_agents < 60


@settings(max_examples=60, deadline=None)
@given(
    arrivals=st.floats(0.5, 500),
    handle=st.floats(1, 60),
    within=st.floats(0, 30),
    target=st.floats(0.05, 0.99),
)
def test_the_answer_is_the_fewest_agents_reaching_the_target(
    arrivals: float, handle: float, within: float, target: float
) -> None:
    result = required_agents(
        arrivals_per_hour=arrivals,
        handle_minutes=handle,
        answer_within_minutes=within,
        target=target,
    )
    load = arrivals * handle / 60
    kwargs = dict(handle_minutes=handle, answer_within_minutes=within)
    assert service_level(result.raw_agents, load, **kwargs) >= target
    assert service_level(result.raw_agents - 1, load, **kwargs) < target
    assert result.occupancy < 1


@pytest.mark.parametrize("load", [50.0, 100.0, 500.0])
@pytest.mark.parametrize("wait_probability", [0.1, 0.2, 0.5])
def test_square_root_staffing_agrees_with_erlang_c_on_large_desks(
    load: float, wait_probability: float
) -> None:
    exact = math.floor(load) + 1
    while erlang_c(exact, load) > wait_probability:
        exact += 1
    assert abs(square_root_agents(load, wait_probability=wait_probability) - exact) <= 1


def test_halfin_whitt_curve_runs_from_certain_wait_down() -> None:
    assert halfin_whitt_wait_probability(0.0) == 1.0
    assert halfin_whitt_wait_probability(1.0) > halfin_whitt_wait_probability(2.0) > 0.0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"arrivals_per_hour": 0}, "--arrivals-per-hour"),
        ({"arrivals_per_hour": -3}, "--arrivals-per-hour"),
        ({"arrivals_per_hour": math.nan}, "--arrivals-per-hour"),
        ({"handle_minutes": 0}, "--handle-minutes"),
        ({"answer_within_minutes": -1}, "--answer-within-minutes"),
        ({"target": 1.2}, "--target"),
        ({"target": -0.1}, "--target"),
        ({"shrinkage": -0.1}, "--shrinkage"),
        ({"shrinkage": 1.0}, "--shrinkage"),
    ],
)
def test_invalid_inputs_name_the_option(changes: dict[str, float], message: str) -> None:
    inputs = dict(
        arrivals_per_hour=100.0,
        handle_minutes=5.0,
        answer_within_minutes=1.0,
        target=0.8,
        shrinkage=0.0,
    )
    inputs.update(changes)
    with pytest.raises(ValueError, match=message):
        required_agents(**inputs)


def test_square_root_staffing_refuses_impossible_targets() -> None:
    with pytest.raises(ValueError, match="wait_probability"):
        square_root_agents(10.0, wait_probability=0.0)
    with pytest.raises(ValueError, match="offered_load"):
        square_root_agents(0.0, wait_probability=0.2)
