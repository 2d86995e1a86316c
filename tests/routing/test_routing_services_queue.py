"""The database queue hands the engine only group heads, yet the answer is the full queue's."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from tests.factories import make_agent, make_requester, make_ticket

from expediter.routing import engine, services
from expediter.routing import selectors as routing
from expediter.routing.models import QueuedTicket
from expediter.staff.services import team_set_policy
from expediter.tickets.services.catalogue import service_save

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)


def _full_queue() -> list[engine.TicketFacts]:
    requirements = routing.service_requirements()
    return [
        engine.TicketFacts(
            id=e.ticket_id,
            team_id=e.team_id,
            priority=e.priority,
            required_skills=requirements.get(e.service_id or 0, {}),
            due_at=e.due_at,
            created_at=e.created_at,
        )
        for e in QueuedTicket.objects.all()
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pulling_from_group_heads_matches_the_whole_queue(seed: int, at) -> None:
    rng = random.Random(seed)
    at(NOW - dt.timedelta(days=2))
    for name, team, skills in (
        ("Net", "Network", {"net": 3}),
        ("Wifi", "Network", {"net": 2, "radio": 2}),
        ("Voip", "Voice", {"voip": 2}),
        ("Any", "Network", {}),
    ):
        service_save(name=name, team=team, skills=skills)
    team_set_policy(team_name="Voice", policy=rng.choice(["round_robin", "skills"]))
    requester = make_requester()
    for n in range(40):
        at(NOW - dt.timedelta(minutes=rng.randint(1, 2000)))
        service = rng.choice(["Net", "Wifi", "Voip", "Any", None])
        ticket = make_ticket(
            requester=requester,
            service=service,
            team="Voice" if n % 5 == 0 else ("Network" if service is None else None),
            impact=rng.randint(1, 4),
            urgency=rng.randint(1, 4),
            subject=f"T{n}",
        )
        services.ticket_route(ticket_id=ticket.pk)  # nobody has a shift: every ticket waits
    at(NOW)
    # SLA due times need not follow arrival order (calendars, pauses): shuffle them
    for entry in QueuedTicket.objects.all():
        QueuedTicket.objects.filter(pk=entry.pk).update(
            due_at=entry.created_at + dt.timedelta(minutes=rng.randint(-600, 900))
        )
    queue = _full_queue()
    assert len(queue) == 40
    policies = routing.team_policies({t.team_id for t in queue if t.team_id})
    for n in range(12):
        agent = make_agent(
            team=None,
            teams=rng.sample(["Network", "Voice"], rng.randint(1, 2)),
            name=f"A{n}",
            skills={s: rng.randint(1, 5) for s in rng.sample(["net", "radio", "voip"], 2)},
        )
        (facts,) = routing.agent_facts(agent_ids=[agent.pk], at=NOW)
        facts = engine_on_duty(facts)
        offers = [
            offer
            for team_id in facts.team_ids
            if (
                offer := engine.next_ticket_for(
                    facts,
                    [t for t in queue if t.team_id == team_id],
                    policy=policies[team_id],
                    now=NOW,
                )
            )
        ]
        expected = min(
            offers, key=lambda t: (engine.urgency_key(t, now=NOW), t.created_at, t.id), default=None
        )
        found = routing.next_waiting_for(facts, at=NOW)
        assert (found.id if found else None) == (expected.id if expected else None)


def engine_on_duty(facts: engine.AgentFacts) -> engine.AgentFacts:
    """The agent as if on duty with room: the queue's answer does not depend on duty."""
    import dataclasses

    return dataclasses.replace(facts, on_duty=True, on_time_off=False, active=0, capacity=3)
