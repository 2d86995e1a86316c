"""Reads for routing: the facts the engine decides on, the waiting queue, the team board.

Every reader here costs a fixed number of queries whatever the size of the
team or of the queue, so a decision among 500 agents and a pull from a queue
of 100,000 tickets stay in the milliseconds (see ``bench/routing.py``).

Due times come from the SLA engine when it is installed (a soft dependency:
:func:`due_times` asks ``expediter.sla.selectors.annotate_next_due`` for the
earliest running clock), else from the ticket's creation plus its priority's
target (:data:`PRIORITY_TARGET_MINUTES`).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery

from expediter.routing import engine
from expediter.routing.engine import AgentFacts, TicketFacts
from expediter.routing.models import AgentRoutingState, QueuedTicket, TeamRoutingSettings
from expediter.schedules.selectors import duty_states
from expediter.staff.models import STAFF_ROLES, AgentSkill, Team, TeamMembership, User
from expediter.tickets.models import ACTIVE_STATUSES, Service, ServiceSkill, Ticket

PRIORITY_TARGET_MINUTES = {1: 30, 2: 120, 3: 480, 4: 1440}
"""Time to start work per priority when no SLA clock says otherwise (the simulator's defaults)."""

QUEUEABLE_STATUSES = ("new", "in_progress")
"""Open statuses in which a ticket without an assignee waits for one (waiting ones wait for
someone else first)."""

QUEUE_PAGE_SIZE = 50


def desk_zone() -> ZoneInfo:
    return ZoneInfo(settings.DESK_TIME_ZONE)


def zone_of(user_zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(user_zone) if user_zone else desk_zone()
    except (ZoneInfoNotFoundError, ValueError):
        return desk_zone()


def is_waiting(ticket: Ticket) -> bool:
    """A ticket the engine should find an agent for."""
    return (
        ticket.assignee_id is None
        and ticket.team_id is not None
        and ticket.status in QUEUEABLE_STATUSES
    )


def team_policies(team_ids: Iterable[int]) -> dict[int, str]:
    return dict(Team.objects.filter(pk__in=list(team_ids)).values_list("pk", "assignment_policy"))


def routing_settings(*, team_id: int) -> TeamRoutingSettings:
    """The team's settings, or the defaults (unsaved) when it has none."""
    found = TeamRoutingSettings.objects.filter(team_id=team_id).first()
    return found or TeamRoutingSettings(team_id=team_id)


def handover_team_ids() -> list[int]:
    return list(
        TeamRoutingSettings.objects.filter(handover_when_off_duty=True).values_list(
            "team_id", flat=True
        )
    )


# --- facts --------------------------------------------------------------------------------------


def service_requirements(service_ids: Collection[int] | None = None) -> dict[int, dict[str, int]]:
    """Minimum skill levels per service (all services when None); the table is small."""
    rows = ServiceSkill.objects.all()
    if service_ids is not None:
        rows = rows.filter(service_id__in=service_ids)
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for service_id, skill, level in rows.values_list("service_id", "skill__name", "min_level"):
        found[service_id][skill] = level
    return dict(found)


def team_member_ids(*, team_id: int) -> list[int]:
    return list(
        User.objects.filter(is_active=True, role__in=STAFF_ROLES, memberships__team_id=team_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def team_scope(team_id: int) -> QuerySet[Any]:
    """A subquery of the team's member ids, for ``__in`` filters over hundreds of agents."""
    return TeamMembership.objects.filter(team_id=team_id).values("user_id")


def active_counts(agent_ids: Collection[int], *, team_id: int | None = None) -> dict[int, int]:
    """Tickets counting against each agent's capacity (assigned or in progress).

    With ``team_id`` (the agents are that team's members), active tickets are
    matched to the team's memberships with EXISTS, which PostgreSQL answers
    from the few active tickets instead of walking every ticket of 500 agents.
    """
    rows = Ticket.objects.filter(status__in=ACTIVE_STATUSES)
    if team_id is None:
        rows = rows.filter(assignee_id__in=agent_ids)
    else:
        members = TeamMembership.objects.filter(team_id=team_id, user_id=OuterRef("assignee_id"))
        rows = rows.filter(assignee_id__isnull=False).filter(Exists(members))
    counts = dict.fromkeys(agent_ids, 0)
    for agent_id, active in (
        rows.values("assignee_id").annotate(active=Count("id")).values_list("assignee_id", "active")
    ):
        if agent_id in counts:
            counts[agent_id] = active
    return counts


def agent_facts(
    *,
    at: dt.datetime,
    agent_ids: Collection[int] | None = None,
    team_id: int | None = None,
) -> list[AgentFacts]:
    """The engine's view of active agents, by id, in eight queries.

    Either ``agent_ids`` or ``team_id`` (the team's active members): a team
    is read through subqueries, which keeps a team of 500 as cheap as 5.
    """
    people_rows = User.objects.filter(is_active=True, role__in=STAFF_ROLES)
    among = team_scope(team_id) if team_id is not None else None
    if team_id is not None:
        people_rows = people_rows.filter(memberships__team_id=team_id)
    else:
        people_rows = people_rows.filter(pk__in=list(agent_ids or ()))
    people = list(people_rows.order_by("pk").values_list("pk", "name", "capacity", "time_zone"))
    ids = [row[0] for row in people]
    scope: Collection[int] | QuerySet[Any] = ids if among is None else among
    teams: dict[int, set[int]] = defaultdict(set)
    for user_id, member_of in TeamMembership.objects.filter(user_id__in=scope).values_list(
        "user_id", "team_id"
    ):
        teams[user_id].add(member_of)
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    for agent_id, skill, level in AgentSkill.objects.filter(agent_id__in=scope).values_list(
        "agent_id", "skill__name", "level"
    ):
        skills[agent_id][skill] = level
    active = active_counts(ids, team_id=team_id)
    last = dict(
        AgentRoutingState.objects.filter(agent_id__in=scope).values_list(
            "agent_id", "last_assigned_at"
        )
    )
    states = duty_states(agent_ids=ids, at=at, among=among)
    return [
        AgentFacts(
            id=pk,
            name=name,
            team_ids=frozenset(teams[pk]),
            on_duty=states[pk].on_duty,
            on_time_off=states[pk].on_time_off,
            duty_ends_at=states[pk].duty_ends_at,
            skills=skills[pk],
            active=active[pk],
            capacity=capacity,
            last_assigned_at=last.get(pk),
            time_zone=zone_of(time_zone),
        )
        for pk, name, capacity, time_zone in people
    ]


def due_times(tickets: Sequence[Ticket]) -> dict[int, dt.datetime]:
    """When each ticket should be started: the SLA engine's due time, else the priority target."""
    from_sla = _sla_due_times([t.pk for t in tickets])
    return {t.pk: from_sla.get(t.pk) or fallback_due_at(t.created_at, t.priority) for t in tickets}


def fallback_due_at(created_at: dt.datetime, priority: int) -> dt.datetime:
    minutes = PRIORITY_TARGET_MINUTES.get(priority, PRIORITY_TARGET_MINUTES[4])
    return created_at + dt.timedelta(minutes=minutes)


def _sla_due_times(ticket_ids: list[int]) -> Mapping[int, dt.datetime | None]:
    """The earliest running SLA due time of each ticket, when the SLA engine is installed.

    Read through ``expediter.sla.selectors.annotate_next_due`` (``sla_due``);
    a desk without it, or a ticket no policy covers, falls back to the
    priority target.
    """
    try:
        module = importlib.import_module("expediter.sla.selectors")
    except ImportError:
        return {}
    annotate = getattr(module, "annotate_next_due", None)
    if annotate is None or not ticket_ids:
        return {}
    typed = cast(Callable[[QuerySet[Ticket]], Any], annotate)
    annotated = typed(Ticket.objects.filter(pk__in=ticket_ids))
    return dict(annotated.values_list("pk", "sla_due"))


def ticket_facts(ticket: Ticket, *, due_at: dt.datetime | None) -> TicketFacts:
    required = service_requirements([ticket.service_id]) if ticket.service_id else {}
    return TicketFacts(
        id=ticket.pk,
        team_id=ticket.team_id,
        priority=ticket.priority,
        required_skills=required.get(ticket.service_id or 0, {}),
        due_at=due_at,
        created_at=ticket.created_at,
    )


# --- the waiting queue --------------------------------------------------------------------------


def _entry_facts(entry: QueuedTicket, requirements: Mapping[int, dict[str, int]]) -> TicketFacts:
    return TicketFacts(
        id=entry.ticket_id,
        team_id=entry.team_id,
        priority=entry.priority,
        required_skills=requirements.get(entry.service_id or 0, {}),
        due_at=entry.due_at,
        created_at=entry.created_at,
    )


def queue_heads(
    *,
    team_policies_by_id: Mapping[int, str],
    blocked_services: Collection[int],
    exclude: Collection[int] = (),
) -> list[QueuedTicket]:
    """The first waiting ticket of every group an agent may serve, in three queries.

    A group is (team, service, priority), first by due time, for
    urgency-first teams, and (team, service), first by age, for the others:
    the engine's ``next_ticket_for`` gives the same answer over these heads
    as over the whole queue. Each head is one index seek (a correlated
    subquery per service of the catalogue, and one per team for tickets
    without a service), so the cost follows the catalogue's size, not the
    queue's length.
    """
    entries = QueuedTicket.objects.all()
    if exclude:
        entries = entries.exclude(ticket_id__in=list(exclude))
    head_ids: set[int] = set()
    by_service = _head_columns(entries, team_policies_by_id, service=OuterRef("pk"))
    for row in (
        Service.objects.exclude(pk__in=list(blocked_services))
        .annotate(**by_service)
        .values_list(*by_service)
    ):
        head_ids.update(ticket_id for ticket_id in row if ticket_id is not None)
    without_service = _head_columns(entries, team_policies_by_id, service=None)
    anchor = Team.objects.filter(pk=min(team_policies_by_id)).annotate(**without_service)
    for row in anchor.values_list(*without_service):
        head_ids.update(ticket_id for ticket_id in row if ticket_id is not None)
    return list(QueuedTicket.objects.filter(ticket_id__in=head_ids)) if head_ids else []


def _head_columns(
    entries: QuerySet[QueuedTicket], policies: Mapping[int, str], *, service: OuterRef | None
) -> dict[str, Subquery]:
    """One subquery per group: the id of its first ticket (``service`` None: no service)."""
    columns = {}
    for team_id, policy in policies.items():
        rows = entries.filter(team_id=team_id)
        rows = (
            rows.filter(service__isnull=True) if service is None else rows.filter(service=service)
        )
        if policy in engine.URGENCY_FIRST_POLICIES:
            for priority in PRIORITY_TARGET_MINUTES:
                first = rows.filter(priority=priority).order_by("due_at", "created_at", "ticket_id")
                columns[f"team{team_id}_p{priority}"] = Subquery(first.values("ticket_id")[:1])
        else:
            first = rows.order_by("created_at", "ticket_id")
            columns[f"team{team_id}_oldest"] = Subquery(first.values("ticket_id")[:1])
    return columns


def next_waiting_for(
    agent: AgentFacts, *, at: dt.datetime, exclude: Collection[int] = ()
) -> TicketFacts | None:
    """The waiting ticket this agent would pull now, if any (about five queries).

    Each of the agent's teams (manual ones aside) offers its next ticket under
    its own policy; the agent takes the most urgent offer.
    """
    policies = {
        team_id: policy
        for team_id, policy in team_policies(agent.team_ids).items()
        if policy != engine.MANUAL_POLICY
    }
    if not policies:
        return None
    requirements = service_requirements()
    blocked = [
        service_id
        for service_id, required in requirements.items()
        if any(agent.skills.get(skill, 0) < level for skill, level in required.items())
    ]
    heads = queue_heads(team_policies_by_id=policies, blocked_services=blocked, exclude=exclude)
    by_team: dict[int, list[TicketFacts]] = defaultdict(list)
    for entry in heads:
        by_team[entry.team_id].append(_entry_facts(entry, requirements))
    offers = [
        offer
        for team_id, tickets in by_team.items()
        if (offer := engine.next_ticket_for(agent, tickets, policy=policies[team_id], now=at))
    ]
    if not offers:
        return None
    return min(offers, key=lambda t: (engine.urgency_key(t, now=at), t.created_at, t.id))


def teams_with_waiting_tickets() -> list[int]:
    """Teams whose queue holds something an agent could pull (manual teams aside)."""
    return list(
        QueuedTicket.objects.exclude(team__assignment_policy=engine.MANUAL_POLICY)
        .values_list("team_id", flat=True)
        .distinct()
        .order_by("team_id")
    )


@dataclass(frozen=True)
class QueueRow:
    """One waiting ticket on the lead's board."""

    entry: QueuedTicket
    ticket: Ticket
    minutes_left: int


def queue_rows(*, team_id: int, at: dt.datetime, limit: int = QUEUE_PAGE_SIZE) -> list[QueueRow]:
    """The ``limit`` most urgent waiting tickets of a team, most urgent first, in four queries.

    Within one priority urgency follows the due time, so the first ``limit``
    of each priority hold the overall first ``limit``.
    """
    requirements: Mapping[int, dict[str, int]] = {}
    candidates: list[QueuedTicket] = []
    for priority in PRIORITY_TARGET_MINUTES:
        candidates.extend(
            QueuedTicket.objects.filter(team_id=team_id, priority=priority)
            .select_related("ticket", "ticket__requester", "service")
            .order_by("due_at", "created_at", "ticket_id")[:limit]
        )
    candidates.sort(
        key=lambda e: (engine.urgency_key(_entry_facts(e, requirements), now=at), e.ticket_id)
    )
    return [
        QueueRow(
            entry=entry,
            ticket=entry.ticket,
            minutes_left=int((entry.due_at - at).total_seconds() // 60),
        )
        for entry in candidates[:limit]
    ]


def queue_size(*, team_id: int) -> int:
    return QueuedTicket.objects.filter(team_id=team_id).count()


# --- the lead's board ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentLoad:
    """An agent's load against capacity and their duty, for the board."""

    agent: User
    facts: AgentFacts
    tickets: list[Ticket]

    @property
    def load_percent(self) -> int:
        if self.facts.capacity <= 0:
            return 100
        return min(100, round(100 * self.facts.active / self.facts.capacity))

    @property
    def spare(self) -> int:
        return max(self.facts.capacity - self.facts.active, 0)


@dataclass(frozen=True)
class TeamBoard:
    team: Team
    policy: str
    settings: TeamRoutingSettings
    agents: list[AgentLoad]
    queue: list[QueueRow]
    waiting: int

    @property
    def on_duty(self) -> int:
        return sum(1 for a in self.agents if a.facts.on_duty and not a.facts.on_time_off)

    @property
    def spare_capacity(self) -> int:
        return sum(a.spare for a in self.agents if a.facts.on_duty and not a.facts.on_time_off)


def team_board(*, team: Team, at: dt.datetime) -> TeamBoard:
    """Load, duty and queue of a team, in a fixed number of queries."""
    facts = agent_facts(team_id=team.pk, at=at)
    people = User.objects.in_bulk([f.id for f in facts])
    tickets: dict[int, list[Ticket]] = defaultdict(list)
    members = TeamMembership.objects.filter(team_id=team.pk, user_id=OuterRef("assignee_id"))
    in_hand = Ticket.objects.filter(status__in=ACTIVE_STATUSES, assignee_id__isnull=False)
    shown = in_hand.filter(Exists(members)).only("number", "subject", "priority", "assignee_id")
    for ticket in shown.order_by("priority", "created_at"):
        tickets[ticket.assignee_id or 0].append(ticket)
    loads = [AgentLoad(agent=people[f.id], facts=f, tickets=tickets[f.id]) for f in facts]
    loads.sort(key=lambda a: (not (a.facts.on_duty and not a.facts.on_time_off), a.agent.name))
    return TeamBoard(
        team=team,
        policy=team.assignment_policy,
        settings=routing_settings(team_id=team.pk),
        agents=loads,
        queue=queue_rows(team_id=team.pk, at=at),
        waiting=queue_size(team_id=team.pk),
    )
