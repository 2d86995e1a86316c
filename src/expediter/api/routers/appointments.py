"""Appointments, slots, visits and agents' calendar feeds: thin adapters over the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from expediter.api.auth import request_user
from expediter.api.pagination import paginate
from expediter.api.params import parse_instant
from expediter.api.presenters import iso, person
from expediter.api.schemas.appointments import AppointmentIn, AppointmentPatchIn, VisitIn
from expediter.appointments import calendars, selectors, services
from expediter.appointments.models import Appointment, Visit
from expediter.core.errors import InvalidInput, NotFound
from expediter.staff.models import User
from expediter.staff.services import token_authenticate

router = Router(tags=["appointments"])


def appointment_out(appointment: Appointment) -> dict[str, Any]:
    return {
        "id": appointment.pk,
        "ticket": appointment.ticket_id,
        "agent": person(appointment.agent),
        "start": iso(appointment.start),
        "end": iso(appointment.end),
        "kind": appointment.kind,
        "location": appointment.location,
        "site": appointment.site_id,
        "status": appointment.status,
    }


def visit_out(visit: Visit) -> dict[str, Any]:
    return {
        "id": visit.pk,
        "ticket": visit.ticket_id,
        "site": visit.site_id,
        "date": visit.date.isoformat(),
        "window_start": f"{visit.window_start:%H:%M}",
        "window_end": f"{visit.window_end:%H:%M}",
        "duration": visit.duration_minutes,
        "status": visit.status,
        "appointment": visit.appointment_id,
    }


def _instant(value: str | None, field: str) -> dt.datetime:
    moment = parse_instant(value, field=field)
    if moment is None:
        raise InvalidInput(_("%(field)s is required") % {"field": field}, field=field)
    return moment


# --- slots and appointments -------------------------------------------------------------------


class SlotQuery(Schema):
    duration: int
    from_: str = Field(alias="from")
    to: str
    kind: str = "remote"


@router.get("/tickets/{ticket_id}/slots", response=dict, summary="Free slots to book")
def ticket_slots(request: HttpRequest, ticket_id: int, query: Query[SlotQuery]) -> dict[str, Any]:
    slots = selectors.ticket_slots(
        user=request_user(request),
        ticket_id=ticket_id,
        duration_minutes=query.duration,
        start=_instant(query.from_, "from"),
        end=_instant(query.to, "to"),
        kind=query.kind,
    )
    return {
        "items": [
            {
                "start": iso(slot.start),
                "end": iso(slot.end),
                "agent": {"id": slot.agent_id, "name": slot.agent_name},
            }
            for slot in slots
        ]
    }


@router.post(
    "/tickets/{ticket_id}/appointments", response={201: dict}, summary="Book an appointment"
)
def book(request: HttpRequest, ticket_id: int, payload: AppointmentIn) -> Status[dict[str, Any]]:
    appointment = services.appointment_book(
        ticket_id=ticket_id,
        actor=request_user(request),
        start=_instant(payload.start, "start"),
        end=_instant(payload.end, "end"),
        kind=payload.kind,
        agent_id=payload.agent_id,
        location=payload.location or "",
    )
    return Status(201, appointment_out(appointment))


@router.get("/tickets/{ticket_id}/appointments", response=dict, summary="A ticket's appointments")
def ticket_appointments(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    found = selectors.appointment_list_for_ticket(user=request_user(request), ticket_id=ticket_id)
    return {"items": [appointment_out(appointment) for appointment in found]}


class AppointmentQuery(Schema):
    agent: int | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    cursor: str | None = None
    limit: int | None = None


@router.get("/appointments", response=dict, summary="Appointments on visible tickets")
def list_appointments(request: HttpRequest, filters: Query[AppointmentQuery]) -> dict[str, Any]:
    appointments = selectors.appointment_list_visible(
        user=request_user(request),
        agent_id=filters.agent,
        start=parse_instant(filters.from_, field="from"),
        end=parse_instant(filters.to, field="to"),
    )
    return paginate(
        appointments,
        cursor=filters.cursor,
        limit=filters.limit,
        present=appointment_out,
        newest_first=False,
    )


@router.get("/appointments/{appointment_id}", response=dict, summary="One appointment")
def get_appointment(request: HttpRequest, appointment_id: int) -> dict[str, Any]:
    appointment = selectors.appointment_get_visible(
        user=request_user(request), appointment_id=appointment_id
    )
    return appointment_out(appointment)


@router.patch("/appointments/{appointment_id}", response=dict, summary="Move or close one")
def patch_appointment(
    request: HttpRequest, appointment_id: int, payload: AppointmentPatchIn
) -> dict[str, Any]:
    user = request_user(request)
    given = payload.model_fields_set
    moves = bool({"start", "end"} & given)
    if moves and payload.status is not None:
        raise InvalidInput(_("change the time or the status, not both at once"), field="status")
    if moves:
        appointment = services.appointment_reschedule(
            appointment_id=appointment_id,
            actor=user,
            start=parse_instant(payload.start, field="start"),
            end=parse_instant(payload.end, field="end"),
        )
    elif payload.status is not None:
        appointment = services.appointment_set_status(
            appointment_id=appointment_id, actor=user, status=payload.status
        )
    else:
        appointment = selectors.appointment_get_visible(user=user, appointment_id=appointment_id)
    return appointment_out(appointment)


# --- visits -----------------------------------------------------------------------------------


def _parse(value: str, field: str, parse: Any) -> Any:
    try:
        return parse(value)
    except ValueError:
        raise InvalidInput(
            _("'%(value)s' is not a valid %(field)s") % {"value": value, "field": field},
            field=field,
        ) from None


@router.post("/visits", response={201: dict}, summary="Ask for an on-site visit")
def request_visit(request: HttpRequest, payload: VisitIn) -> Status[dict[str, Any]]:
    visit = services.visit_request(
        ticket_id=payload.ticket,
        actor=request_user(request),
        date=_parse(payload.date, "date", dt.date.fromisoformat),
        window_start=_parse(payload.window_start, "window_start", dt.time.fromisoformat),
        window_end=_parse(payload.window_end, "window_end", dt.time.fromisoformat),
        duration_minutes=payload.duration,
    )
    return Status(201, visit_out(visit))


@router.get("/visits/{visit_id}", response=dict, summary="One visit")
def get_visit(request: HttpRequest, visit_id: int) -> dict[str, Any]:
    return visit_out(selectors.visit_get_visible(user=request_user(request), visit_id=visit_id))


# --- calendar feeds ---------------------------------------------------------------------------


@router.get(
    "/agents/{agent_id}/calendar.ics",
    auth=None,
    response=None,
    url_name="agent_calendar",
    summary="An agent's appointments and shifts (bearer token or secret key)",
)
def agent_calendar(request: HttpRequest, agent_id: int, key: str | None = None) -> HttpResponse:
    """Outside the default bearer auth: calendar clients can only send the ``key``.

    Anyone else gets the same 404 as for an agent who does not exist.
    """
    agent = calendars.calendar_agent(agent_id=agent_id)
    if agent is None or not _may_read_feed(request, agent, key):
        raise NotFound(_("agent %(id)s not found") % {"id": agent_id})
    response = HttpResponse(
        calendars.agent_calendar_ics(agent=agent), content_type="text/calendar; charset=utf-8"
    )
    response["Cache-Control"] = "private, max-age=300"
    return response


def _may_read_feed(request: HttpRequest, agent: User, key: str | None) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        viewer = token_authenticate(secret=secret.strip())
        return viewer is not None and calendars.may_view_agent_calendar(viewer=viewer, agent=agent)
    return key is not None and calendars.feed_key_matches(agent_id=agent.pk, key=key)
