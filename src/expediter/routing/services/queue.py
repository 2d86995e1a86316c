"""Free agents pulling from their team queue, and the sweep that runs every 30 seconds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from expediter.core import clock
from expediter.routing import engine
from expediter.routing import selectors as routing
from expediter.routing.engine import AgentFacts, TicketFacts
from expediter.routing.models import QueuedTicket
from expediter.routing.services.assignment import (
    ASSIGNED,
    HANDED_OVER,
    assign_ticket,
    ticket_route,
)
from expediter.routing.services.locks import lock_agents, lock_ticket
from expediter.schedules import selectors as schedules
from expediter.staff.models import Team
from expediter.tickets.models import ACTIVE_STATUSES, Ticket

FREED_CAPACITY = "freed capacity"
SPARE_CAPACITY = "is on duty with spare capacity"
MAX_CLAIM_ATTEMPTS = 5
REPAIR_BATCH = 200


@dataclass
class SweepReport:
    """What one :func:`routing_sweep` did, for the worker's log."""

    pulled: list[int] = field(default_factory=list)
    handed_over: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)
    paged: list[int] = field(default_factory=list)
    dropped: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "pulled": len(self.pulled),
            "handed_over": len(self.handed_over),
            "requeued": len(self.requeued),
            "paged": len(self.paged),
            "dropped": self.dropped,
        }


def agent_pull(
    *, agent_id: int, trigger: str = FREED_CAPACITY, limit: int | None = None
) -> list[int]:
    """The agent takes waiting tickets, most urgent first, while they have room.

    One transaction per ticket; returns the ids taken. Does nothing for an
    agent who is off duty, on time off, or full.
    """
    pulled: list[int] = []
    skipped: set[int] = set()
    while limit is None or len(pulled) < limit:
        taken = _pull_one(agent_id, trigger, skipped)
        if taken is None:
            break
        pulled.append(taken)
    return pulled


@transaction.atomic
def _pull_one(agent_id: int, trigger: str, skipped: set[int]) -> int | None:
    now = clock.now()
    lock_agents([agent_id])
    found = routing.agent_facts(agent_ids=[agent_id], at=now)
    if not found:
        return None
    agent = found[0]
    if not (agent.on_duty and not agent.on_time_off and agent.active < agent.capacity):
        return None
    requirements = routing.service_requirements()
    for _ in range(MAX_CLAIM_ATTEMPTS):
        head = routing.next_waiting_for(agent, at=now, exclude=skipped, requirements=requirements)
        if head is None:
            return None
        ticket = _claim(head, agent, skipped, requirements)
        if ticket is None:
            continue
        assert ticket.team is not None
        reason = engine.pull_reason(
            agent, head, policy=ticket.team.assignment_policy, now=now, trigger=trigger
        )
        assign_ticket(ticket, agent.id, reason, now)
        return ticket.pk
    return None


def _claim(
    head: TicketFacts,
    agent: AgentFacts,
    skipped: set[int],
    requirements: Mapping[int, dict[str, int]],
) -> Ticket | None:
    """Lock the queued ticket and check it still waits for this agent; else skip it."""
    ticket = lock_ticket(head.id, skip_locked=True)
    if ticket is None:
        skipped.add(head.id)
        return None
    if not routing.is_waiting(ticket):
        QueuedTicket.objects.filter(ticket_id=head.id).delete()
        skipped.add(head.id)
        return None
    current = routing.ticket_facts(ticket, due_at=head.due_at, requirements=requirements)
    if engine.eligibility(agent, current) is not None:
        skipped.add(head.id)
        return None
    return ticket


def routing_sweep() -> SweepReport:
    """Let on-duty agents with room pull, hand over from absent assignees, repair the queue.

    Waiting P1s that paged nobody yet are routed again: the last agent on
    duty may have just left, and the on-call person must hear of them then.
    """
    report = SweepReport()
    report.dropped = _drop_stale_entries()
    report.requeued = _route_unqueued()
    report.pulled = _pull_for_free_agents()
    report.handed_over = _handover_sweep()
    report.paged = _page_for_waiting_p1s()
    return report


