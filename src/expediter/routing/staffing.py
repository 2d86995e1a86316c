"""How many agents a desk needs: Erlang C, with shrinkage.

Requests arrive at random (Poisson) at ``arrivals_per_hour`` and take on
average ``handle_minutes``; the offered load A = λ·h is measured in erlangs
(agents kept busy). With N agents answering, the Erlang C formula gives the
probability that a request has to wait, and the share answered within T
minutes is ``1 - C(N, A) · exp(-(N - A) · T / h)``.

Erlang C is computed from the Erlang B recursion
``B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1))``, which stays between 0 and 1
and never forms the huge factorials and powers of the textbook formula, so it
is exact for loads of thousands of erlangs.

Shrinkage is the share of paid time agents are not answering (meetings,
breaks, training, absence). ``agents`` in the result is the *rostered* count,
``ceil(raw_agents / (1 - shrinkage))``; ``raw_agents`` is how many must be
answering at once, and the service level, wait probability and occupancy are
those of the raw agents.

:func:`square_root_agents` is the Halfin–Whitt square-root staffing rule
``N ≈ A + β·√A``, a rule of thumb planners use to sanity-check the exact figure
for a target probability of waiting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_MAX_EXTRA_AGENTS = 100


@dataclass(frozen=True)
class StaffingResult:
    """The fewest agents meeting the target, and the service they would give."""

    agents: int
    raw_agents: int
    offered_load: float
    service_level: float
    wait_probability: float
    occupancy: float
    shrinkage: float

    def as_dict(self) -> dict[str, float | int]:
        """The ``expediter staffing`` JSON document (contract keys first)."""
        return {
            "agents": self.agents,
            "service_level": self.service_level,
            "wait_probability": self.wait_probability,
            "occupancy": self.occupancy,
            "raw_agents": self.raw_agents,
            "offered_load": self.offered_load,
            "shrinkage": self.shrinkage,
        }


def erlang_b(agents: int, offered_load: float) -> float:
    """Probability that all ``agents`` are busy in a loss system (Erlang B)."""
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = offered_load * blocking / (n + offered_load * blocking)
    return blocking


def erlang_c(agents: int, offered_load: float) -> float:
    """Probability that a request waits (Erlang C); 1 when the queue never empties."""
    return _erlang_c_from_b(agents, offered_load, erlang_b(agents, offered_load))


def service_level(
    agents: int, offered_load: float, *, handle_minutes: float, answer_within_minutes: float
) -> float:
    """Share of requests whose wait is at most ``answer_within_minutes``."""
    wait = erlang_c(agents, offered_load)
    return _service_level(agents, offered_load, wait, handle_minutes, answer_within_minutes)


def required_agents(
    *,
    arrivals_per_hour: float,
    handle_minutes: float,
    answer_within_minutes: float,
    target: float,
    shrinkage: float = 0.0,
) -> StaffingResult:
    """The fewest agents for which the share answered within T reaches the target.

    Raises ValueError naming the ``expediter staffing`` option that is out of range.
    """
    _check_inputs(arrivals_per_hour, handle_minutes, answer_within_minutes, target, shrinkage)
    load = arrivals_per_hour * handle_minutes / 60.0
    agents, blocking = 0, 1.0
    limit = math.ceil(load + _MAX_EXTRA_AGENTS + 20 * math.sqrt(load))
    while agents < limit:
        agents += 1
        blocking = load * blocking / (agents + load * blocking)
        if agents <= load:
            continue
        wait = _erlang_c_from_b(agents, load, blocking)
        level = _service_level(agents, load, wait, handle_minutes, answer_within_minutes)
        if level >= target:
            return StaffingResult(
                agents=_rostered(agents, shrinkage),
                raw_agents=agents,
                offered_load=load,
                service_level=level,
                wait_probability=wait,
                occupancy=load / agents,
                shrinkage=shrinkage,
            )
    raise ValueError(f"--target {target} cannot be reached with up to {limit} agents")


def square_root_agents(offered_load: float, *, wait_probability: float) -> int:
    """Halfin–Whitt estimate of the agents keeping P(wait) at or below the given share."""
    if not 0.0 < wait_probability < 1.0:
        raise ValueError("wait_probability must lie strictly between 0 and 1")
    if offered_load <= 0:
        raise ValueError("offered_load must be positive")
    beta = _halfin_whitt_beta(wait_probability)
    return math.ceil(offered_load + beta * math.sqrt(offered_load))


def halfin_whitt_wait_probability(beta: float) -> float:
    """P(wait) ≈ 1 / (1 + β·Φ(β)/φ(β)) when N = A + β·√A agents answer a large load."""
    density = math.exp(-beta * beta / 2) / math.sqrt(2 * math.pi)
    cumulative = 0.5 * (1 + math.erf(beta / math.sqrt(2)))
    return 1.0 / (1.0 + beta * cumulative / density)


def _halfin_whitt_beta(wait_probability: float) -> float:
    """Invert the decreasing Halfin–Whitt curve by bisection (60 halvings: exact enough)."""
    low, high = 0.0, 10.0
    for _ in range(60):
        middle = (low + high) / 2
        if halfin_whitt_wait_probability(middle) > wait_probability:
            low = middle
        else:
            high = middle
    return high


def _erlang_c_from_b(agents: int, offered_load: float, blocking: float) -> float:
    if agents <= offered_load:
        return 1.0
    return agents * blocking / (agents - offered_load * (1.0 - blocking))


def _service_level(
    agents: int, load: float, wait: float, handle_minutes: float, within_minutes: float
) -> float:
    if agents <= load:
        return 0.0
    return 1.0 - wait * math.exp(-(agents - load) * within_minutes / handle_minutes)


def _rostered(agents: int, shrinkage: float) -> int:
    """Agents on the roster so that ``agents`` are answering; rounding noise ignored."""
    return math.ceil(round(agents / (1.0 - shrinkage), 9))


def _check_inputs(
    arrivals_per_hour: float,
    handle_minutes: float,
    answer_within_minutes: float,
    target: float,
    shrinkage: float,
) -> None:
    _check_positive("--arrivals-per-hour", arrivals_per_hour)
    _check_positive("--handle-minutes", handle_minutes)
    if not (math.isfinite(answer_within_minutes) and answer_within_minutes >= 0):
        raise ValueError(
            f"--answer-within-minutes must be zero or more minutes, got {answer_within_minutes}"
        )
    _check_fraction("--target", target)
    _check_fraction("--shrinkage", shrinkage)
    if shrinkage >= 1.0:
        raise ValueError("--shrinkage must be below 1: at 1 nobody on the roster ever answers")


def _check_positive(option: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{option} must be a positive number, got {value}")


def _check_fraction(option: str, value: float) -> None:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{option} must be a fraction between 0 and 1, got {value}")
