"""Full-text search over subjects, descriptions and articles.

One function per concern, with the database-specific part kept here: FTS5
on SQLite, ``tsvector`` on PostgreSQL. The index row of a ticket is rewritten
by the services whenever its text changes.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import QuerySet

from expediter.core.rows import insert
from expediter.tickets.models import Article, Ticket, TicketSearchText

_WORD = re.compile(r"\w+", re.UNICODE)


def search_reindex(ticket: Ticket) -> None:
    """Rebuild the searchable text of one ticket from its subject and public/internal text."""
    bodies = Article.objects.filter(ticket=ticket).values_list("body", flat=True)
    text = "\n".join([ticket.subject, ticket.description, *bodies])
    TicketSearchText.objects.update_or_create(ticket=ticket, defaults={"text": text})


def search_index_new(ticket: Ticket) -> None:
    """Index a ticket just created: its subject and description are all its text."""
    insert(TicketSearchText(ticket=ticket, text=f"{ticket.subject}\n{ticket.description}"))


def search_append(ticket: Ticket, extra: str) -> None:
    """Add an article's text without re-reading the whole conversation."""
    row = TicketSearchText.objects.filter(ticket=ticket).first()
    if row is None:
        search_reindex(ticket)
        return
    row.text = f"{row.text}\n{extra}"
    row.save(update_fields=["text"])


def _fts5_query(query: str) -> str:
    """Quote every word (prefix match on the last) so user input is never FTS syntax."""
    words = _WORD.findall(query)
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words[:-1]] + [f'"{words[-1]}"*']
    return " AND ".join(quoted)


def search_filter(queryset: QuerySet[Ticket], query: str) -> QuerySet[Ticket]:
    """Restrict ``queryset`` to tickets whose text matches every word of ``query``."""
    query = (query or "").strip()
    if not query:
        return queryset
    if connection.vendor == "postgresql":
        return queryset.extra(
            where=[
                "tickets_ticket.id IN (SELECT ticket_id FROM tickets_ticketsearchtext "
                "WHERE to_tsvector('simple', text) @@ plainto_tsquery('simple', %s))"
            ],
            params=[query],
        )
    if connection.vendor == "sqlite":
        fts = _fts5_query(query)
        if not fts:
            return queryset.none()
        return queryset.extra(
            where=[
                "tickets_ticket.id IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH %s)"
            ],
            params=[fts],
        )
    words = _WORD.findall(query)
    for word in words:
        queryset = queryset.filter(search_text__text__icontains=word)
    return queryset
