"""The lead's board: each agent's load against capacity and duty, and the team's queue."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from expediter.routing.engine import AgentFacts
from expediter.routing.models import TeamRoutingSettings
from expediter.routing.selectors.facts import agent_facts, routing_settings
from expediter.routing.selectors.queue import QueueRow, queue_rows, queue_size
from expediter.staff.models import Team, TeamMembership, User
from expediter.tickets.models import ACTIVE_STATUSES, Ticket


@dataclass(frozen=True)
class AgentLoad:
    """An agent's load against capacity and their duty, for the board."""

    agent: User
    facts: AgentFacts
    tickets: list[Ticket]

    @property
    def load_percent(self) -> int:
        if self.facts.capacity <= 0:
            return 100
        return min(100, round(100 * self.facts.active / self.facts.capacity))

    @property
    def spare(self) -> int:
        return max(self.facts.capacity - self.facts.active, 0)


@dataclass(frozen=True)
class TeamBoard:
    team: Team
    policy: str
    settings: TeamRoutingSettings
    agents: list[AgentLoad]
    queue: list[QueueRow]
    waiting: int

    @property
    def on_duty(self) -> int:
        return sum(1 for a in self.agents if a.facts.on_duty and not a.facts.on_time_off)

    @property
    def spare_capacity(self) -> int:
        return sum(a.spare for a in self.agents if a.facts.on_duty and not a.facts.on_time_off)


def team_board(*, team: Team, at: dt.datetime) -> TeamBoard:
    """Load, duty and queue of a team, in a fixed number of queries."""
    facts = agent_facts(team_id=team.pk, at=at)
    people = User.objects.in_bulk([f.id for f in facts])
    tickets: dict[int, list[Ticket]] = defaultdict(list)
    members = TeamMembership.objects.filter(team_id=team.pk, user_id=OuterRef("assignee_id"))
    in_hand = Ticket.objects.filter(status__in=ACTIVE_STATUSES, assignee_id__isnull=False)
    shown = in_hand.filter(Exists(members)).only("number", "subject", "priority", "assignee_id")
    for ticket in shown.order_by("priority", "created_at"):
        tickets[ticket.assignee_id or 0].append(ticket)
    loads = [AgentLoad(agent=people[f.id], facts=f, tickets=tickets[f.id]) for f in facts]
    loads.sort(key=lambda a: (not (a.facts.on_duty and not a.facts.on_time_off), a.agent.name))
    return TeamBoard(
        team=team,
        policy=team.assignment_policy,
        settings=routing_settings(team_id=team.pk),
        agents=loads,
        queue=queue_rows(team_id=team.pk, at=at),
        waiting=queue_size(team_id=team.pk),
    )
