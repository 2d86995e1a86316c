"""A small desk for the appointment tests: one team, two technicians, a located requester.

Imports are inside the fixtures: the pure tests of this folder must not need
Django at import time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2026, 6, 1)


def paris(day: dt.date, hhmm: str) -> dt.datetime:
    """A wall time in the desk's zone (the tests run with Europe/Paris)."""
    hours, minutes = map(int, hhmm.split(":"))
    return dt.datetime(day.year, day.month, day.day, hours, minutes, tzinfo=PARIS)


@dataclass
class Desk:
    """Everything the tests book with; ``ticket`` belongs to ``requester``."""

    team: Any
    alice: Any
    bruno: Any
    lead: Any
    requester: Any
    stranger: Any
    ticket: Any
    head_office: Any
    customer_site: Any


@pytest.fixture
def desk(db: None, at: Any) -> Iterator[Desk]:
    """Monday 1 June 2026, 07:00 in Paris: both technicians work 09:00-17:00 on weekdays."""
    from tests.factories import make_agent, make_lead, make_requester, make_ticket

    from expediter.schedules.services import shift_add
    from expediter.staff.services import site_create
    from expediter.tickets.services.catalogue import service_save

    at(paris(MONDAY, "07:00"))
    head_office = site_create(
        name="Head office", latitude=48.8566, longitude=2.3522, address="1 rue de Rivoli, Paris"
    )
    customer_site = site_create(
        name="Acme La Défense", latitude=48.8918, longitude=2.2389, address="2 place de la Défense"
    )
    service_save(name="Printing", team="Workplace", skills={"printers": 2})
    alice = make_agent(
        team="Workplace", name="Alice Tech", skills={"printers": 4}, site="Head office"
    )
    bruno = make_agent(
        team="Workplace", name="Bruno Tech", skills={"printers": 2}, site="Head office"
    )
    make_agent(team="Workplace", name="Unskilled Tech", skills={"windows": 5})
    lead = make_lead(team="Workplace", name="Lea Lead")
    for agent in (alice, bruno):
        shift_add(agent=agent, hours="mon-fri 09:00-17:00", time_zone="Europe/Paris")
    requester = make_requester(name="Rita Requester", site="Acme La Défense", language="fr")
    stranger = make_requester(name="Sam Stranger")
    ticket = make_ticket(requester, subject="Printer jammed", service="Printing")
    yield Desk(
        team=ticket.team,
        alice=alice,
        bruno=bruno,
        lead=lead,
        requester=requester,
        stranger=stranger,
        ticket=ticket,
        head_office=head_office,
        customer_site=customer_site,
    )
