"""The visit planner: every plan is checked stop by stop against the rules it must keep."""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import expediter
from expediter.appointments.planner import (
    REASON_NO_ROOM,
    REASON_NO_TECHNICIAN,
    REASON_WINDOW_TOO_SHORT,
    Lock,
    Plan,
    PlanningError,
    Technician,
    Visit,
    VrptwProblem,
    VrptwSolution,
    plan_visits,
    solve_vrptw,
    violations,
)
from expediter.appointments.travel import Site, TravelFn, travel_minutes

PARIS = ZoneInfo("Europe/Paris")
DAY = dt.date(2025, 6, 3)
LIMIT = 1.0


def at(hhmm: str) -> dt.datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return dt.datetime(DAY.year, DAY.month, DAY.day, hours, minutes, tzinfo=PARIS).astimezone(
        dt.UTC
    )


def technician(
    tech_id: int, home: Site | None, hours: tuple[str, str], skills: dict[str, int]
) -> Technician:
    return Technician(
        id=tech_id,
        name=f"tech {tech_id}",
        shift_start=at(hours[0]),
        shift_end=at(hours[1]),
        home=home,
        skills=skills,
    )


def visit(
    visit_id: int,
    site: Site,
    window: tuple[str, str],
    minutes: int,
    skills: dict[str, int] | None = None,
    lock: Lock | None = None,
) -> Visit:
    return Visit(
        id=visit_id,
        site=site,
        window_start=at(window[0]),
        window_end=at(window[1]),
        duration_minutes=minutes,
        skills=skills or {},
        ticket_id=1000 + visit_id,
        lock=lock,
    )


def paris_sites(count: int, seed: int, first_id: int) -> list[Site]:
    rng = random.Random(seed)
    return [
        Site(
            first_id + i,
            f"site {first_id + i}",
            48.80 + rng.random() * 0.12,
            2.25 + rng.random() * 0.2,
        )
        for i in range(count)
    ]


def trip(travel: TravelFn, a: Site | None, b: Site | None) -> int:
    return 0 if a is None or b is None or a.id == b.id else travel(a, b)


def assert_plan_keeps_every_rule(
    plan: Plan, visits: Sequence[Visit], technicians: Sequence[Technician], travel: TravelFn
) -> None:
    by_id = {v.id: v for v in visits}
    techs = {t.id: t for t in technicians}
    planned = [stop.visit_id for route in plan.routes for stop in route.stops]
    unplanned = [u.visit_id for u in plan.unplanned]
    assert sorted(planned + unplanned) == sorted(by_id)
    for route in plan.routes:
        tech = techs[route.technician_id]
        here, free_at, total = tech.home, tech.shift_start, 0
        for stop in route.stops:
            job = by_id[stop.visit_id]
            leg = trip(travel, here, stop.site)
            assert stop.travel_minutes == leg
            assert stop.start >= free_at + dt.timedelta(minutes=leg)
            assert stop.end - stop.start == dt.timedelta(minutes=job.duration_minutes)
            assert stop.ticket_id == job.ticket_id and stop.site == job.site
            if job.lock is None:
                assert tech.qualifies_for(job)
                assert job.window_start <= stop.start and stop.end <= job.window_end
            else:
                assert stop.start == job.lock.start and tech.id == job.lock.technician_id
            here, free_at, total = stop.site, stop.end, total + leg
        back = trip(travel, here, tech.home)
        if route.stops:
            assert free_at + dt.timedelta(minutes=back) <= tech.shift_end
            assert route.leave_home is not None and route.leave_home >= tech.shift_start
            assert route.back_home == free_at + dt.timedelta(minutes=back)
        assert route.travel_minutes == (total + back if route.stops else 0)
    assert plan.travel_minutes == sum(route.travel_minutes for route in plan.routes)


# --- a realistic day -----------------------------------------------------------------------------

HOMES = paris_sites(3, seed=1, first_id=1)
CUSTOMERS = paris_sites(12, seed=2, first_id=100)
TEAM = [
    technician(1, HOMES[0], ("08:00", "17:00"), {"net": 4, "win": 2}),
    technician(2, HOMES[1], ("08:00", "16:00"), {"win": 5}),
    technician(3, HOMES[2], ("10:00", "18:00"), {"net": 2, "print": 3}),
]
WINDOWS = [("08:00", "12:00"), ("13:00", "17:00"), ("08:00", "18:00"), ("10:00", "14:00")]
SKILLS: list[dict[str, int]] = [{}, {"net": 3}, {"win": 3}, {"print": 1}]


