"""The census a decision reads gives the engine's answer over the whole team, at a fixed cost.

A decision no longer builds the facts of every team member: the database
sorts members by the first hard rule they fail and only those who could take
the ticket, plus the few a reason names, are listed. These tests compare the
decision, its reason and the queue's wait causes with what the engine says
over every member's full facts, on seeded random teams large enough for the
reason to name some members and count the others.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.factories import make_agent, make_ticket

from expediter.routing import engine, services
from expediter.routing import selectors as routing
from expediter.routing.engine import AgentFacts, TicketFacts
from expediter.routing.selectors.roster import ROSTER
from expediter.routing.services import locks
from expediter.routing.services import queue as sweep
from expediter.schedules.services import extra_shift_add, shift_add, timeoff_add
from expediter.staff.models import Team
from expediter.staff.services import team_set_policy
from expediter.tickets.models import Ticket
from expediter.tickets.services import ticket_assign
from expediter.tickets.services.catalogue import service_save

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)
SHIFTS = (
    "mon-fri 08:00-18:00",
    "mon-fri 12:00-20:00",
    "mon 09:00-11:00; tue-fri 09:00-17:00",
    "sat-sun 10:00-16:00",
    "mon-sun 00:00-24:00",
)


def _team(rng: random.Random, size: int) -> Team:
    """A Network team of ``size`` with every kind of obstacle, and a little work in hand."""
    service_save(name="Network", team="Network", skills={"net": 3, "dns": 2})
    for n in range(size):
        agent = make_agent(
            team="Network",
            name=f"T{n:02d}",
            skills={s: rng.randint(1, 5) for s in rng.sample(["net", "dns", "voip"], 2)},
            capacity=rng.randint(1, 3),
        )
        if rng.random() < 0.9:
            shift_add(
                agent=agent,
                hours=rng.choice(SHIFTS),
                time_zone=rng.choice(["Europe/Paris", "America/New_York"]),
                valid_until=rng.choice([None, dt.date(2026, 3, 1), dt.date(2026, 3, 2)]),
            )
        if rng.random() < 0.15:
            extra_shift_add(
                agent=agent, start=NOW - dt.timedelta(hours=1), end=NOW + dt.timedelta(hours=2)
            )
        if rng.random() < 0.15:
            timeoff_add(
                agent=agent, start=NOW - dt.timedelta(hours=3), end=NOW + dt.timedelta(hours=1)
            )
        for _ in range(rng.randint(0, agent.capacity)):
            ticket_assign(ticket_id=make_ticket(service="Network").pk, assignee=agent, actor=None)
    return Team.objects.get(name="Network")


def _ticket(team: Team) -> TicketFacts:
    ticket = make_ticket(service="Network")
    due = routing.due_times([ticket])[ticket.pk]
    return routing.ticket_facts(ticket, due_at=due)


def _full(team: Team) -> list[AgentFacts]:
    """Every member's full facts, as the board reads them, without when their duty ends."""
    return [
        dataclasses.replace(f, duty_ends_at=None)
        for f in routing.agent_facts(team_id=team.pk, at=NOW)
    ]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("policy", ["skills", "round_robin", "manual"])
def test_the_census_decides_and_words_like_the_whole_team(seed: int, policy: str, at) -> None:
    at(NOW)
    team = _team(random.Random(seed), size=24)
    team_set_policy(team_name="Network", policy=policy)
    ticket = _ticket(team)
    census = routing.team_census(ticket=ticket, at=NOW)
    full = _full(team)
    assert len(census.agents) < len(full)  # some members are only counted
    assert sum(census.unlisted.values()) + len(census.agents) == len(full)
    listed = engine.choose_agent(
        ticket, census.agents, policy=policy, now=NOW, unlisted=census.unlisted
    )
    whole = engine.choose_agent(ticket, full, policy=policy, now=NOW)
    assert listed == whole
    assert census.could == {f.id for f in full if engine.could_take(f, ticket)}
    worded = engine.choose_agent(
        ticket,
        census.agents,
        policy=policy,
        now=NOW,
        unlisted=census.unlisted,
        duty_end=census.duty_end,
    )  # the chosen agent's duty end from the roster, as the database says it
    full_words = engine.choose_agent(
        ticket, routing.agent_facts(team_id=team.pk, at=NOW), policy=policy, now=NOW
    )
    assert worded == full_words
    assert engine.wait_causes(ticket, census.agents, unlisted=census.unlisted) == (
        engine.wait_causes(ticket, full)
    )
    assert engine.someone_on_duty_could_take(ticket, census.agents) == (
        engine.someone_on_duty_could_take(ticket, full)
    )


@pytest.mark.parametrize("seed", [5, 6])
def test_a_member_asked_for_is_listed_and_the_others_still_word_alike(seed: int, at) -> None:
    at(NOW)
    team = _team(random.Random(seed), size=24)
    ticket = _ticket(team)
    full = _full(team)
    left = next(f for f in full if not f.on_duty or f.on_time_off)
    census = routing.team_census(ticket=ticket, at=NOW, also=left.id)
    assert left.id in [f.id for f in census.agents]
    others = [f for f in census.agents if f.id != left.id]
    listed = engine.choose_agent(ticket, others, policy="skills", now=NOW, unlisted=census.unlisted)
    whole = engine.choose_agent(
        ticket, [f for f in full if f.id != left.id], policy="skills", now=NOW
    )
    assert listed == whole


