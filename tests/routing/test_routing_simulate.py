"""The desk simulator: mechanics, metrics, policy comparison and scenario checks."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from expediter.routing import simulate
from expediter.routing.engine import Decision
from expediter.routing.simulation import desk as desk_module
from expediter.routing.simulation.desk import Desk, DeskRun, Request, Violations, generate_requests
from expediter.routing.simulation.scenario import (
    Scenario,
    default_scenario,
    load_scenario,
    open_intervals,
)

REPORT_KEYS = [
    "policy",
    "sla_attainment",
    "mean_wait_minutes",
    "p95_wait_minutes",
    "workload_cv",
    "skill_match_rate",
    "off_shift_assignments",
    "over_capacity_assignments",
    "unskilled_assignments",
]
MONDAY_8 = 8 * 60.0


def tech(name: str, hours: str, capacity: int = 3, **skills: int) -> dict[str, Any]:
    return {"name": name, "skills": skills, "capacity": capacity, "hours": hours}


DAY = "mon-fri 08:00-17:00"

# Eight people on one day shift: four specialists (one also in security) and four generalists.
SPECIALISTS_AND_GENERALISTS: dict[str, Any] = {
    "agents": [
        tech("s-net", DAY, 2, net=5),
        tech("s-win", DAY, 2, win=5),
        tech("s-app", DAY, 2, app=5),
        tech("s-sec", DAY, 2, net=4, sec=5),
        *(tech(f"g{n}", DAY, 2, net=3, win=3, app=3, sec=3) for n in range(1, 5)),
    ],
    "services": [
        {"name": "Network", "skills": {"net": 3}, "share": 0.25, "handle_minutes": 50},
        {"name": "Workstation", "skills": {"win": 2}, "share": 0.35, "handle_minutes": 35},
        {"name": "Applications", "skills": {"app": 3}, "share": 0.3, "handle_minutes": 45},
        {"name": "Security", "skills": {"sec": 3, "net": 3}, "share": 0.1, "handle_minutes": 60},
    ],
    "arrivals": [{"hours": DAY, "per_hour": 16.0}],
}

# A desk open around the clock: day, evening and a night shift crossing midnight.
NIGHT = "mon-sun 00:00-06:00,22:00-24:00"
ROUND_THE_CLOCK: dict[str, Any] = {
    "agents": [
        tech("d1", "mon-sun 06:00-14:00", net=5, win=3),
        tech("d2", "mon-sun 06:00-14:00", win=5, app=3),
        tech("d3", "mon-fri 06:00-14:00", app=5, net=3),
        tech("d4", "mon-fri 08:00-16:00", win=4, net=3),
        tech("e1", "mon-sun 14:00-22:00", net=4, app=3),
        tech("e2", "mon-sun 14:00-22:00", win=5, net=3),
        tech("e3", "mon-fri 14:00-22:00", app=4, win=3),
        tech("n1", NIGHT, net=4, win=4, app=3),
        tech("n2", NIGHT, win=3, app=4, net=3),
    ],
    "arrivals": [
        {"hours": "mon-sun 00:00-24:00", "per_hour": 3.5},
        {"hours": "mon-fri 07:00-19:00", "per_hour": 9.0},
    ],
}


@pytest.fixture(scope="module")
def default_week() -> dict[str, dict[str, Any]]:
    result = simulate.run(
        None, days=7, seed=1, policies=["skills", "least_loaded", "round_robin", "manual"]
    )
    return {row["policy"]: row for row in result["policies"]}


def small_scenario(**changes: Any) -> Scenario:
    """One technician on net, Monday 08:00-12:00, requests taking exactly an hour at level 5."""
    raw: dict[str, Any] = {
        "days": 2,
        "agents": [
            {"name": "solo", "skills": {"net": 5}, "capacity": 1, "hours": "mon-fri 08:00-12:00"}
        ],
        "services": [{"name": "Network", "skills": {"net": 3}, "handle_minutes": 60}],
        "arrivals": [{"hours": "mon 08:00-09:00", "per_hour": 1.0}],
    }
    raw.update(changes)
    return load_scenario(raw)


def request(
    scenario: Scenario, number: int, arrival: float, *, priority: int = 3, target: float = 480
) -> Request:
    return Request(number, arrival, scenario.services[0], priority, target, work=1.0)


# The JSON document and hard rules -------------------------------------------


def test_report_has_exactly_the_contract_fields(default_week: dict[str, dict[str, Any]]) -> None:
    assert list(default_week) == ["skills", "least_loaded", "round_robin", "manual"]
    for row in default_week.values():
        assert list(row) == REPORT_KEYS


def test_no_policy_ever_breaks_a_hard_rule(default_week: dict[str, dict[str, Any]]) -> None:
    for row in default_week.values():
        assert row["off_shift_assignments"] == 0
        assert row["over_capacity_assignments"] == 0
        assert row["unskilled_assignments"] == 0


def test_skills_beats_the_other_policies_on_the_default_desk(
    default_week: dict[str, dict[str, Any]],
) -> None:
    skills = default_week["skills"]
    assert skills["sla_attainment"] >= 0.95
    assert skills["sla_attainment"] > default_week["least_loaded"]["sla_attainment"]
    assert skills["sla_attainment"] > default_week["round_robin"]["sla_attainment"]
    assert skills["workload_cv"] <= 0.15
    assert skills["skill_match_rate"] > default_week["round_robin"]["skill_match_rate"]


def test_manual_assigns_nothing(default_week: dict[str, dict[str, Any]]) -> None:
    manual = default_week["manual"]
    assert manual["sla_attainment"] == 0.0
    assert manual["skill_match_rate"] == 0.0
    assert manual["mean_wait_minutes"] > 7 * 24 * 60 / 2


@pytest.mark.parametrize(
    ("scenario", "days"), [(SPECIALISTS_AND_GENERALISTS, 14), (ROUND_THE_CLOCK, 7)]
)
def test_skills_beats_the_other_policies_on_other_desks(
    scenario: dict[str, Any], days: int
) -> None:
    rows = {row["policy"]: row for row in simulate.run(scenario, days=days, seed=1)["policies"]}
    best_other = max(rows["least_loaded"]["sla_attainment"], rows["round_robin"]["sla_attainment"])
    assert rows["skills"]["sla_attainment"] > best_other
    assert all(row["unskilled_assignments"] == 0 for row in rows.values())


def test_the_desk_counts_violations_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an engine that always answers "agent 1", whoever that is
    def reckless(*args: object, **kwargs: object) -> Decision:
        return Decision(agent_id=1, reason="reckless", candidates=())

    monkeypatch.setattr(desk_module, "choose_agent", reckless)
    scenario = small_scenario(
        services=[{"name": "Apps", "skills": {"app": 3}, "handle_minutes": 60}],
        arrivals=[{"hours": "mon 07:00-10:00", "per_hour": 6.0}],
    )
    row = simulate.policy_report(
        "skills", scenario, Desk(scenario, generate_requests(scenario), "skills").run()
    )

    # Then every rule it breaks shows in the figures
    assert row["off_shift_assignments"] > 0
    assert row["over_capacity_assignments"] > 0
    assert row["unskilled_assignments"] > 0


def test_same_seed_same_result_and_another_seed_differs() -> None:
    first = simulate.run(None, days=3, seed=5, policies=["skills"])
    assert simulate.run(None, days=3, seed=5, policies=["skills"]) == first
    assert simulate.run(None, days=3, seed=6, policies=["skills"]) != first


def test_policies_face_the_same_requests() -> None:
    scenario = load_scenario(None, days=3, seed=2)
    assert generate_requests(scenario) == generate_requests(scenario)


# Mechanics of the desk ------------------------------------------------------


def test_handling_is_slower_at_lower_levels() -> None:
    # Given a level 3 technician (speed factor 1.3) and two one-hour requests at 10:00
    scenario = small_scenario(
        agents=[{"name": "junior", "skills": {"net": 3}, "capacity": 1, "hours": "mon 08:00-18:00"}]
    )
    requests = (request(scenario, 0, 600.0), request(scenario, 1, 600.0))
    run = Desk(scenario, requests, "skills").run()
    # Then the second starts when the first is done, 78 minutes later
    assert run.starts == (600.0, pytest.approx(678.0))


def test_capacity_means_parallel_work_at_full_speed() -> None:
    scenario = small_scenario(
        agents=[{"name": "solo", "skills": {"net": 5}, "capacity": 2, "hours": "mon 08:00-18:00"}]
    )
    requests = tuple(request(scenario, n, 600.0) for n in range(3))
    assert Desk(scenario, requests, "round_robin").run().starts == (600.0, 600.0, 660.0)


def test_work_in_hand_is_finished_after_the_shift_but_nothing_new_is_taken() -> None:
    # Given a shift ending at 12:00, one request started at 11:30 and another arriving at 11:45
    scenario = small_scenario()
    requests = (request(scenario, 0, 690.0), request(scenario, 1, 705.0))
    run = Desk(scenario, requests, "skills").run()
    # Then the second waits for Tuesday 08:00 although the first ends at 12:30
    assert run.starts == (690.0, 24 * 60 + MONDAY_8)
    assert run.violations == Violations()


def test_an_agent_coming_on_duty_pulls_from_the_queue() -> None:
    scenario = small_scenario()
    run = Desk(scenario, (request(scenario, 0, 60.0),), "least_loaded").run()
    assert run.starts == (MONDAY_8,)


@pytest.mark.parametrize(("policy", "first_pulled"), [("skills", 2), ("round_robin", 1)])
def test_skills_serves_urgency_first_the_others_arrival_order(
    policy: str, first_pulled: int
) -> None:
    # Given the technician busy from 08:00, then a low priority and an urgent request waiting
    scenario = small_scenario()
    requests = (
        request(scenario, 0, MONDAY_8),
        request(scenario, 1, MONDAY_8 + 10, priority=4, target=1440),
        request(scenario, 2, MONDAY_8 + 20, priority=1, target=60),
    )
    run = Desk(scenario, requests, policy).run()
    # Then at 09:00 skills takes the urgent one, round robin the older one
    assert run.starts[first_pulled] == MONDAY_8 + 60


def test_a_request_nobody_can_take_waits_until_the_end_and_misses() -> None:
    scenario = small_scenario(
        services=[{"name": "Apps", "skills": {"app": 3}, "handle_minutes": 60}]
    )
    requests = (request(scenario, 0, 600.0),)
    run = Desk(scenario, requests, "skills").run()
    row = simulate.policy_report("skills", scenario, run)
    assert run.starts == (None,)
    assert row["sla_attainment"] == 0.0
    assert row["mean_wait_minutes"] == (2 + 7) * 24 * 60 - 600


# Metrics --------------------------------------------------------------------


def test_workload_cv_is_spread_over_mean_of_requests_per_shift_hour() -> None:
    scenario = small_scenario()
    run = DeskRun(
        requests=(),
        starts=(),
        handlers=(),
        end=0.0,
        assigned=(10, 30, 0),
        shift_minutes=(600.0, 600.0, 0.0),
        violations=Violations(),
    )
    # rates 1 and 3 per hour (the agent without hours is left out): sd 1, mean 2
    assert simulate.workload_cv(run) == pytest.approx(0.5)
    assert scenario.days == 2


def test_skill_match_counts_primary_skill_or_level_four() -> None:
    scenario = load_scenario(
        {
            "agents": [
                {"name": "net-first", "skills": {"net": 3}, "hours": "mon 08:00-09:00"},
                {"name": "win-first", "skills": {"net": 3, "win": 5}, "hours": "mon 08:00-09:00"},
                {"name": "net-good", "skills": {"net": 4, "win": 5}, "hours": "mon 08:00-09:00"},
            ],
            "services": [{"name": "Network", "skills": {"net": 3}, "handle_minutes": 10}],
        }
    )
    requests = tuple(request(scenario, n, 0.0) for n in range(4))
    run = DeskRun(
        requests=requests,
        starts=(1.0, 1.0, 1.0, None),
        handlers=(0, 1, 2, None),
        end=10.0,
        assigned=(1, 1, 1),
        shift_minutes=(60.0, 60.0, 60.0),
        violations=Violations(),
    )
    # matched: net-first (net is their best), net-good (level 4); not win-first
    assert simulate.skill_match_rate(scenario, run) == pytest.approx(2 / 3)


def test_default_scenario_is_the_described_desk() -> None:
    scenario = load_scenario(None)
    assert len(scenario.agents) == 12
    assert {spec.hours.to_spec() for spec in scenario.agents} == {
        "mon 08:00-16:00; tue 08:00-16:00; wed 08:00-16:00; thu 08:00-16:00; fri 08:00-16:00",
        "mon 10:00-18:00; tue 10:00-18:00; wed 10:00-18:00; thu 10:00-18:00; fri 10:00-18:00",
    }
    assert {skill for spec in scenario.agents for skill in spec.skills} == {"net", "win", "app"}
    assert scenario.days == 28
    assert 0.8 <= simulate.offered_load(scenario) <= 0.9


def test_arrivals_follow_the_rates_and_hours() -> None:
    scenario = load_scenario(None, days=28, seed=3)
    requests = generate_requests(scenario)
    # 17.5/h over 50 h a week plus 17.5/h over the 20 morning hours, four weeks
    expected = 4 * 17.5 * 70
    assert abs(len(requests) - expected) < 4 * expected**0.5
    for item in requests:
        day, minute = divmod(item.arrival, 24 * 60)
        assert day % 7 < 5 and 8 * 60 <= minute < 18 * 60
    p1_share = sum(item.priority == 1 for item in requests) / len(requests)
    assert 0.03 < p1_share < 0.07


# Scenario checks --------------------------------------------------------------


def test_night_shift_across_midnight_is_one_stretch() -> None:
    scenario = load_scenario(ROUND_THE_CLOCK)
    night = scenario.agents[7].hours
    stretches = open_intervals(night, scenario, first_day=0, last_day=2)
    assert stretches == [(0.0, 360.0), (1320.0, 1440.0 + 360.0), (1440.0 + 1320.0, 2880.0)]


def test_shifts_keep_their_wall_clock_across_daylight_saving() -> None:
    # 2026-03-29 is the spring change in Paris: a 09:00 start is 08:00 UTC before, 07:00 after
    scenario = load_scenario({"agents": [{"name": "a", "hours": "mon 09:00-10:00"}]}, days=90)
    starts = [
        begin
        for begin, _ in open_intervals(scenario.agents[0].hours, scenario, first_day=0, last_day=90)
    ]
    utc_hours = [(scenario.start.hour * 60 + begin) % 1440 / 60 for begin in starts]
    assert utc_hours[0] == 8.0
    assert utc_hours[-1] == 7.0


def test_omitted_fields_take_the_default_scenario() -> None:
    partial = load_scenario({"days": 3})
    assert partial.agents == load_scenario(None).agents
    assert partial.days == 3
    speeds = load_scenario({"speed_by_level": {"1": 3.0}}).speed_by_level
    assert speeds[1] == 3.0 and speeds[5] == 1.0


def test_default_scenario_document_is_a_fresh_copy() -> None:
    document = default_scenario()
    document["agents"].clear()
    assert default_scenario()["agents"]


def _broken(path: str, value: Any) -> dict[str, Any]:
    document = copy.deepcopy(default_scenario())
    target = document
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    last = keys[-1]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("days", 0, r"^days: "),
        ("days", "7", r"^days: "),
        ("seed", 1.5, r"^seed: "),
        ("time_zone", "Mars/Olympus", r"^time_zone: unknown time zone"),
        ("agents", [], r"^agents: "),
        ("agents.0.capacity", 0, r"^agents\[0\]\.capacity: "),
        ("agents.1.hours", "mon 18:00-08:00", r"^agents\[1\]\.hours: "),
        ("agents.2.skills", {"net": 6}, r"^agents\[2\]\.skills\.net: "),
        ("agents.3.name", "t1", r"^agents\[3\]\.name: 't1' is used twice"),
        ("agents.0.speed", 2, r"^agents\[0\]\.speed: unknown field"),
        ("services.0.skills", {}, r"^services\[0\]\.skills: "),
        ("services.1.handle_minutes", -5, r"^services\[1\]\.handle_minutes: "),
        ("services.2.share", "a lot", r"^services\[2\]\.share: "),
        ("arrivals.0.per_hour", None, r"^arrivals\[0\]\.per_hour: "),
        ("arrivals.1.hours", 9, r"^arrivals\[1\]\.hours: "),
        ("priorities.5", {"share": 0.1, "target_minutes": 10}, r"^priorities\.5: "),
        ("priorities.1.target_minutes", 0, r"^priorities\.1\.target_minutes: "),
        ("speed_by_level.0", 1.0, r"^speed_by_level\.0: "),
        ("speed_by_level.3", 0, r"^speed_by_level\.3: "),
        ("agent", [], r"^agent: unknown scenario field"),
        ("description", 42, r"^description: expected text"),
    ],
)
def test_invalid_scenarios_name_the_field(path: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_scenario(_broken(path, value))


def test_all_zero_shares_are_refused() -> None:
    document = default_scenario()
    for service in document["services"]:
        service["share"] = 0
    with pytest.raises(ValueError, match=r"^services: the shares must not all be zero"):
        load_scenario(document)


def test_run_checks_the_scenario_before_simulating() -> None:
    with pytest.raises(ValueError, match=r"^scenario: expected a JSON object"):
        simulate.run([], days=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^days: "):
        simulate.run(None, days=0)


@pytest.mark.parametrize("policies", [[], ["skills", "fastest"]])
def test_unknown_or_missing_policies_are_refused(policies: list[str]) -> None:
    with pytest.raises(ValueError, match=r"^policies: "):
        simulate.run(None, days=1, policies=policies)
