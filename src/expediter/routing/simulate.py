"""``expediter simulate``: compare assignment policies on a simulated desk.

:func:`run` returns the command's JSON document. Each policy plays the same
requests (see :mod:`expediter.routing.simulation.desk`) through the real
engine, and is measured on:

- ``sla_attainment``: share of requests whose work started (assignment to an
  agent with spare capacity) within their priority's ``target_minutes``.
- ``mean_wait_minutes`` / ``p95_wait_minutes`` (nearest rank): from arrival to
  the start of work. A request that never starts (under ``manual``, or with
  nobody able to take it) counts as waiting until the simulation ends, seven
  days after the last arrival day, and misses its SLA.
- ``workload_cv``: coefficient of variation (population standard deviation
  over mean) across agents of requests started per hour on shift, over the
  scenario's days; agents without hours are left out.
- ``skill_match_rate``: share of started requests whose agent's level in the
  service's first skill is 4 or more, or is the agent's best level (their
  primary skill).
- ``off_shift_assignments``, ``over_capacity_assignments``,
  ``unskilled_assignments``: assignments breaking a hard rule, counted by the
  desk itself; zero whenever the engine is right.

A ratio over nothing (no requests, nothing started) is reported as 0.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from expediter.routing.engine import check_policy
from expediter.routing.simulation.desk import Desk, DeskRun, generate_requests
from expediter.routing.simulation.scenario import Scenario, load_scenario

DEFAULT_POLICIES = ("skills", "least_loaded", "round_robin")
"""``manual`` assigns nothing, so it is only run when asked for."""

_DIGITS = 4


def run(
    scenario: Mapping[str, Any] | None = None,
    *,
    days: int | None = None,
    seed: int | None = None,
    policies: Sequence[str] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Simulate each policy over the scenario (the built-in one when None).

    ``days`` and ``seed`` override the scenario's. Raises ValueError naming the
    faulty field or policy.
    """
    chosen = _policies(policies)
    loaded = load_scenario(scenario, days=days, seed=seed)
    requests = generate_requests(loaded)
    reports = []
    for policy in chosen:
        outcome = Desk(loaded, requests, policy).run()
        reports.append(policy_report(policy, loaded, outcome))
    return {"policies": reports}


def policy_report(policy: str, scenario: Scenario, outcome: DeskRun) -> dict[str, Any]:
    """One policy's entry of the JSON document."""
    waits = _waits(outcome)
    met = sum(
        1
        for request, start in zip(outcome.requests, outcome.starts, strict=True)
        if start is not None and start - request.arrival <= request.target_minutes
    )
    return {
        "policy": policy,
        "sla_attainment": _round(_share(met, len(outcome.requests))),
        "mean_wait_minutes": _round(statistics.fmean(waits) if waits else 0.0),
        "p95_wait_minutes": _round(_nearest_rank(waits, 0.95)),
        "workload_cv": _round(workload_cv(outcome)),
        "skill_match_rate": _round(skill_match_rate(scenario, outcome)),
        "off_shift_assignments": outcome.violations.off_shift,
        "over_capacity_assignments": outcome.violations.over_capacity,
        "unskilled_assignments": outcome.violations.unskilled,
    }


def workload_cv(outcome: DeskRun) -> float:
    """Spread of requests started per hour on shift across agents (0: perfectly even)."""
    rates = [
        assigned / (minutes / 60)
        for assigned, minutes in zip(outcome.assigned, outcome.shift_minutes, strict=True)
        if minutes > 0
    ]
    if not rates or statistics.fmean(rates) == 0:
        return 0.0
    return statistics.pstdev(rates) / statistics.fmean(rates)


def skill_match_rate(scenario: Scenario, outcome: DeskRun) -> float:
    """Share of started requests handled in the agent's primary skill or at level 4+."""
    started = matched = 0
    for request, handler in zip(outcome.requests, outcome.handlers, strict=True):
        if handler is None:
            continue
        started += 1
        agent = scenario.agents[handler]
        level = agent.skills.get(request.service.first_skill, 0)
        if level >= 4 or level == agent.best_level:
            matched += 1
    return _share(matched, started)


def offered_load(scenario: Scenario) -> float:
    """Weekly work offered over weekly capacity on shift (1.0: every slot always busy).

    Work is counted at the mean speed of the agents able to handle each
    service, as if it were spread evenly over them.
    """
    arrivals_per_week = sum(a.per_hour * a.hours.minutes_per_week() / 60 for a in scenario.arrivals)
    total_share = sum(s.share for s in scenario.services)
    work_per_request = sum(
        service.share / total_share * service.handle_minutes * _mean_speed(scenario, service.skills)
        for service in scenario.services
    )
    slot_minutes = sum(a.capacity * a.hours.minutes_per_week() for a in scenario.agents)
    return arrivals_per_week * work_per_request / slot_minutes if slot_minutes else math.inf


def _mean_speed(scenario: Scenario, required: Mapping[str, int]) -> float:
    first_skill = next(iter(required))
    levels = [
        agent.skills[first_skill]
        for agent in scenario.agents
        if all(agent.skills.get(skill, 0) >= level for skill, level in required.items())
    ]
    return statistics.fmean(scenario.speed(level) for level in levels) if levels else 1.0


def _policies(policies: Sequence[str] | None) -> list[str]:
    chosen = list(DEFAULT_POLICIES if policies is None else policies)
    if not chosen:
        raise ValueError("policies: name at least one policy")
    for policy in chosen:
        try:
            check_policy(policy)
        except ValueError as error:
            raise ValueError(f"policies: {error}") from None
    return chosen


def _waits(outcome: DeskRun) -> list[float]:
    return [
        (outcome.end if start is None else start) - request.arrival
        for request, start in zip(outcome.requests, outcome.starts, strict=True)
    ]


def _nearest_rank(values: Sequence[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _round(value: float) -> float:
    return round(value, _DIGITS)
