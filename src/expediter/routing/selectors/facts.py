"""The facts the engine decides on: agents (duty, skills, load, turn) and tickets (due times).

A decision reads a team of hundreds in a fixed handful of queries, and each
query does per agent what an index answers: the active-ticket count is a
correlated ``COUNT`` on the ``(assignee, status)`` index, never a scan of
every open ticket, and a decision about one ticket reads only the skills
that ticket requires.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
)

from expediter.routing import engine
from expediter.routing.engine import AgentFacts, TicketFacts
from expediter.routing.models import TeamRoutingSettings
from expediter.routing.selectors.roster import (
    ROSTER,
    RosterMember,
    TeamRoster,
    current_loads,
    team_roster,
    zone_of,
)
from expediter.schedules.selectors import DutyState, duty_states
from expediter.staff.models import STAFF_ROLES, AgentSkill, Team, TeamMembership, User
from expediter.tickets.models import ACTIVE_STATUSES, ServiceSkill, Ticket

PRIORITY_TARGET_MINUTES = {1: 30, 2: 120, 3: 480, 4: 1440}
"""Time to start work per priority when no SLA clock says otherwise (the simulator's defaults)."""

QUEUEABLE_STATUSES = ("new", "in_progress")
"""Open statuses in which a ticket without an assignee waits for one (waiting ones wait for
someone else first)."""


def is_waiting(ticket: Ticket) -> bool:
    """A ticket the engine should find an agent for."""
    return (
        ticket.assignee_id is None
        and ticket.team_id is not None
        and ticket.status in QUEUEABLE_STATUSES
    )


def team_policies(team_ids: Iterable[int]) -> dict[int, str]:
    return dict(
        Team.objects.filter(pk__in=list(team_ids)).order_by().values_list("pk", "assignment_policy")
    )


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


def service_requirements(service_ids: Collection[int] | None = None) -> dict[int, dict[str, int]]:
    """Minimum skill levels per service (all services when None); the table is small."""
    rows = ServiceSkill.objects.order_by()
    if service_ids is not None:
        rows = rows.filter(service_id__in=service_ids)
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for service_id, skill, level in rows.values_list("service_id", "skill__name", "min_level"):
        found[service_id][skill] = level
    return dict(found)


def service_requirements_kept() -> dict[int, dict[str, int]]:
    """:func:`service_requirements` of every service, as kept with the routing roster."""
    return ROSTER.get("requirements", service_requirements)


def team_scope(team_id: int) -> QuerySet[Any]:
    """A subquery of the team's member ids, for ``__in`` filters over hundreds of agents."""
    return TeamMembership.objects.filter(team_id=team_id).values("user_id")


# --- load ---------------------------------------------------------------------------------------


def active_ticket_count() -> Subquery:
    """How many tickets count against the capacity of the outer query's person.

    A correlated ``COUNT`` without ``GROUP BY`` (so zero, not NULL, for an
    idle agent): one range of the ``(assignee, status)`` index per agent,
    which stays cheap with 100,000 open tickets, where grouping every active
    ticket of the desk would not.
    """
    tickets = Ticket.objects.filter(
        assignee_id=OuterRef("pk"), status__in=ACTIVE_STATUSES
    ).order_by()
    counted = tickets.annotate(active=Func(F("pk"), function="COUNT", output_field=IntegerField()))
    return Subquery(counted.values("active"), output_field=IntegerField())


def active_counts(agent_ids: Collection[int]) -> dict[int, int]:
    """Tickets counting against each agent's capacity (assigned or in progress), in one query."""
    counts = dict.fromkeys(agent_ids, 0)
    rows = Ticket.objects.filter(assignee_id__in=list(agent_ids), status__in=ACTIVE_STATUSES)
    for agent_id, active in (
        rows.order_by()
        .values("assignee_id")
        .annotate(active=Count("id"))
        .values_list("assignee_id", "active")
    ):
        counts[agent_id] = active
    return counts


# --- agents -------------------------------------------------------------------------------------


def _staff() -> QuerySet[User]:
    return User.objects.filter(is_active=True, role__in=STAFF_ROLES)


def _people(rows: QuerySet[User]) -> list[tuple[Any, ...]]:
    """``(id, name, capacity, time zone, active tickets, last assigned)`` of each person, by id."""
    people = rows.order_by("pk").annotate(
        active=active_ticket_count(), last_assigned=F("routing_state__last_assigned_at")
    )
    return list(
        people.values_list("pk", "name", "capacity", "time_zone", "active", "last_assigned")
    )


def _facts(
    row: Sequence[Any], *, team_ids: frozenset[int], skills: Mapping[str, int], duty: DutyState
) -> AgentFacts:
    pk, name, capacity, time_zone, active, last_assigned = row[:6]
    return AgentFacts(
        id=pk,
        name=name,
        team_ids=team_ids,
        on_duty=duty.on_duty,
        on_time_off=duty.on_time_off,
        duty_ends_at=duty.duty_ends_at,
        skills=skills,
        active=active,
        capacity=capacity,
        last_assigned_at=last_assigned,
        time_zone=zone_of(time_zone),
    )


def agent_facts(
    *,
    at: dt.datetime,
    agent_ids: Collection[int] | None = None,
    team_id: int | None = None,
) -> list[AgentFacts]:
    """The engine's view of active agents, by id, in six queries.

    Either ``agent_ids`` or ``team_id`` (the team's active members): a team
    is read through subqueries, which keeps a team of 500 as cheap as 5.
    Every team and every skill of each agent is read, for the board and for
    pulls; a decision about one ticket reads less (:func:`team_census`).
    """
    people_rows = _staff()
    if team_id is not None:
        people_rows = people_rows.filter(memberships__team_id=team_id)
    else:
        people_rows = people_rows.filter(pk__in=list(agent_ids or ()))
    people = _people(people_rows)
    ids = [row[0] for row in people]
    scope: Collection[int] | QuerySet[Any] = ids if team_id is None else team_scope(team_id)
    teams: dict[int, set[int]] = defaultdict(set)
    for user_id, member_of in (
        TeamMembership.objects.filter(user_id__in=scope)
        .order_by()
        .values_list("user_id", "team_id")
    ):
        teams[user_id].add(member_of)
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    for agent_id, skill, level in (
        AgentSkill.objects.filter(agent_id__in=scope)
        .order_by()
        .values_list("agent_id", "skill__name", "level")
    ):
        skills[agent_id][skill] = level
    among = None if team_id is None else team_scope(team_id)
    states = duty_states(agent_ids=ids, at=at, among=among)
    return [
        _facts(row, team_ids=frozenset(teams[row[0]]), skills=skills[row[0]], duty=states[row[0]])
        for row in people
    ]


@dataclass(frozen=True)
class TeamCensus:
    """The ticket's team as one decision needs it, without the facts of every member.

    ``agents``, in id order: every member who meets the hard rules but
    perhaps capacity, the first :data:`~expediter.routing.engine.REASON_NAMED`
    members by id failing each other rule, and whoever the caller asked to
    see. ``unlisted``: how many other members fail each rule, for
    :func:`~expediter.routing.engine.choose_agent`, whose reason is then
    word for word the one it would give with every member listed.
    """

    agents: list[AgentFacts]
    unlisted: dict[str, int]
    roster: TeamRoster
    at: dt.datetime
    could: frozenset[int]
    """The listed members who meet every hard rule but perhaps capacity."""

    def duty_end(self, agent_id: int) -> dt.datetime | None:
        """When the member's current stretch of duty ends, for the words of the one chosen."""
        member = self.roster.member(agent_id)
        return None if member is None else member.duty_end(self.at)


def team_census(*, ticket: TicketFacts, at: dt.datetime, also: int | None = None) -> TeamCensus:
    """The members of the ticket's team as one decision sees them, in one small query.

    Members, skills and schedules come from the process's roster
    (:func:`~expediter.routing.selectors.roster.team_roster`), so each
    member's first failed rule comes from a few set operations; facts are
    built only for those who could take the ticket and the few a reason names,
    whose loads are read (:func:`~expediter.routing.selectors.roster.current_loads`),
    and the others are counted. Capacity is checked on the facts, after the
    locks. ``team_ids`` holds the ticket's team only, which is all the
    decision reads;
    ``duty_ends_at`` is left out (see :meth:`TeamCensus.duty_end`). ``also``:
    a member to list whatever the rules (a handover's previous assignee, whom
    the caller then leaves out of the reason: one more of each kind is listed).
    """
    assert ticket.team_id is not None
    roster = team_roster(ticket.team_id, at=at)
    at_work, on_time_off = roster.duty_at(at)
    skilled = roster.skilled(ticket.required_skills)
    named = engine.REASON_NAMED + (0 if also is None else 1)
    present = at_work - on_time_off
    could = present if skilled is None else present & skilled
    failing = (
        (engine.ON_TIME_OFF, on_time_off),
        (engine.OFF_DUTY, roster.ids - on_time_off - at_work),
        (engine.LACKS_SKILL, set() if skilled is None else present - skilled),
    )
    listed = dict.fromkeys(could, "")
    unlisted: dict[str, int] = {}
    for rule, ids in failing:
        if ids:
            shown = set(heapq.nsmallest(named, ids))
            if also is not None and also in ids:
                shown.add(also)
            listed.update(dict.fromkeys(shown, rule))
            unlisted[rule] = len(ids) - len(shown)
    loads = current_loads(could)
    agents = [
        _member_facts(roster, roster.by_id[pk], listed[pk], loads.get(pk)) for pk in sorted(listed)
    ]
    return TeamCensus(
        agents=agents, unlisted=unlisted, roster=roster, at=at, could=frozenset(could)
    )


def _member_facts(
    roster: TeamRoster,
    member: RosterMember,
    rule: str,
    load: tuple[int, dt.datetime | None] | None,
) -> AgentFacts:
    """The member's facts for this decision, reused while nothing in them changed.

    Between two decisions only the loads of a few agents move, so facts are
    kept on the roster (which is dropped on every change to the team) by
    everything they hold that a decision may change: the rule the member
    fails, the load and the last assignment. They carry every skill of the
    member, so the facts built for one service serve the next.
    """
    active, last_assigned = load or (0, None)
    key = (member.id, rule, active, last_assigned)
    kept = roster.facts.get(key)
    if kept is not None:
        return kept
    duty = _CENSUS_DUTY[rule]
    facts = AgentFacts(
        id=member.id,
        name=member.name,
        team_ids=frozenset({roster.team_id}),
        on_duty=duty.on_duty,
        on_time_off=duty.on_time_off,
        duty_ends_at=None,
        skills=member.skills,
        active=active,
        capacity=member.capacity,
        last_assigned_at=last_assigned,
        time_zone=member.zone,
    )
    if len(roster.facts) >= FACTS_KEPT:
        roster.facts.clear()
    roster.facts[key] = facts
    return facts


FACTS_KEPT = 20_000
"""Facts a roster keeps at most before starting again (a few per member and service)."""


_CENSUS_DUTY = {
    "": DutyState(on_duty=True, on_time_off=False, duty_ends_at=None),
    engine.ON_TIME_OFF: DutyState(on_duty=False, on_time_off=True, duty_ends_at=None),
    engine.OFF_DUTY: DutyState(on_duty=False, on_time_off=False, duty_ends_at=None),
    engine.LACKS_SKILL: DutyState(on_duty=True, on_time_off=False, duty_ends_at=None),
}
"""The duty a census row implies, by the first rule the member fails ("": none)."""


# --- tickets ------------------------------------------------------------------------------------


def due_times(tickets: Sequence[Ticket]) -> dict[int, dt.datetime]:
    """When each ticket should be started: its SLA due time, else the priority target.

    ``Ticket.sla_due_at`` is the earliest running clock's due time, kept by the
    SLA engine on every write; a ticket no policy covers (or a paused one) has
    none and falls back to the priority target.
    """
    return {t.pk: t.sla_due_at or fallback_due_at(t.created_at, t.priority) for t in tickets}


def fallback_due_at(created_at: dt.datetime, priority: int) -> dt.datetime:
    minutes = PRIORITY_TARGET_MINUTES.get(priority, PRIORITY_TARGET_MINUTES[4])
    return created_at + dt.timedelta(minutes=minutes)


def ticket_facts(
    ticket: Ticket,
    *,
    due_at: dt.datetime | None,
    requirements: Mapping[int, dict[str, int]] | None = None,
) -> TicketFacts:
    """The engine's view of a ticket; ``requirements`` when the caller already read them."""
    if requirements is None and ticket.service_id:
        requirements = service_requirements_kept()
    return TicketFacts(
        id=ticket.pk,
        team_id=ticket.team_id,
        priority=ticket.priority,
        required_skills=(requirements or {}).get(ticket.service_id or 0, {}),
        due_at=due_at,
        created_at=ticket.created_at,
    )
