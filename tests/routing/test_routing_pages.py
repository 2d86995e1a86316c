"""The lead's team board and coverage heat map: content, reassignment, flat query counts."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from tests.factories import make_agent, make_lead, make_ticket

from expediter.routing import services
from expediter.routing.coverage import team_coverage
from expediter.routing.models import TeamRoutingSettings
from expediter.schedules.services import shift_add, timeoff_add
from expediter.staff.models import Team
from expediter.tickets.models import TicketEvent
from expediter.tickets.services import ticket_assign, worklog_add
from expediter.tickets.services.catalogue import service_save

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
MONDAY_10 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)
BOARD_QUERIES = 18


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def signed_in(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def _team_with(agents: int, waiting: int) -> tuple[Team, list]:
    """A Network team: half on duty, some busy, and ``waiting`` tickets in the queue."""
    service_save(name="Network", team="Network", skills={"net": 3})
    crew = []
    for n in range(agents):
        agent = make_agent(team="Network", name=f"Tech {n}", skills={"net": 4}, capacity=1)
        if n % 2 == 0:
            shift_add(agent=agent, hours="mon-fri 08:00-18:00", time_zone="Europe/Paris")
        crew.append(agent)
    timeoff_add(agent=crew[0], start=MONDAY_10, end=MONDAY_10 + dt.timedelta(hours=4))
    for agent in crew[1:]:
        ticket_assign(ticket_id=make_ticket(service="Network").pk, assignee=agent, actor=None)
    for n in range(waiting):
        ticket = make_ticket(service="Network", subject=f"Waiting {n}", impact=1 + n % 4)
        services.ticket_route(ticket_id=ticket.pk)
    return Team.objects.get(name="Network"), crew


def test_the_board_shows_load_duty_and_the_queue(at) -> None:
    at(MONDAY_10)
    team, _crew = _team_with(agents=4, waiting=3)
    lead = make_lead(team="Network", name="Lena")
    page = signed_in(lead).get(reverse("web:routing_board"), {"team": team.pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Tech 0" in html and "on time off" in html
    assert "on duty until 18:00" in html and "off duty" in html
    assert "1 / 1" in html
    assert html.count('class="number"') == 3
    assert "Waiting 0" in html and "at capacity 1/1" in html


def _board_queries(agents: int, waiting: int) -> int:
    team, _crew = _team_with(agents=agents, waiting=waiting)
    client = signed_in(make_lead(team="Network"))
    client.get(reverse("web:routing_board"), {"team": team.pk})  # the session is warm
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("web:routing_board"), {"team": team.pk})
    assert page.status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize(("agents", "waiting"), [(3, 2), (14, 40)])
def test_the_board_costs_the_same_queries_whatever_the_size(agents: int, waiting: int, at) -> None:
    at(MONDAY_10)
    assert _board_queries(agents=agents, waiting=waiting) == BOARD_QUERIES


def test_a_lead_assigns_by_hand_and_the_warning_is_recorded(at) -> None:
    at(MONDAY_10)
    team, crew = _team_with(agents=2, waiting=1)
    lead = make_lead(team="Network", name="Lena")
    waiting = TicketEvent.objects.filter(verb="queued").first().ticket
    client = signed_in(lead)
    page = client.post(
        reverse("web:routing_assign"),
        {"team": team.pk, "number": waiting.number, "agent": crew[1].pk},
    )
    assert page.status_code == 302
    waiting.refresh_from_db()
    assert waiting.assignee_id == crew[1].pk
    event = waiting.events.filter(verb="assigned").get()
    assert event.actor == lead
    assert "off duty" in event.reason and "at capacity 1/1" in event.reason
    refused = client.post(
        reverse("web:routing_assign"), {"team": team.pk, "number": 99999, "agent": crew[1].pk}
    )
    assert refused.status_code == 422 and "No ticket #99999" in refused.content.decode()


def test_routing_settings_are_saved_from_the_board(at) -> None:
    at(MONDAY_10)
    team, _crew = _team_with(agents=1, waiting=0)
    client = signed_in(make_lead(team="Network"))
    form = {
        "team": team.pk,
        "handover_when_off_duty": "on",
        "answer_within_minutes": 15,
        "service_level_target": 0.9,
        "shrinkage": 0.25,
        "default_handle_minutes": 40,
        "default_arrivals_per_hour": 2,
    }
    assert client.post(reverse("web:routing_settings"), form).status_code == 302
    saved = TeamRoutingSettings.objects.get(team=team)
    assert saved.handover_when_off_duty and saved.answer_within_minutes == 15
    assert saved.shrinkage == 0.25
    bad = client.post(reverse("web:routing_settings"), {**form, "service_level_target": 3})
    assert bad.status_code == 422


def test_agents_may_not_open_the_lead_pages(at) -> None:
    at(MONDAY_10)
    _team_with(agents=1, waiting=0)
    client = signed_in(make_agent(team="Network"))
    assert client.get(reverse("web:routing_board")).status_code == 403
    assert client.get(reverse("web:coverage")).status_code == 403


def test_coverage_compares_agents_on_duty_with_erlang_c(at) -> None:
    at(dt.datetime(2026, 3, 20, 12, 0, tzinfo=PARIS))
    service_save(name="Network", team="Network", skills={})
    lead = make_lead(team="Network")
    for n in range(2):
        agent = make_agent(team="Network", name=f"Tech {n}")
        shift_add(agent=agent, hours="mon-fri 09:00-13:00", time_zone="Europe/Paris")
    for week in range(4):  # four Mondays with 2 tickets at 09:xx: 2 per hour observed
        for n in range(2):
            at(dt.datetime(2026, 2, 2, 9, n, tzinfo=PARIS) + dt.timedelta(weeks=week))
            ticket = make_ticket(service="Network")
            worklog_add(ticket_id=ticket.pk, agent=lead, minutes=30, note="fix")
    team = Team.objects.get(name="Network")
    services.team_routing_settings_save(
        team=team, answer_within_minutes=20, service_level_target=0.9
    )
    result = team_coverage(team=team, week_start=dt.date(2026, 3, 4), zone=PARIS)
    monday_nine = result.hours[9][0]
    assert result.arrivals_from_history and result.handle_from_worklogs
    assert result.handle_minutes == 30
    assert monday_nine.arrivals_per_hour == 2 and monday_nine.on_duty == 2.0
    assert monday_nine.needed == 3 and monday_nine.level == "short"
    assert result.hours[10][0].needed == 0 and result.hours[10][0].level == "covered"
    assert result.hours[3][0].level == "idle"
    page = (
        signed_in(lead)
        .get(reverse("web:coverage"), {"team": team.pk, "week": "2026-03-04"})
        .content.decode()
    )
    assert re.search(r'class="level-short"[^>]*>2 / 3<', page)
    assert "30 min of work logged per ticket" in page


def test_coverage_falls_back_to_the_team_defaults(at) -> None:
    at(MONDAY_10)
    service_save(name="Network", team="Network", skills={})
    agent = make_agent(team="Network")
    shift_add(agent=agent, hours="mon-sun 00:00-24:00", time_zone="Europe/Paris")
    team = Team.objects.get(name="Network")
    services.team_routing_settings_save(
        team=team, default_arrivals_per_hour=4, default_handle_minutes=15
    )
    result = team_coverage(team=team, week_start=dt.date(2026, 3, 23), zone=PARIS)
    assert not result.arrivals_from_history and not result.handle_from_worklogs
    assert {cell.needed for row in result.hours for cell in row} == {2}
    sunday = [row[6].on_duty for row in result.hours]
    assert sunday[2] == 0.0 and sum(sunday) == 23.0  # the spring change skips 02:00
