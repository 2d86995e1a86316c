"""The ticket's ``sla`` object in API answers (null while no policy applies).

The contract's fields come first (``policy``, ``first_response_due``,
``resolution_due``, ``paused``, ``first_response_breached``,
``resolution_breached``); the rest says how much business time is left and
details every clock. A paused clock has no due time until it resumes,
unless it is already overdue.
"""

from __future__ import annotations

from typing import Any

from expediter.api.presenters import iso
from expediter.sla.selectors import ClockView, TicketSla, ticket_sla_of, ticket_sla_views
from expediter.tickets.models import Ticket

CLOCK_KINDS = ("first_response", "next_response", "resolution")


def ticket_sla(ticket: Ticket) -> dict[str, Any] | None:
    """The ``sla`` object of one ticket (one query, none for a ticket just created)."""
    view = ticket_sla_of(ticket)
    return None if view is None else sla_out(view)


def attach_sla(items: list[dict[str, Any]]) -> None:
    """Fill ``sla`` for a page of presented tickets in one query."""
    views = ticket_sla_views([item["id"] for item in items])
    for item in items:
        view = views.get(item["id"])
        item["sla"] = None if view is None else sla_out(view)


def sla_out(view: TicketSla) -> dict[str, Any]:
    out: dict[str, Any] = {
        "policy": view.policy,
        "calendar": view.calendar,
        "paused": view.paused,
    }
    for kind in CLOCK_KINDS:
        clock = view.clock(kind)
        out[f"{kind}_due"] = iso(clock.shown_due) if clock else None
        out[f"{kind}_breached"] = clock.breached if clock else False
        out[f"{kind}_met"] = clock.met if clock else False
        out[f"{kind}_remaining_seconds"] = clock.remaining_seconds if clock else None
    out["clocks"] = [clock_out(clock) for clock in view.clocks]
    return out


def clock_out(clock: ClockView) -> dict[str, Any]:
    return {
        "kind": clock.kind,
        "cycle": clock.cycle,
        "status": clock.status,
        "target_minutes": clock.target_seconds // 60,
        "started_at": iso(clock.started_at),
        "stopped_at": iso(clock.stopped_at),
        "due": iso(clock.shown_due),
        "warning_at": iso(clock.warn_at),
        "remaining_seconds": clock.remaining_seconds,
        "warned": clock.warned,
        "breached": clock.breached,
        "met": clock.met,
    }
