"""On-site visits: asking for one, then `expediter visits plan` books the team's day."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from tests.appointments.conftest import MONDAY, paris
from tests.factories import make_requester, make_ticket

from expediter.appointments.models import Appointment, Visit, VisitStatus
from expediter.appointments.services import appointment_book, visit_request
from expediter.mail.models import OutboundMessage
from expediter.staff.services import site_create
from expediter.tickets.models import TicketEvent
from expediter.tickets.services.catalogue import service_save

pytestmark = pytest.mark.django_db

CUSTOMERS = [
    ("Boulogne plant", 48.8397, 2.2399),
    ("Vincennes office", 48.8473, 2.4392),
    ("Saint-Denis depot", 48.9362, 2.3574),
    ("Montrouge lab", 48.8156, 2.3193),
]


def located_ticket(name: str, lat: float, lon: float, service: str = "Printing") -> Any:
    site_create(name=name, latitude=lat, longitude=lon, address=f"{name} street")
    requester = make_requester(site=name)
    return make_ticket(requester, subject=f"Printer at {name}", service=service)


def ask(desk, ticket, start: str = "09:00", end: str = "17:00", minutes: int = 60) -> Visit:
    return visit_request(
        ticket_id=ticket.pk,
        actor=desk.lead,
        date=MONDAY,
        window_start=dt.time.fromisoformat(start),
        window_end=dt.time.fromisoformat(end),
        duration_minutes=minutes,
    )


def plan(team: str = "Workplace", date: str = "2026-06-01") -> dict[str, Any]:
    out = io.StringIO()
    call_command("visits", "plan", "--date", date, "--team", team, "--time-limit", "1", stdout=out)
    return json.loads(out.getvalue())


def stops_of(document: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {stop["visit"]: stop for route in document["routes"] for stop in route["stops"]}


def test_asking_for_a_visit_goes_to_the_requesters_site(desk, api) -> None:
    response = api(desk.lead).post(
        "/visits",
        {
            "ticket": desk.ticket.pk,
            "date": "2026-06-01",
            "window_start": "09:00",
            "window_end": "12:00",
            "duration": 45,
        },
    )

    assert response.status_code == 201
    visit = response.json()
    assert visit["ticket"] == desk.ticket.pk and visit["site"] == desk.customer_site.pk
    assert (visit["window_start"], visit["window_end"], visit["duration"]) == ("09:00", "12:00", 45)
    assert visit["status"] == "requested" and visit["appointment"] is None
    assert TicketEvent.objects.filter(ticket=desk.ticket, verb="visit_requested").exists()


def test_a_visit_needs_a_located_site_a_fitting_window_and_staff(desk, api) -> None:
    nowhere = make_ticket(make_requester(), service="Printing")
    body = {"date": "2026-06-01", "window_start": "09:00", "window_end": "10:00", "duration": 30}

    response = api(desk.lead).post("/visits", {"ticket": nowhere.pk, **body})
    assert response.status_code == 422 and response.json()["field"] == "ticket"
    response = api(desk.lead).post("/visits", {"ticket": desk.ticket.pk, **body, "duration": 90})
    assert response.status_code == 422 and response.json()["field"] == "duration"
    response = api(desk.lead).post(
        "/visits", {"ticket": desk.ticket.pk, **body, "window_end": "08:00"}
    )
    assert response.status_code == 422 and response.json()["field"] == "window_end"
    assert (
        api(desk.requester).post("/visits", {"ticket": desk.ticket.pk, **body}).status_code == 403
    )
    assert api(desk.stranger).post("/visits", {"ticket": desk.ticket.pk, **body}).status_code == 404


def test_plan_books_the_day_and_answers_the_contracts_json(desk) -> None:
    visits = [ask(desk, located_ticket(*customer)) for customer in CUSTOMERS]
    visits.append(ask(desk, desk.ticket, "10:00", "12:00", 90))

    document = plan()

    assert set(document) == {"routes", "unplanned"}
    assert document["unplanned"] == []
    names = sorted(route["agent"]["name"] for route in document["routes"])
    assert names == ["Alice Tech", "Bruno Tech"]  # on duty; the unskilled one has no shift
    stops = stops_of(document)
    assert set(stops) == {visit.pk for visit in visits}
    for visit in visits:
        stop = stops[visit.pk]
        assert set(stop) == {"visit", "ticket", "site", "start", "end"}
        assert stop["ticket"] == visit.ticket_id and stop["site"] == visit.site_id
        start, end = (
            dt.datetime.fromisoformat(stop["start"]),
            dt.datetime.fromisoformat(stop["end"]),
        )
        assert paris(MONDAY, f"{visit.window_start:%H:%M}") <= start
        assert end <= paris(MONDAY, f"{visit.window_end:%H:%M}")
        assert end - start == dt.timedelta(minutes=visit.duration_minutes)
        visit.refresh_from_db()
        assert visit.status == VisitStatus.PLANNED
        assert visit.appointment.kind == "onsite" and visit.appointment.status == "booked"
    for route in document["routes"]:
        assert route["travel_minutes"] > 0 or not route["stops"]
        times = [(s["start"], s["end"]) for s in route["stops"]]
        assert times == sorted(times)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(times))
    assert OutboundMessage.objects.filter(kind="invitation", calendar_method="REQUEST").count() == 5


def test_rerunning_keeps_every_booking_and_fits_an_urgent_visit_in(desk) -> None:
    for customer in CUSTOMERS[:3]:
        ask(desk, located_ticket(*customer))
    first = stops_of(plan())
    urgent = ask(desk, located_ticket(*CUSTOMERS[3]), "11:00", "13:00", 30)

    second = stops_of(plan())

    assert {k: v for k, v in second.items() if k != urgent.pk} == first
    assert urgent.pk in second
    assert Appointment.objects.filter(kind="onsite", status="booked").count() == 4


def test_plans_go_around_booked_appointments_and_say_why_a_visit_is_left_out(desk) -> None:
    for agent in (desk.alice, desk.bruno):
        appointment_book(
            ticket_id=desk.ticket.pk,
            actor=desk.lead,
            start=paris(MONDAY, "09:00"),
            end=paris(MONDAY, "15:00"),
            agent_id=agent.pk,
        )
    early = ask(desk, located_ticket(*CUSTOMERS[0]), "09:00", "12:00", 60)
    late = ask(desk, located_ticket(*CUSTOMERS[1]), "09:00", "17:00", 60)
    service_save(name="Networks", team="Workplace", skills={"net": 3})
    unskilled = ask(desk, located_ticket(*CUSTOMERS[2], service="Networks"))

    document = plan()

    reasons = {u["visit"]: u["reason"] for u in document["unplanned"]}
    assert reasons[unskilled.pk] == "no qualified technician on duty"
    assert early.pk in reasons
    stop = stops_of(document)[late.pk]
    assert dt.datetime.fromisoformat(stop["start"]) >= paris(MONDAY, "15:00")


def test_the_command_fails_in_one_line_on_bad_input(desk) -> None:
    with pytest.raises(CommandError, match="no team named 'Nobody'"):
        plan(team="Nobody")
    with pytest.raises(CommandError, match="not a YYYY-MM-DD date"):
        plan(date="01/06/2026")


def test_a_day_without_visits_lists_the_agents_on_duty(desk) -> None:
    document = plan(date="2026-06-06")  # a Saturday: nobody works
    assert document == {"routes": [], "unplanned": []}
