"""A queue's rows, built in Python.

Fifty rows through the template engine's variable lookups cost more than all
of the page's queries. Here the same markup is put together once per row with
what is constant for the page (the clock, the time zone, the link pattern,
the badges per status and priority) worked out once, so the queue page stays
within its time budget at any size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from django import template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from expediter.core import clock
from expediter.tickets.models import Ticket
from expediter.web.durations import timesince
from expediter.web.templatetags.desk import priority_badge, status_badge
from expediter.web.templatetags.sla import sla_badge_at

register = template.Library()

# Filled with str.format: every value below is escaped by _row or is our own markup.
ROW = (
    '<tr class="prio-row-{priority}">'
    '<td class="number"><a href="{url}">{number}</a></td>'
    '<td class="subject"><a href="{url}">{subject}</a>{service}</td>'
    "<td>{priority_badge}</td><td>{status_badge}</td><td>{sla_badge}</td>"
    "<td>{requester}</td><td>{team}</td><td>{assignee}</td>"
    '<td><time datetime="{created_iso}" title="{created_short}">{age}</time></td>'
    "</tr>\n"
)
_SENTINEL_ID = 987654321

ROW_FIELDS = (
    *("number", "subject", "priority", "status", "created_at"),
    *("service__name", "team__name", "requester__name", "assignee__name"),
)
"""What :func:`_row` reads, for ``QuerySet.only()`` on the queue's page (of the people, names)."""


@dataclass(frozen=True)
class _Page:
    now: dt.datetime
    zone: dt.tzinfo
    link: str  # the ticket page's URL with _SENTINEL_ID for the id
    language: str

    def url(self, ticket: Ticket) -> str:
        return self.link.replace(str(_SENTINEL_ID), str(ticket.pk))


@register.simple_tag
def queue_rows(tickets: Iterable[Ticket]) -> SafeString:
    """The ``<tr>`` of each ticket (fetched with requester, team, assignee, service)."""
    page = _Page(
        now=clock.now(),
        zone=timezone.get_current_timezone(),
        link=reverse("web:ticket", args=[_SENTINEL_ID]),
        language=translation.get_language(),
    )
    return mark_safe("".join(_row(ticket, page) for ticket in tickets))  # noqa: S308 - escaped


def _row(ticket: Ticket, page: _Page) -> str:
    """One row; people's text goes through ``escape``, badges are our own markup."""
    created = ticket.created_at.astimezone(page.zone)
    service = (
        f' <span class="muted">· {escape(ticket.service.name)}</span>' if ticket.service else ""
    )
    return ROW.format(
        priority=int(ticket.priority),
        url=escape(page.url(ticket)),
        number=int(ticket.number),
        subject=escape(ticket.subject),
        service=service,
        priority_badge=priority_badge(ticket.priority),
        status_badge=status_badge(ticket.status),
        sla_badge=sla_badge_at(ticket, page.now, page.zone),
        requester=escape(ticket.requester.name),
        team=escape(ticket.team.name) if ticket.team else "—",
        assignee=escape(ticket.assignee.name) if ticket.assignee else "—",
        created_iso=created.isoformat(),
        created_short=created.strftime("%Y-%m-%d %H:%M"),
        age=escape(timesince(ticket.created_at, page.now, depth=1, language=page.language)),
    )
