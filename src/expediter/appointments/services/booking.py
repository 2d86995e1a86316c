"""Booking, moving and closing appointments: every change is an event on the ticket.

Two people booking the same agent at once cannot both win: each booking
locks the agent's row (``SELECT ... FOR UPDATE`` where the database has row
locks; SQLite's ``IMMEDIATE`` transactions already let one writer in at a
time) and only then reads the diary and checks the slot, inside the same
transaction that writes the appointment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeGuard

from django.db import connection, transaction
from django.utils.translation import gettext as _

from expediter.appointments import selectors
from expediter.appointments.availability import (
    AgentAvailability,
    check_booking,
    choose_best_agent,
)
from expediter.appointments.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
)
from expediter.appointments.services.invitations import invitation_enqueue
from expediter.core import clock
from expediter.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, NotPermitted
from expediter.core.wording import translated
from expediter.staff import policies
from expediter.staff.models import Role, User
from expediter.tickets.models import OPEN_STATUSES, Ticket
from expediter.tickets.selectors import QualifiedAgent, qualified_agents
from expediter.tickets.services._common import event_record, ticket_for_update, user_ref
from expediter.tickets.services.tickets import ticket_touch

MAX_LOCATION = 300
CLOSING_STATUSES = (
    AppointmentStatus.CANCELLED,
    AppointmentStatus.DONE,
    AppointmentStatus.NO_SHOW,
)
STATUS_VERBS = {
    AppointmentStatus.CANCELLED: "appointment_cancelled",
    AppointmentStatus.DONE: "appointment_done",
    AppointmentStatus.NO_SHOW: "appointment_no_show",
}


def appointment_book(
    *,
    ticket_id: int,
    actor: User | None,
    start: dt.datetime,
    end: dt.datetime,
    kind: str = AppointmentKind.REMOTE,
    agent_id: int | None = None,
    location: str = "",
) -> Appointment:
    """Book an appointment on a ticket; without ``agent_id`` the best free agent is chosen.

    ``actor=None`` is the system (the visit planner). Requesters book on their
    own requests only, with the agents who may work them, and are visited on
    site at their own site; staff may book any active agent anywhere. Raises
    ``Conflict`` with the reason when the agent is not free (off duty, on time
    off, an overlap, no time to travel).
    """
    _check_times(start, end)
    selectors.check_kind(kind)
    if len(location) > MAX_LOCATION:
        raise InvalidInput(
            _("location is longer than %(max)s characters") % {"max": MAX_LOCATION},
            field="location",
        )
    with transaction.atomic():
        ticket = _ticket_to_book(ticket_id=ticket_id, actor=actor, start=start)
        if _is_requester(actor) and kind == AppointmentKind.ONSITE and location.strip():
            raise InvalidInput(
                _("on-site appointments take place at your own site"), field="location"
            )
        where = selectors.booking_place(ticket=ticket, kind=kind, location=location)
        agent = _agent_for(
            ticket=ticket, actor=actor, agent_id=agent_id, where=where, start=start, end=end
        )
        appointment = record_booking(
            ticket=ticket, actor=actor, agent=agent, where=where, start=start, end=end
        )
    return appointment


def appointment_reschedule(
    *,
    appointment_id: int,
    actor: User | None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> Appointment:
    """Move a booked appointment; with only a new start it keeps its length.

    The new time is checked like a new booking, the appointment itself left
    out of the agent's diary. The requester gets the update (same UID, higher
    SEQUENCE) and a fresh reminder.
    """
    with transaction.atomic():
        appointment = _appointment_for_update(appointment_id=appointment_id, actor=actor)
        if appointment.status != AppointmentStatus.BOOKED:
            raise InvalidTransition(
                _("a %(status)s appointment cannot be moved") % {"status": appointment.status}
            )
        new_start = start or appointment.start
        new_end = end or (new_start + (appointment.end - appointment.start))
        _check_times(new_start, new_end)
        if (new_start, new_end) == (appointment.start, appointment.end):
            return appointment
        if _is_requester(actor) and new_start < clock.now():
            raise InvalidInput(_("an appointment cannot be moved into the past"), field="start")
        lock_agents([appointment.agent_id])
        require_free(
            appointment.agent,
            where=selectors.place_of(appointment),
            start=new_start,
            end=new_end,
            exclude_appointment_id=appointment.pk,
        )
        _move(appointment, actor=actor, start=new_start, end=new_end)
    return appointment


def _move(
    appointment: Appointment, *, actor: User | None, start: dt.datetime, end: dt.datetime
) -> None:
    """Write a checked new time, tell the ticket's history and the requester's calendar."""
    changes: dict[str, list[Any]] = {
        "appointment": [appointment.pk, appointment.pk],
        "start": [_iso(appointment.start), _iso(start)],
        "end": [_iso(appointment.end), _iso(end)],
    }
    appointment.start, appointment.end = start, end
    appointment.sequence += 1
    appointment.reminder_sent_at = None
    appointment.updated_at = clock.now()
    appointment.save(update_fields=["start", "end", "sequence", "reminder_sent_at", "updated_at"])
    event_record(
        ticket=appointment.ticket, actor=actor, verb="appointment_rescheduled", changes=changes
    )
    ticket_touch(appointment.ticket)
    invitation_enqueue(appointment=appointment, method="REQUEST")


def appointment_set_status(*, appointment_id: int, actor: User | None, status: str) -> Appointment:
    """Cancel a booked appointment, or record that it was done or that nobody came.

    Requesters may cancel their own; only staff record ``done`` and
    ``no_show``, and not before the appointment has started.
    """
    if status not in CLOSING_STATUSES:
        raise InvalidInput(_("status must be cancelled, done or no_show"), field="status")
    with transaction.atomic():
        appointment = _appointment_for_update(appointment_id=appointment_id, actor=actor)
        if status != AppointmentStatus.CANCELLED:
            if actor is not None and not policies.is_agent(actor):
                raise NotPermitted(_("only the desk records how an appointment went"))
            if appointment.start > clock.now():
                raise InvalidTransition(
                    _("an appointment cannot be %(status)s before it starts") % {"status": status}
                )
        if appointment.status != AppointmentStatus.BOOKED:
            raise InvalidTransition(
                _("the appointment is already %(current)s, it cannot become %(new)s")
                % {"current": appointment.status, "new": status}
            )
        _close(appointment, actor=actor, status=AppointmentStatus(status))
    return appointment


def _close(appointment: Appointment, *, actor: User | None, status: AppointmentStatus) -> None:
    """Write the new status; a cancellation also reaches the requester's calendar."""
    before = appointment.status
    cancelled = status == AppointmentStatus.CANCELLED
    appointment.status = status
    if cancelled:
        appointment.sequence += 1
    appointment.updated_at = clock.now()
    appointment.save(update_fields=["status", "sequence", "updated_at"])
    event_record(
        ticket=appointment.ticket,
        actor=actor,
        verb=STATUS_VERBS[status],
        changes={
            "appointment": [appointment.pk, appointment.pk],
            "appointment_status": [before, status.value],
        },
    )
    ticket_touch(appointment.ticket)
    if cancelled:
        invitation_enqueue(appointment=appointment, method="CANCEL")


