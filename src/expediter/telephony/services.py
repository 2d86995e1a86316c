"""Recording calls: an agent's two-click log, and the PBX's webhook.

A missed call or a voicemail becomes a callback request on the caller's open
ticket (or a new one), so nobody who rang is forgotten.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from expediter.core import clock
from expediter.core.errors import InvalidInput
from expediter.staff import policies
from expediter.staff.models import User
from expediter.staff.selectors import user_by_phone
from expediter.staff.services import normalise_phone, requester_get_or_create
from expediter.telephony.models import Call, CallStatus
from expediter.tickets.models import OPEN_STATUSES, Channel, Ticket
from expediter.tickets.services import ArticleOrigin, article_add, ticket_create
from expediter.tickets.services._common import event_record

UNKNOWN_CALLER_DOMAIN = "phone.invalid"


def caller_for_number(number: str) -> User:
    """The requester behind a phone number, or a placeholder person for an unknown caller."""
    person = user_by_phone(phone=number)
    if person is not None:
        return person
    digits = normalise_phone(number).lstrip("+") or "unknown"
    caller = requester_get_or_create(
        email=f"caller-{digits}@{UNKNOWN_CALLER_DOMAIN}", name=f"Caller {number}"
    )
    if not caller.phone:
        caller.phone = normalise_phone(number)
        caller.save(update_fields=["phone"])
    return caller


def _open_ticket_of(person: User) -> Ticket | None:
    return (
        Ticket.objects.filter(requester=person, status__in=OPEN_STATUSES)
        .order_by("-updated_at", "-id")
        .first()
    )


@transaction.atomic
def call_log(
    *,
    agent: User,
    caller_number: str,
    summary: str,
    duration_seconds: int,
    ticket_id: int | None = None,
    subject: str = "",
    service: str | None = None,
) -> Call:
    """An agent logs a call: a note on an existing ticket, or a new phone ticket."""
    if not policies.is_agent(agent):
        raise InvalidInput(_("only agents log calls"), field="agent")
    if duration_seconds < 0:
        raise InvalidInput(_("duration cannot be negative"), field="duration")
    number = normalise_phone(caller_number)
    if not number:
        raise InvalidInput(_("a caller number is needed"), field="caller_number")
    caller = caller_for_number(number)
    now = clock.now()
    body = summary.strip() or "(no summary)"
    if ticket_id is None:
        ticket = ticket_create(
            requester=caller,
            actor=agent,
            subject=subject or body.splitlines()[0][:120],
            description=body,
            channel=Channel.PHONE,
            service=service,
        )
    else:
        article_add(
            ticket_id=ticket_id,
            author=agent,
            actor=agent,
            body=f"Call with {caller.name} ({number}), {duration_seconds // 60} min:\n{body}",
            internal=True,
            origin=ArticleOrigin(channel=Channel.PHONE, kind="call"),
        )
        ticket = Ticket.objects.get(pk=ticket_id)
    return Call.objects.create(
        caller_number=number,
        started_at=now - dt.timedelta(seconds=duration_seconds),
        duration_seconds=duration_seconds,
        status=CallStatus.ANSWERED,
        caller=caller,
        agent=agent,
        ticket=ticket,
        created_at=now,
    )


@transaction.atomic
def call_record_from_pbx(
    *,
    caller_number: str,
    called_number: str,
    started_at: dt.datetime,
    duration_seconds: int,
    status: str,
    recording_url: str = "",
    external_id: str = "",
) -> Call:
    """Record a call reported by the PBX; a missed call or voicemail asks for a callback.

    The same ``external_id`` reported twice records one call (PBXs retry).
    """
    if status not in CallStatus.values:
        raise InvalidInput(
            _("status must be one of %(known)s") % {"known": ", ".join(CallStatus.values)},
            field="status",
        )
    number = normalise_phone(caller_number)
    if not number:
        raise InvalidInput(_("a caller number is needed"), field="caller_number")
    if external_id:
        existing = Call.objects.filter(external_id=external_id).first()
        if existing is not None:
            return existing
    caller = caller_for_number(number)
    call = Call(
        caller_number=number,
        called_number=normalise_phone(called_number),
        started_at=started_at,
        duration_seconds=max(duration_seconds, 0),
        status=status,
        recording_url=recording_url,
        caller=caller,
        external_id=external_id,
        created_at=clock.now(),
    )
    if status != CallStatus.ANSWERED:
        call.needs_callback = True
        call.ticket = _callback_ticket(call, caller)
    call.save()
    return call


def _callback_ticket(call: Call, caller: User) -> Ticket:
    what = "left a voicemail" if call.status == CallStatus.VOICEMAIL else "called and was missed"
    text = f"{caller.name} ({call.caller_number}) {what}; please call back."
    if call.recording_url:
        text += f"\nRecording: {call.recording_url}"
    ticket = _open_ticket_of(caller)
    if ticket is None:
        return ticket_create(
            requester=caller,
            actor=None,
            subject=f"Call back {caller.name} ({call.caller_number})",
            description=text,
            channel=Channel.PHONE,
        )
    article_add(
        ticket_id=ticket.pk,
        author=None,
        actor=None,
        body=text,
        internal=True,
        origin=ArticleOrigin(channel=Channel.PHONE, kind="callback_request"),
        changes_state=False,
    )
    return ticket


@transaction.atomic
def call_mark_called_back(*, call_id: int, agent: User, note: str = "") -> Call:
    """Close a callback request; the ticket records who called back and when."""
    if not policies.is_agent(agent):
        raise InvalidInput(_("only agents call back"), field="agent")
    call = Call.objects.select_for_update().filter(pk=call_id, needs_callback=True).first()
    if call is None:
        raise InvalidInput(_("no callback waiting with that id"), field="call")
    if call.called_back_at is not None:
        return call
    call.called_back_at = clock.now()
    call.called_back_by = agent
    call.save(update_fields=["called_back_at", "called_back_by"])
    if call.ticket_id:
        ticket = Ticket.objects.get(pk=call.ticket_id)
        event_record(
            ticket=ticket,
            actor=agent,
            verb="called_back",
            changes={"call": [None, call.pk]},
            reason=note or None,
        )
    return call
