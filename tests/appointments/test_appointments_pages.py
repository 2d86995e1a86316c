"""Appointment pages: the portal's one-click booking, the ticket panel, calendars, plans."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from tests.appointments.conftest import MONDAY, paris
from tests.factories import make_agent, make_requester, make_ticket

from expediter.appointments.models import Appointment
from expediter.appointments.services import appointment_book, visit_request
from expediter.schedules.services import timeoff_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in():
    def make(user) -> Client:
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(user)
        return client

    return make


def book(desk, start: str, end: str, agent) -> Appointment:
    return appointment_book(
        ticket_id=desk.ticket.pk,
        actor=desk.lead,
        start=paris(MONDAY, start),
        end=paris(MONDAY, end),
        agent_id=agent.pk,
    )


def test_a_requester_picks_a_slot_and_books_it_in_one_click(desk, signed_in) -> None:
    client = signed_in(desk.requester)
    page = client.get(reverse("web:appointment_portal_slots", args=[desk.ticket.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    starts = re.findall(r'name="start" value="([^"]+)"', html)
    assert starts[0] == "2026-06-01T09:00:00+02:00"
    assert len(starts) == len(set(starts))  # one button per time: the desk picks the agent
    assert 'name="agent"' not in html

    response = client.post(
        reverse("web:appointment_book", args=[desk.ticket.pk]),
        {"start": starts[0], "duration": "60", "kind": "remote"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("web:appointment_mine")
    appointment = Appointment.objects.get(ticket=desk.ticket)
    assert appointment.start == paris(MONDAY, "09:00")
    mine = client.get(reverse("web:appointment_mine")).content.decode()
    assert "Printer jammed" in mine and "Alice Tech" in mine
    client.post(
        reverse("web:appointment_status", args=[appointment.pk]),
        {"status": "cancelled", "back": "mine"},
    )
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"


def test_others_cannot_open_the_slot_picker_or_book(desk, signed_in) -> None:
    client = signed_in(desk.stranger)
    slots = client.get(reverse("web:appointment_portal_slots", args=[desk.ticket.pk]))
    assert slots.status_code == 404
    response = client.post(
        reverse("web:appointment_book", args=[desk.ticket.pk]),
        {"start": "2026-06-01T10:00:00+02:00", "duration": "60", "kind": "remote"},
    )
    assert response.status_code == 404
    assert not Appointment.objects.exists()


def test_the_ticket_panel_books_and_shows_refusals_in_place(desk, signed_in) -> None:
    book(desk, "10:00", "11:00", desk.alice)
    client = signed_in(desk.lead)
    panel = client.get(
        reverse("web:appointment_ticket_panel", args=[desk.ticket.pk]),
        headers={"HX-Request": "true"},
    )
    assert panel.status_code == 200
    assert "<html" not in panel.content.decode() and 'id="booking-form"' in panel.content.decode()
    assert "Alice Tech" in panel.content.decode()

    refused = client.post(
        reverse("web:appointment_book", args=[desk.ticket.pk]),
        {"start": "2026-06-01T10:30", "duration": "30", "kind": "remote", "agent": desk.alice.pk},
        headers={"HX-Request": "true"},
    )

    assert refused.status_code == 422
    assert refused["HX-Retarget"] == "#appointments-panel"
    assert "Alice Tech is not free then: overlaps appointment" in refused.content.decode()
    booked = client.post(
        reverse("web:appointment_book", args=[desk.ticket.pk]),
        {"start": "2026-06-01T10:30", "duration": "30", "kind": "remote", "agent": desk.bruno.pk},
        headers={"HX-Request": "true"},
    )
    assert booked.status_code == 200 and "Appointment booked." in booked.content.decode()
    assert Appointment.objects.filter(agent=desk.bruno, start=paris(MONDAY, "10:30")).exists()


def test_the_team_calendar_shows_shifts_time_off_and_appointments(desk, signed_in) -> None:
    book(desk, "10:00", "11:00", desk.alice)
    timeoff_add(agent=desk.bruno, start=paris(MONDAY, "13:00"), end=paris(MONDAY, "15:00"))
    hidden = make_ticket(make_requester(), subject="Secret", service="Printing")
    appointment_book(
        ticket_id=hidden.pk,
        actor=None,
        start=paris(MONDAY, "15:00"),
        end=paris(MONDAY, "16:00"),
        agent_id=desk.bruno.pk,
    )
    outsider = make_agent(team="Network")  # sees neither team's tickets

    day = signed_in(outsider).get(
        reverse("web:team_calendar"), {"team": "Workplace", "date": "2026-06-01"}
    )
    html = day.content.decode()
    assert day.status_code == 200
    assert "Alice Tech" in html and "Bruno Tech" in html
    assert "09:00–17:00" in html and "time off" in html
    assert "busy" in html and "Secret" not in html
    week = signed_in(desk.lead).get(
        reverse("web:team_calendar"), {"team": "Workplace", "date": "2026-06-03", "view": "week"}
    )
    assert week.status_code == 200
    assert "Mon 1 Jun" in week.content.decode() and "Sun 7 Jun" in week.content.decode()
    assert signed_in(desk.requester).get(reverse("web:team_calendar")).status_code == 403


def test_leads_plan_visits_on_a_page_and_technicians_print_their_day(desk, signed_in) -> None:
    visit_request(
        ticket_id=desk.ticket.pk,
        actor=desk.lead,
        date=MONDAY,
        window_start=dt.time(9),
        window_end=dt.time(12),
        duration_minutes=60,
    )
    assert signed_in(desk.alice).get(reverse("web:visit_plan")).status_code == 404
    client = signed_in(desk.lead)
    form = client.get(reverse("web:visit_plan"))
    assert form.status_code == 200

    planned = client.post(reverse("web:visit_plan"), {"date": "2026-06-01", "team": "Workplace"})

    assert planned.status_code == 200
    appointment = Appointment.objects.get(ticket=desk.ticket, kind="onsite")
    assert "Acme La Défense, 2 place de la Défense" in planned.content.decode()
    day = signed_in(appointment.agent).get(
        reverse("web:agent_day", args=[appointment.agent.pk]), {"date": "2026-06-01"}
    )
    html = day.content.decode()
    assert day.status_code == 200
    assert "Printer jammed" in html and "2 place de la Défense" in html
    assert "min on the road" in html and "back to base" in html
    other = desk.bruno if appointment.agent == desk.alice else desk.alice
    assert (
        signed_in(other).get(reverse("web:agent_day", args=[appointment.agent.pk])).status_code
        == 404
    )


def test_an_agent_makes_a_calendar_link_that_opens_their_feed(desk, signed_in, client) -> None:
    page = signed_in(desk.alice)
    assert "no calendar link yet" in page.get(reverse("web:appointment_feed")).content.decode()

    page.post(reverse("web:appointment_feed_reset"))
    html = page.get(reverse("web:appointment_feed")).content.decode()

    url = re.search(r'value="(http://desk\.test[^"]+)"', html).group(1).replace("&amp;", "&")
    feed = client.get(url.removeprefix("http://desk.test"))
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VCALENDAR" in feed.content