def record_booking(
    *,
    ticket: Ticket,
    actor: User | None,
    agent: User,
    where: selectors.BookingPlace,
    start: dt.datetime,
    end: dt.datetime,
) -> Appointment:
    """Write a booking already checked free (inside the caller's transaction, agent locked)."""
    now = clock.now()
    appointment = Appointment.objects.create(
        ticket=ticket,
        agent=agent,
        start=start,
        end=end,
        kind=where.kind,
        site=where.site,
        location=where.location,
        booked_by=actor,
        created_at=now,
        updated_at=now,
    )
    event_record(
        ticket=ticket,
        actor=actor,
        verb="appointment_booked",
        changes=_booking_changes(appointment),
    )
    ticket_touch(ticket)
    invitation_enqueue(appointment=appointment, method="REQUEST")
    return appointment


# --- checks -----------------------------------------------------------------------------------


def _check_times(start: dt.datetime, end: dt.datetime) -> None:
    for value, name in ((start, "start"), (end, "end")):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInput(
                _("%(field)s needs a time zone offset") % {"field": name}, field=name
            )
    if end <= start:
        raise InvalidInput(_("end must be after start"), field="end")
    minutes = (end - start) / dt.timedelta(minutes=1)
    if minutes > selectors.MAX_DURATION_MINUTES:
        raise InvalidInput(
            _("an appointment lasts at most %(max)s minutes")
            % {"max": selectors.MAX_DURATION_MINUTES},
            field="end",
        )


def _is_requester(actor: User | None) -> TypeGuard[User]:
    return actor is not None and actor.role == Role.REQUESTER


def _ticket_to_book(*, ticket_id: int, actor: User | None, start: dt.datetime) -> Ticket:
    """The ticket, locked; requesters only reach their own, and never book the past."""
    ticket = ticket_for_update(ticket_id=ticket_id, actor=actor)
    if _is_requester(actor):
        if ticket.requester_id != actor.pk:
            raise NotFound(_("ticket %(id)s not found") % {"id": ticket_id})
        if start < clock.now():
            raise InvalidInput(_("an appointment cannot be booked in the past"), field="start")
    if ticket.status not in OPEN_STATUSES:
        raise Conflict(
            _("ticket %(number)s is %(status)s: nothing more to book on it")
            % {"number": ticket.number, "status": ticket.status}
        )
    return ticket


