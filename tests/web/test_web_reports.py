"""The worklog report: everyone's minutes for leads, one's own for agents."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.factories import make_agent, make_lead, make_ticket

from expediter.tickets.services import worklog_add

pytestmark = pytest.mark.django_db


def _today() -> str:
    return timezone.localdate().isoformat()


def test_leads_see_minutes_per_agent(signed_in) -> None:
    ticket = make_ticket()
    first, second = make_agent(name="Ana Ruiz"), make_agent(name="Bo Chen")
    worklog_add(ticket_id=ticket.pk, agent=first, minutes=30)
    worklog_add(ticket_id=ticket.pk, agent=first, minutes=45)
    worklog_add(ticket_id=ticket.pk, agent=second, minutes=20)
    page = signed_in(make_lead()).get(
        reverse("web:worklog_report"), {"start": _today(), "end": _today()}
    )
    html = page.content.decode()
    assert "Ana Ruiz" in html and "Bo Chen" in html
    assert "1 h 15" in html  # Ana's 75 minutes
    assert "1 h 35" in html  # the total


def test_agents_see_only_their_own_line(signed_in) -> None:
    ticket = make_ticket()
    me, colleague = make_agent(name="Me Myself"), make_agent(name="Someone Else")
    worklog_add(ticket_id=ticket.pk, agent=me, minutes=10)
    worklog_add(ticket_id=ticket.pk, agent=colleague, minutes=50)
    html = signed_in(me).get(reverse("web:worklog_report")).content.decode()
    assert "Me Myself" in html and "Someone Else" not in html


def test_the_period_bounds_the_report(signed_in) -> None:
    ticket = make_ticket()
    agent = make_agent(name="Past Worker")
    long_ago = timezone.now() - dt.timedelta(days=400)
    worklog_add(ticket_id=ticket.pk, agent=agent, minutes=10, at=long_ago)
    html = signed_in(make_lead()).get(reverse("web:worklog_report")).content.decode()
    assert "Past Worker" not in html


def test_an_inverted_period_is_refused(signed_in) -> None:
    response = signed_in(make_lead()).get(
        reverse("web:worklog_report"), {"start": "2026-03-10", "end": "2026-03-01"}
    )
    assert response.status_code == 422
    assert "The period ends before it starts." in response.content.decode()
