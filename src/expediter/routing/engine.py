"""Who gets a ticket, and which waiting ticket a free agent takes next.

The engine is pure: the caller gathers facts about a ticket and the agents who
might take it, and gets back a decision with a reason a team lead can read.
Nothing here reads the database or the clock, so the same code drives the live
desk (``routing.services``) and the simulator (``routing.simulate``), and each
rule can be tested on its own.

Hard rules, whatever the policy: an agent takes a ticket only when they belong
to the ticket's team, are on duty, are not on time off, hold every skill the
service needs at its minimum level, and have spare capacity. A ticket without
a team waits for triage. When nobody qualifies, the ticket waits in the team
queue and is pulled by the next agent who frees capacity or comes on duty.

Policies pick among the agents who qualify:

- ``skills`` (default) scores each agent: skill levels above the minimum count
  for more when the ticket is urgent (the best hands for the tightest
  deadlines), and the share of capacity already in use counts against. Ties go
  to the lighter load, then to whoever was assigned least recently.
- ``least_loaded``: the smallest share of capacity in use.
- ``round_robin``: whoever was assigned least recently (never assigned first),
  then the lowest id.
- ``manual``: nobody is picked; a person assigns by hand.

Queue order: under ``skills`` a free agent pulls the most urgent ticket they
may take (see :func:`urgency_key`, a cμ-style rule), and under the other
policies the oldest one.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from operator import itemgetter
from typing import NamedTuple

POLICIES = ("skills", "least_loaded", "round_robin", "manual")
DEFAULT_POLICY = "skills"
URGENCY_FIRST_POLICIES = frozenset({"skills"})
SCORED_POLICIES = frozenset({"skills", "manual"})
"""Manual teams still get the skills ranking, as suggestions for whoever assigns."""

SKILL_WEIGHT = 0.5
"""Worth of one skill level above the minimum for a ticket with no urgency (skills policy)."""

URGENCY_SKILL_WEIGHT = 1.0
"""What urgency adds to the worth of a skill level, at its full value of 1."""

LOAD_WEIGHT = 4.0
"""Worth of a full load (capacity all in use), in the same units, counted against."""

URGENCY_HALF_MINUTES = 60.0
"""Time left before breach at which a ticket counts as half urgent."""

SPEED_PER_LEVEL = 0.15
"""Assumed speed gain per skill level above the minimum, the μ of the cμ rule."""

REASON_NAMED = 5
"""How many other team members a reason names before it only counts them."""

NOT_IN_TEAM = "not in team"
ON_TIME_OFF = "on time off"
OFF_DUTY = "off duty"
LACKS_SKILL = "lacking a skill"
AT_CAPACITY = "at capacity"
RANKED_LOWER = "ranked lower"

_WAITS = "no eligible agent, waits in the team queue"
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

SkillSignature = tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class AgentFacts:
    """What the engine needs to know about one agent at the moment of deciding.

    ``on_duty`` means inside a shift; time off is its own flag so reasons can
    tell the two apart. ``active`` counts tickets in ``assigned`` or
    ``in_progress``. ``time_zone`` only affects how times read in reasons
    (UTC when absent).
    """

    id: int
    name: str
    team_ids: frozenset[int]
    on_duty: bool
    on_time_off: bool
    duty_ends_at: datetime | None
    skills: Mapping[str, int]
    active: int
    capacity: int
    last_assigned_at: datetime | None
    time_zone: tzinfo | None = None


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What the engine needs to know about one ticket.

    ``required_skills`` maps each skill the service needs to its minimum level;
    ``due_at`` is the deadline the queue races against (None: no deadline).
    """

    id: int
    team_id: int | None
    priority: int
    required_skills: Mapping[str, int]
    due_at: datetime | None
    created_at: datetime


class Candidate(NamedTuple):
    """An agent who qualifies; ``score`` is the skills score (None under other policies)."""

    agent_id: int
    name: str
    score: float | None


@dataclass(frozen=True, slots=True)
class Decision:
    """The chosen agent (None: the ticket waits) and why.

    ``candidates`` are the agents who qualify, best first under the policy
    (under ``manual`` as ``skills`` would rank them); the reason says why the others
    did not, and :func:`eligibility` asks about any one of them.
    """

    agent_id: int | None
    reason: str
    candidates: tuple[Candidate, ...]


