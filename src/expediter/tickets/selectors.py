"""Reads of tickets that depend on who asks.

Every page, API call and export goes through :func:`ticket_visible_queryset`,
so "who sees what" cannot drift between them. A ticket someone may not see
is reported exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from expediter.core.errors import InvalidInput, NotFound
from expediter.staff.models import Role, User
from expediter.tickets.models import (
    ACTIVE_STATUSES,
    OPEN_STATUSES,
    Article,
    Attachment,
    Ticket,
    TicketEvent,
    TicketLink,
    Worklog,
)
from expediter.tickets.search import search_filter


def ticket_visible_queryset(user: User) -> QuerySet[Ticket]:
    """The tickets ``user`` may see (the contract's "Who sees what")."""
    tickets = Ticket.objects.all()
    if not user.is_authenticated or not user.is_active:
        return tickets.none()
    if user.role in (Role.LEAD, Role.ADMIN):
        return tickets
    watched = Ticket.watchers.through.objects.filter(user_id=user.pk).values("ticket_id")
    own = Q(requester=user) | Q(id__in=watched)
    if user.role == Role.AGENT:
        team_ids = list(user.memberships.values_list("team_id", flat=True))
        rule = own | Q(team__isnull=True) | Q(team_id__in=team_ids) | Q(assignee=user)
    else:
        rule = own
        org = user.organisation
        if org is not None and org.members_see_all_tickets:
            rule |= Q(organisation=org)
    return tickets.filter(rule)


def ticket_get_visible(*, user: User, ticket_id: int) -> Ticket:
    ticket = (
        ticket_visible_queryset(user)
        .select_related("requester", "assignee", "team", "service", "organisation")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise NotFound(_("ticket %(id)s not found") % {"id": ticket_id})
    return ticket


@dataclass(frozen=True)
class TicketFilters:
    status: str | None = None  # a status, or "open"
    assignee_id: int | None = None
    unassigned: bool = False
    team: str | None = None
    team_ids: tuple[int, ...] | None = None
    requester_id: int | None = None
    query: str = ""
    priority: int | None = None
    service: str | None = None


def ticket_list_visible_to(*, user: User, filters: TicketFilters) -> QuerySet[Ticket]:
    """Visible tickets narrowed by the filters; ordering is the caller's choice."""
    tickets = ticket_visible_queryset(user)
    if filters.status == "open":
        tickets = tickets.filter(status__in=OPEN_STATUSES)
    elif filters.status:
        tickets = tickets.filter(status__in=filters.status.split(","))
    if filters.assignee_id is not None:
        tickets = tickets.filter(assignee_id=filters.assignee_id)
    if filters.unassigned:
        tickets = tickets.filter(assignee__isnull=True)
    if filters.team:
        tickets = tickets.filter(team__name__iexact=filters.team)
    if filters.team_ids is not None:
        tickets = tickets.filter(team_id__in=filters.team_ids)
    if filters.requester_id is not None:
        tickets = tickets.filter(requester_id=filters.requester_id)
    if filters.priority is not None:
        tickets = tickets.filter(priority=filters.priority)
    if filters.service:
        tickets = tickets.filter(service__name__iexact=filters.service)
    if filters.query:
        tickets = search_filter(tickets, filters.query)
    return tickets.select_related("requester", "assignee", "team", "service")


def article_list_visible(*, user: User, ticket: Ticket) -> QuerySet[Article]:
    """A ticket's articles as ``user`` may read them (requesters never see notes)."""
    articles = Article.objects.filter(ticket=ticket).select_related("author")
    if user.role == Role.REQUESTER:
        articles = articles.filter(internal=False)
    return articles.prefetch_related("attachments")


def event_list(*, ticket: Ticket) -> QuerySet[TicketEvent]:
    return TicketEvent.objects.filter(ticket=ticket).select_related("actor").order_by("at", "id")


def attachment_get_visible(*, user: User, attachment_id: int) -> Attachment:
    """An attachment, only if its ticket (and article, for notes) is visible."""
    attachment = (
        Attachment.objects.select_related("article", "blob")
        .filter(pk=attachment_id, article__ticket__in=ticket_visible_queryset(user))
        .first()
    )
    if attachment is None or (attachment.article.internal and user.role == Role.REQUESTER):
        raise NotFound(_("attachment %(id)s not found") % {"id": attachment_id})
    return attachment


def worklog_list_visible(
    *,
    user: User,
    agent_id: int | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> QuerySet[Worklog]:
    """Worklogs on tickets ``user`` may see, overlapping ``[start, end)`` by time logged."""
    worklogs = Worklog.objects.filter(ticket__in=ticket_visible_queryset(user))
    if user.role == Role.REQUESTER:
        return worklogs.none()
    if agent_id is not None:
        worklogs = worklogs.filter(agent_id=agent_id)
    if start is not None:
        worklogs = worklogs.filter(at__gte=start)
    if end is not None:
        worklogs = worklogs.filter(at__lt=end)
    return worklogs.select_related("agent", "ticket")


@dataclass(frozen=True)
class AgentWorkSummary:
    agent_id: int
    agent_name: str
    minutes: int
    tickets: int
    entries: int


def worklog_report(
    *, user: User, start: dt.datetime | None, end: dt.datetime | None
) -> list[AgentWorkSummary]:
    """Minutes per agent over a period: who worked on how much."""
    rows = (
        worklog_list_visible(user=user, start=start, end=end)
        .values("agent_id", "agent__name")
        .annotate(
            minutes=Sum("minutes"),
            tickets=Count("ticket", distinct=True),
            entries=Count("id"),
        )
        .order_by("-minutes", "agent__name")
    )
    return [
        AgentWorkSummary(
            agent_id=row["agent_id"],
            agent_name=row["agent__name"],
            minutes=row["minutes"] or 0,
            tickets=row["tickets"],
            entries=row["entries"],
        )
        for row in rows
    ]


def agent_active_count(*, agent_id: int) -> int:
    """Tickets counting against an agent's capacity."""
    return Ticket.objects.filter(assignee_id=agent_id, status__in=ACTIVE_STATUSES).count()


def ticket_by_number(number: int) -> Ticket | None:
    """Internal lookup (mail threading); callers decide what the sender may do."""
    return Ticket.objects.filter(number=number).first()


@dataclass(frozen=True)
class QualifiedAgent:
    """An agent who may work a ticket: in its team, with the service's skills."""

    agent: User
    skills: dict[str, int]


def qualified_agents(*, ticket: Ticket) -> list[QualifiedAgent]:
    """Active agents of the ticket's team holding every required skill at its minimum.

    Routing and appointment booking both start from this list; duty, time
    off and capacity are theirs to check.
    """
    from expediter.staff.models import STAFF_ROLES, AgentSkill
    from expediter.tickets.models import ServiceSkill

    if ticket.team_id is None:
        return []
    agents = list(
        User.objects.filter(
            is_active=True, role__in=STAFF_ROLES, memberships__team_id=ticket.team_id
        ).order_by("id")
    )
    levels: dict[int, dict[str, int]] = {a.pk: {} for a in agents}
    for agent_id, skill, level in AgentSkill.objects.filter(agent__in=agents).values_list(
        "agent_id", "skill__name", "level"
    ):
        levels[agent_id][skill] = level
    required: dict[str, int] = {}
    if ticket.service_id is not None:
        required = dict(
            ServiceSkill.objects.filter(service_id=ticket.service_id).values_list(
                "skill__name", "min_level"
            )
        )
    return [
        QualifiedAgent(agent=a, skills=levels[a.pk])
        for a in agents
        if all(levels[a.pk].get(name, 0) >= minimum for name, minimum in required.items())
    ]


@dataclass(frozen=True)
class LinkedTicket:
    kind: str
    outgoing: bool
    ticket: Ticket


def linked_tickets(*, user: User, ticket: Ticket) -> list[LinkedTicket]:
    """Links of ``ticket`` whose other end ``user`` may see, for the ticket page.

    The numbers of hidden tickets still show in the timeline, but neither
    their subject nor a link to them does.
    """
    visible = ticket_visible_queryset(user)
    links = (
        TicketLink.objects.filter(
            Q(source=ticket, target__in=visible) | Q(target=ticket, source__in=visible)
        )
        .select_related("source", "target")
        .order_by("created_at", "id")
    )
    return [
        LinkedTicket(
            kind=link.kind,
            outgoing=link.source_id == ticket.pk,
            ticket=link.target if link.source_id == ticket.pk else link.source,
        )
        for link in links
    ]


def visible_ticket_id(*, user: User, number: int) -> int:
    """The id of the ticket numbered ``number``, only if ``user`` may see it.

    Forms name tickets by number, services take ids.
    """
    found = ticket_visible_queryset(user).filter(number=number).values_list("id", flat=True)
    ticket_id = found.first()
    if ticket_id is None:
        # A form error about the number typed, not a 404 of the page it was typed on.
        raise InvalidInput(_("No ticket #%(number)s.") % {"number": number}, field="number")
    return int(ticket_id)
