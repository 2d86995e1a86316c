"""The waiting queue: which ticket a free agent pulls, and the queue a lead sees.

Readers cost a fixed number of queries whatever the queue's length: each
group's first ticket is one index seek (see :func:`queue_heads`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from django.db.models import OuterRef, QuerySet, Subquery

from expediter.routing import engine
from expediter.routing.engine import AgentFacts, TicketFacts
from expediter.routing.models import QueuedTicket
from expediter.routing.selectors.facts import (
    PRIORITY_TARGET_MINUTES,
    service_requirements,
    team_policies,
)
from expediter.staff.models import Team
from expediter.tickets.models import Service, Ticket

QUEUE_PAGE_SIZE = 50
HEAD_COLUMNS = ("ticket_id", "team_id", "service_id", "priority", "due_at", "created_at")


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
    requirements: Mapping[int, dict[str, int]],
    exclude: Collection[int] = (),
) -> list[TicketFacts]:
    """The first waiting ticket of every group an agent may serve, in three or four queries.

    A group is (team, service, priority), first by due time, for
    urgency-first teams, and (team, service), first by age, for the others:
    the engine's ``next_ticket_for`` gives the same answer over these heads
    as over the whole queue. Each head is one index seek (a correlated
    subquery per service of the catalogue, and one per team for tickets
    without a service), so the cost follows the catalogue's size, not the
    queue's length. The heads are read as plain values: a pull compares a
    hundred of them and keeps one.
    """
    entries = QueuedTicket.objects.order_by()
    if exclude:
        entries = entries.exclude(ticket_id__in=list(exclude))
    head_ids: set[int] = set()
    by_service = _head_columns(entries, team_policies_by_id, service=OuterRef("pk"))
    for row in (
        Service.objects.exclude(pk__in=list(blocked_services))
        .order_by()
        .annotate(**by_service)
        .values_list(*by_service)
    ):
        head_ids.update(ticket_id for ticket_id in row if ticket_id is not None)
    if _any_without_service(entries, team_policies_by_id):
        without_service = _head_columns(entries, team_policies_by_id, service=None)
        anchor = Team.objects.filter(pk=min(team_policies_by_id)).order_by()
        for row in anchor.annotate(**without_service).values_list(*without_service):
            head_ids.update(ticket_id for ticket_id in row if ticket_id is not None)
    if not head_ids:
        return []
    heads = QueuedTicket.objects.filter(ticket_id__in=head_ids).order_by()
    return [
        TicketFacts(
            id=ticket_id,
            team_id=team_id,
            priority=priority,
            required_skills=requirements.get(service_id or 0, {}),
            due_at=due_at,
            created_at=created_at,
        )
        for ticket_id, team_id, service_id, priority, due_at, created_at in heads.values_list(
            *HEAD_COLUMNS
        )
    ]


def _any_without_service(entries: QuerySet[QueuedTicket], policies: Mapping[int, str]) -> bool:
    """Whether these teams have waiting tickets without a service: one index probe.

    Most desks file every ticket under a service; the heads query for the
    others costs more to prepare than this probe does to run.
    """
    return entries.filter(team_id__in=list(policies), service__isnull=True).exists()


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
    agent: AgentFacts,
    *,
    at: dt.datetime,
    exclude: Collection[int] = (),
    requirements: Mapping[int, dict[str, int]] | None = None,
) -> TicketFacts | None:
    """The waiting ticket this agent would pull now, if any, in five or six queries.

    ``requirements``: the catalogue's skill needs, when the caller already
    read them (one query less).

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
    if requirements is None:
        requirements = service_requirements()
    blocked = [
        service_id
        for service_id, required in requirements.items()
        if any(agent.skills.get(skill, 0) < level for skill, level in required.items())
    ]
    heads = queue_heads(
        team_policies_by_id=policies,
        blocked_services=blocked,
        requirements=requirements,
        exclude=exclude,
    )
    by_team: dict[int, list[TicketFacts]] = defaultdict(list)
    for head in heads:
        assert head.team_id is not None
        by_team[head.team_id].append(head)
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
