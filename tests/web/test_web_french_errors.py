"""Refusals from the services reach French-speaking people in French.

The services word a refusal in the language active for the request, which
on the pages comes from the person's profile (their browser asks for English
here, as in test_web_french). The API activates no language, so it keeps
answering in English, the language scripts match on; and text the desk
stores reads the same whoever triggered it.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from tests.factories import make_admin, make_agent, make_lead, make_requester, make_ticket

from expediter.appointments.models import Appointment
from expediter.appointments.services import appointment_book, visit_request
from expediter.mail.models import InboundMessage, InboundStatus
from expediter.mail.services import mail_receive
from expediter.schedules.models import Shift
from expediter.schedules.services import shift_add
from expediter.sla.models import Calendar
from expediter.staff.models import User
from expediter.staff.services import site_create
from expediter.tickets.models import Ticket
from expediter.tickets.services import articles, ticket_set_status
from expediter.tickets.services.catalogue import service_save

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2026, 6, 1)
HTMX = {"HX-Request": "true"}


def paris(hhmm: str) -> dt.datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return dt.datetime(MONDAY.year, MONDAY.month, MONDAY.day, hours, minutes, tzinfo=PARIS)


@dataclass
class Desk:
    """Monday 1 June 2026, 07:00 in Paris; Alice works 09:00-17:00 and is booked 10:00-11:00."""

    alice: User
    lead: User  # reads French
    english_lead: User
    admin: User  # reads French
    ticket: Ticket
    appointment: Appointment


@pytest.fixture
def desk(db: None, at: Callable[[dt.datetime], dt.datetime]) -> Desk:
    at(paris("07:00"))
    site_create(name="Head office", latitude=48.8566, longitude=2.3522)
    site_create(name="Acme", latitude=48.8918, longitude=2.2389)
    service_save(name="Printing", team="Workplace", skills={"printers": 2})
    alice = make_agent(
        team="Workplace", name="Alice Tech", skills={"printers": 4}, site="Head office"
    )
    shift_add(agent=alice, hours="mon-fri 09:00-17:00", time_zone="Europe/Paris")
    lead = make_lead(team="Workplace", name="Lea Lead", language="fr")
    requester = make_requester(name="Rita Requester", site="Acme", language="fr")
    ticket = make_ticket(requester, subject="Printer jammed", service="Printing")
    appointment = appointment_book(
        ticket_id=ticket.pk, actor=lead, start=paris("10:00"), end=paris("11:00"), agent_id=alice.pk
    )
    return Desk(
        alice=alice,
        lead=lead,
        english_lead=make_lead(team="Workplace", name="Ed Lead"),
        admin=make_admin(name="Ada Admin", language="fr"),
        ticket=ticket,
        appointment=appointment,
    )


def profile_client(user: User) -> Client:
    """Signed in, the browser asking for English: the language comes from the profile."""
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def text_of(response: Any) -> str:
    return html.unescape(response.content.decode())


def book_at_half_past_ten(client: Client, desk: Desk, agent: User | None) -> Any:
    return client.post(
        reverse("web:appointment_book", args=[desk.ticket.pk]),
        {
            "start": "2026-06-01T10:30",
            "duration": "30",
            "kind": "remote",
            "agent": agent.pk if agent else "",
        },
        headers=HTMX,
    )


def test_an_overlapping_booking_is_refused_in_the_readers_language(desk: Desk) -> None:
    french = book_at_half_past_ten(profile_client(desk.lead), desk, desk.alice)
    english = book_at_half_past_ten(profile_client(desk.english_lead), desk, desk.alice)

    number = desk.appointment.pk
    assert french.status_code == english.status_code == 422
    assert (
        f"Alice Tech n’est pas disponible à ce moment-là : chevauche le rendez-vous n° {number}"
        in text_of(french)
    )
    assert "not free" not in text_of(french)
    assert f"Alice Tech is not free then: overlaps appointment #{number}" in text_of(english)


def test_when_nobody_is_free_each_agents_reason_is_in_french(desk: Desk) -> None:
    refused = book_at_half_past_ten(profile_client(desk.lead), desk, None)

    assert refused.status_code == 422
    assert (
        "aucun agent pouvant traiter ce ticket n’est disponible à ce moment-là "
        f"(Alice Tech : chevauche le rendez-vous n° {desk.appointment.pk})"
    ) in text_of(refused)


def test_an_impossible_appointment_status_change_is_explained_in_french(desk: Desk) -> None:
    page = profile_client(desk.lead).post(
        reverse("web:appointment_status", args=[desk.appointment.pk]),
        {"status": "done"},
        follow=True,
    )

    desk.appointment.refresh_from_db()
    assert desk.appointment.status == "booked"
    assert "un rendez-vous ne peut pas passer à « done » avant d’avoir commencé" in text_of(page)
    assert "before it starts" not in text_of(page)


CALENDAR = {"name": "Lyon", "time_zone": "Europe/Paris", "hours": "mon-fri 08:00-18:00"}


@pytest.mark.parametrize(
    ("change", "french", "english"),
    [
        (
            {"hours": "mon-fri 18:00-09:00"},
            "« 18:00-09:00 » : la plage est vide ou inversée ; écrivez une nuit qui passe minuit",
            "the range is empty or inverted",
        ),
        (
            {"country": "ZZ"},
            "« ZZ » : aucun jour férié n’est connu pour le pays « ZZ »",
            "no public holidays are known",
        ),
        (
            {"openings": "2026-06-05 9-12"},
            "ouverture du 2026-06-05 : « 9 » n’est pas une heure HH:MM",
            "is not a time",
        ),
        (
            {"time_zone": "Mars/Olympus"},
            "« Mars/Olympus » n’est pas un fuseau horaire connu (par ex. Europe/Paris)",
            "is not a known time zone",
        ),
    ],
    ids=["hours", "country", "opening", "zone"],
)
def test_a_faulty_business_calendar_is_refused_in_french(
    desk: Desk, change: dict[str, str], french: str, english: str
) -> None:
    response = profile_client(desk.admin).post(reverse("web:sla_calendars"), CALENDAR | change)

    assert response.status_code == 422
    assert not Calendar.objects.filter(name="Lyon").exists()
    assert french in text_of(response)
    assert english not in text_of(response)


def test_a_bad_shift_pattern_is_refused_in_french_in_the_admin(desk: Desk) -> None:
    response = profile_client(desk.admin).post(
        reverse("admin:schedules_shift_add"),
        {"agent": desk.alice.pk, "hours": "mon 10-9", "time_zone": "Europe/Paris"},
    )

    assert response.status_code == 200
    assert Shift.objects.filter(agent=desk.alice).count() == 1
    assert "« 10 » n’est pas une heure HH:MM" in text_of(response)
    assert "is not a time" not in text_of(response)


def test_the_visit_plan_says_in_french_why_a_visit_stays_unplanned(desk: Desk) -> None:
    visit = visit_request(
        ticket_id=desk.ticket.pk,
        actor=desk.lead,
        date=MONDAY,
        window_start=dt.time(13),
        window_end=dt.time(16),
        duration_minutes=60,
    )
    ticket_set_status(ticket_id=desk.ticket.pk, status="resolved", actor=desk.lead)

    page = profile_client(desk.lead).post(
        reverse("web:visit_plan"), {"date": MONDAY.isoformat(), "team": "Workplace"}
    )

    assert page.status_code == 200
    assert f"Intervention {visit.pk}: le ticket n’est plus ouvert" in text_of(page)
    assert "no longer open" not in text_of(page)


def test_the_api_answers_in_english_whatever_the_callers_language(desk: Desk, api: Any) -> None:
    client = api(desk.lead)
    client.headers["HTTP_ACCEPT_LANGUAGE"] = "fr"

    response = client.post(
        f"/tickets/{desk.ticket.pk}/appointments",
        {
            "start": "2026-06-01T10:30:00+02:00",
            "end": "2026-06-01T11:00:00+02:00",
            "agent_id": desk.alice.pk,
        },
    )

    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"Alice Tech is not free then: overlaps appointment #{desk.appointment.pk}"
    )


def test_a_release_by_a_french_admin_stores_its_failure_in_english(
    desk: Desk, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Processing fails on a rule of the services; the stored error must not be French."""
    requester = desk.ticket.requester
    reply = (
        f"From: {requester.email}\nTo: helpdesk@example.com\n"
        f"Subject: Re: [#{desk.ticket.number}] Printer jammed\n"
        "Message-ID: <reply@acme.example>\n\nStill jammed, and now it beeps.\n"
    ).encode()
    settings.MAIL_MAX_BYTES = 100
    oversized = mail_receive(raw=reply, source="pipe")
    assert oversized.status == InboundStatus.QUARANTINED
    monkeypatch.setattr(articles, "BODY_MAX", 10)

    page = profile_client(desk.admin).post(
        f"/mail/inbound/{oversized.inbound}/release", {"back": "/mail/quarantine"}, follow=True
    )

    stored = InboundMessage.objects.get(pk=oversized.inbound)
    assert stored.status == InboundStatus.PENDING
    assert stored.last_error == "InvalidInput: the message is too long"
    assert "Toujours en quarantaine" in text_of(page)


PURE_REFUSALS = """
from expediter.appointments.planner import REASON_NO_ROOM
from expediter.schedules.hours import HoursSpecError, parse_hours
try:
    parse_hours("mon 10-9")
except HoursSpecError as error:
    print(error, REASON_NO_ROOM, sep=" | ")
"""


def test_the_pure_modules_still_refuse_in_english_without_django_settings() -> None:
    """Weekly hours and the planner run in benchmarks and scripts without any settings."""
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}

    done = subprocess.run(
        [sys.executable, "-c", PURE_REFUSALS],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "'10' is not a time HH:MM | no room in any route"