def test_a_team_nobody_can_serve_counts_everyone_and_lists_the_first_of_each_kind(at) -> None:
    at(NOW)
    service_save(name="Network", team="Network", skills={"net": 3})
    for n in range(8):
        make_agent(team="Network", name=f"Off{n}", skills={"net": 5})  # no shift: off duty
    for n in range(7):
        agent = make_agent(team="Network", name=f"Weak{n}", skills={"net": 1})
        shift_add(agent=agent, hours="mon-fri 08:00-18:00", time_zone="Europe/Paris")
    ticket = _ticket(Team.objects.get(name="Network"))
    census = routing.team_census(ticket=ticket, at=NOW)
    assert census.unlisted == {engine.OFF_DUTY: 3, engine.LACKS_SKILL: 2}
    assert [f.name for f in census.agents] == [f"Off{n}" for n in range(5)] + [
        f"Weak{n}" for n in range(5)
    ]
    decision = engine.choose_agent(
        ticket, census.agents, policy="skills", now=NOW, unlisted=census.unlisted
    )
    assert decision.agent_id is None
    assert decision.reason.endswith("10 more: 3 off duty, 7 lacking a skill")


# Costs ------------------------------------------------------------------------------------------


def _reads_before_writing(team_size: int, at, *, warm: bool = False) -> int:
    """Queries a routing reads before its first write: the decision, then the assignee's row."""
    at(NOW)
    service_save(name="Network", team="Network", skills={"net": 3})
    for n in range(team_size):
        agent = make_agent(team="Network", name=f"A{n}", skills={"net": 3 + n % 3}, capacity=2)
        shift_add(agent=agent, hours="mon-fri 08:00-18:00", time_zone="Europe/Paris")
    ticket, first = make_ticket(service="Network"), make_ticket(service="Network")
    if warm:
        ROSTER.confirm()  # what the commit of the set-up's writes does outside a test
        services.ticket_route(ticket_id=first.pk)  # reads the roster, which is kept
    with CaptureQueriesContext(connection) as queries:
        assert services.ticket_route(ticket_id=ticket.pk).action == services.ASSIGNED
    statements = [q["sql"].split(None, 1)[0].upper() for q in queries.captured_queries]
    reads = [verb for verb in statements if verb in ("SELECT", "UPDATE", "INSERT", "DELETE")]
    return reads.index("UPDATE")


@pytest.mark.parametrize("team_size", [3, 40])
def test_a_routing_decision_costs_the_same_queries_whatever_the_team(team_size: int, at) -> None:
    # the locked ticket (with its SLA due time), the teams, the services' skills; the roster:
    # skills, shifts, extra shifts, time off, members; the listed members' loads; then the
    # chosen agent's row for the ticket services; with row locks, locking and recounting
    # those who could take it
    locking = 2 if connection.features.has_select_for_update else 0
    assert _reads_before_writing(team_size, at) == 10 + locking


@pytest.mark.parametrize("team_size", [3, 40])
def test_a_kept_roster_leaves_a_decision_three_reads(team_size: int, at) -> None:
    # once the roster is kept: the locked ticket, the listed members' loads, the chosen
    # agent's row
    assert _reads_before_writing(team_size, at, warm=True) == 3 + (
        2 if connection.features.has_select_for_update else 0
    )


def test_serialised_reads_need_no_recount_but_others_do(at, monkeypatch) -> None:
    at(NOW)
    service_save(name="Network", team="Network", skills={})
    agent = make_agent(team="Network", name="Ann", capacity=1)
    stale = AgentFacts(
        id=agent.pk,
        name="Ann",
        team_ids=frozenset(),
        on_duty=True,
        on_time_off=False,
        duty_ends_at=None,
        skills={},
        active=0,
        capacity=1,
        last_assigned_at=None,
    )
    ticket_assign(ticket_id=make_ticket(service="Network").pk, assignee=agent, actor=None)
    assert locks.reads_are_serialised() == (connection.vendor == "sqlite")
    if connection.vendor == "sqlite":
        with CaptureQueriesContext(connection) as queries:
            assert locks.lock_and_recount([stale], [agent.pk]) == [stale]
        assert queries.captured_queries == []
    monkeypatch.setattr(locks, "reads_are_serialised", lambda: False)
    (recounted,) = locks.lock_and_recount([stale], [agent.pk])
    assert recounted.active == 1


def test_the_sweep_does_not_route_again_p1s_that_only_wait_for_capacity(at, monkeypatch) -> None:
    at(NOW)
    service_save(name="Network", team="Network", skills={"net": 3})
    ann = make_agent(team="Network", name="Ann", skills={"net": 4}, capacity=1)
    shift_add(agent=ann, hours="mon-fri 08:00-18:00", time_zone="Europe/Paris")
    ticket_assign(ticket_id=make_ticket(service="Network").pk, assignee=ann, actor=None)
    waiting = [make_ticket(service="Network", impact=1, urgency=1) for _ in range(4)]
    for ticket in waiting:
        assert services.ticket_route(ticket_id=ticket.pk).action == services.QUEUED
    routed: list[int] = []

    def spy(*, ticket_id: int) -> services.RouteOutcome:
        routed.append(ticket_id)
        return services.ticket_route(ticket_id=ticket_id)

    monkeypatch.setattr(sweep, "ticket_route", spy)
    assert services.routing_sweep().paged == []
    assert routed == []
    at(dt.datetime(2026, 3, 2, 18, 30, tzinfo=PARIS))  # Ann has left: worth a page now
    services.routing_sweep()
    assert sorted(routed) == sorted(t.pk for t in waiting)
    assert Ticket.objects.filter(assignee__isnull=True).count() == 4
