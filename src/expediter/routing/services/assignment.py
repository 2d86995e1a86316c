"""Finding an agent for one ticket, queuing it when nobody qualifies, paging for P1s."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from expediter.core import clock
from expediter.mail.notify import notify_user
from expediter.mail.services.replies import language_of
from expediter.routing import engine
from expediter.routing import selectors as routing
from expediter.routing.engine import AgentFacts, Decision, TicketFacts
from expediter.routing.models import AgentRoutingState, QueuedTicket
from expediter.routing.selectors import TeamCensus
from expediter.routing.selectors.roster import ROSTER
from expediter.routing.services.locks import lock_and_recount, lock_ticket
from expediter.schedules import selectors as schedules
from expediter.staff.models import User
from expediter.tickets.models import ACTIVE_STATUSES, Ticket
from expediter.tickets.services import assignee_change
from expediter.tickets.services._common import event_record, user_ref

ASSIGNED = "assigned"
HANDED_OVER = "handed_over"
QUEUED = "queued"
UNTOUCHED = "untouched"


@dataclass(frozen=True)
class RouteOutcome:
    """What :func:`ticket_route` did: ``assigned``, ``handed_over``, ``queued`` or ``untouched``."""

    ticket_id: int
    action: str
    agent_id: int | None = None
    reason: str | None = None
    paged_user_id: int | None = None


@transaction.atomic
def ticket_route(*, ticket_id: int) -> RouteOutcome:
    """Assign a waiting ticket, hand over one whose assignee left, or leave it queued.

    Safe to call any number of times: a ticket that is assigned to someone on
    duty, closed, or in no team is left alone (and leaves the queue). The
    roster's token is read once for the whole decision.
    """
    with ROSTER.pinned():
        return _route(ticket_id)


def _route(ticket_id: int) -> RouteOutcome:
    now = clock.now()
    ticket = lock_ticket(ticket_id)
    if ticket is None:
        return RouteOutcome(ticket_id, UNTOUCHED)
    if ticket.assignee_id is not None:
        QueuedTicket.objects.filter(ticket_id=ticket_id).delete()
        return _handover(ticket, now)
    if not routing.is_waiting(ticket):
        QueuedTicket.objects.filter(ticket_id=ticket_id).delete()
        return RouteOutcome(ticket_id, UNTOUCHED)
    assert ticket.team is not None
    policy = ticket.team.assignment_policy
    census, ticket_facts = _decision_facts(ticket, now)
    decision = _decide(ticket_facts, census, policy=policy, now=now)
    if decision.agent_id is None:
        return _queue(ticket, ticket_facts, census, decision, now)
    reason = engine.assignment_reason(policy, decision)
    assign_ticket(ticket, decision.agent_id, reason, now)
    return RouteOutcome(ticket_id, ASSIGNED, agent_id=decision.agent_id, reason=reason)


def _decision_facts(
    ticket: Ticket, now: dt.datetime, *, also: int | None = None
) -> tuple[TeamCensus, TicketFacts]:
    """The team's census for this ticket, with the agents who could take it locked and recounted.

    Only those agents (every hard rule met but perhaps capacity) are locked:
    the others cannot be chosen, whatever their load.
    """
    assert ticket.team_id is not None
    ticket_facts = routing.ticket_facts(ticket, due_at=routing.due_times([ticket])[ticket.pk])
    census = routing.team_census(ticket=ticket_facts, at=now, also=also)
    return replace(census, agents=lock_and_recount(census.agents, census.could)), ticket_facts


def _decide(
    ticket_facts: TicketFacts, census: TeamCensus, *, policy: str, now: dt.datetime
) -> Decision:
    """The engine's choice; the chosen agent's words then say until when they are on duty.

    The census does not say when anyone's duty ends, and only the chosen
    agent's words need it: the engine asks the census for that one agent.
    """
    return engine.choose_agent(
        ticket_facts,
        census.agents,
        policy=policy,
        now=now,
        unlisted=census.unlisted,
        duty_end=census.duty_end,
    )


def assign_ticket(ticket: Ticket, agent_id: int, reason: str, now: dt.datetime) -> None:
    """Hand the locked ticket over through the ticket services, with the reason on its event.

    The agent's last assignment is remembered for round robin, the ticket
    leaves the queue, and the agent is told (in the same transaction, so
    the notification exists only if the assignment commits).
    """
    agent = User.objects.get(pk=agent_id)
    assignee_change(ticket, assignee=agent, actor=None, reason=reason)
    _remember_turn(agent_id, now)
    QueuedTicket.objects.filter(ticket_id=ticket.pk).delete()
    with translation.override(language_of(agent)):
        text = _("#%(number)s %(subject)s is assigned to you") % {
            "number": ticket.number,
            "subject": ticket.subject,
        }
    notify_user(user=agent, ticket=ticket, kind="assigned", text=text)


def _remember_turn(agent_id: int, now: dt.datetime) -> None:
    """Round robin's memory, in one upsert (``INSERT ... ON CONFLICT``, SQLite and PostgreSQL)."""
    AgentRoutingState.objects.bulk_create(
        [AgentRoutingState(agent_id=agent_id, last_assigned_at=now)],
        update_conflicts=True,
        unique_fields=["agent"],
        update_fields=["last_assigned_at"],
    )


