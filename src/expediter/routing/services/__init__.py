"""Automatic assignment on the live desk: the pure engine applied through the ticket services.

Three entry points, each one transaction per ticket handed out:

- :func:`ticket_route` finds an agent for a ticket that became assignable
  (created, reopened, unassigned, moved to another team) or hands it over
  when its assignee went off duty in a team that asks for it. When nobody
  qualifies, the ticket waits in its team's queue (:class:`QueuedTicket`).
- :func:`agent_pull` lets an agent who freed capacity take the most urgent
  waiting ticket they may take.
- :func:`routing_sweep`, every 30 seconds, lets on-duty agents with spare
  capacity pull (which is how someone coming on duty gets work), hands over
  tickets of agents who went off duty, pages for P1s left with nobody on
  duty, and repairs the queue.

Locks. Two tickets routed at once must never push an agent over capacity.
Routing locks the ticket, then the candidate agents' user rows in id order,
then recounts their active tickets before deciding; a pull locks the agent,
then claims a waiting ticket with ``SKIP LOCKED`` so it never waits on a
ticket another worker is routing, which keeps the lock order acyclic. On
SQLite, which has no row locks, the IMMEDIATE transactions of the settings
serialise writers instead, and the facts a routing reads are already current.

Cost. A decision reads the team's census (``selectors.team_census``): the
members who could take the ticket in full, the others counted by the rule
they fail, in a fixed number of queries whatever the team's size or the
number of open tickets (see ``docs/routing.md``).

The timeline stays quiet: a ticket that cannot be assigned gets one
``queued`` event, and another only when the kind of obstacle changes
(everyone off duty, then everyone at capacity), however often it is
retried. A P1 for which nobody on duty has the skills pages the team's
on-call person once (a ``paged`` event and a notification).
"""

from expediter.routing.services.assignment import (
    ASSIGNED,
    HANDED_OVER,
    QUEUED,
    UNTOUCHED,
    RouteOutcome,
    assign_ticket,
    ticket_route,
)
from expediter.routing.services.locks import lock_agents, lock_ticket
from expediter.routing.services.queue import (
    FREED_CAPACITY,
    SPARE_CAPACITY,
    SweepReport,
    agent_pull,
    routing_sweep,
)
from expediter.routing.services.settings import team_routing_settings_save
from expediter.routing.services.triggers import ROUTING_VERBS, freed_agents

__all__ = [
    "ASSIGNED",
    "FREED_CAPACITY",
    "HANDED_OVER",
    "QUEUED",
    "ROUTING_VERBS",
    "SPARE_CAPACITY",
    "UNTOUCHED",
    "RouteOutcome",
    "SweepReport",
    "agent_pull",
    "assign_ticket",
    "freed_agents",
    "lock_agents",
    "lock_ticket",
    "routing_sweep",
    "team_routing_settings_save",
    "ticket_route",
]