def check_policy(policy: str) -> None:
    """Refuse an unknown policy name before it silently behaves like another."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy '{policy}': use one of {', '.join(POLICIES)}")


def eligibility(agent: AgentFacts, ticket: TicketFacts) -> str | None:
    """None when the agent may take the ticket, else the first rule they fail."""
    category = _failed_rule(agent, ticket.team_id, tuple(ticket.required_skills.items()))
    return None if category is None else _failed_rule_words(category, agent, ticket)


def check_manual_assignment(ticket: TicketFacts, agent: AgentFacts) -> list[str]:
    """Every hard rule a hand-made assignment breaks, for the warning in its event.

    A ticket without a team breaks no team rule: assigning it puts it in the
    assignee's team.
    """
    broken = []
    if ticket.team_id is not None and ticket.team_id not in agent.team_ids:
        broken.append(NOT_IN_TEAM)
    if agent.on_time_off:
        broken.append(ON_TIME_OFF)
    elif not agent.on_duty:
        broken.append(OFF_DUTY)
    broken.extend(_skill_gaps(agent, ticket.required_skills))
    if agent.active >= agent.capacity:
        broken.append(f"{AT_CAPACITY} {agent.active}/{agent.capacity}")
    return broken


def manual_assignment_reason(ticket: TicketFacts, agent: AgentFacts) -> str | None:
    """The sentence recorded on a hand-made assignment, or None if it breaks no rule."""
    broken = check_manual_assignment(ticket, agent)
    if not broken:
        return None
    return f"assigned by hand although {agent.name} is {', '.join(broken)}"


POLICY_WORDS = {
    "skills": "skills policy: best skills for the urgency, lightest load",
    "least_loaded": "least-loaded policy",
    "round_robin": "round-robin policy",
    "manual": "manual policy",
}
NOBODY_IN_TEAM = "nobody in the team"
MANUAL_POLICY = "manual"


def wait_causes(
    ticket: TicketFacts,
    agents: Sequence[AgentFacts],
    *,
    unlisted: Mapping[str, int] | None = None,
) -> tuple[str, ...]:
    """Why nobody of the team may take the ticket, as sorted rule categories.

    The tuple changes only when the *kind* of obstacle changes (everyone off
    duty, then everyone at capacity), not when a count moves, so a desk can
    say so once on the ticket's timeline instead of at every retry.
    ``unlisted`` counts team members left out of ``agents`` by the rule they
    fail, as for :func:`choose_agent`.
    """
    required = tuple(ticket.required_skills.items())
    causes = {category for category, count in (unlisted or {}).items() if count}
    for agent in agents:
        category = _failed_rule(agent, ticket.team_id, required)
        if category is not None and category != NOT_IN_TEAM:
            causes.add(category)
    if not causes and not any(ticket.team_id in agent.team_ids for agent in agents):
        return (NOBODY_IN_TEAM,)
    return tuple(sorted(causes))


def could_take(agent: AgentFacts, ticket: TicketFacts) -> bool:
    """Whether the agent meets every hard rule but capacity: who to lock and recount."""
    return _failed_rule(agent, ticket.team_id, tuple(ticket.required_skills.items())) in (
        None,
        AT_CAPACITY,
    )


def someone_on_duty_could_take(ticket: TicketFacts, agents: Sequence[AgentFacts]) -> bool:
    """True when a team member on duty holds the skills (and is only short of capacity).

    When false, nobody will free capacity for the ticket before someone
    comes on duty: that is when an urgent ticket pages the on-call person.
    """
    required = tuple(ticket.required_skills.items())
    return any(
        _failed_rule(agent, ticket.team_id, required) in (None, AT_CAPACITY) for agent in agents
    )


def assignment_reason(policy: str, decision: Decision) -> str:
    """The sentence on an automatic ``assigned`` event: the policy, then the decision."""
    return f"Assigned automatically ({POLICY_WORDS[policy]}). {decision.reason}"


def pull_reason(
    agent: AgentFacts, ticket: TicketFacts, *, policy: str, now: datetime, trigger: str
) -> str:
    """The sentence on a pulled ticket's ``assigned`` event.

    ``trigger`` says why the agent was looking (``freed capacity``, ``is on
    duty with spare capacity``); the sentence says which rule picked this
    ticket out of the queue and that the agent meets every hard rule.
    """
    order = "the most urgent" if policy in URGENCY_FIRST_POLICIES else "the oldest"
    due = "" if ticket.due_at is None else f", due {_clock(ticket.due_at, agent, now)}"
    return (
        f"Pulled from the team queue: {agent.name} {trigger} and took {order} waiting ticket "
        f"they may take (P{ticket.priority}{due}). "
        f"{agent.name}: {_agent_words(agent, ticket, now)}"
    )


def handover_reason(previous: AgentFacts, decision: Decision, *, policy: str) -> str:
    """The sentence on a handed-over ticket: who left, then the usual decision."""
    state = ON_TIME_OFF if previous.on_time_off else OFF_DUTY
    return (
        f"Handed over: {previous.name} is {state} and the team hands tickets over. "
        f"{assignment_reason(policy, decision)}"
    )


def priority_weight(priority: int) -> float:
    """The c of the cμ rule: each priority step doubles the cost of waiting."""
    return 2.0 ** (4 - min(max(priority, 1), 4))


def urgency_key(ticket: TicketFacts, *, now: datetime) -> float:
    """Sort key of the waiting queue, smaller first (cμ-style).

    Time left before breach is divided by the priority weight, so a priority 1
    ticket with 80 minutes left goes before a priority 4 ticket with 20. Once
    breached, the overdue time is multiplied by the weight instead, so
    breached tickets go first, the weightiest and longest overdue ahead. For
    a fixed priority the key grows with ``due_at``, which is what lets
    :class:`TicketQueue` keep one heap per priority. Tickets without a
    deadline go last.
    """
    return _weighted_slack(ticket, now=now, speed=1.0)


def urgency_level(ticket: TicketFacts, *, now: datetime) -> float:
    """0 (no deadline) to 1 (due now or breached); half at URGENCY_HALF_MINUTES left."""
    if ticket.due_at is None:
        return 0.0
    minutes_left = (ticket.due_at - now).total_seconds() / 60
    if minutes_left <= 0:
        return 1.0
    return 1.0 / (1.0 + minutes_left / URGENCY_HALF_MINUTES)


def skill_surplus(agent: AgentFacts, required_skills: Mapping[str, int]) -> float:
    """Mean number of levels above the minimum over the required skills."""
    if not required_skills:
        return 0.0
    skills = agent.skills
    total = 0
    for skill, level in required_skills.items():  # a loop: this runs for every candidate
        total += skills.get(skill, 0) - level
    return total / len(required_skills)


def skills_score(agent: AgentFacts, ticket: TicketFacts, *, now: datetime) -> float:
    """Higher is better: surplus skill, worth more when urgent, less the load in use."""
    return _score(agent, ticket, urgency_level(ticket, now=now))


def choose_agent(
    ticket: TicketFacts,
    agents: Sequence[AgentFacts],
    *,
    policy: str,
    now: datetime,
    unlisted: Mapping[str, int] | None = None,
    duty_end: Callable[[int], datetime | None] | None = None,
) -> Decision:
    """Pick the agent for a ticket under a team's policy, with the reason in words.

    ``unlisted`` lets a caller leave out team members who fail a hard rule
    and only count them, by rule category: a desk need not build the facts
    of hundreds of agents who cannot take the ticket. The reason is the same
    as with every member listed as long as ``agents`` holds everyone who
    qualifies or is only at capacity, and at least the first
    :data:`REASON_NAMED` of the others by id, in id order.

    ``duty_end``: when the facts leave ``duty_ends_at`` out (it never changes
    the choice, only the chosen agent's words), how to find it for the one
    agent chosen.
    """
    check_policy(policy)
    urgency = urgency_level(ticket, now=now)
    required = tuple(ticket.required_skills.items())
    scored = policy in SCORED_POLICIES
    ranked: list[tuple[tuple[float, ...], AgentFacts, float | None]] = []
    skipped: list[tuple[AgentFacts, str]] = []
    for agent in agents:  # hundreds of agents per decision: each step is counted
        category = _failed_rule(agent, ticket.team_id, required)
        if category is not None:
            skipped.append((agent, category))
            continue
        load = _load(agent)
        score = _score(agent, ticket, urgency, load) if scored else None
        ranked.append((_rank_key(policy, agent, score, load), agent, score))
    ranked.sort(key=itemgetter(0))
    candidates = tuple(Candidate(a.id, a.name, score) for _, a, score in ranked)
    chosen = ranked[0][1] if ranked and policy != "manual" else None
    if chosen is not None and duty_end is not None:
        chosen = replace(chosen, duty_ends_at=duty_end(chosen.id))
    passed_over = _PassedOver([a for _, a, _ in ranked], skipped, Counter(unlisted or {}))
    reason = _reason(ticket, policy, chosen, passed_over, now)
    return Decision(chosen.id if chosen else None, reason, candidates)


def next_ticket_for(
    agent: AgentFacts, tickets: Iterable[TicketFacts], *, policy: str, now: datetime
) -> TicketFacts | None:
    """The ticket a free agent pulls from a list, in one pass without sorting.

    The list need not hold the whole queue. Among tickets of one team, one
    service (set of required skills) and one priority, the one with the
    earliest due time (``NULLS LAST``, then oldest, then lowest id) always wins,
    so a database query handing over just that ticket per (team, service,
    priority) the agent may serve gives the same answer as the full queue;
    for the oldest-first policies, the oldest ticket per (team, service) is
    enough. A long-lived in-memory queue should use :class:`TicketQueue`,
    which keeps that selection up to date.
    """
    check_policy(policy)
    if policy == "manual" or not _has_room(agent):
        return None
    urgent = policy in URGENCY_FIRST_POLICIES
    best: TicketFacts | None = None
    best_key: tuple[float, ...] = ()
    for ticket in tickets:
        if not _may_pull(agent, ticket):
            continue
        key = _pull_key(ticket, agent, now=now, urgent=urgent)
        if best is None or key < best_key:
            best, best_key = ticket, key
    return best


class TicketQueue:
    """The waiting tickets of a desk, kept so that a free agent finds theirs fast.

    Tickets are grouped by team, required skills and (when the policy serves
    urgency first) priority; each group is a heap ordered by due time (or by
    arrival). Within a group the urgency key grows with the due time, so the
    group's head is its most urgent ticket, and a pull compares only the heads
    of the groups the agent may serve: a few dozen comparisons and one heap
    pop, whether 100 or 100,000 tickets wait. Removal is lazy: a discarded or
    re-pushed ticket leaves a stale entry that is dropped when it surfaces.
    """

    def __init__(self, policy: str = DEFAULT_POLICY) -> None:
        check_policy(policy)
        self.policy = policy
        self._urgent = policy in URGENCY_FIRST_POLICIES
        self._live: dict[int, tuple[TicketFacts, int]] = {}
        self._groups: dict[int | None, dict[tuple[SkillSignature, int], list[_Entry]]] = {}
        self._stamp = 0

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, ticket_id: object) -> bool:
        return ticket_id in self._live

    def push(self, ticket: TicketFacts) -> None:
        """Add a waiting ticket, or replace the facts of one already waiting."""
        self._stamp += 1
        self._live[ticket.id] = (ticket, self._stamp)
        signature = _signature(ticket.required_skills)
        group_key = (signature, ticket.priority if self._urgent else 0)
        heap = self._groups.setdefault(ticket.team_id, {}).setdefault(group_key, [])
        heapq.heappush(heap, self._entry(ticket))

    def discard(self, ticket_id: int) -> None:
        """Forget a ticket (assigned by hand, closed, moved); unknown ids are ignored."""
        self._live.pop(ticket_id, None)

    def next_for(self, agent: AgentFacts, *, now: datetime) -> TicketFacts | None:
        """The ticket this agent would pull now, left in the queue."""
        if self.policy == "manual" or not _has_room(agent):
            return None
        best: TicketFacts | None = None
        best_key: tuple[float, ...] = ()
        for team_id in agent.team_ids:
            for head in self._heads(team_id, agent):
                key = _pull_key(head, agent, now=now, urgent=self._urgent)
                if best is None or key < best_key:
                    best, best_key = head, key
        return best

    def pop_for(self, agent: AgentFacts, *, now: datetime) -> TicketFacts | None:
        """The ticket this agent pulls now, removed from the queue."""
        ticket = self.next_for(agent, now=now)
        if ticket is not None:
            self.discard(ticket.id)
        return ticket

    def _entry(self, ticket: TicketFacts) -> _Entry:
        created = ticket.created_at.timestamp()
        if self._urgent:
            due = math.inf if ticket.due_at is None else ticket.due_at.timestamp()
            return (due, created, ticket.id, self._stamp)
        return (created, 0.0, ticket.id, self._stamp)

    def _heads(self, team_id: int, agent: AgentFacts) -> list[TicketFacts]:
        groups = self._groups.get(team_id)
        if not groups:
            return []
        heads = []
        for group_key in list(groups):
            if not _meets(agent, group_key[0]):
                continue
            head = self._head(groups[group_key])
            if head is None:
                del groups[group_key]
            else:
                heads.append(head)
        return heads

    def _head(self, heap: list[_Entry]) -> TicketFacts | None:
        while heap:
            ticket_id, stamp = heap[0][2], heap[0][3]
            live = self._live.get(ticket_id)
            if live is not None and live[1] == stamp:
                return live[0]
            heapq.heappop(heap)
        return None


_Entry = tuple[float, float, int, int]


def _failed_rule(agent: AgentFacts, team_id: int | None, required: SkillSignature) -> str | None:
    """The category of the first hard rule the agent fails, or None; kept lean for big teams."""
    if team_id is None or team_id not in agent.team_ids:
        return NOT_IN_TEAM
    if agent.on_time_off:
        return ON_TIME_OFF
    if not agent.on_duty:
        return OFF_DUTY
    skills = agent.skills
    for skill, minimum in required:
        if skills.get(skill, 0) < minimum:
            return LACKS_SKILL
    if agent.active >= agent.capacity:
        return AT_CAPACITY
    return None


def _failed_rule_words(category: str, agent: AgentFacts, ticket: TicketFacts) -> str:
    """A failed rule in a lead's words, with the numbers behind it."""
    if category == NOT_IN_TEAM and ticket.team_id is None:
        return "ticket has no team"
    if category == LACKS_SKILL:
        return ", ".join(_skill_gaps(agent, ticket.required_skills))
    if category == AT_CAPACITY:
        return f"{AT_CAPACITY} {agent.active}/{agent.capacity}"
    return category


def _skill_gaps(agent: AgentFacts, required_skills: Mapping[str, int]) -> list[str]:
    gaps = []
    for skill, minimum in required_skills.items():
        level = agent.skills.get(skill, 0)
        if level <= 0:
            gaps.append(f"lacks {skill} ({minimum} required)")
        elif level < minimum:
            gaps.append(f"{skill} {level}/{minimum} required")
    return gaps


def _has_room(agent: AgentFacts) -> bool:
    return agent.on_duty and not agent.on_time_off and agent.active < agent.capacity


def _meets(agent: AgentFacts, signature: SkillSignature) -> bool:
    return all(agent.skills.get(skill, 0) >= level for skill, level in signature)


def _may_pull(agent: AgentFacts, ticket: TicketFacts) -> bool:
    return ticket.team_id in agent.team_ids and _meets(agent, _signature(ticket.required_skills))


def _signature(required_skills: Mapping[str, int]) -> SkillSignature:
    return tuple(sorted(required_skills.items()))


def _load(agent: AgentFacts) -> float:
    return agent.active / agent.capacity if agent.capacity > 0 else 1.0


def _score(
    agent: AgentFacts, ticket: TicketFacts, urgency: float, load: float | None = None
) -> float:
    skill_weight = SKILL_WEIGHT + URGENCY_SKILL_WEIGHT * urgency
    load = _load(agent) if load is None else load
    return skill_weight * skill_surplus(agent, ticket.required_skills) - LOAD_WEIGHT * load


def _last_assigned(agent: AgentFacts) -> float:
    """Never assigned sorts first, as the longest idle."""
    return -math.inf if agent.last_assigned_at is None else agent.last_assigned_at.timestamp()


def _rank_key(
    policy: str, agent: AgentFacts, score: float | None, load: float
) -> tuple[float, ...]:
    """Smaller ranks first; each policy's tie-breaks end with the id for a stable order."""
    if policy == "round_robin":
        return (_last_assigned(agent), agent.id)
    if policy == "least_loaded":
        return (load, agent.active, _last_assigned(agent), agent.id)
    return (-(score or 0.0), load, _last_assigned(agent), agent.id)


def _weighted_slack(ticket: TicketFacts, *, now: datetime, speed: float) -> float:
    if ticket.due_at is None:
        return math.inf
    slack = (ticket.due_at - now).total_seconds() / 60
    weight = priority_weight(ticket.priority) * speed
    return slack / weight if slack >= 0 else slack * weight


def _pull_key(
    ticket: TicketFacts, agent: AgentFacts, *, now: datetime, urgent: bool
) -> tuple[float, ...]:
    """Urgency first: the cμ key with μ from the agent's skill on this ticket; else oldest."""
    created = ticket.created_at.timestamp()
    if not urgent:
        return (created, ticket.id)
    speed = 1.0 + SPEED_PER_LEVEL * max(skill_surplus(agent, ticket.required_skills), 0.0)
    return (_weighted_slack(ticket, now=now, speed=speed), created, ticket.id)


class _PassedOver(NamedTuple):
    """Who was not chosen: the qualified in rank order, the skipped, and the unlisted counts."""

    ranked: list[AgentFacts]
    skipped: list[tuple[AgentFacts, str]]
    unlisted: Counter[str]


_CATEGORY_ORDER = (RANKED_LOWER, ON_TIME_OFF, OFF_DUTY, LACKS_SKILL, AT_CAPACITY)
"""The order of the counts at the end of a reason: the rules in the order they are checked."""


def _reason(
    ticket: TicketFacts,
    policy: str,
    chosen: AgentFacts | None,
    passed_over: _PassedOver,
    now: datetime,
) -> str:
    """The chosen agent's facts, then why the other team members were passed over.

    Only the first few others are named, so a reason stays readable (and cheap)
    on a team of hundreds; the rest are counted by cause. Agents of other teams
    are never mentioned: a lead does not ask why they were not picked.
    """
    if ticket.team_id is None:
        return "ticket has no team: it waits for triage"
    ranked = passed_over.ranked
    if policy == "manual":
        return f"team policy is manual: waits for a person to assign it ({len(ranked)} qualify)"
    team_skips = [(a, category) for a, category in passed_over.skipped if category != NOT_IN_TEAM]
    if chosen is None and not team_skips and not passed_over.unlisted.total():
        return f"{_WAITS}: nobody in the team"
    runners_up = [
        f"{a.name} {RANKED_LOWER}: {_ranked_words(policy, a, ticket, now)}"
        for a in ranked[1 : REASON_NAMED + 1]
    ]
    room = REASON_NAMED - len(runners_up)
    details = runners_up + [
        f"{a.name} skipped: {_failed_rule_words(category, a, ticket)}"
        for a, category in team_skips[:room]
    ]
    unnamed = Counter({RANKED_LOWER: max(len(ranked) - 1 - REASON_NAMED, 0)})
    unnamed.update(category for _, category in team_skips[room:])
    unnamed.update(passed_over.unlisted)
    if unnamed.total():
        counts = ", ".join(
            f"{unnamed[cause]} {cause}" for cause in _CATEGORY_ORDER if unnamed[cause]
        )
        details.append(f"{unnamed.total()} more: {counts}")
    if chosen is None:
        return f"{_WAITS}: " + "; ".join(details)
    return "; ".join([f"{chosen.name}: {_agent_words(chosen, ticket, now)}", *details])


def _agent_words(agent: AgentFacts, ticket: TicketFacts, now: datetime) -> str:
    return (
        f"{_skill_words(agent, ticket)}, {agent.active} of {agent.capacity} active, "
        f"{_duty_words(agent, now)}"
    )


def _ranked_words(policy: str, agent: AgentFacts, ticket: TicketFacts, now: datetime) -> str:
    if policy == "round_robin":
        if agent.last_assigned_at is None:
            return "never assigned"
        return f"assigned more recently ({_clock(agent.last_assigned_at, agent, now)})"
    if policy == "least_loaded":
        return f"{agent.active} of {agent.capacity} active"
    return f"{_skill_words(agent, ticket)}, {agent.active} of {agent.capacity} active"


def _skill_words(agent: AgentFacts, ticket: TicketFacts) -> str:
    if not ticket.required_skills:
        return "no skill required"
    return ", ".join(
        f"{skill} {agent.skills.get(skill, 0)}/{minimum} required"
        for skill, minimum in ticket.required_skills.items()
    )


def _duty_words(agent: AgentFacts, now: datetime) -> str:
    if agent.duty_ends_at is None:
        return "on duty"
    return f"on duty until {_clock(agent.duty_ends_at, agent, now)}"


def _clock(moment: datetime, agent: AgentFacts, now: datetime) -> str:
    """HH:MM in the agent's zone, with the weekday when it is not today there."""
    zone = agent.time_zone or UTC
    local = moment.astimezone(zone)
    text = f"{local.hour:02d}:{local.minute:02d}"
    if local.date() != now.astimezone(zone).date():
        text = f"{_WEEKDAYS[local.weekday()]} {text}"
    return text
