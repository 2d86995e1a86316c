"""Helpers shared by the ticket services: loading for an actor, recording events."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from expediter.core import clock, hooks
from expediter.core.errors import NotFound, NotPermitted
from expediter.core.rows import Prepared, insert_prepared, prepare
from expediter.staff import policies
from expediter.staff.models import User
from expediter.tickets.models import Ticket, TicketEvent
from expediter.tickets.selectors import ticket_visible_queryset


def ticket_for_update(*, ticket_id: int, actor: User | None) -> Ticket:
    """Load a ticket the actor may see, locked for the rest of the transaction.

    ``actor=None`` is the system (rules, the worker), which sees everything.
    """
    tickets = Ticket.objects.all() if actor is None else ticket_visible_queryset(actor)
    if connection.features.has_select_for_update:
        tickets = tickets.select_for_update(of=("self",))
    ticket = tickets.filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(_("ticket %(id)s not found") % {"id": ticket_id})
    return ticket


def require_staff(actor: User | None, what: str) -> None:
    """Only agents, leads, admins (or the system) may make ``what``.

    ``what`` is marked with ``gettext_noop`` by the caller and translated here,
    only when the refusal is actually raised.
    """
    if actor is not None and not policies.is_agent(actor):
        raise NotPermitted(_("only agents may %(what)s") % {"what": _(what)})


def event_record(
    *,
    ticket: Ticket,
    actor: User | None,
    verb: str,
    changes: dict[str, list[Any]] | None = None,
    reason: str | None = None,
    at: Any = None,
) -> TicketEvent:
    """Append one history row and tell listeners (SLA clocks, routing, mail)."""
    event = TicketEvent(
        ticket=ticket,
        actor=actor,
        verb=verb,
        changes=changes or {},
        reason=reason,
        at=at or clock.now(),
    )
    return event_write(ticket, prepare([event], later=("ticket_id",)))


def event_write(ticket: Ticket, prepared: Prepared[TicketEvent]) -> TicketEvent:
    """Append a history row to ``ticket`` and tell listeners.

    The row's values may be prepared before ``ticket`` is written (its id is
    taken at the write): ``ticket_create`` prepares them outside its transaction.
    """
    (event,) = prepared.objs
    insert_prepared(prepared)
    hooks.announce("ticket.event", ticket=ticket, event=event)
    return event


def user_ref(user: User | None) -> dict[str, Any] | None:
    """How a person appears in an event's before/after values."""
    return None if user is None else {"id": user.pk, "name": user.name}
