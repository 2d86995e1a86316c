"""Reads for routing: the facts the engine decides on, the waiting queue, the team board.

Every reader here costs a fixed number of queries whatever the size of the
team or of the queue, so a decision among 500 agents and a pull from a queue
of 100,000 tickets stay in the milliseconds (see ``bench/routing.py`` and
``docs/routing.md``): ``facts`` (agents and tickets as the engine sees them),
``queue`` (the waiting queue) and ``board`` (the lead's board).

Due times are ``Ticket.sla_due_at`` (the earliest running SLA clock, kept on
the ticket by the SLA engine), else the ticket's creation plus its priority's
target (:data:`PRIORITY_TARGET_MINUTES`).
"""

from expediter.routing.selectors.board import AgentLoad, TeamBoard, team_board
from expediter.routing.selectors.facts import (
    PRIORITY_TARGET_MINUTES,
    QUEUEABLE_STATUSES,
    TeamCensus,
    active_counts,
    active_ticket_count,
    agent_facts,
    due_times,
    fallback_due_at,
    handover_team_ids,
    is_waiting,
    routing_settings,
    service_requirements,
    team_census,
    team_policies,
    team_scope,
    ticket_facts,
)
from expediter.routing.selectors.queue import (
    QUEUE_PAGE_SIZE,
    QueueRow,
    next_waiting_for,
    queue_heads,
    queue_rows,
    queue_size,
    teams_with_waiting_tickets,
)
from expediter.routing.selectors.roster import desk_zone, zone_of

__all__ = [
    "PRIORITY_TARGET_MINUTES",
    "QUEUEABLE_STATUSES",
    "QUEUE_PAGE_SIZE",
    "AgentLoad",
    "QueueRow",
    "TeamBoard",
    "TeamCensus",
    "active_counts",
    "active_ticket_count",
    "agent_facts",
    "desk_zone",
    "due_times",
    "fallback_due_at",
    "handover_team_ids",
    "is_waiting",
    "next_waiting_for",
    "queue_heads",
    "queue_rows",
    "queue_size",
    "routing_settings",
    "service_requirements",
    "team_board",
    "team_census",
    "team_policies",
    "team_scope",
    "teams_with_waiting_tickets",
    "ticket_facts",
    "zone_of",
]
