"""A believable demo desk, built deterministically through the real services.

Everything goes through the same services a desk uses, with the clock moved
back in time, so the history, timelines and reports look like real work.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings

from expediter.appointments.demo import build_demo_appointments
from expediter.core import clock
from expediter.routing.demo import build_demo_routing
from expediter.schedules.services import shift_add
from expediter.sla.demo import build_demo_sla
from expediter.staff.models import User
from expediter.staff.services import organisation_get_or_create, site_create, user_create
from expediter.tickets.services import (
    ArticleOrigin,
    TicketChanges,
    article_add,
    ticket_create,
    ticket_set_status,
    ticket_update,
    worklog_add,
)
from expediter.tickets.services.catalogue import service_save

PASSWORD = "expediter-demo"
SEED = 20261204

TEAMS = ("Service Desk", "Network", "Workplace", "Applications")
SERVICES = [
    # name, team, skills, share, typical subjects
    (
        "Network & VPN",
        "Network",
        {"net": 3},
        0.18,
        [
            "VPN disconnects every hour",
            "No network on the 3rd floor",
            "Wi-Fi very slow in room B12",
            "Cannot reach the intranet from home",
            "Switch port dead in office 214",
        ],
    ),
    (
        "Laptop & Desktop",
        "Workplace",
        {"windows": 2},
        0.25,
        [
            "Laptop will not boot",
            "Blue screen after update",
            "Keyboard keys stuck",
            "Docking station not detected",
            "Screen flickers on external monitor",
        ],
    ),
    (
        "Printing",
        "Workplace",
        {"printers": 2},
        0.12,
        [
            "Printer on floor 2 jammed",
            "Cannot add the colour printer",
            "Scans do not reach my inbox",
        ],
    ),
    (
        "Email & Office",
        "Applications",
        {"m365": 3},
        0.2,
        [
            "Outlook keeps asking for my password",
            "Shared mailbox missing",
            "Teams call has no sound",
            "Calendar invitations not received",
            "Excel crashes on opening a file",
        ],
    ),
    (
        "Business applications",
        "Applications",
        {"erp": 3},
        0.1,
        ["Cannot post an invoice in the ERP", "Report export times out", "Missing role in the ERP"],
    ),
    (
        "Accounts & access",
        "Service Desk",
        {"security": 2},
        0.15,
        [
            "Password reset needed",
            "Account locked after holidays",
            "Access to the finance share",
            "New starter needs an account",
            "MFA phone changed",
        ],
    ),
]
AGENTS = [
    # email local part, name, team(s), skills, role, shift
    (
        "lead",
        "Camille Laurent",
        ["Service Desk", "Workplace"],
        {"security": 4, "windows": 3, "printers": 3, "m365": 2},
        "lead",
        "mon-fri 08:00-16:00",
    ),
    (
        "agent",
        "Hugo Bernard",
        ["Service Desk"],
        {"security": 3, "m365": 2, "windows": 2},
        "agent",
        "mon-fri 08:00-16:00",
    ),
    (
        "ines.moreau",
        "Inès Moreau",
        ["Service Desk"],
        {"security": 3, "windows": 2},
        "agent",
        "mon-fri 10:00-18:00",
    ),
    (
        "lucas.petit",
        "Lucas Petit",
        ["Network"],
        {"net": 5, "security": 3},
        "lead",
        "mon-fri 08:00-16:00",
    ),
    ("sarah.roux", "Sarah Roux", ["Network"], {"net": 4}, "agent", "mon-fri 10:00-18:00"),
    (
        "nadia.fontaine",
        "Nadia Fontaine",
        ["Network"],
        {"net": 3, "windows": 2},
        "agent",
        "mon-fri 09:00-17:00",
    ),
    (
        "thomas.girard",
        "Thomas Girard",
        ["Workplace"],
        {"windows": 5, "printers": 3},
        "agent",
        "mon-fri 08:00-16:00",
    ),
    (
        "emma.lefebvre",
        "Emma Lefebvre",
        ["Workplace"],
        {"windows": 3, "printers": 4},
        "agent",
        "mon-fri 10:00-18:00",
    ),
    (
        "paul.mercier",
        "Paul Mercier",
        ["Workplace"],
        {"windows": 4, "printers": 2},
        "agent",
        "mon-thu 09:00-17:00",
    ),
    (
        "julie.blanc",
        "Julie Blanc",
        ["Applications"],
        {"m365": 5, "erp": 2},
        "lead",
        "mon-fri 08:00-16:00",
    ),
    (
        "karim.haddad",
        "Karim Haddad",
        ["Applications"],
        {"erp": 5, "m365": 3},
        "agent",
        "mon-fri 09:00-17:00",
    ),
    (
        "lea.dupont",
        "Léa Dupont",
        ["Applications"],
        {"m365": 4, "erp": 3},
        "agent",
        "mon-fri 10:00-18:00",
    ),
]
FIRST_NAMES = [
    "Alice",
    "Bruno",
    "Chloé",
    "David",
    "Élodie",
    "François",
    "Gaëlle",
    "Henri",
    "Isabelle",
    "Jules",
    "Karine",
    "Louis",
    "Manon",
    "Nicolas",
    "Océane",
    "Pierre",
    "Quentin",
    "Rose",
    "Simon",
    "Tania",
]
LAST_NAMES = ["Martin", "Durand", "Lambert", "Bonnet", "Chevalier"]
ORGANISATIONS = [("Acme Industries", "acme.example"), ("Bellevue Hospital", "bellevue.example")]
REPLIES = [
    "Thanks for reporting this, I am looking into it now.",
    "Could you tell me the exact error message and when it started?",
    "I have applied a fix on our side; can you try again?",
    "I will come by your desk this afternoon.",
]
REQUESTER_REPLIES = [
    "It happened again this morning.",
    "Yes, it works now, thank you!",
    "The error says 0x80070005.",
    "I am available after 14:00.",
]


@dataclass
class DemoSummary:
    agents: int
    requesters: int
    tickets: int


def desk_is_empty() -> bool:
    return not User.objects.exists()


def build_demo(*, tickets: int = 300, days: int = 30) -> DemoSummary:
    """Create teams, people, services, shifts and ``tickets`` over the last ``days``."""
    rng = random.Random(SEED)
    zone = ZoneInfo(settings.DESK_TIME_ZONE)
    pinned = clock.pinned()  # a test's frozen clock stays frozen where it was
    now = clock.now().astimezone(zone)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - dt.timedelta(days=days)
    clock.set_now(start - dt.timedelta(days=1))
    try:
        agents = _people(rng)
        requesters = _requesters()
        build_demo_sla()  # before the tickets, so every ticket has its clocks
        created = 0
        for when in _arrival_times(rng, start, today, tickets):
            _one_ticket(rng, when, requesters, agents, now)
            created += 1
    finally:
        clock.set_now(pinned)
    build_demo_routing()
    build_demo_appointments(rng)
    return DemoSummary(agents=len(agents), requesters=len(requesters), tickets=created)


def _people(rng: random.Random) -> dict[str, list[User]]:
    user_create(email="admin@demo.example", name="Alex Admin", role="admin", password=PASSWORD)
    for name, team, skills, _share, _subjects in SERVICES:
        service_save(name=name, team=team, skills=skills)
    site_create(
        name="Head office", latitude=48.8566, longitude=2.3522, address="1 rue de Rivoli, Paris"
    )
    by_team: dict[str, list[User]] = {team: [] for team in TEAMS}
    for local, name, teams, skills, role, hours in AGENTS:
        agent = user_create(
            email=f"{local}@demo.example",
            name=name,
            role=role,
            teams=teams,
            skills=skills,
            capacity=rng.choice([5, 6, 8]),
            password=PASSWORD,
            site="Head office",
            language="fr" if rng.random() < 0.5 else "en",
        )
        shift_add(agent=agent, hours=hours, time_zone=settings.DESK_TIME_ZONE)
        for team in teams:
            by_team[team].append(agent)
    return by_team


def _requesters() -> list[User]:
    people = [
        user_create(
            email="requester@demo.example",
            name="Romane Requester",
            organisation=ORGANISATIONS[0][0],
            password=PASSWORD,
            phone="+33140000000",
        )
    ]
    for index in range(39):
        org, domain = ORGANISATIONS[index % 2]
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[index // len(FIRST_NAMES) + (index % 3)]
        people.append(
            user_create(
                email=_ascii(f"{first}.{last}{index}@{domain}".lower()),
                name=f"{first} {last}",
                organisation=org,
                phone=f"+3314000{index:04d}",
                language="fr" if index % 3 else "en",
            )
        )
    organisation_get_or_create(name=ORGANISATIONS[0][0])
    return people


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _arrival_times(
    rng: random.Random, start: dt.datetime, end: dt.datetime, count: int
) -> list[dt.datetime]:
    """Arrivals on working days, busier in the morning."""
    times: list[dt.datetime] = []
    while len(times) < count:
        day = start + dt.timedelta(days=rng.randrange((end - start).days))
        if day.weekday() >= 5 and rng.random() < 0.85:
            continue
        hour = rng.choice([8, 9, 9, 10, 10, 10, 11, 11, 13, 14, 14, 15, 16, 17])
        times.append(day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60)))
    return sorted(times)


def _one_ticket(
    rng: random.Random,
    when: dt.datetime,
    requesters: list[User],
    agents: dict[str, list[User]],
    now: dt.datetime,
) -> None:
    """One ticket arriving at ``when``, taken as far as its age by ``now`` suggests."""
    name, team, _skills, _share, subjects = rng.choices(SERVICES, weights=[s[3] for s in SERVICES])[
        0
    ]
    requester = rng.choice(requesters)
    channel = rng.choices(["web", "email", "phone"], weights=[5, 4, 2])[0]
    clock.set_now(when)
    ticket = ticket_create(
        requester=requester,
        actor=requester if channel == "web" else None,
        subject=rng.choice(subjects),
        description=f"{rng.choice(subjects)}. Please help.",
        service=name,
        impact=rng.choice([2, 3, 3, 3, 4]),
        urgency=rng.choice([1, 2, 3, 3, 4]),
        channel=channel,
    )
    age_days = (now - when).days
    stage = rng.random() + min(age_days, 20) / 20  # older tickets got further
    if stage < 0.25:
        return
    agent = rng.choice(agents[team])
    step = when + dt.timedelta(minutes=rng.randint(5, 90))
    clock.set_now(step)
    ticket_update(
        ticket_id=ticket.pk,
        actor=agent,
        changes=TicketChanges(given=frozenset({"assignee_id"}), assignee_id=agent.pk),
    )
    if stage < 0.5:
        return
    step += dt.timedelta(minutes=rng.randint(5, 120))
    clock.set_now(step)
    ticket_set_status(ticket_id=ticket.pk, status="in_progress", actor=agent)
    article_add(
        ticket_id=ticket.pk,
        author=agent,
        actor=agent,
        body=rng.choice(REPLIES),
        origin=ArticleOrigin(channel="web"),
    )
    worklog_add(
        ticket_id=ticket.pk,
        agent=agent,
        minutes=rng.choice([10, 15, 20, 30, 45, 60]),
        note="diagnosis",
    )
    if stage < 0.8:
        if rng.random() < 0.5:
            ticket_set_status(ticket_id=ticket.pk, status="waiting_requester", actor=agent)
        return
    step += dt.timedelta(hours=rng.randint(1, 20))
    clock.set_now(step)
    article_add(
        ticket_id=ticket.pk,
        author=requester,
        actor=requester,
        body=rng.choice(REQUESTER_REPLIES),
        origin=ArticleOrigin(channel=channel),
    )
    if rng.random() < 0.3:
        article_add(
            ticket_id=ticket.pk,
            author=agent,
            actor=agent,
            internal=True,
            body="Checked the logs; same issue as last month.",
        )
    step += dt.timedelta(hours=rng.randint(1, 8))
    clock.set_now(step)
    worklog_add(ticket_id=ticket.pk, agent=agent, minutes=rng.choice([15, 30, 45]), note="fix")
    ticket_set_status(ticket_id=ticket.pk, status="resolved", actor=agent)
    if stage > 1.3:
        clock.set_now(step + dt.timedelta(days=3))
        ticket_set_status(
            ticket_id=ticket.pk,
            status="closed",
            actor=None,
            reason="closed automatically three days after resolution",
        )
