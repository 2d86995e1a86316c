"""The hard rules hold on the live desk, whatever happens and under every policy.

A seeded random desk goes through a day of arrivals, resolutions, time off
and sweeps; after every step each automatic assignment made in it is checked
against the rules read straight from the database (not through the engine).
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from tests.factories import make_agent, make_requester, make_ticket

from expediter.routing import services
from expediter.schedules import selectors as schedules
from expediter.schedules.services import shift_add, timeoff_add
from expediter.staff.models import AgentSkill, TeamMembership, User
from expediter.staff.services import team_set_policy
from expediter.tickets.models import ACTIVE_STATUSES, ServiceSkill, Ticket, TicketEvent
from expediter.tickets.services import ticket_set_status
from expediter.tickets.services.catalogue import service_save

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
START = dt.datetime(2026, 3, 2, 7, 0, tzinfo=PARIS)
SHIFTS = ("mon-fri 07:00-15:00", "mon-fri 09:00-17:00", "mon-fri 12:00-20:00", "sat 09:00-12:00")


def _desk(rng: random.Random) -> list[User]:
    service_save(name="Network", team="Network", skills={"net": 3})
    service_save(name="Windows", team="Network", skills={"win": 2, "net": 1})
    service_save(name="Phones", team="Voice", skills={"voip": 2})
    crew = []
    for n in range(7):
        teams = ["Network"] if n < 5 else ["Voice", "Network"]
        agent = make_agent(
            team=None,
            teams=teams,
            name=f"T{n}",
            skills={s: rng.randint(1, 5) for s in rng.sample(["net", "win", "voip"], 2)},
            capacity=rng.randint(1, 3),
        )
        shift_add(agent=agent, hours=rng.choice(SHIFTS), time_zone="Europe/Paris")
        crew.append(agent)
    return crew


def _broken_rules(event: TicketEvent) -> list[str]:
    """Every hard rule the assignment recorded by ``event`` breaks, read from the rows."""
    ticket = Ticket.objects.get(pk=event.ticket_id)
    agent_id = event.changes["assignee"][1]["id"]
    broken = []
    if not TeamMembership.objects.filter(user_id=agent_id, team_id=ticket.team_id).exists():
        broken.append("not in team")
    if schedules.on_time_off(agent_id=agent_id, at=event.at):
        broken.append("on time off")
    if not schedules.on_duty(agent_id=agent_id, at=event.at):
        broken.append("off duty")
    levels = dict(AgentSkill.objects.filter(agent_id=agent_id).values_list("skill__name", "level"))
    for skill, minimum in ServiceSkill.objects.filter(service_id=ticket.service_id).values_list(
        "skill__name", "min_level"
    ):
        if levels.get(skill, 0) < minimum:
            broken.append(f"lacks {skill}")
    active = Ticket.objects.filter(assignee_id=agent_id, status__in=ACTIVE_STATUSES).count()
    if active > User.objects.get(pk=agent_id).capacity:
        broken.append("over capacity")
    return broken


@pytest.mark.parametrize("policy", ["skills", "least_loaded", "round_robin"])
def test_no_automatic_assignment_ever_breaks_a_hard_rule(policy: str, at) -> None:
    rng = random.Random(f"rules-{policy}")
    now = at(START)
    crew = _desk(rng)
    team_set_policy(team_name="Network", policy=policy)
    requester = make_requester()
    checked = 0
    seen = 0
    for _step in range(60):
        now = at(now + dt.timedelta(minutes=rng.randint(5, 25)))
        action = rng.random()
        if action < 0.55:
            ticket = make_ticket(
                requester=requester,
                service=rng.choice(["Network", "Windows", "Phones"]),
                impact=rng.randint(1, 4),
                urgency=rng.randint(1, 4),
            )
            services.ticket_route(ticket_id=ticket.pk)
        elif action < 0.8:
            active = list(Ticket.objects.filter(status__in=ACTIVE_STATUSES))
            if active:
                done = rng.choice(active)
                assert done.assignee is not None
                ticket_set_status(ticket_id=done.pk, status="resolved", actor=done.assignee)
                services.agent_pull(agent_id=done.assignee.pk)
        elif action < 0.9:
            absent = rng.choice(crew)
            timeoff_add(agent=absent, start=now, end=now + dt.timedelta(hours=rng.randint(1, 4)))
        else:
            services.routing_sweep()
        for event in TicketEvent.objects.filter(verb="assigned", actor=None).order_by("id")[seen:]:
            assert _broken_rules(event) == [], event.reason
            checked += 1
        seen = TicketEvent.objects.filter(verb="assigned", actor=None).count()
    assert checked >= 10  # the walk did exercise the engine
