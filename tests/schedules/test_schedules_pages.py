"""Schedule pages: a team's week, an agent's schedule, time off by form, who is on call."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from tests.factories import make_agent, make_lead

from expediter.schedules.models import TimeOff, TimeOffStatus
from expediter.schedules.services import (
    oncall_layer_add,
    oncall_override_add,
    oncall_schedule_create,
    shift_add,
    timeoff_request,
)
from expediter.staff.models import Team

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
MONDAY_10 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)
WEEK_QUERIES = 18


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def signed_in(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def _crew(size: int) -> list:
    crew = []
    for n in range(size):
        agent = make_agent(team="Network", name=f"Tech {n}")
        shift_add(agent=agent, hours="mon-fri 08:00-16:00", time_zone="Europe/Paris")
        timeoff_request(
            agent=agent,
            actor=agent,
            start=dt.datetime(2026, 3, 4, 0, 0, tzinfo=PARIS),
            end=dt.datetime(2026, 3, 5, 0, 0, tzinfo=PARIS),
            kind="training",
        )
        crew.append(agent)
    schedule = oncall_schedule_create(name="Network nights", team=Team.objects.get(name="Network"))
    oncall_layer_add(
        schedule=schedule,
        name="Weekly",
        rotation_start=dt.datetime(2026, 3, 2, 9, 0, tzinfo=PARIS),
        turn_length=dt.timedelta(days=7),
        members=crew,
    )
    return crew


def test_the_team_week_shows_duty_absences_and_requests_to_a_lead(at) -> None:
    at(MONDAY_10)
    crew = _crew(2)
    lead = make_lead(team="Network")
    team = Team.objects.get(name="Network")
    page = signed_in(lead).get(
        reverse("web:schedule_team"), {"team": team.pk, "week": "2026-03-04"}
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "08:00–16:00" in html and "training ?" in html
    assert "On duty now:" in html and "Tech 0" in html
    assert "On call (Network nights): <strong>Tech 0</strong> until Mon 09:00" in html
    assert html.count('name="decision" value="approve"') == 2
    assert f'href="{reverse("web:schedule_agent", args=[crew[1].pk])}?week=2026-03-02"' in html


@pytest.mark.parametrize("size", [2, 9])
def test_the_team_week_costs_the_same_queries_whatever_the_size(size: int, at) -> None:
    at(MONDAY_10)
    _crew(size)
    client = signed_in(make_lead(team="Network"))
    url = reverse("web:schedule_team")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert len(queries.captured_queries) == WEEK_QUERIES


def test_a_lead_approves_and_rejects_from_the_team_week(at) -> None:
    at(MONDAY_10)
    crew = _crew(2)
    lead = make_lead(team="Network")
    client = signed_in(lead)
    first, second = TimeOff.objects.order_by("id")
    url = reverse("web:schedule_timeoff_decide", args=[first.pk])
    done = client.post(url, {"decision": "approve", "note": "ok", "team": "1"})
    assert done.status_code == 302 and done.url.endswith("?team=1")
    reject = reverse("web:schedule_timeoff_decide", args=[second.pk])
    client.post(reject, {"decision": "reject"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.decided_by, first.decision_note) == ("approved", lead, "ok")
    assert second.status == TimeOffStatus.REJECTED
    again = client.post(url, {"decision": "reject"}, follow=True)
    assert "already approved" in again.content.decode()
    assert signed_in(crew[0]).post(url, {"decision": "approve"}).status_code == 403


def test_agents_see_their_teams_weeks_without_the_kind_of_absence(at) -> None:
    at(MONDAY_10)
    crew = _crew(1)
    make_agent(team="Voice", name="Vic")
    client = signed_in(crew[0])
    page = client.get(reverse("web:schedule_team"), {"week": "2026-03-04"}).content.decode()
    assert "away ?" in page and "training" not in page and 'value="approve"' not in page
    voice = Team.objects.get(name="Voice")
    assert client.get(reverse("web:schedule_team"), {"team": voice.pk}).status_code == 404


def test_an_agent_reads_their_schedule_and_asks_for_time_off(at) -> None:
    at(MONDAY_10)
    crew = _crew(2)
    client = signed_in(crew[0])
    mine = client.get(reverse("web:schedule_mine"))
    assert mine.status_code == 302 and mine.url == reverse("web:schedule_agent", args=[crew[0].pk])
    page = client.get(mine.url).content.decode()
    assert f'href="/api/v1/agents/{crew[0].pk}/calendar.ics"' in page
    assert "mon 08:00-16:00; tue 08:00-16:00" in page and "Network nights" in page
    assert "Withdraw" in page
    form = {"start": "2026-03-10T08:00", "end": "2026-03-10T16:00", "kind": "vacation"}
    done = client.post(reverse("web:schedule_timeoff_request"), form)
    assert done.status_code == 302
    asked = TimeOff.objects.latest("id")
    assert asked.agent == crew[0] and asked.status == "requested"
    assert asked.start == dt.datetime(2026, 3, 10, 8, 0, tzinfo=PARIS)
    bad = client.post(reverse("web:schedule_timeoff_request"), {**form, "end": "2026-03-09T08:00"})
    assert bad.status_code == 422 and "end after it starts" in bad.content.decode()
    withdraw = reverse("web:schedule_timeoff_withdraw", args=[asked.pk])
    assert client.post(withdraw).status_code == 302
    assert not TimeOff.objects.filter(pk=asked.pk).exists()


def test_schedules_of_others_are_for_leads_only(at) -> None:
    at(MONDAY_10)
    crew = _crew(2)
    other = reverse("web:schedule_agent", args=[crew[1].pk])
    assert signed_in(crew[0]).get(other).status_code == 404
    lead = make_lead(team="Network")
    assert signed_in(lead).get(other).status_code == 200
    forged = signed_in(crew[0]).post(
        reverse("web:schedule_timeoff_request"),
        {
            "agent": crew[1].pk,
            "start": "2026-03-10T08:00",
            "end": "2026-03-10T16:00",
            "kind": "vacation",
        },
    )
    assert forged.status_code == 404


def test_the_on_call_page_shows_who_now_and_the_next_two_weeks(at) -> None:
    at(MONDAY_10)
    crew = _crew(2)
    schedule = Team.objects.get(name="Network").oncall_schedules.get()
    oncall_override_add(
        schedule=schedule,
        user=crew[1],
        start=dt.datetime(2026, 3, 3, 18, 0, tzinfo=PARIS),
        end=dt.datetime(2026, 3, 4, 8, 0, tzinfo=PARIS),
    )
    page = signed_in(crew[0]).get(reverse("web:oncall_overview")).content.decode()
    assert "Now: <strong>Tech 0</strong> until Tue 3 Mar 18:00" in page
    # Tech 0, Tech 1 (override), Tech 0, Tech 1's week, then Tech 0 again on 16 March
    assert "override" in page and page.count("<tr><td>") == 5
