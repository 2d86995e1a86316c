"""SLA attainment: how many clocks were met or breached, by team, service, priority or period.

Counts come from the stored clocks in a grouped query over the tickets the
reader may see, created within the period; the page, the API and both CSV
exports call these functions, so they cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Trunc
from django.utils.translation import gettext as _

from expediter.core import clock
from expediter.core.errors import InvalidInput
from expediter.sla.models import ClockKindChoices, ClockStatusChoices, SlaClock
from expediter.staff.models import User
from expediter.tickets.selectors import ticket_visible_queryset

GROUPINGS = ("team", "service", "priority", "day", "week", "month")
REPORTED_CLOCKS = (ClockKindChoices.FIRST_RESPONSE, ClockKindChoices.RESOLUTION)
BREACHED_LIST_LIMIT = 1000


@dataclass(frozen=True)
class Attainment:
    """Met and breached clocks of one kind; pending ones are neither yet."""

    met: int = 0
    breached: int = 0
    pending: int = 0

    @property
    def rate(self) -> float | None:
        """Share of decided clocks that were met, in percent (None when none decided)."""
        decided = self.met + self.breached
        return None if decided == 0 else round(100 * self.met / decided, 1)


@dataclass(frozen=True)
class AttainmentRow:
    label: str
    tickets: int
    first_response: Attainment
    resolution: Attainment


@dataclass(frozen=True)
class BreachedClock:
    ticket_id: int
    number: int
    subject: str
    priority: int
    team: str | None
    service: str | None
    assignee: str | None
    clock: str
    due_at: dt.datetime | None
    stopped_at: dt.datetime | None


@dataclass(frozen=True)
class AttainmentReport:
    group_by: str
    start: dt.datetime
    end: dt.datetime
    rows: list[AttainmentRow]
    total: AttainmentRow
    breached: list[BreachedClock]


def sla_attainment_report(
    *, user: User, start: dt.datetime, end: dt.datetime, group_by: str = "team"
) -> AttainmentReport:
    """Attainment of tickets created in ``[start, end)`` that ``user`` may see."""
    if group_by not in GROUPINGS:
        raise InvalidInput(
            _("group_by must be one of %(known)s") % {"known": ", ".join(GROUPINGS)},
            field="group_by",
        )
    if end <= start:
        raise InvalidInput(_("the period ends before it starts"), field="to")
    now = clock.now()
    clocks = _clocks_in_scope(user, start, end)
    counted = _counts(clocks, group_by, now)
    rows = [_row(label, kinds) for label, kinds in counted.items()]
    return AttainmentReport(
        group_by=group_by,
        start=start,
        end=end,
        rows=rows,
        total=_total(rows),
        breached=breached_clocks(clocks, now=now),
    )


def breached_clocks(
    clocks: QuerySet[SlaClock], *, now: dt.datetime, limit: int = BREACHED_LIST_LIMIT
) -> list[BreachedClock]:
    """The breached clocks among ``clocks``, earliest breach first."""
    found = (
        clocks.filter(_breached(now))
        .select_related("ticket", "ticket__team", "ticket__service", "ticket__assignee")
        .order_by("breach_at", "pk")[:limit]
    )
    return [
        BreachedClock(
            ticket_id=row.ticket_id,
            number=row.ticket.number,
            subject=row.ticket.subject,
            priority=row.ticket.priority,
            team=row.ticket.team.name if row.ticket.team else None,
            service=row.ticket.service.name if row.ticket.service else None,
            assignee=row.ticket.assignee.name if row.ticket.assignee else None,
            clock=row.kind,
            due_at=row.due_at,
            stopped_at=row.stopped_at if row.status == ClockStatusChoices.STOPPED else None,
        )
        for row in found
    ]


def _clocks_in_scope(user: User, start: dt.datetime, end: dt.datetime) -> QuerySet[SlaClock]:
    return SlaClock.objects.filter(
        ticket__in=ticket_visible_queryset(user),
        ticket__created_at__gte=start,
        ticket__created_at__lt=end,
        kind__in=REPORTED_CLOCKS,
    )


def _breached(now: dt.datetime) -> Q:
    return Q(breach_at__isnull=False, breach_at__lt=now)


def _counts(
    clocks: QuerySet[SlaClock], group_by: str, now: dt.datetime
) -> dict[str, dict[str, dict[str, int]]]:
    met = Q(status=ClockStatusChoices.STOPPED, breach_at__isnull=True)
    grouped = (
        clocks.annotate(group=_group_expression(group_by))
        .values("group", "kind")
        .annotate(
            met=Count("pk", filter=met),
            breached=Count("pk", filter=_breached(now)),
            total=Count("pk"),
        )
        .order_by("group", "kind")
    )
    counted: dict[str, dict[str, dict[str, int]]] = {}
    for entry in grouped:
        label = _label(entry["group"], group_by)
        counted.setdefault(label, {})[entry["kind"]] = {
            "met": entry["met"],
            "breached": entry["breached"],
            "total": entry["total"],
        }
    return counted


def _group_expression(group_by: str) -> Any:
    if group_by in ("day", "week", "month"):
        return Trunc("ticket__created_at", group_by, tzinfo=ZoneInfo(settings.DESK_TIME_ZONE))
    return F(
        {"team": "ticket__team__name", "service": "ticket__service__name"}.get(
            group_by, "ticket__priority"
        )
    )


def _label(value: Any, group_by: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if group_by == "priority":
        return f"P{value}"
    return str(value)


def _attainment(counts: dict[str, int] | None) -> Attainment:
    if counts is None:
        return Attainment()
    met, breached = counts["met"], counts["breached"]
    return Attainment(met=met, breached=breached, pending=counts["total"] - met - breached)


def _row(label: str, kinds: dict[str, dict[str, int]]) -> AttainmentRow:
    resolution = kinds.get(ClockKindChoices.RESOLUTION)
    first_response = kinds.get(ClockKindChoices.FIRST_RESPONSE)
    tickets = max((counts["total"] for counts in kinds.values()), default=0)
    return AttainmentRow(
        label=label,
        tickets=tickets,
        first_response=_attainment(first_response),
        resolution=_attainment(resolution),
    )


def _total(rows: list[AttainmentRow]) -> AttainmentRow:
    def summed(pick: str) -> Attainment:
        parts = [getattr(row, pick) for row in rows]
        return Attainment(
            met=sum(part.met for part in parts),
            breached=sum(part.breached for part in parts),
            pending=sum(part.pending for part in parts),
        )

    return AttainmentRow(
        label="total",
        tickets=sum(row.tickets for row in rows),
        first_response=summed("first_response"),
        resolution=summed("resolution"),
    )
