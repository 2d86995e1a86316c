"""Appointments for the demo desk: customer sites around Paris, bookings, visits to plan.

Runs after ``demo.builder.build_demo`` on its desk, through the same services
and selectors as the pages, so every booking passes the real availability
checks and mails its invitation to the outbox.
"""

from __future__ import annotations

import datetime as dt
import random

from expediter.appointments import selectors
from expediter.appointments.models import AppointmentKind
from expediter.appointments.services import appointment_book, person_set_site, visit_request
from expediter.core import clock
from expediter.core.errors import DomainError
from expediter.staff.models import Role, Site, User
from expediter.staff.services import site_create
from expediter.tickets.models import OPEN_STATUSES, Ticket

# name, latitude, longitude, address, organisation whose people sit there
DEMO_SITES = [
    (
        "Acme La Défense",
        48.8918,
        2.2389,
        "1 parvis de la Défense, 92800 Puteaux",
        "Acme Industries",
    ),
    ("Acme Saint-Denis", 48.9362, 2.3574, "12 rue du Landy, 93200 Saint-Denis", "Acme Industries"),
    (
        "Bellevue Boulogne",
        48.8397,
        2.2399,
        "9 avenue Édouard Vaillant, 92100 Boulogne-Billancourt",
        "Bellevue Hospital",
    ),
    (
        "Bellevue Vincennes",
        48.8473,
        2.4392,
        "4 avenue de Paris, 94300 Vincennes",
        "Bellevue Hospital",
    ),
]
APPOINTMENTS = 8
VISITS = 3
DAYS_AHEAD = 5
VISIT_WINDOWS = [(dt.time(9), dt.time(12)), (dt.time(13), dt.time(17)), (dt.time(9), dt.time(17))]


def build_demo_appointments(rng: random.Random) -> None:
    """Place the demo's requesters at customer sites, book a few appointments, ask for visits."""
    sites = _sites()
    _place_requesters(sites)
    booker = (
        User.objects.filter(role__in=(Role.ADMIN, Role.LEAD), is_active=True).order_by("id").first()
    )
    if booker is None:
        return
    tickets = list(
        Ticket.objects.filter(
            status__in=OPEN_STATUSES, team__isnull=False, service__isnull=False
        ).order_by("id")
    )
    rng.shuffle(tickets)
    booked = 0
    for ticket in tickets:
        if booked >= APPOINTMENTS:
            break
        booked += _book_one(rng, ticket, booker)
    _ask_for_visits(rng, tickets[::-1], booker)


def _sites() -> dict[str, list[Site]]:
    by_organisation: dict[str, list[Site]] = {}
    for name, latitude, longitude, address, organisation in DEMO_SITES:
        site = site_create(name=name, latitude=latitude, longitude=longitude, address=address)
        by_organisation.setdefault(organisation, []).append(site)
    return by_organisation


def _place_requesters(sites: dict[str, list[Site]]) -> None:
    """Members of each organisation are spread over its sites, in turn."""
    requesters = User.objects.filter(
        role=Role.REQUESTER, organisation__name__in=list(sites)
    ).select_related("organisation")
    for index, person in enumerate(requesters.order_by("id")):
        assert person.organisation is not None
        choices = sites[person.organisation.name]
        person_set_site(person=person, site=choices[index % len(choices)])


def _first_day() -> dt.date:
    return clock.now().astimezone(selectors.desk_zone()).date() + dt.timedelta(days=1)


def _book_one(rng: random.Random, ticket: Ticket, booker: User) -> int:
    """One appointment on ``ticket`` in a free slot of the coming days; 1 if booked."""
    located = selectors.as_place(ticket.requester.site) is not None
    kind = AppointmentKind.ONSITE if located and rng.random() < 0.4 else AppointmentKind.REMOTE
    duration = rng.choice([30, 45, 60])
    zone = selectors.desk_zone()
    start = dt.datetime.combine(_first_day(), dt.time(0), tzinfo=zone)
    slots = selectors.ticket_slots(
        user=booker,
        ticket_id=ticket.pk,
        duration_minutes=duration,
        start=start,
        end=start + dt.timedelta(days=DAYS_AHEAD),
        kind=kind,
    )
    if not slots:
        return 0
    slot = rng.choice(slots)
    agent = User.objects.get(pk=slot.agent_id)
    try:
        appointment_book(
            ticket_id=ticket.pk,
            actor=agent,
            start=slot.start,
            end=slot.end,
            kind=kind,
            agent_id=agent.pk,
        )
    except DomainError:
        return 0
    return 1


def _ask_for_visits(rng: random.Random, tickets: list[Ticket], booker: User) -> None:
    """A few visits waiting to be planned on the next working day."""
    day = _first_day()
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    asked = 0
    for ticket in tickets:
        if asked >= VISITS:
            return
        if selectors.as_place(ticket.requester.site) is None:
            continue
        window_start, window_end = rng.choice(VISIT_WINDOWS)
        try:
            visit_request(
                ticket_id=ticket.pk,
                actor=booker,
                date=day,
                window_start=window_start,
                window_end=window_end,
                duration_minutes=rng.choice([45, 60, 90]),
            )
        except DomainError:
            continue
        asked += 1
