"""Invitations and reminders mailed to the requester, in their language.

Each message is written to the outbox inside the booking's transaction, so
a refused or rolled-back change never mails anyone. A booking or a change
carries a ``METHOD:REQUEST`` calendar part, a cancellation ``METHOD:CANCEL``;
the UID stays the same for the life of the appointment and the SEQUENCE is
the appointment's, which every change raises.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.translation import gettext as _

from expediter.appointments.calendars import desk_address, ticket_link, uid_of
from expediter.appointments.ical import Method, build_invitation
from expediter.appointments.models import Appointment, AppointmentKind
from expediter.core import clock
from expediter.mail.models import OutboundMessage
from expediter.mail.outbox import outbox_enqueue

logger = logging.getLogger("expediter.appointments")

INVITATION = "invitation"
REMINDER = "reminder"


def invitation_enqueue(*, appointment: Appointment, method: Method) -> OutboundMessage | None:
    """Mail the requester this appointment (REQUEST) or its cancellation (CANCEL)."""
    requester = appointment.ticket.requester
    if not requester.is_active or not requester.email:
        return None
    action = _action(appointment, method)
    with translation.override(_language(requester.language)):
        context = _context(appointment, action)
        subject = _subject(appointment, action)
        text = render_to_string("appointments/mail/invitation.txt", context)
        html = render_to_string("appointments/mail/invitation.html", context)
        summary = _("Appointment about request #%(number)s") % {"number": appointment.ticket.number}
        description = f"{appointment.ticket.subject}\n{context['link']}"
    calendar = _calendar(appointment, method, summary=summary, description=description)
    if calendar is None:
        return None
    return outbox_enqueue(
        kind=INVITATION,
        to=[requester.email],
        subject=subject,
        text=text,
        html=html,
        ticket=appointment.ticket,
        auto=True,
        calendar=calendar,
        calendar_method=method,
    )


def reminder_enqueue(*, appointment: Appointment) -> OutboundMessage | None:
    """The day-before reminder; plain mail, the calendar already holds the event."""
    requester = appointment.ticket.requester
    if not requester.is_active or not requester.email:
        return None
    with translation.override(_language(requester.language)):
        context = _context(appointment, "reminder")
        subject = _("Reminder: appointment on %(when)s") % {"when": context["when"]}
        text = render_to_string("appointments/mail/reminder.txt", context)
        html = render_to_string("appointments/mail/reminder.html", context)
    return outbox_enqueue(
        kind=REMINDER,
        to=[requester.email],
        subject=subject,
        text=text,
        html=html,
        ticket=appointment.ticket,
        auto=True,
    )


def _action(appointment: Appointment, method: Method) -> str:
    if method == "CANCEL":
        return "cancelled"
    return "booked" if appointment.sequence == 0 else "changed"


def _language(code: str) -> str:
    supported = {language for language, _name in settings.LANGUAGES}
    return code if code in supported else settings.LANGUAGE_CODE


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or settings.DESK_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.DESK_TIME_ZONE)


def _subject(appointment: Appointment, action: str) -> str:
    when = _when(appointment)
    if action == "cancelled":
        return _("Appointment cancelled: %(when)s") % {"when": when}
    if action == "changed":
        return _("Appointment moved to %(when)s") % {"when": when}
    return _("Appointment booked: %(when)s") % {"when": when}


def _when(appointment: Appointment) -> str:
    """Date and time as the requester reads them: their zone, their language's format."""
    zone = _zone(appointment.ticket.requester.time_zone)
    start = appointment.start.astimezone(zone)
    end = appointment.end.astimezone(zone)
    day = formats.date_format(start, "DATE_FORMAT")
    return f"{day}, {formats.time_format(start, 'H:i')}–{formats.time_format(end, 'H:i')}"


def _context(appointment: Appointment, action: str) -> dict[str, Any]:
    ticket = appointment.ticket
    return {
        "action": action,
        "requester_name": ticket.requester.name,
        "number": ticket.number,
        "subject": ticket.subject,
        "when": _when(appointment),
        "agent_name": appointment.agent.name,
        "onsite": appointment.kind == AppointmentKind.ONSITE,
        "location": appointment.location,
        "link": ticket_link(appointment.ticket_id, portal=True),
    }


def _calendar(
    appointment: Appointment, method: Method, *, summary: str, description: str
) -> bytes | None:
    requester = appointment.ticket.requester
    organiser_email, organiser_name = desk_address()
    try:
        return build_invitation(
            uid=uid_of(appointment),
            sequence=appointment.sequence,
            method=method,
            start=appointment.start,
            end=appointment.end,
            summary=summary,
            description=description,
            location=appointment.location,
            organizer_email=organiser_email,
            organizer_name=organiser_name,
            attendee_email=requester.email,
            attendee_name=requester.name,
            stamp=clock.now(),
        )
    except ValueError as error:
        # An address the calendar cannot carry must not undo the booking itself.
        logger.warning("no invitation for appointment %s: %s", appointment.pk, error)
        return None
