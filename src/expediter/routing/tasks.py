"""Background work of routing: tasks take ids, re-read the rows, and are safe to run twice.

:func:`on_ticket_event` is the listener ``RoutingConfig.ready`` registers on
``ticket.event`` (after commit): it only enqueues. Running a task twice is
harmless because routing an assigned ticket does nothing, and a pull stops
as soon as the agent is full or the queue has nothing for them.
"""

from __future__ import annotations

from typing import Any

from django_tasks import task

from expediter.routing import services
from expediter.tickets.models import Ticket, TicketEvent


@task()
def route_ticket_task(ticket_id: int) -> str:
    return services.ticket_route(ticket_id=ticket_id).action


@task()
def agent_pull_task(agent_id: int) -> list[int]:
    return services.agent_pull(agent_id=agent_id, trigger=services.FREED_CAPACITY)


@task()
def routing_sweep_task() -> dict[str, Any]:
    return services.routing_sweep().as_dict()


def wants_event(*, ticket: Ticket, event: TicketEvent) -> bool:
    """Whether routing has anything to do about the event.

    A new ticket for triage (no team, nobody assigned) has nobody to go to
    and nothing queued to clear.
    """
    if event.verb not in services.ROUTING_VERBS:
        return False
    return not (event.verb == "created" and ticket.team_id is None and ticket.assignee_id is None)


def on_ticket_event(*, ticket: Ticket, event: TicketEvent) -> None:
    """Route the ticket, and let whoever the event freed pull, once the change is committed."""
    if not wants_event(ticket=ticket, event=event):
        return
    route_ticket_task.enqueue(ticket_id=ticket.pk)
    for agent_id in services.freed_agents(
        verb=event.verb, changes=event.changes, assignee_id=ticket.assignee_id
    ):
        agent_pull_task.enqueue(agent_id=agent_id)
