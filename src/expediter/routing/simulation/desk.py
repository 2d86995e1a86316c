"""A discrete-event model of the desk, assigning through the real routing engine.

Requests arrive as the scenario says; each arrival asks
:func:`~expediter.routing.engine.choose_agent` for an agent and otherwise waits
in a :class:`~expediter.routing.engine.TicketQueue`, from which an agent pulls
when a request of theirs is done or their shift starts. An agent works on up
to ``capacity`` requests at once, each at full speed; work still in hand when
a shift ends is finished, but nothing new is taken until the next shift.

The desk checks every assignment against the hard rules with its own state
(not the engine's facts) and counts what breaks them, so a fault in the
engine would show in the results instead of hiding behind it.

Arrivals, service, priority and the amount of work are drawn once per
scenario and shared by every policy (common random numbers): the policies
face the same requests, and differences between them are not luck of the draw.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from expediter.routing.engine import AgentFacts, TicketFacts, TicketQueue, choose_agent
from expediter.routing.simulation.scenario import (
    AgentSpec,
    Interval,
    Scenario,
    ServiceSpec,
    open_intervals,
)

TEAM_ID = 1
DRAIN_DAYS = 7
"""Days simulated after the last arrival so requests still waiting can start."""

MINUTES_PER_DAY = 24 * 60

_SHIFT_END, _DONE, _SHIFT_START, _ARRIVAL = range(4)


@dataclass(frozen=True)
class Request:
    """One simulated request; ``work`` is a unit-mean draw scaled by whoever handles it."""

    id: int
    arrival: float
    service: ServiceSpec
    priority: int
    target_minutes: float
    work: float


@dataclass(frozen=True)
class Violations:
    off_shift: int = 0
    over_capacity: int = 0
    unskilled: int = 0


@dataclass(frozen=True)
class DeskRun:
    """What happened under one policy, for the metrics to read.

    ``starts[i]`` is when request i was assigned (None: never), ``handlers[i]``
    the index of its agent; ``assigned`` and ``shift_minutes`` per agent cover
    the arrival window only (the scenario's days, not the drain after it).
    """

    requests: tuple[Request, ...]
    starts: tuple[float | None, ...]
    handlers: tuple[int | None, ...]
    end: float
    assigned: tuple[int, ...]
    shift_minutes: tuple[float, ...]
    violations: Violations


@dataclass
class _Agent:
    index: int
    spec: AgentSpec
    shifts: deque[Interval]
    on_shift: bool = False
    shift_ends: datetime | None = None
    active: int = 0
    last_assigned: datetime | None = None
    assigned_in_window: int = 0

    def facts(self) -> AgentFacts:
        return AgentFacts(
            id=self.index + 1,
            name=self.spec.name,
            team_ids=frozenset({TEAM_ID}),
            on_duty=self.on_shift,
            on_time_off=False,
            duty_ends_at=self.shift_ends,
            skills=self.spec.skills,
            active=self.active,
            capacity=self.spec.capacity,
            last_assigned_at=self.last_assigned,
        )


def generate_requests(scenario: Scenario) -> tuple[Request, ...]:
    """Every request of the scenario, in arrival order, from its seed alone."""
    rng = random.Random(scenario.seed)
    times: list[float] = []
    for arrival in scenario.arrivals:
        if arrival.per_hour <= 0:
            continue
        rate = arrival.per_hour / 60
        for begin, end in open_intervals(
            arrival.hours, scenario, first_day=0, last_day=scenario.days
        ):
            moment = begin + rng.expovariate(rate)
            while moment < end:
                times.append(moment)
                moment += rng.expovariate(rate)
    times.sort()
    services = scenario.services
    service_weights = [s.share for s in services]
    priorities = scenario.priorities
    priority_weights = [p.share for p in priorities]
    requests = []
    for number, moment in enumerate(times):
        service = rng.choices(services, weights=service_weights)[0]
        priority = rng.choices(priorities, weights=priority_weights)[0]
        requests.append(
            Request(
                id=number,
                arrival=moment,
                service=service,
                priority=priority.priority,
                target_minutes=priority.target_minutes,
                work=rng.expovariate(1.0),
            )
        )
    return tuple(requests)


class Desk:
    """One policy's run over a fixed list of requests."""

    def __init__(self, scenario: Scenario, requests: tuple[Request, ...], policy: str) -> None:
        self.scenario = scenario
        self.requests = requests
        self.policy = policy
        self.queue = TicketQueue(policy)
        self.start = scenario.start
        self.now = 0.0
        self.window_end = float(scenario.days * MINUTES_PER_DAY)
        self.horizon = float((scenario.days + DRAIN_DAYS) * MINUTES_PER_DAY)
        self.agents = [
            _Agent(i, spec, deque(self._intervals(spec, scenario.days + DRAIN_DAYS)))
            for i, spec in enumerate(scenario.agents)
        ]
        self.starts: list[float | None] = [None] * len(requests)
        self.handlers: list[int | None] = [None] * len(requests)
        self.counts = {"off_shift": 0, "over_capacity": 0, "unskilled": 0}
        self._events: list[tuple[float, int, int, int]] = []
        self._sequence = 0

    def run(self) -> DeskRun:
        """Play every event in time order until no request waits or time runs out."""
        self._schedule_shifts()
        for request in self.requests:
            self._push(request.arrival, _ARRIVAL, request.id)
        arrivals_left = len(self.requests)
        while self._events:
            self.now, kind, _, subject = heapq.heappop(self._events)
            if kind == _ARRIVAL:
                arrivals_left -= 1
                self._arrive(self.requests[subject])
            elif kind == _DONE:
                self._finish(self.agents[subject])
            elif kind == _SHIFT_START:
                self._start_shift(self.agents[subject])
            else:
                self._end_shift(self.agents[subject])
            if arrivals_left == 0 and not self.queue:
                break
        end = self.now if not self.queue else self.horizon
        return DeskRun(
            requests=self.requests,
            starts=tuple(self.starts),
            handlers=tuple(self.handlers),
            end=end,
            assigned=tuple(a.assigned_in_window for a in self.agents),
            shift_minutes=tuple(self._shift_minutes_in_window(a.spec) for a in self.agents),
            violations=Violations(**self.counts),
        )

    def _push(self, moment: float, kind: int, subject: int) -> None:
        self._sequence += 1
        heapq.heappush(self._events, (moment, kind, self._sequence, subject))

    def _schedule_shifts(self) -> None:
        for agent in self.agents:
            for begin, end in agent.shifts:
                self._push(begin, _SHIFT_START, agent.index)
                self._push(end, _SHIFT_END, agent.index)

    def _clock(self, minutes: float) -> datetime:
        return self.start + timedelta(minutes=minutes)

    def _arrive(self, request: Request) -> None:
        created = self._clock(request.arrival)
        ticket = TicketFacts(
            id=request.id,
            team_id=TEAM_ID,
            priority=request.priority,
            required_skills=request.service.skills,
            due_at=created + timedelta(minutes=request.target_minutes),
            created_at=created,
        )
        facts = [agent.facts() for agent in self.agents]
        decision = choose_agent(ticket, facts, policy=self.policy, now=created)
        if decision.agent_id is None:
            self.queue.push(ticket)
        else:
            self._assign(self.agents[decision.agent_id - 1], request)

    def _finish(self, agent: _Agent) -> None:
        agent.active -= 1
        if agent.on_shift:
            self._pull(agent)

    def _start_shift(self, agent: _Agent) -> None:
        _, end = agent.shifts.popleft()
        agent.on_shift = True
        agent.shift_ends = self._clock(end)
        self._pull(agent)

    def _end_shift(self, agent: _Agent) -> None:
        agent.on_shift = False
        agent.shift_ends = None

    def _pull(self, agent: _Agent) -> None:
        now = self._clock(self.now)
        while True:
            ticket = self.queue.pop_for(agent.facts(), now=now)
            if ticket is None:
                return
            self._assign(agent, self.requests[ticket.id])

    def _assign(self, agent: _Agent, request: Request) -> None:
        self._count_violations(agent, request.service)
        agent.active += 1
        agent.last_assigned = self._clock(self.now)
        if self.now < self.window_end:
            agent.assigned_in_window += 1
        self.starts[request.id] = self.now
        self.handlers[request.id] = agent.index
        level = agent.spec.skills.get(request.service.first_skill, 0)
        duration = request.work * request.service.handle_minutes * self.scenario.speed(level)
        self._push(self.now + duration, _DONE, agent.index)

    def _count_violations(self, agent: _Agent, service: ServiceSpec) -> None:
        if not agent.on_shift:
            self.counts["off_shift"] += 1
        if agent.active >= agent.spec.capacity:
            self.counts["over_capacity"] += 1
        if any(agent.spec.skills.get(s, 0) < level for s, level in service.skills.items()):
            self.counts["unskilled"] += 1

    def _intervals(self, spec: AgentSpec, days: int) -> list[Interval]:
        return open_intervals(spec.hours, self.scenario, first_day=0, last_day=days)

    def _shift_minutes_in_window(self, spec: AgentSpec) -> float:
        intervals = self._intervals(spec, self.scenario.days)
        return sum(min(end, self.window_end) - begin for begin, end in intervals)
