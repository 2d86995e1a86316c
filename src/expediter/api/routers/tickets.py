"""``/tickets``: thin adapters over the ticket services and selectors."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from expediter.api.auth import request_user
from expediter.api.pagination import paginate
from expediter.api.presenters import (
    TICKET_OUT_FIELDS,
    article_out,
    event_out,
    ticket_out,
    worklog_out,
)
from expediter.api.schemas.tickets import ArticleIn, TicketCreateIn, TicketPatchIn, WorklogIn
from expediter.api.sla import ticket_sla
from expediter.core.errors import InvalidInput, NotPermitted
from expediter.staff import policies
from expediter.staff.models import User
from expediter.staff.services import requester_get_or_create
from expediter.tickets import selectors
from expediter.tickets import services as tickets

router = Router(tags=["tickets"])


def _present(ticket_id: int, user: User) -> dict[str, Any]:
    ticket = selectors.ticket_get_visible(user=user, ticket_id=ticket_id)
    return ticket_out(ticket, ticket_sla(ticket))


@router.post("/tickets", response={201: dict}, summary="Open a ticket")
def create_ticket(request: HttpRequest, payload: TicketCreateIn) -> Status[dict[str, Any]]:
    user = request_user(request)
    requester = user
    if payload.requester_email and payload.requester_email.lower() != user.email.lower():
        if not policies.is_agent(user):
            raise NotPermitted(_("only agents open tickets for someone else"))
        requester = requester_get_or_create(email=payload.requester_email)
    ticket = tickets.ticket_create(
        requester=requester,
        actor=user,
        subject=payload.subject,
        description=payload.description,
        service=payload.service,
        impact=payload.impact,
        urgency=payload.urgency,
        channel=payload.channel,
        ticket_type=payload.type,
    )
    return Status(201, ticket_out(ticket, ticket_sla(ticket)))


@router.get("/tickets", response=dict, summary="List visible tickets, newest first")
def list_tickets(
    request: HttpRequest,
    status: str | None = None,
    assignee: int | None = None,
    team: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    user = request_user(request)
    filters = selectors.TicketFilters(status=status, assignee_id=assignee, team=team, query=q or "")
    queryset = selectors.ticket_list_visible_to(user=user, filters=filters).only(*TICKET_OUT_FIELDS)
    page = paginate(queryset, cursor=cursor, limit=limit, present=ticket_out, newest_first=True)
    from expediter.api.sla import attach_sla

    attach_sla(page["items"])
    return page


@router.get("/tickets/{ticket_id}", response=dict, summary="One ticket")
def get_ticket(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    return _present(ticket_id, request_user(request))


@router.patch("/tickets/{ticket_id}", response=dict, summary="Change a ticket")
def patch_ticket(request: HttpRequest, ticket_id: int, payload: TicketPatchIn) -> dict[str, Any]:
    user = request_user(request)
    given = frozenset(payload.model_fields_set)
    for name in ("impact", "urgency", "priority"):
        if name in given and getattr(payload, name) is None:
            raise InvalidInput(_("%(field)s cannot be null") % {"field": name}, field=name)
    changes = tickets.TicketChanges(given=given, **payload.model_dump())
    tickets.ticket_update(ticket_id=ticket_id, actor=user, changes=changes)
    return _present(ticket_id, user)


@router.post("/tickets/{ticket_id}/articles", response={201: dict}, summary="Reply or add a note")
def add_article(request: HttpRequest, ticket_id: int, payload: ArticleIn) -> Status[dict[str, Any]]:
    user = request_user(request)
    article = tickets.article_add(
        ticket_id=ticket_id,
        author=user,
        actor=user,
        body=payload.body,
        internal=payload.internal,
        origin=tickets.ArticleOrigin(channel="api"),
    )
    return Status(201, article_out(article))


@router.get("/tickets/{ticket_id}/articles", response=dict, summary="The conversation")
def list_articles(
    request: HttpRequest, ticket_id: int, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    user = request_user(request)
    ticket = selectors.ticket_get_visible(user=user, ticket_id=ticket_id)
    articles = selectors.article_list_visible(user=user, ticket=ticket)
    return paginate(articles, cursor=cursor, limit=limit, present=article_out, newest_first=False)


@router.get("/tickets/{ticket_id}/events", response=dict, summary="History, oldest first")
def list_events(
    request: HttpRequest, ticket_id: int, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    user = request_user(request)
    ticket = selectors.ticket_get_visible(user=user, ticket_id=ticket_id)
    events = selectors.event_list(ticket=ticket)
    return paginate(events, cursor=cursor, limit=limit, present=event_out, newest_first=False)


@router.post("/tickets/{ticket_id}/worklogs", response={201: dict}, summary="Log time")
def add_worklog(request: HttpRequest, ticket_id: int, payload: WorklogIn) -> Status[dict[str, Any]]:
    user = request_user(request)
    selectors.ticket_get_visible(user=user, ticket_id=ticket_id)  # 404 before 403
    worklog = tickets.worklog_add(
        ticket_id=ticket_id, agent=user, minutes=payload.minutes, note=payload.note
    )
    return Status(201, worklog_out(worklog))
