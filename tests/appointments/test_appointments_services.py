"""Booking, moving and closing appointments through the services, with the ticket's history."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import OperationalError, connection
from icalendar import Calendar
from tests.appointments.conftest import MONDAY, PARIS, paris
from tests.factories import make_ticket

from expediter.appointments import selectors
from expediter.appointments.models import Appointment, AppointmentStatus
from expediter.appointments.services import (
    appointment_book,
    appointment_reminders_send,
    appointment_reschedule,
    appointment_set_status,
)
from expediter.core import clock, periodic
from expediter.core.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotPermitted,
)
from expediter.mail.models import OutboundMessage
from expediter.schedules.services import shift_add, timeoff_add
from expediter.tickets.models import TicketEvent
from expediter.tickets.services import ticket_set_status

pytestmark = pytest.mark.django_db


def book(desk, start: str, end: str, *, day=MONDAY, actor=None, **kwargs) -> Appointment:
    return appointment_book(
        ticket_id=desk.ticket.pk,
        actor=actor or desk.lead,
        start=paris(day, start),
        end=paris(day, end),
        **kwargs,
    )


def invitations(ticket) -> list[Calendar]:
    rows = OutboundMessage.objects.filter(ticket=ticket, kind="invitation").order_by("id")
    return [Calendar.from_ical(row.calendar) for row in rows]


def hhmm(moment: dt.datetime) -> str:
    return moment.astimezone(PARIS).strftime("%H:%M")


def the_event(calendar: Calendar):
    return next(component for component in calendar.walk("VEVENT"))


def test_booking_records_the_event_and_mails_a_request_in_the_requesters_language(desk) -> None:
    appointment = book(desk, "10:00", "11:00", agent_id=desk.alice.pk)

    assert appointment.status == AppointmentStatus.BOOKED
    assert (appointment.agent, appointment.kind) == (desk.alice, "remote")
    event = TicketEvent.objects.filter(ticket=desk.ticket, verb="appointment_booked").get()
    assert event.actor == desk.lead
    assert event.changes["appointment"] == [None, appointment.pk]
    assert event.changes["start"] == [None, "2026-06-01T10:00:00+02:00"]
    assert event.changes["agent"] == [None, {"id": desk.alice.pk, "name": "Alice Tech"}]
    message = OutboundMessage.objects.get(ticket=desk.ticket, kind="invitation")
    assert message.to == [desk.requester.email]
    assert message.calendar_method == "REQUEST"
    assert message.subject.startswith(f"[#{desk.ticket.number}] Rendez-vous ")
    assert message.subject.endswith("1 juin 2026, 10:00–11:00")  # French, in her zone
    assert message.body_text.startswith("Bonjour Rita Requester,")
    assert "Alice Tech" in message.body_text and "Hello" not in message.body_text
    assert "<p>Bonjour Rita Requester,</p>" in message.body_html
    calendar = Calendar.from_ical(message.calendar)
    assert str(calendar["METHOD"]) == "REQUEST"
    vevent = the_event(calendar)
    assert int(vevent["SEQUENCE"]) == 0
    assert vevent.decoded("DTSTART") == paris(MONDAY, "10:00")
    assert "mailto:" + desk.requester.email in str(vevent["ATTENDEE"])


def test_without_an_agent_the_free_one_with_the_lightest_load_is_chosen(desk) -> None:
    first = book(desk, "10:00", "11:00")
    second = book(desk, "10:00", "11:00")
    third = book(desk, "14:00", "15:00")

    # Alice has the higher level; once she carries an appointment that day Bruno's turn comes.
    assert first.agent == desk.alice
    assert second.agent == desk.bruno
    assert third.agent == desk.alice
    with pytest.raises(Conflict) as refused:
        book(desk, "10:30", "11:00")
    assert "Alice Tech: overlaps appointment" in refused.value.detail
    assert "Bruno Tech: overlaps appointment" in refused.value.detail


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        ("17:00", "18:00", "off duty"),
        ("10:30", "11:00", "on time off"),
        ("12:30", "13:30", "overlaps appointment #"),
    ],
)
def test_a_booking_the_agent_cannot_take_is_refused_with_the_reason(
    desk, start: str, end: str, reason: str
) -> None:
    timeoff_add(agent=desk.alice, start=paris(MONDAY, "10:00"), end=paris(MONDAY, "12:00"))
    book(desk, "13:00", "14:00", agent_id=desk.alice.pk)

    with pytest.raises(Conflict) as refused:
        book(desk, start, end, agent_id=desk.alice.pk)

    assert reason in refused.value.detail
    assert refused.value.detail.startswith("Alice Tech is not free then")


def test_on_site_bookings_leave_time_to_travel(desk) -> None:
    with pytest.raises(Conflict) as refused:
        book(desk, "09:00", "10:00", kind="onsite", agent_id=desk.alice.pk)
    assert "no time to travel from Head office" in refused.value.detail

    appointment = book(desk, "10:00", "11:00", kind="onsite", agent_id=desk.alice.pk)
    assert appointment.site == desk.customer_site
    assert appointment.location == "Acme La Défense, 2 place de la Défense"
    book(desk, "11:00", "11:30", agent_id=desk.alice.pk)  # a call from the customer's site
    with pytest.raises(Conflict) as refused:
        book(desk, "16:00", "17:00", kind="onsite", agent_id=desk.alice.pk)
    assert "no time to travel to Head office" in refused.value.detail


def test_bad_input_names_the_field(desk) -> None:
    with pytest.raises(InvalidInput) as refused:
        book(desk, "11:00", "10:00")
    assert refused.value.field == "end"
    with pytest.raises(InvalidInput) as refused:
        book(desk, "10:00", "11:00", kind="teleport")
    assert refused.value.field == "kind"
    with pytest.raises(InvalidInput) as refused:
        book(desk, "10:00", "11:00", agent_id=999_999)
    assert refused.value.field == "agent_id"


def test_requesters_book_on_their_own_requests_only_and_not_in_the_past(desk) -> None:
    appointment = book(desk, "10:00", "11:00", actor=desk.requester)
    assert appointment.booked_by == desk.requester

    with pytest.raises(NotFound):
        book(desk, "14:00", "15:00", actor=desk.stranger)
    with pytest.raises(InvalidInput) as refused:
        book(desk, "06:00", "06:30", actor=desk.requester)
    assert refused.value.field == "start"
    with pytest.raises(InvalidInput) as refused:  # visited at their own site, nowhere else
        book(desk, "14:00", "15:00", actor=desk.requester, kind="onsite", location="Head office")
    assert refused.value.field == "location"
    with pytest.raises(InvalidInput) as refused:  # the unskilled technician does not do printers
        unskilled = desk.team.members.get(name="Unskilled Tech")
        book(desk, "14:00", "15:00", actor=desk.requester, agent_id=unskilled.pk)
    assert refused.value.field == "agent_id"


def test_nothing_is_booked_on_a_closed_ticket(desk) -> None:
    ticket_set_status(ticket_id=desk.ticket.pk, status="resolved", actor=desk.lead)
    with pytest.raises(Conflict):
        book(desk, "10:00", "11:00")


def test_reschedule_checks_the_new_time_without_the_appointment_itself(desk) -> None:
    appointment = book(desk, "10:00", "11:00", agent_id=desk.alice.pk)

    moved = appointment_reschedule(
        appointment_id=appointment.pk, actor=desk.lead, start=paris(MONDAY, "10:30")
    )

    assert (moved.start, moved.end) == (paris(MONDAY, "10:30"), paris(MONDAY, "11:30"))
    assert moved.sequence == 1
    event = TicketEvent.objects.get(ticket=desk.ticket, verb="appointment_rescheduled")
    assert event.changes["start"] == ["2026-06-01T10:00:00+02:00", "2026-06-01T10:30:00+02:00"]
    with pytest.raises(Conflict) as refused:
        appointment_reschedule(
            appointment_id=appointment.pk,
            actor=desk.lead,
            start=paris(MONDAY, "16:30"),
            end=paris(MONDAY, "17:30"),
        )
    assert "off duty" in refused.value.detail
    with pytest.raises(NotFound):
        appointment_reschedule(
            appointment_id=appointment.pk, actor=desk.stranger, start=paris(MONDAY, "12:00")
        )


def test_invitations_keep_their_uid_and_raise_the_sequence_then_cancel(desk) -> None:
    appointment = book(desk, "10:00", "11:00", agent_id=desk.alice.pk)
    appointment_reschedule(
        appointment_id=appointment.pk, actor=desk.requester, start=paris(MONDAY, "14:00")
    )
    appointment_set_status(appointment_id=appointment.pk, actor=desk.requester, status="cancelled")

    sent = invitations(desk.ticket)
    assert [str(c["METHOD"]) for c in sent] == ["REQUEST", "REQUEST", "CANCEL"]
    events = [the_event(c) for c in sent]
    assert len({str(e["UID"]) for e in events}) == 1
    assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
    assert events[1].decoded("DTSTART") == paris(MONDAY, "14:00")
    assert str(events[2]["STATUS"]) == "CANCELLED"
    assert TicketEvent.objects.filter(ticket=desk.ticket, verb="appointment_cancelled").exists()
    # The cancelled slot is free again.
    assert book(desk, "14:00", "15:00", agent_id=desk.alice.pk).status == "booked"


def test_done_and_no_show_are_for_the_desk_once_the_appointment_started(desk, at) -> None:
    appointment = book(desk, "10:00", "11:00", agent_id=desk.alice.pk)
    with pytest.raises(InvalidTransition):
        appointment_set_status(appointment_id=appointment.pk, actor=desk.alice, status="done")

    at(paris(MONDAY, "11:05"))
    with pytest.raises(NotPermitted):
        appointment_set_status(appointment_id=appointment.pk, actor=desk.requester, status="done")
    done = appointment_set_status(appointment_id=appointment.pk, actor=desk.alice, status="done")

    assert done.status == "done"
    event = TicketEvent.objects.get(ticket=desk.ticket, verb="appointment_done")
    assert event.changes["appointment_status"] == ["booked", "done"]
    with pytest.raises(InvalidTransition):
        appointment_set_status(appointment_id=appointment.pk, actor=desk.alice, status="cancelled")
    assert not OutboundMessage.objects.filter(calendar_method="CANCEL").exists()


def test_reminders_go_out_once_the_day_before(desk, at) -> None:
    tuesday = MONDAY + dt.timedelta(days=1)
    appointment = book(desk, "10:00", "11:00", day=tuesday, agent_id=desk.alice.pk)
    book(desk, "15:00", "16:00", agent_id=desk.alice.pk)  # today: its invitation is fresh

    assert appointment_reminders_send() == 0  # more than a day ahead
    at(paris(MONDAY, "10:30"))
    assert appointment_reminders_send() == 1
    assert appointment_reminders_send() == 0
    reminders = OutboundMessage.objects.filter(kind="reminder")
    assert reminders.count() == 1
    appointment.refresh_from_db()
    assert appointment.reminder_sent_at == clock.now()


def test_the_worker_runs_the_reminders_as_a_periodic_job(desk, at) -> None:
    book(desk, "10:00", "11:00", day=MONDAY + dt.timedelta(days=1), agent_id=desk.alice.pk)
    job = next(job for job in periodic.registered() if job.name == "appointments.reminders")

    at(paris(MONDAY, "12:00"))
    job.enqueue()  # the suite's task backend runs it at once
    job.enqueue()

    assert OutboundMessage.objects.filter(kind="reminder").count() == 1


def test_slots_are_on_the_half_hour_for_every_qualified_free_agent(desk) -> None:
    book(desk, "09:00", "12:00", agent_id=desk.alice.pk)

    slots = selectors.ticket_slots(
        user=desk.requester,
        ticket_id=desk.ticket.pk,
        duration_minutes=60,
        start=paris(MONDAY, "08:00"),
        end=paris(MONDAY, "13:00"),
    )

    assert [(hhmm(slot.start), slot.agent_name) for slot in slots] == [
        ("09:00", "Bruno Tech"),
        ("09:30", "Bruno Tech"),
        ("10:00", "Bruno Tech"),
        ("10:30", "Bruno Tech"),
        ("11:00", "Bruno Tech"),
        ("11:30", "Bruno Tech"),
        ("12:00", "Alice Tech"),
        ("12:00", "Bruno Tech"),
    ]
    with pytest.raises(NotFound):
        selectors.ticket_slots(
            user=desk.stranger,
            ticket_id=desk.ticket.pk,
            duration_minutes=60,
            start=paris(MONDAY, "08:00"),
            end=paris(MONDAY, "13:00"),
        )


def test_on_site_slots_leave_room_for_the_trip(desk) -> None:
    slots = selectors.ticket_slots(
        user=desk.lead,
        ticket_id=desk.ticket.pk,
        duration_minutes=60,
        start=paris(MONDAY, "08:00"),
        end=paris(MONDAY, "18:00"),
        kind="onsite",
    )
    first = min(slot.start for slot in slots)
    last = max(slot.end for slot in slots)
    assert first == paris(MONDAY, "09:30")  # about 20 minutes from Head office
    assert last == paris(MONDAY, "16:30")


def test_a_ticket_nobody_may_work_has_no_slots_and_cannot_be_booked(desk) -> None:
    orphan = make_ticket(desk.requester, subject="No service")
    assert (
        selectors.ticket_slots(
            user=desk.lead,
            ticket_id=orphan.pk,
            duration_minutes=30,
            start=paris(MONDAY, "08:00"),
            end=paris(MONDAY, "18:00"),
        )
        == []
    )
    with pytest.raises(Conflict) as refused:
        appointment_book(
            ticket_id=orphan.pk,
            actor=desk.lead,
            start=paris(MONDAY, "10:00"),
            end=paris(MONDAY, "11:00"),
        )
    assert "nobody may work this ticket" in refused.value.detail


def book_as_soon_as_the_database_lets_in(**kwargs) -> Appointment:
    """Book, waiting for the write lock the way SQLite's busy_timeout waits on a file.

    The suite's SQLite database lives in memory with a shared cache, where a
    second writer is told "locked" at once instead of waiting; PostgreSQL
    and file databases wait by themselves and never reach the retry.
    """
    for _ in range(500):
        try:
            return appointment_book(**kwargs)
        except OperationalError as error:
            if "locked" not in str(error):
                raise
            connection.close()
            time.sleep(0.01)
    raise AssertionError("the write lock never came")


@pytest.mark.django_db(transaction=True)
def test_two_people_booking_the_same_slot_at_once_cannot_both_win(at) -> None:
    from tests.factories import make_agent, make_requester

    from expediter.staff.services import site_create
    from expediter.tickets.services.catalogue import service_save

    at(paris(MONDAY, "07:00"))
    site_create(name="Office", latitude=48.85, longitude=2.35)
    service_save(name="Printing", team="Workplace", skills={})
    agent = make_agent(team="Workplace", site="Office")
    shift_add(agent=agent, hours="mon-fri 09:00-17:00", time_zone="Europe/Paris")
    tickets = [make_ticket(make_requester(), service="Printing") for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(ticket_id: int) -> None:
        barrier.wait()
        try:
            book_as_soon_as_the_database_lets_in(
                ticket_id=ticket_id,
                actor=None,
                start=paris(MONDAY, "10:00"),
                end=paris(MONDAY, "11:00"),
                agent_id=agent.pk,
            )
            outcomes.append("booked")
        except Conflict as refusal:
            outcomes.append(refusal.detail)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(t.pk,)) for t in tickets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == 2 and outcomes.count("booked") == 1
    assert any("overlaps appointment" in outcome for outcome in outcomes)
    assert Appointment.objects.filter(agent=agent, status="booked").count() == 1
