"""``expediter sla explain``: a ticket's clocks told from its history, step by step.

The clocks shown are replayed here from the events with the same policy and
calendar choice as the listener makes, so the explanation cannot disagree
with what the ticket shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from expediter.core import clock
from expediter.core.errors import NotFound
from expediter.sla.calc import BusinessCalendar
from expediter.sla.services.clocks import (
    PolicyCatalogue,
    business_calendar,
    policy_targets,
    ticket_facts,
)
from expediter.sla.timeline import (
    Clock,
    ClockKind,
    ClockState,
    ClockStatus,
    HistoryEvent,
    Step,
    Targets,
    clocks_from_history,
)
from expediter.tickets.models import Ticket, TicketEvent

CLOCK_NAMES = {
    ClockKind.FIRST_RESPONSE: "first response",
    ClockKind.NEXT_RESPONSE: "next response",
    ClockKind.RESOLUTION: "resolution",
}
# Changes that can make another policy or calendar apply.
RETARGETING = {"priority_changed": "priority", "service_changed": "service", "team_changed": "team"}


@dataclass(frozen=True)
class Note:
    """Something in the history that is not a clock step but explains one."""

    at: dt.datetime
    text: str


@dataclass(frozen=True)
class Heading:
    """What applies to the ticket: the policy, why, and the calendar it counts on."""

    number: int
    policy: str
    matched_on: str
    calendar: str
    business: BusinessCalendar
    targets: Targets

    @property
    def zone(self) -> ZoneInfo:
        return self.business.zone


def sla_explain(*, ticket_number: int) -> list[str]:
    """The explanation of ticket ``ticket_number``'s clocks, one printable line each."""
    tickets = Ticket.objects.select_related("service", "organisation")
    ticket = tickets.filter(number=ticket_number).first()
    if ticket is None:
        raise NotFound(_("no ticket #%(number)s") % {"number": ticket_number})
    catalogue = PolicyCatalogue()
    policy = catalogue.policy_for(ticket_facts(ticket))
    if policy is None:
        return [f"Ticket #{ticket.number}: no SLA policy applies ({_facts_text(ticket)})."]
    calendar = catalogue.calendar_for(
        policy=policy, organisation_id=ticket.organisation_id, team_id=ticket.team_id
    )
    events = list(TicketEvent.objects.filter(ticket=ticket).order_by("at", "id"))
    history = [HistoryEvent(at=e.at, verb=e.verb, changes=e.changes or {}) for e in events]
    business = business_calendar(calendar)
    heading = Heading(
        number=ticket.number,
        policy=policy.name,
        matched_on=_criteria_text(policy),
        calendar=calendar.name,
        business=business,
        targets=policy_targets(policy),
    )
    state = clocks_from_history(history, heading.targets, business)
    notes = [note for note in (_note(event) for event in events) if note is not None]
    return explanation_lines(heading=heading, state=state, notes=notes, now=clock.now())


def explanation_lines(
    *, heading: Heading, state: ClockState, notes: Sequence[Note], now: dt.datetime
) -> list[str]:
    """Pure formatting of a replay: heading, timeline, and the clocks as they stand."""
    lines = [
        f'Ticket #{heading.number}: policy "{heading.policy}" on calendar '
        f'"{heading.calendar}" ({heading.zone.key})',
        f"Matched on: {heading.matched_on}",
        f"Targets: {_targets_text(heading.targets)}",
        "Every step below is replayed from the ticket's history under this policy.",
        "",
    ]
    lines += _timeline(state.steps, notes, heading.zone)
    lines += ["", f"Now ({_when(now, heading.zone)}):"]
    for shown in (*state.earlier_cycles, *state.clocks):
        lines.append(_clock_line(shown, heading, now))
    if not state.clocks:
        lines.append("  no clock has started")
    return lines


def human_duration(seconds: int) -> str:
    """Business time as people say it: ``4 h``, ``1 h 05 min``, ``12 min 30 s``.

    Hours are not folded into days: 26 hours of business time are several
    working days, and "1 d 2 h" would read as a calendar day.
    """
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours} h")
    if minutes or (hours and secs):
        parts.append(f"{minutes:02d} min" if hours else f"{minutes} min")
    if secs or not parts:
        parts.append(f"{secs} s")
    return sign + " ".join(parts)


def _timeline(steps: Sequence[Step], notes: Sequence[Note], zone: ZoneInfo) -> list[str]:
    entries: list[tuple[dt.datetime, int, str]] = []
    for (at, cause), grouped in groupby(steps, key=lambda step: (step.at, step.cause)):
        actions = "; ".join(_step_text(step) for step in grouped)
        entries.append((at, 0, f"{cause}: {actions}"))
    entries += [(note.at, 1, note.text) for note in notes]
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    return [f"{_when(at, zone)}  {text}" for at, _, text in entries]