def _appointment_for_update(*, appointment_id: int, actor: User | None) -> Appointment:
    """The appointment with its ticket locked; hidden ones (and others' for requesters) 404."""
    row = Appointment.objects.filter(pk=appointment_id).values_list("ticket_id", flat=True).first()
    if row is None:
        raise NotFound(_("appointment %(id)s not found") % {"id": appointment_id})
    try:
        ticket = ticket_for_update(ticket_id=row, actor=actor)
    except NotFound:
        raise NotFound(_("appointment %(id)s not found") % {"id": appointment_id}) from None
    if _is_requester(actor) and ticket.requester_id != actor.pk:
        raise NotFound(_("appointment %(id)s not found") % {"id": appointment_id})
    appointment = Appointment.objects.select_related("agent", "site").get(pk=appointment_id)
    appointment.ticket = ticket
    return appointment


def lock_agents(agent_ids: Sequence[int]) -> None:
    """Serialise bookings per agent (in id order, so two lockers never deadlock)."""
    if connection.features.has_select_for_update:
        list(User.objects.select_for_update().filter(pk__in=agent_ids).order_by("pk"))


def _agent_for(
    *,
    ticket: Ticket,
    actor: User | None,
    agent_id: int | None,
    where: selectors.BookingPlace,
    start: dt.datetime,
    end: dt.datetime,
) -> User:
    """The agent named (checked free) or the best free one among those who may work it."""
    qualified = {q.agent.pk: q for q in qualified_agents(ticket=ticket)}
    if agent_id is None:
        return _best_free_agent(ticket, qualified, where=where, start=start, end=end)
    agent = selectors.bookable_agent(agent_id=agent_id)
    if agent is None:
        raise InvalidInput(_("no active agent with id %(id)s") % {"id": agent_id}, field="agent_id")
    if _is_requester(actor) and agent.pk not in qualified:
        raise InvalidInput(
            _("%(agent)s does not work on this request") % {"agent": agent.name}, field="agent_id"
        )
    lock_agents([agent.pk])
    require_free(agent, where=where, start=start, end=end)
    return agent


def require_free(
    agent: User,
    *,
    where: selectors.BookingPlace,
    start: dt.datetime,
    end: dt.datetime,
    exclude_appointment_id: int | None = None,
) -> None:
    """Re-read the agent's diary (after the lock) and refuse with the rule the booking breaks."""
    diary = selectors.diaries(
        agents=[agent], start=start, end=end, exclude_appointment_id=exclude_appointment_id
    )[agent.pk]
    reason = check_booking(diary, start=start, end=end, kind=where.check_kind, site=where.place)
    if reason is not None:
        raise Conflict(
            _("%(agent)s is not free then: %(reason)s")
            % {"agent": agent.name, "reason": translated(reason)},
            field="start",
        )


def _best_free_agent(
    ticket: Ticket,
    qualified: dict[int, QualifiedAgent],
    *,
    where: selectors.BookingPlace,
    start: dt.datetime,
    end: dt.datetime,
) -> User:
    """Among the agents who may work the ticket, the free one with the lightest load."""
    if not qualified:
        raise Conflict(
            _(
                "nobody may work this ticket: it has no team, or no agent of its team has the "
                "skills its service needs"
            )
        )
    lock_agents(list(qualified))
    diaries = selectors.diaries(agents=[q.agent for q in qualified.values()], start=start, end=end)
    chosen = choose_best_agent(
        diaries.values(),
        start=start,
        end=end,
        loads=selectors.agent_loads(agent_ids=list(qualified), day_of=start),
        kind=where.check_kind,
        site=where.place,
        skill_levels=selectors.skill_levels(
            ticket=ticket, skills_by_agent={pk: q.skills for pk, q in qualified.items()}
        ),
    )
    if chosen is None:
        reasons = "; ".join(
            _("%(agent)s: %(reason)s")
            % {
                "agent": diary.agent_name,
                "reason": _refusal(diary, start=start, end=end, where=where),
            }
            for diary in diaries.values()
        )
        raise Conflict(
            _("no agent who may work this ticket is free then (%(reasons)s)")
            % {"reasons": reasons},
            field="start",
        )
    return qualified[chosen.agent_id].agent


def _refusal(
    diary: AgentAvailability,
    *,
    start: dt.datetime,
    end: dt.datetime,
    where: selectors.BookingPlace,
) -> str:
    """The rule the booking breaks for this agent, in the reader's language."""
    reason = check_booking(diary, start=start, end=end, kind=where.check_kind, site=where.place)
    return translated(reason or "")


def _booking_changes(appointment: Appointment) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {
        "appointment": [None, appointment.pk],
        "start": [None, _iso(appointment.start)],
        "end": [None, _iso(appointment.end)],
        "agent": [None, user_ref(appointment.agent)],
        "appointment_kind": [None, appointment.kind],
    }
    if appointment.location:
        changes["location"] = [None, appointment.location]
    return changes


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(selectors.desk_zone()).replace(microsecond=0).isoformat()
