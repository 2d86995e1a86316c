"""The roster a process keeps for routing follows every change, wherever it comes from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import update_last_login
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.factories import make_agent, make_lead, make_requester, make_ticket

from expediter.routing import selectors as routing
from expediter.routing.engine import ON_TIME_OFF, AgentFacts, TicketFacts
from expediter.routing.selectors.roster import ROSTER, kept_team
from expediter.routing.services import ticket_route
from expediter.schedules.services import extra_shift_add, shift_add, timeoff_decide, timeoff_request
from expediter.staff.models import Team, TeamMembership, User
from expediter.staff.services import agent_set_skills, team_set_policy
from expediter.tickets.services import ticket_assign
from expediter.tickets.services.catalogue import service_save

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)  # a Monday


@pytest.fixture
def desk(at) -> dict[str, User]:
    """Ann and Bob in Network, both at work and skilled; Cid skilled but without a shift."""
    at(NOW)
    service_save(name="Network", team="Network", skills={"net": 3})
    people = {
        name: make_agent(team="Network", name=name, skills={"net": 4}, capacity=3)
        for name in ("Ann", "Bob", "Cid")
    }
    for name in ("Ann", "Bob"):
        shift_add(agent=people[name], hours="mon-fri 08:00-18:00", time_zone="Europe/Paris")
    people["Lea"] = make_lead(team="Network", name="Lea")
    return people


def _ticket() -> TicketFacts:
    ticket = make_ticket(service="Network")
    return routing.ticket_facts(ticket, due_at=routing.due_times([ticket])[ticket.pk])


def _could(ticket: TicketFacts) -> set[str]:
    census = routing.team_census(ticket=ticket, at=NOW)
    return {f.name for f in census.agents if f.id in census.could}


def _kept(ticket: TicketFacts) -> None:
    """Settle the set-up's writes (what their commit does) and read the roster once."""
    ROSTER.confirm()
    routing.team_census(ticket=ticket, at=NOW)
    with CaptureQueriesContext(connection) as queries:
        routing.team_census(ticket=ticket, at=NOW)
    assert len(queries) == 1  # the loads: the roster itself is kept


def _approve_time_off(people: dict[str, User]) -> None:
    asked = timeoff_request(
        agent=people["Ann"],
        actor=people["Ann"],
        start=NOW - dt.timedelta(hours=1),
        end=NOW + dt.timedelta(hours=4),
    )
    timeoff_decide(time_off_id=asked.pk, approve=True, actor=people["Lea"])


def _deactivate(people: dict[str, User]) -> None:
    people["Ann"].is_active = False
    people["Ann"].save()


def _leave_team(people: dict[str, User]) -> None:
    TeamMembership.objects.filter(user=people["Ann"]).delete()


def _lower_skill(people: dict[str, User]) -> None:
    agent_set_skills(agent=people["Ann"], skills={"net": 1})


def _extra_shift_for_cid(people: dict[str, User]) -> None:
    extra_shift_add(
        agent=people["Cid"], start=NOW - dt.timedelta(hours=1), end=NOW + dt.timedelta(hours=1)
    )


def _shift_for_cid(people: dict[str, User]) -> None:
    shift_add(agent=people["Cid"], hours="mon 09:00-12:00", time_zone="Europe/Paris")


@pytest.mark.parametrize(
    ("change", "could"),
    [
        (_approve_time_off, {"Bob"}),
        (_deactivate, {"Bob"}),
        (_leave_team, {"Bob"}),
        (_lower_skill, {"Bob"}),
        (_extra_shift_for_cid, {"Ann", "Bob", "Cid"}),
        (_shift_for_cid, {"Ann", "Bob", "Cid"}),
    ],
)
def test_a_kept_roster_sees_each_change(
    desk: dict[str, User], change: Callable[[dict[str, User]], None], could: set[str]
) -> None:
    ticket = _ticket()
    _kept(ticket)
    assert _could(ticket) == {"Ann", "Bob"}
    change(desk)
    assert _could(ticket) == could


def test_time_off_shows_as_the_reason_once_approved(desk: dict[str, User]) -> None:
    ticket = _ticket()
    _kept(ticket)
    _approve_time_off(desk)
    census = routing.team_census(ticket=ticket, at=NOW)
    assert census.unlisted == {ON_TIME_OFF: 0, "off duty": 0}
    assert [f.name for f in census.agents if f.on_time_off] == ["Ann"]


def test_a_new_capacity_counts_at_once(desk: dict[str, User]) -> None:
    ticket = _ticket()
    _kept(ticket)
    desk["Ann"].capacity = 0
    desk["Ann"].save()
    census = routing.team_census(ticket=ticket, at=NOW)
    assert {f.name: f.capacity for f in census.agents}["Ann"] == 0
    outcome = ticket_route(ticket_id=ticket.id)
    assert outcome.agent_id == desk["Bob"].pk


def test_a_new_team_policy_counts_at_once(desk: dict[str, User]) -> None:
    team = Team.objects.get(name="Network")
    _kept(_ticket())
    assert kept_team(team.pk).assignment_policy == "skills"
    team_set_policy(team_name="Network", policy="manual")
    assert kept_team(team.pk).assignment_policy == "manual"
    assert ticket_route(ticket_id=_ticket().id).action == "queued"


def test_a_sign_in_or_a_new_requester_leaves_the_roster_kept(desk: dict[str, User]) -> None:
    ticket = _ticket()
    _kept(ticket)
    update_last_login(None, desk["Ann"])
    make_requester(name="Newcomer")
    with CaptureQueriesContext(connection) as queries:
        assert _could(ticket) == {"Ann", "Bob"}
    assert len(queries) == 1


def test_facts_follow_each_load_while_the_roster_is_kept(desk: dict[str, User]) -> None:
    ticket = _ticket()
    _kept(ticket)

    def ann() -> AgentFacts:
        census = routing.team_census(ticket=ticket, at=NOW)
        return next(f for f in census.agents if f.name == "Ann")

    before = ann()
    assert ann() is before  # nothing changed: the same facts
    ticket_assign(ticket_id=make_ticket(service="Network").pk, assignee=desk["Ann"], actor=None)
    after = ann()
    assert (before.active, after.active) == (0, 1)