def _step_text(step: Step) -> str:
    name = _clock_name(step.kind, step.cycle)
    if step.action in ("paused", "stopped"):
        return f"{name} {step.action} after {human_duration(_seconds(step.elapsed))}"
    if step.action == "resumed":
        return f"{name} resumed ({human_duration(_seconds(step.elapsed))} used so far)"
    return f"{name} {step.action}"


def _clock_line(current: Clock, heading: Heading, now: dt.datetime) -> str:
    zone = heading.zone
    name = _clock_name(current.kind, current.cycle)
    target = human_duration(_seconds(current.target))
    if current.status == ClockStatus.RUNNING:
        left = _seconds(current.remaining(heading.business, now))
        parts = [f"due {_when(current.due_at, zone)}"]
        if current.warn_at is not None:
            parts.append(f"warning at {_when(current.warn_at, zone)}")
        parts.append(
            f"{human_duration(left)} left" if left >= 0 else f"overdue by {human_duration(-left)}"
        )
        verdict = "breached" if current.is_breached(now) else "running"
        return f"  {name:<22} {verdict:<9} target {target} · " + " · ".join(parts)
    used = human_duration(_seconds(current.elapsed))
    verdict = "met"
    if current.breach_at is not None:
        verdict = "breached"
    elif current.status == ClockStatus.PAUSED:
        verdict = "paused"
    parts = [f"{used} of {target} used"]
    if current.due_at is not None:
        parts.insert(0, f"due {_when(current.due_at, zone)}")
    if current.status == ClockStatus.STOPPED:
        parts.insert(0, f"stopped {_when(current.stopped_at, zone)}")
    else:
        parts.append(f"paused since {_when(current.stopped_at, zone)}")
    return f"  {name:<22} {verdict:<9} " + " · ".join(parts)


def _note(event: TicketEvent) -> Note | None:
    changes = event.changes or {}
    if event.verb in RETARGETING:
        field = RETARGETING[event.verb]
        before, after = (changes.get(field) or [None, None])[:2]
        return Note(
            event.at,
            f"{field} {_value(before)} → {_value(after)}: clocks re-targeted from the "
            "whole history under the policy that applies now",
        )
    if event.verb in ("sla_warning", "sla_breached"):
        return Note(event.at, f"{event.verb} recorded: {event.reason or ''}".rstrip(": "))
    return None


def _criteria_text(policy: Any) -> str:
    parts = []
    if policy.organisation_id:
        parts.append(f"organisation {policy.organisation.name}")
    if policy.service_id:
        parts.append(f"service {policy.service.name}")
    if policy.ticket_type:
        parts.append(f"type {policy.ticket_type}")
    if policy.priority is not None:
        parts.append(f"priority {policy.priority}")
    return ", ".join(parts) or "every ticket (no criterion)"


def _facts_text(ticket: Ticket) -> str:
    service = ticket.service.name if ticket.service else "none"
    organisation = ticket.organisation.name if ticket.organisation else "none"
    return (
        f"priority {ticket.priority}, service {service}, organisation {organisation}, "
        f"type {ticket.type}"
    )


def _targets_text(targets: Targets) -> str:
    next_response = (
        "none" if targets.next_response is None else human_duration(_seconds(targets.next_response))
    )
    pauses = ", ".join(sorted(targets.pause_statuses)) or "nothing"
    warning = f"{targets.warn_percent} %" if targets.warn_percent else "none"
    return (
        f"first response {human_duration(_seconds(targets.first_response))} · "
        f"next response {next_response} · "
        f"resolution {human_duration(_seconds(targets.resolution))} · warning at {warning} · "
        f"resolution pauses while {pauses}"
    )


def _clock_name(kind: ClockKind, cycle: int) -> str:
    name = CLOCK_NAMES[kind]
    return f"{name} #{cycle}" if kind == ClockKind.NEXT_RESPONSE else name


def _value(value: Any) -> str:
    return "none" if value is None or value == "" else str(value)


def _seconds(delta: dt.timedelta) -> int:
    return delta // dt.timedelta(seconds=1)


def _when(value: dt.datetime | None, zone: ZoneInfo) -> str:
    if value is None:
        return "—"
    local = value.astimezone(zone).replace(microsecond=0)
    return local.strftime("%Y-%m-%d %H:%M:%S %z")[:-2] + ":" + local.strftime("%z")[-2:]
