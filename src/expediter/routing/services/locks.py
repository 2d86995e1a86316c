"""The locks that keep two routings from giving the same slot twice.

Routing locks the ticket, then the candidate agents' user rows in id order;
a pull locks the agent, then claims a ticket with ``SKIP LOCKED`` so it never
waits on a ticket another worker holds. The order is acyclic, so workers
never deadlock. SQLite has no row locks: its IMMEDIATE transactions
serialise writers instead. ``SKIP LOCKED`` lives here and nowhere else.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable
from dataclasses import replace

from django.db import connection, connections

from expediter.routing import selectors as routing
from expediter.routing.engine import AgentFacts
from expediter.routing.selectors.roster import kept_team
from expediter.staff.models import User
from expediter.tickets.models import Ticket


def lock_agents(agent_ids: Iterable[int]) -> None:
    """Row locks on the agents' users, in id order so that two routings never deadlock.

    SQLite has no row locks: its IMMEDIATE transactions already serialise writers.
    """
    ids = sorted(set(agent_ids))
    if not ids or not connection.features.has_select_for_update:
        return
    list(
        User.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def lock_ticket(ticket_id: int, *, skip_locked: bool = False) -> Ticket | None:
    """The ticket, locked, with its team; with ``skip_locked``, None when another transaction
    holds it.

    The one place that knows about ``SKIP LOCKED``; without it, the lock waits.
    Every routing starts here, and building this one-row query through the ORM
    cost more than the rest of the decision: its SQL is built once and the
    team comes from the routing roster (:func:`~expediter.routing.selectors.roster.kept_team`).
    """
    found = list(Ticket.objects.raw(_lock_sql(connection.alias, skip_locked), [ticket_id]))
    if not found:
        return None
    ticket = found[0]
    if ticket.team_id is not None:
        ticket.team = kept_team(ticket.team_id)
    return ticket


@functools.cache
def _lock_sql(alias: str, skip_locked: bool) -> str:
    """The statement reading (and on PostgreSQL locking) one ticket by id, for ``alias``."""
    tickets = Ticket.objects.using(alias)
    features = connections[alias].features
    if features.has_select_for_update:
        skip = skip_locked and features.has_select_for_update_skip_locked
        tickets = tickets.select_for_update(skip_locked=skip, of=("self",))
    sql, params = tickets.filter(pk=0).query.sql_with_params()
    assert list(params) == [0], params
    return str(sql)


def reads_are_serialised() -> bool:
    """Whether no other writer can run between this transaction's reads and its commit.

    True on SQLite in IMMEDIATE mode (how the settings open it): BEGIN
    IMMEDIATE takes the database's write lock before the first read, so
    the facts a routing reads cannot move under it.
    """
    options = connection.settings_dict.get("OPTIONS") or {}
    return connection.vendor == "sqlite" and options.get("transaction_mode") == "IMMEDIATE"


def lock_and_recount(facts: list[AgentFacts], candidates: Collection[int]) -> list[AgentFacts]:
    """Lock the candidates, then read their active counts again: the count that decides.

    The facts were read before the locks (which agents to lock depends on
    them), so a count in them may predate another routing's commit; once
    the rows are locked, a fresh count cannot. Only the candidates are
    locked and recounted, never the whole team. Where reads are serialised
    (SQLite) the facts are already current and nothing is done.
    """
    if not candidates:
        return facts
    if not connection.features.has_select_for_update and reads_are_serialised():
        return facts
    lock_agents(candidates)
    counts = routing.active_counts(candidates)
    return [replace(f, active=counts[f.id]) if f.id in counts else f for f in facts]