def day_of_visits() -> list[Visit]:
    return [
        visit(i, site, WINDOWS[i % 4], 30 + 15 * (i % 4), SKILLS[(i // 2) % 4])
        for i, site in enumerate(CUSTOMERS)
    ]


def test_a_day_of_twelve_visits_is_planned_within_every_rule() -> None:
    visits = day_of_visits()
    plan = plan_visits(visits, TEAM, time_limit_seconds=LIMIT)
    assert_plan_keeps_every_rule(plan, visits, TEAM, travel_minutes)
    assert plan.unplanned == ()
    assert [route.technician_id for route in plan.routes] == [1, 2, 3]


def test_only_qualified_technicians_get_a_visit() -> None:
    visits = [
        visit(i, site, ("08:00", "18:00"), 45, {"print": 2}) for i, site in enumerate(CUSTOMERS[:5])
    ]
    plan = plan_visits(visits, TEAM, time_limit_seconds=LIMIT)
    assert_plan_keeps_every_rule(plan, visits, TEAM, travel_minutes)
    assert {route.technician_id for route in plan.routes if route.stops} == {3}


def test_visits_that_cannot_be_planned_say_why() -> None:
    one = [technician(1, HOMES[0], ("08:00", "17:00"), {"net": 4})]
    visits = [
        visit(1, CUSTOMERS[0], ("09:00", "09:30"), 45),
        visit(2, CUSTOMERS[1], ("08:00", "17:00"), 30, {"plumbing": 1}),
        visit(3, CUSTOMERS[2], ("18:00", "20:00"), 30),
        visit(4, CUSTOMERS[3], ("08:00", "17:00"), 30, {"net": 5}),
        *(visit(10 + i, CUSTOMERS[4 + i], ("09:00", "16:00"), 150) for i in range(4)),
    ]
    plan = plan_visits(visits, one, time_limit_seconds=LIMIT)
    assert_plan_keeps_every_rule(plan, visits, one, travel_minutes)
    reasons = {u.visit_id: u.reason for u in plan.unplanned}
    assert reasons[1] == REASON_WINDOW_TOO_SHORT
    assert reasons[2] == REASON_NO_TECHNICIAN
    assert reasons[3] == REASON_NO_TECHNICIAN
    assert reasons[4] == REASON_NO_TECHNICIAN
    # Four visits of 2.5 hours cannot all fit in a seven-hour window.
    assert sorted(r for i, r in reasons.items() if i >= 10) == [REASON_NO_ROOM, REASON_NO_ROOM]


def test_nobody_on_duty_leaves_every_visit_unplanned() -> None:
    visits = day_of_visits()[:3]
    plan = plan_visits(visits, [], time_limit_seconds=LIMIT)
    assert plan.routes == ()
    assert {u.reason for u in plan.unplanned} == {REASON_NO_TECHNICIAN}


# --- locked stops --------------------------------------------------------------------------------

LINE = [Site(500 + i, f"stop {i}", 48.85, 2.30 + 0.02 * i) for i in range(6)]


def line_travel(a: Site, b: Site) -> int:
    """Ten minutes per step along a street."""
    return 10 * abs(a.id - b.id)


def test_an_urgent_visit_is_inserted_without_moving_booked_ones() -> None:
    tech = [technician(7, LINE[0], ("08:00", "17:00"), {})]
    booked = [
        visit(1, LINE[3], ("08:00", "17:00"), 60, lock=Lock(7, at("09:00"))),
        visit(2, LINE[5], ("08:00", "17:00"), 60, lock=Lock(7, at("14:00"))),
    ]
    urgent = visit(3, LINE[4], ("10:00", "13:00"), 60)
    plan = plan_visits([*booked, urgent], tech, travel=line_travel, time_limit_seconds=LIMIT)
    assert_plan_keeps_every_rule(plan, [*booked, urgent], tech, line_travel)
    stops = plan.routes[0].stops
    assert [s.visit_id for s in stops] == [1, 3, 2]
    assert [s.start for s in stops] == [at("09:00"), at("10:10"), at("14:00")]
    assert [s.locked for s in stops] == [True, False, True]
    assert plan.routes[0].travel_minutes == 30 + 10 + 10 + 50


def test_a_locked_stop_without_a_site_takes_time_but_no_trip() -> None:
    tech = [technician(7, None, ("08:00", "17:00"), {})]
    call = Visit(
        id=1,
        site=None,
        window_start=at("09:00"),
        window_end=at("12:00"),
        duration_minutes=180,
        lock=Lock(7, at("09:00")),
    )
    job = visit(2, LINE[3], ("10:00", "17:00"), 60)
    plan = plan_visits([call, job], tech, travel=line_travel, time_limit_seconds=LIMIT)
    assert [(s.visit_id, s.site, s.start, s.travel_minutes) for s in plan.routes[0].stops] == [
        (1, None, at("09:00"), 0),
        (2, LINE[3], at("12:00"), 0),  # no home and no site before: nowhere to come from
    ]
    assert plan.unplanned == ()


def test_a_visit_that_only_fits_by_moving_a_booked_one_stays_unplanned() -> None:
    tech = [technician(7, LINE[0], ("08:00", "17:00"), {})]
    booked = [visit(1, LINE[3], ("08:00", "17:00"), 60, lock=Lock(7, at("09:00")))]
    clash = visit(2, LINE[1], ("09:00", "10:00"), 45)
    plan = plan_visits([*booked, clash], tech, travel=line_travel, time_limit_seconds=LIMIT)
    assert [s.start for s in plan.routes[0].stops] == [at("09:00")]
    assert [(u.visit_id, u.reason) for u in plan.unplanned] == [(2, REASON_NO_ROOM)]


def test_replanning_a_planned_day_with_its_stops_locked_keeps_them_exactly() -> None:
    visits = day_of_visits()[:8]
    first = plan_visits(visits, TEAM, time_limit_seconds=LIMIT)
    locks = {
        stop.visit_id: Lock(route.technician_id, stop.start)
        for route in first.routes
        for stop in route.stops
    }
    locked = [
        Visit(
            v.id,
            v.site,
            v.window_start,
            v.window_end,
            v.duration_minutes,
            v.skills,
            v.ticket_id,
            locks[v.id],
        )
        for v in visits
        if v.id in locks
    ]
    urgent = visit(99, CUSTOMERS[9], ("08:00", "18:00"), 30)
    again = plan_visits([*locked, urgent], TEAM, time_limit_seconds=LIMIT)
    assert_plan_keeps_every_rule(again, [*locked, urgent], TEAM, travel_minutes)
    kept = {s.visit_id: (r.technician_id, s.start) for r in again.routes for s in r.stops}
    for visit_id, lock in locks.items():
        assert kept[visit_id] == (lock.technician_id, lock.start)
    assert 99 in kept


def test_only_locked_stops_need_no_solver_and_come_back_as_booked() -> None:
    tech = [technician(7, LINE[0], ("08:00", "17:00"), {})]
    booked = [visit(1, LINE[2], ("08:00", "17:00"), 30, lock=Lock(7, at("11:00")))]
    plan = plan_visits(booked, tech, travel=line_travel, time_limit_seconds=LIMIT)
    assert [(s.visit_id, s.start, s.travel_minutes) for s in plan.routes[0].stops] == [
        (1, at("11:00"), 20)
    ]


def test_contradictory_locked_stops_are_refused() -> None:
    tech = [technician(7, LINE[0], ("08:00", "17:00"), {})]
    overlapping = [
        visit(1, LINE[1], ("08:00", "17:00"), 60, lock=Lock(7, at("09:00"))),
        visit(2, LINE[5], ("08:00", "17:00"), 60, lock=Lock(7, at("10:00"))),
    ]
    with pytest.raises(PlanningError, match="cannot all be kept"):
        plan_visits(overlapping, tech, travel=line_travel, time_limit_seconds=LIMIT)
    elsewhere = [visit(1, LINE[1], ("08:00", "17:00"), 60, lock=Lock(8, at("09:00")))]
    with pytest.raises(PlanningError, match="not on duty"):
        plan_visits(elsewhere, tech, travel=line_travel, time_limit_seconds=LIMIT)


# --- travel is minimised -------------------------------------------------------------------------


def test_the_route_along_a_street_is_travelled_once_each_way() -> None:
    tech = [technician(7, LINE[0], ("08:00", "17:00"), {})]
    visits = [visit(i, LINE[i], ("08:00", "17:00"), 30) for i in (4, 2, 5, 1, 3)]
    plan = plan_visits(visits, tech, travel=line_travel, time_limit_seconds=LIMIT)
    assert_plan_keeps_every_rule(plan, visits, tech, line_travel)
    assert plan.travel_minutes == 100
    assert [s.visit_id for s in plan.routes[0].stops] in ([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])


def test_time_windows_can_force_a_longer_route() -> None:
    tech = [technician(7, LINE[0], ("08:00", "17:00"), {})]
    visits = [
        visit(5, LINE[5], ("08:00", "10:00"), 30),
        visit(1, LINE[1], ("13:00", "14:00"), 30),
        visit(3, LINE[3], ("15:00", "16:00"), 30),
    ]
    plan = plan_visits(visits, tech, travel=line_travel, time_limit_seconds=LIMIT)
    assert_plan_keeps_every_rule(plan, visits, tech, line_travel)
    assert [s.visit_id for s in plan.routes[0].stops] == [5, 1, 3]
    assert plan.travel_minutes == 50 + 40 + 20 + 30


# --- the generic core ----------------------------------------------------------------------------


def small_problem(**changes: object) -> VrptwProblem:
    """A depot and four customers on a line; each customer weighs 60, vehicles carry 100."""
    positions = [0, 1, 2, 3, 4]
    fields: dict[str, object] = {
        "travel": [[10 * abs(a - b) for b in positions] for a in positions],
        "windows": [(0, 1000)] * 5,
        "service": [0, 5, 5, 5, 5],
        "starts": [0, 0, 0],
        "ends": [0, 0, 0],
        "shifts": [(0, 1000)] * 3,
        "demands": [0, 60, 60, 60, 60],
        "capacities": [100, 100, 100],
    }
    fields.update(changes)
    return VrptwProblem(**fields)  # type: ignore[arg-type]


def test_capacity_splits_the_customers_over_vehicles() -> None:
    problem = small_problem(capacities=[130, 130, 130], vehicle_fixed_cost=1000)
    solution = solve_vrptw(problem, time_limit_seconds=LIMIT)
    assert violations(problem, solution) == []
    assert solution.vehicles_used == 2
    assert solution.dropped == ()


def test_the_search_can_start_from_given_routes_and_still_improve_them() -> None:
    problem = small_problem(capacities=[130, 130, 130], vehicle_fixed_cost=1000)
    wasteful = [[4, 1], [2], [3]]
    solution = solve_vrptw(problem, time_limit_seconds=LIMIT, initial_routes=wasteful)
    assert violations(problem, solution) == []
    assert solution.vehicles_used == 2


def test_violations_name_each_broken_rule() -> None:
    problem = small_problem(
        windows=[(0, 1000), (0, 5), (0, 1000), (0, 1000), (0, 1000)], allowed={2: [1]}
    )
    broken = VrptwSolution(routes=((1, 2, 3), (4,), ()), dropped=(4,))
    found = violations(problem, broken)
    assert "vehicle 0 may not serve node 2" in found
    assert "vehicle 0 carries 180 over 100" in found
    assert "node 4 appears 2 times" in found
    assert "node 4 must be served but was dropped" in found
    assert any("cannot keep the windows" in text for text in found)


def test_an_impossible_mandatory_problem_raises() -> None:
    problem = small_problem(windows=[(0, 1000), (0, 1), (0, 1), (0, 1), (0, 1)])
    with pytest.raises(PlanningError):
        solve_vrptw(problem, time_limit_seconds=LIMIT)


def test_malformed_problems_are_refused() -> None:
    with pytest.raises(ValueError, match="square"):
        small_problem(travel=[[0, 1, 2, 3, 4]] * 4)
    with pytest.raises(ValueError, match="capacities"):
        small_problem(capacities=None)
    with pytest.raises(ValueError, match="positive"):
        visit(1, LINE[1], ("08:00", "09:00"), 0)
    with pytest.raises(ValueError, match="shift"):
        technician(1, None, ("17:00", "08:00"), {})


def test_importing_the_planner_does_not_load_ortools() -> None:
    source = str(Path(expediter.__file__).resolve().parents[1])
    environment = {**os.environ, "PYTHONPATH": source}
    code = "import sys, expediter.appointments.planner; print('ortools' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True
    )
    assert result.stdout.strip() == "False"
