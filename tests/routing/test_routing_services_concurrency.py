"""Concurrent workers on PostgreSQL: row locks keep every agent within capacity.

Skipped on SQLite, whose IMMEDIATE transactions serialise writers anyway;
``make test-pg`` runs it on a private PostgreSQL cluster.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from tests.factories import make_agent, make_ticket

from expediter.core import clock
from expediter.routing import services
from expediter.routing.models import QueuedTicket
from expediter.schedules.services import shift_add
from expediter.tickets.models import ACTIVE_STATUSES, Ticket, TicketEvent
from expediter.tickets.services.catalogue import service_save

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]

MONDAY_10 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
WORKERS = 8


def _in_threads(actions: list[Callable[[], object]]) -> list[BaseException]:
    """Run the actions at once, each on its own connection; return what they raised."""
    barrier = threading.Barrier(len(actions))
    failures: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        try:
            barrier.wait()
            action()
        except BaseException as error:  # reported to the test below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def _desk(capacity: int) -> tuple[object, list[Ticket]]:
    """One agent, off duty while the tickets arrive (so they all wait), then on duty."""
    service_save(name="Network", team="Network", skills={"net": 3})
    agent = make_agent(team="Network", name="Solo", skills={"net": 4}, capacity=capacity)
    tickets = [make_ticket(service="Network", subject=f"Outage {n}") for n in range(WORKERS)]
    shift_add(agent=agent, hours="mon-sun 00:00-24:00", time_zone="Europe/Paris")
    return agent, tickets


@pytest.fixture
def monday():
    clock.set_now(MONDAY_10)
    yield
    clock.set_now(None)


def test_tickets_routed_at_once_never_push_the_agent_over_capacity(monday) -> None:
    agent, tickets = _desk(capacity=1)
    failures = _in_threads([lambda t=t: services.ticket_route(ticket_id=t.pk) for t in tickets])
    assert failures == []
    active = Ticket.objects.filter(assignee=agent, status__in=ACTIVE_STATUSES)
    assert active.count() == 1
    assert TicketEvent.objects.filter(verb="assigned").count() == 1
    assert QueuedTicket.objects.count() == WORKERS - 1


def test_routing_and_pulling_at_once_never_give_the_same_slot_twice(monday) -> None:
    agent, tickets = _desk(capacity=3)
    routes = [lambda t=t: services.ticket_route(ticket_id=t.pk) for t in tickets[:5]]
    pulls = [lambda: services.agent_pull(agent_id=agent.pk) for _ in range(3)]
    assert _in_threads(routes + pulls) == []
    assert Ticket.objects.filter(assignee=agent, status__in=ACTIVE_STATUSES).count() == 3
    assigned = list(TicketEvent.objects.filter(verb="assigned").values_list("ticket_id", flat=True))
    assert len(assigned) == len(set(assigned)) == 3