def _drop_stale_entries() -> int:
    """Entries of tickets that no longer wait (assigned by hand while a task was lost)."""
    stale = QueuedTicket.objects.exclude(
        ticket__assignee__isnull=True,
        ticket__team__isnull=False,
        ticket__status__in=routing.QUEUEABLE_STATUSES,
    )
    deleted, _ = stale.delete()
    return deleted


def _route_unqueued() -> list[int]:
    """Waiting tickets the queue does not know yet (created before routing, a lost task)."""
    missing = (
        Ticket.objects.filter(
            assignee__isnull=True,
            team__isnull=False,
            status__in=routing.QUEUEABLE_STATUSES,
            queue_entry__isnull=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:REPAIR_BATCH]
    )
    return [
        ticket_id
        for ticket_id in list(missing)
        if ticket_route(ticket_id=ticket_id).action == ASSIGNED
    ]


def _pull_for_free_agents() -> list[int]:
    now = clock.now()
    pulled: list[int] = []
    seen: set[int] = set()
    for team_id in routing.teams_with_waiting_tickets():
        facts = [f for f in routing.agent_facts(team_id=team_id, at=now) if f.id not in seen]
        seen.update(f.id for f in facts)
        policy = Team.objects.get(pk=team_id).assignment_policy
        for agent in _free_in_turn(facts, policy):
            pulled += agent_pull(
                agent_id=agent.id, trigger=SPARE_CAPACITY, limit=agent.capacity - agent.active
            )
    return pulled


def _free_in_turn(facts: Sequence[AgentFacts], policy: str) -> list[AgentFacts]:
    """Agents with room, in the order the team's policy would favour them."""
    free = [f for f in facts if f.on_duty and not f.on_time_off and f.active < f.capacity]

    def last(f: AgentFacts) -> float:
        return f.last_assigned_at.timestamp() if f.last_assigned_at else float("-inf")

    if policy == "round_robin":
        return sorted(free, key=lambda f: (last(f), f.id))
    return sorted(free, key=lambda f: (f.active / max(f.capacity, 1), last(f), f.id))


def _handover_sweep() -> list[int]:
    team_ids = routing.handover_team_ids()
    if not team_ids:
        return []
    now = clock.now()
    rows = list(
        Ticket.objects.filter(
            team_id__in=team_ids, status__in=ACTIVE_STATUSES, assignee__isnull=False
        ).values_list("pk", "assignee_id")
    )
    states = schedules.duty_states(agent_ids={a for _, a in rows}, at=now)
    absent = [pk for pk, a in rows if not states[a].on_duty or states[a].on_time_off]
    return [pk for pk in absent if ticket_route(ticket_id=pk).action == HANDED_OVER]


def _page_for_waiting_p1s() -> list[int]:
    """Route the waiting P1s that paged nobody yet, unless that could only queue them again."""
    waiting = QueuedTicket.objects.filter(priority=1, paged_at__isnull=True).order_by("due_at")
    entries = list(waiting[:REPAIR_BATCH])
    worth = _worth_routing_again(entries, clock.now())
    return [
        entry.ticket_id
        for entry in entries
        if entry.ticket_id in worth
        and ticket_route(ticket_id=entry.ticket_id).paged_user_id is not None
    ]


def _worth_routing_again(entries: Sequence[QueuedTicket], now: dt.datetime) -> set[int]:
    """The waiting tickets for which :func:`ticket_route` could page someone or assign them.

    A ticket that some agent on duty could take, all of whom are at
    capacity, would only be queued again: it waits for the next pull, and
    skipping it spares a full decision. The facts are read once per team,
    without locks; any ticket routed still gets a decision under locks.
    """
    requirements = routing.service_requirements()
    facts_by_team = {
        team_id: routing.agent_facts(team_id=team_id, at=now)
        for team_id in {entry.team_id for entry in entries}
    }
    worth = set()
    for entry in entries:
        ticket = TicketFacts(
            id=entry.ticket_id,
            team_id=entry.team_id,
            priority=entry.priority,
            required_skills=requirements.get(entry.service_id or 0, {}),
            due_at=entry.due_at,
            created_at=entry.created_at,
        )
        takers = [f for f in facts_by_team[entry.team_id] if engine.could_take(f, ticket)]
        if not takers or any(f.active < f.capacity for f in takers):
            worth.add(entry.ticket_id)
    return worth