def _queue(
    ticket: Ticket,
    ticket_facts: TicketFacts,
    census: TeamCensus,
    decision: Decision,
    now: dt.datetime,
) -> RouteOutcome:
    """Keep the ticket in its team's queue; say why once, page once if it is urgent."""
    assert ticket.team is not None and ticket_facts.due_at is not None
    key = ", ".join(
        (engine.MANUAL_POLICY,)
        if ticket.team.assignment_policy == engine.MANUAL_POLICY
        else engine.wait_causes(ticket_facts, census.agents, unlisted=census.unlisted)
    )[:120]
    entry = QueuedTicket.objects.filter(ticket_id=ticket.pk).first()
    if entry is None or entry.reason_key != key:
        event_record(ticket=ticket, actor=None, verb="queued", reason=decision.reason, at=now)
    entry = entry or QueuedTicket(ticket=ticket, queued_at=now)
    entry.team_id = ticket.team.pk
    entry.service_id = ticket.service_id
    entry.priority = ticket.priority
    entry.due_at = ticket_facts.due_at
    entry.created_at = ticket.created_at
    entry.reason = decision.reason
    entry.reason_key = key
    paged = None
    if _should_page(ticket, ticket_facts, census.agents, entry):
        paged = _page_on_call(ticket, entry, now)
    entry.save()
    return RouteOutcome(ticket.pk, QUEUED, reason=decision.reason, paged_user_id=paged)


def _should_page(
    ticket: Ticket, ticket_facts: TicketFacts, facts: list[AgentFacts], entry: QueuedTicket
) -> bool:
    return (
        ticket.priority == 1
        and entry.paged_at is None
        and not engine.someone_on_duty_could_take(ticket_facts, facts)
    )


def _page_on_call(ticket: Ticket, entry: QueuedTicket, now: dt.datetime) -> int | None:
    """Notify the team's on-call person and say so on the ticket; None when nobody is on call."""
    assert ticket.team is not None
    on_call = schedules.on_call_for_team(team_id=ticket.team.pk, at=now)
    if on_call is None or on_call.user is None:
        return None
    person = on_call.user
    until = ""
    if on_call.until is not None:
        local = on_call.until.astimezone(routing.zone_of(person.time_zone))
        until = f" until {local:%a %H:%M}"
    reason = (
        f"P1 and nobody on duty in {ticket.team.name} can take it: paged {person.name}, "
        f"on call for {on_call.schedule.name}{until}"
    )
    event_record(
        ticket=ticket,
        actor=None,
        verb="paged",
        changes={"paged": [None, user_ref(person)]},
        reason=reason,
        at=now,
    )
    with translation.override(language_of(person)):
        text = _("P1 #%(number)s %(subject)s: nobody on duty in %(team)s") % {
            "number": ticket.number,
            "subject": ticket.subject,
            "team": ticket.team.name,
        }
    notify_user(user=person, ticket=ticket, kind="paged", text=text)
    entry.paged_at = now
    return person.pk


def _handover(ticket: Ticket, now: dt.datetime) -> RouteOutcome:
    """Move an active ticket from an assignee who went off duty, if the team asks for it.

    When nobody on duty may take it, the ticket stays with its assignee
    (rather than lying unowned) and the next sweep tries again; nothing is
    written until someone takes it.
    """
    if ticket.status not in ACTIVE_STATUSES or ticket.team_id is None:
        return RouteOutcome(ticket.pk, UNTOUCHED)
    if not routing.routing_settings(team_id=ticket.team_id).handover_when_off_duty:
        return RouteOutcome(ticket.pk, UNTOUCHED)
    assert ticket.assignee_id is not None and ticket.team is not None
    state = schedules.duty_states(agent_ids=[ticket.assignee_id], at=now)[ticket.assignee_id]
    if state.on_duty and not state.on_time_off:
        return RouteOutcome(ticket.pk, UNTOUCHED)
    policy = ticket.team.assignment_policy
    if policy == engine.MANUAL_POLICY:
        return RouteOutcome(ticket.pk, UNTOUCHED)
    census, ticket_facts = _decision_facts(ticket, now, also=ticket.assignee_id)
    previous = next((f for f in census.agents if f.id == ticket.assignee_id), None)
    others = [f for f in census.agents if f.id != ticket.assignee_id]
    decision = _decide(ticket_facts, replace(census, agents=others), policy=policy, now=now)
    if decision.agent_id is None or previous is None:
        return RouteOutcome(ticket.pk, UNTOUCHED, reason=decision.reason)
    reason = engine.handover_reason(previous, decision, policy=policy)
    assign_ticket(ticket, decision.agent_id, reason, now)
    return RouteOutcome(ticket.pk, HANDED_OVER, agent_id=decision.agent_id, reason=reason)
