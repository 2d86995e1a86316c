"""How domain objects look in the API (the contract's shapes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from expediter.staff.models import User
from expediter.tickets.models import Article, Ticket, TicketEvent, Worklog


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 in the desk's zone, with its offset, to the second."""
    if value is None:
        return None
    desk_zone = timezone.get_default_timezone()  # cached; localtime() asks a context var
    return value.astimezone(desk_zone).replace(microsecond=0).isoformat()


def person(user: User | None, *, with_email: bool = False) -> dict[str, Any] | None:
    if user is None:
        return None
    out: dict[str, Any] = {"id": user.pk, "name": user.name}
    if with_email:
        out["email"] = user.email
    return out


TICKET_OUT_FIELDS = (
    *("number", "type", "subject", "description", "status", "priority", "priority_overridden"),
    *("impact", "urgency", "channel", "created_at", "updated_at", "first_responded_at"),
    *("resolved_at", "closed_at", "merged_into_id", "service__name", "team__name"),
    *("assignee__name", "requester__name", "requester__email"),
)
"""What :func:`ticket_out` reads, for ``QuerySet.only()`` on lists (of the people, names)."""


def ticket_out(ticket: Ticket, sla: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "type": ticket.type,
        "subject": ticket.subject,
        "description": ticket.description,
        "status": ticket.status,
        "priority": ticket.priority,
        "priority_overridden": ticket.priority_overridden,
        "impact": ticket.impact,
        "urgency": ticket.urgency,
        "channel": ticket.channel,
        "service": ticket.service.name if ticket.service_id and ticket.service else None,
        "team": ticket.team.name if ticket.team_id and ticket.team else None,
        "assignee": person(ticket.assignee),
        "requester": person(ticket.requester, with_email=True),
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "first_responded_at": iso(ticket.first_responded_at),
        "resolved_at": iso(ticket.resolved_at),
        "closed_at": iso(ticket.closed_at),
        "merged_into": ticket.merged_into_id,
        "sla": sla,
    }


def attachment_url(attachment_id: int) -> str:
    return settings.BASE_URL + reverse("api-1.0.0:attachment_download", args=[attachment_id])


def article_out(article: Article) -> dict[str, Any]:
    return {
        "id": article.pk,
        "ticket": article.ticket_id,
        "body": article.body,
        "html": article.html,
        "internal": article.internal,
        "channel": article.channel,
        "kind": article.kind,
        "from": {"name": article.from_name, "email": article.from_email},
        "author": person(article.author),
        "created_at": iso(article.created_at),
        "attachments": [
            {
                "id": a.pk,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "url": attachment_url(a.pk),
            }
            for a in article.attachments.all()
        ],
    }


def event_out(event: TicketEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "ticket": event.ticket_id,
        "at": iso(event.at),
        "actor": person(event.actor),
        "verb": event.verb,
        "changes": event.changes,
        "reason": event.reason,
    }


def worklog_out(worklog: Worklog) -> dict[str, Any]:
    return {
        "id": worklog.pk,
        "ticket": worklog.ticket_id,
        "agent": person(worklog.agent),
        "minutes": worklog.minutes,
        "note": worklog.note,
        "at": iso(worklog.at),
    }
