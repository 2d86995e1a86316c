"""The demo desk is believable, deterministic, and only loads into an empty desk."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from expediter.staff.models import User
from expediter.tickets.models import Ticket, TicketEvent, Worklog

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

WEDNESDAY_NIGHT = dt.datetime(2026, 6, 3, 23, 30, tzinfo=ZoneInfo("Europe/Paris"))


def test_demo_builds_a_desk_once(at) -> None:
    at(WEDNESDAY_NIGHT)  # nobody on shift: the last pass leaves new tickets waiting
    out = StringIO()
    call_command("demo", "--tickets", "40", stdout=out)
    assert "admin@demo.example" in out.getvalue()
    assert User.objects.filter(email="admin@demo.example", role="admin").exists()
    assert User.objects.filter(role="requester").count() >= 40
    assert Ticket.objects.count() == 40
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert {"new", "resolved"} <= statuses
    assert Worklog.objects.exists() and TicketEvent.objects.filter(verb="assigned").exists()
    assert User.objects.get(email="lead@demo.example").check_password("expediter-demo")
    again = StringIO()
    call_command("demo", stdout=again)
    assert "not empty" in again.getvalue() and Ticket.objects.count() == 40
