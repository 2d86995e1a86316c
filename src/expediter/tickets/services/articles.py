"""Adding to a ticket's conversation: replies, notes, and what they set in motion."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from expediter.core import clock
from expediter.core.errors import InvalidInput, InvalidTransition, NotPermitted
from expediter.staff import policies
from expediter.staff.models import User
from expediter.tickets.models import Article, Channel, LinkKind, Status, Ticket
from expediter.tickets.search import search_append
from expediter.tickets.services._common import event_record, ticket_for_update
from expediter.tickets.services.attachments import NewAttachment, attachments_store
from expediter.tickets.services.links import link_create
from expediter.tickets.services.tickets import reopen_on_requester_reply, ticket_open

BODY_MAX = 1_000_000


@dataclass(frozen=True)
class ArticleOrigin:
    """Where an article came from when it did not come from a signed-in person."""

    channel: str = Channel.WEB
    from_name: str = ""
    from_email: str = ""
    kind: str = "message"  # message, auto_reply, bounce, call, unknown_sender
    at: dt.datetime | None = None


@transaction.atomic
def article_add(
    *,
    ticket_id: int,
    author: User | None,
    actor: User | None,
    body: str,
    internal: bool = False,
    html: str | None = None,
    attachments: Sequence[NewAttachment] = (),
    origin: ArticleOrigin | None = None,
    enforce_attachment_limit: bool = True,
    changes_state: bool = True,
) -> Article:
    """Add a reply or a note; a requester's reply reopens, an agent's first reply answers.

    ``actor`` is who acts for visibility (None for the system, e.g. mail
    intake after its own identity checks); ``author`` is whose words these
    are. A requester's reply to a closed ticket opens a new ticket linked to
    it, and that article is returned. ``changes_state=False`` records the
    article without moving the ticket (out-of-office replies, bounces).
    """
    origin = origin or ArticleOrigin()
    ticket = ticket_for_update(ticket_id=ticket_id, actor=actor)
    body = body or ""
    if not body.strip() and not attachments:
        raise InvalidInput(_("the message is empty"), field="body")
    if len(body) > BODY_MAX:
        raise InvalidInput(_("the message is too long"), field="body")
    staff = author is not None and policies.is_agent(author)
    if internal and actor is not None and not policies.is_agent(actor):
        raise NotPermitted(_("only agents write internal notes"))
    if ticket.status == Status.CLOSED and not internal:
        if staff:
            raise InvalidTransition(_("a closed ticket takes no more replies; open a new one"))
        return _follow_up_closed(
            ticket, author=author, body=body, html=html, attachments=attachments, origin=origin
        )
    at = origin.at or clock.now()
    article = Article.objects.create(
        ticket=ticket,
        author=author,
        from_name=origin.from_name or (author.name if author else ""),
        from_email=origin.from_email or (author.email if author else ""),
        internal=internal,
        channel=origin.channel,
        body=body,
        html=html,
        kind=origin.kind,
        created_at=at,
    )
    attachments_store(
        article=article, attachments=attachments, enforce_limit=enforce_attachment_limit
    )
    search_append(ticket, body)
    ticket.updated_at = at
    fields = ["updated_at"]
    public_by_staff = staff and not internal
    if public_by_staff and ticket.first_responded_at is None:
        ticket.first_responded_at = at
        fields.append("first_responded_at")
    ticket.save(update_fields=fields)
    event_record(
        ticket=ticket,
        actor=actor if actor is not None else author,
        verb="article_added",
        at=at,
        changes={
            "article": [None, article.pk],
            "internal": [None, internal],
            "from": [None, "agent" if staff else "requester"],
            "kind": [None, origin.kind],
        },
    )
    if changes_state and not staff and not internal:
        reopen_on_requester_reply(ticket, actor=actor if actor is not None else author)
    return article


def _follow_up_closed(
    closed: Ticket,
    *,
    author: User | None,
    body: str,
    html: str | None,
    attachments: Sequence[NewAttachment],
    origin: ArticleOrigin,
) -> Article:
    """A reply to a closed ticket starts a new request linked to the old one."""
    requester = author or closed.requester
    opened = ticket_open(
        requester=requester,
        actor=None,
        subject=closed.subject,
        description=body,
        html=html,
        attachments=attachments,
        channel=origin.channel,
        service=closed.service.name if closed.service else None,
        impact=closed.impact,
        urgency=closed.urgency,
        from_email=origin.from_email,
        from_name=origin.from_name,
    )
    link_create(
        source=opened.ticket,
        target=closed,
        kind=LinkKind.RELATED,
        actor=None,
        reason=f"reply to closed ticket #{closed.number}",
    )
    return opened.article
