"""Reads of SLA clocks: a ticket's clocks as people see them, and queue ordering.

Callers pass tickets they already narrowed with the visibility selector; the
clocks of a page of tickets cost one query whatever the page's length.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from expediter.core import clock
from expediter.core.errors import NotFound
from expediter.sla.calc import BusinessCalendar, business_seconds_between
from expediter.sla.models import Calendar, ClockStatusChoices, SlaClock, SlaPolicy
from expediter.sla.services.clocks import business_calendar, policy_catalogue
from expediter.tickets.models import Ticket

LIVE_STATUSES = (ClockStatusChoices.RUNNING, ClockStatusChoices.PAUSED)


@dataclass(frozen=True)
class ClockView:
    """One clock as the ticket shows it, evaluated at ``now``."""

    kind: str
    cycle: int
    status: str  # running, paused, stopped
    target_seconds: int
    started_at: dt.datetime
    stopped_at: dt.datetime | None
    due_at: dt.datetime | None
    warn_at: dt.datetime | None
    remaining_seconds: int
    breached: bool
    warned: bool

    @property
    def running(self) -> bool:
        return self.status == ClockStatusChoices.RUNNING

    @property
    def paused(self) -> bool:
        return self.status == ClockStatusChoices.PAUSED

    @property
    def met(self) -> bool:
        return self.status == ClockStatusChoices.STOPPED and not self.breached

    @property
    def shown_due(self) -> dt.datetime | None:
        """A paused clock has no due time until it resumes, unless it is already overdue."""
        return None if self.paused and not self.breached else self.due_at


@dataclass(frozen=True)
class TicketSla:
    """A ticket's clocks under the policy that applies to it."""

    policy: str
    calendar: str
    time_zone: str
    clocks: tuple[ClockView, ...]

    def clock(self, kind: str) -> ClockView | None:
        return next((view for view in self.clocks if view.kind == kind), None)

    @property
    def paused(self) -> bool:
        resolution = self.clock("resolution")
        return resolution is not None and resolution.paused

    @property
    def most_urgent(self) -> ClockView | None:
        """The running clock due first (what a queue should colour the row by)."""
        running = [view for view in self.clocks if view.running and view.due_at is not None]
        return min(running, key=lambda view: view.due_at or dt.datetime.max, default=None)


def ticket_sla_views(
    ticket_ids: Sequence[int], *, now: dt.datetime | None = None
) -> dict[int, TicketSla]:
    """The clocks of these tickets, one query; tickets no policy covers are absent.

    Policies and calendars come from the cached catalogue (a clock left by a
    policy deactivated since is looked up), not from a join per clock row.
    """
    if not ticket_ids:
        return {}
    rows = list(
        SlaClock.objects.filter(ticket_id__in=list(ticket_ids))
        .order_by("ticket_id", "kind")
        .only(*_VIEWED_FIELDS)
    )
    return _views_of(rows, now or clock.now())


_VIEWED_FIELDS = (
    *("ticket_id", "kind", "cycle", "status", "policy_id", "calendar_id", "target_seconds"),
    *("remaining_seconds", "started_at", "stopped_at", "due_at", "warn_at", "breach_at"),
)
"""What a view reads of a clock row (pages of 50 tickets skip converting six timestamps each)."""


def ticket_sla_of(ticket: Ticket, *, now: dt.datetime | None = None) -> TicketSla | None:
    """The clocks of a ticket in hand: from memory when its creation left them on it
    (``sla.services.clocks``), else one query."""
    rows = sorted(ticket.sla_clocks.all(), key=lambda row: row.kind)
    return _views_of(rows, now or clock.now()).get(ticket.pk)


def _views_of(rows: list[SlaClock], moment: dt.datetime) -> dict[int, TicketSla]:
    """Clock rows (ordered by ticket, then kind) as each ticket's view at ``moment``."""
    if not rows:
        return {}
    catalogue = policy_catalogue()
    policies = _known_or_loaded(SlaPolicy, catalogue.policies, {r.policy_id for r in rows})
    calendars = _known_or_loaded(Calendar, catalogue.calendars, {r.calendar_id for r in rows})
    grouped: dict[int, list[SlaClock]] = {}
    for row in rows:
        grouped.setdefault(row.ticket_id, []).append(row)
    return {
        ticket_id: _ticket_sla(found, moment, policies, calendars)
        for ticket_id, found in grouped.items()
    }


ModelT = TypeVar("ModelT", SlaPolicy, Calendar)


def _known_or_loaded(
    model: type[ModelT], known: Mapping[int, ModelT], wanted: set[int]
) -> dict[int, ModelT]:
    found = {pk: known[pk] for pk in wanted if pk in known}
    missing = wanted - found.keys()
    if missing:
        found.update(model.objects.in_bulk(missing))
    return found


def ticket_sla_view(ticket_id: int, *, now: dt.datetime | None = None) -> TicketSla | None:
    return ticket_sla_views([ticket_id], now=now).get(ticket_id)


def order_by_urgency(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Most urgent first: the earliest running due time (overdue ones lead), then priority.

    Tickets without a running clock (paused, no policy) follow, by priority and
    age. Sorts by ``Ticket.sla_due_at`` (kept by the SLA engine, indexed), so a
    queue of 100,000 tickets costs no per-row subquery; rows to display get
    their badges from :func:`attach_sla_marks`.
    """
    return queryset.order_by(F("sla_due_at").asc(nulls_last=True), "priority", "created_at", "pk")


def attach_sla_marks(tickets: Sequence[Ticket]) -> None:
    """Give a page of tickets what their queue badges show, in one query.

    Sets on rows already fetched ``sla_due`` (the earliest due time among
    running clocks), ``sla_warn_at`` (the earliest warning among them),
    ``sla_breach_at`` (the earliest breach of a running or paused clock, in
    the future until it happens) and ``sla_paused`` (a clock is paused),
    from the live clocks read as plain values: annotating the whole sorted
    queryset instead would evaluate subqueries for every candidate row
    before the page is cut.
    """
    if not tickets:
        return
    marks: dict[int, _Marks] = {ticket.pk: _Marks() for ticket in tickets}
    live = SlaClock.objects.filter(ticket_id__in=list(marks), status__in=LIVE_STATUSES)
    for ticket_id, status, due_at, warn_at, breach_at in live.order_by().values_list(
        "ticket_id", "status", "due_at", "warn_at", "breach_at"
    ):
        marks[ticket_id].add(status == ClockStatusChoices.RUNNING, due_at, warn_at, breach_at)
    for ticket in tickets:
        found = marks[ticket.pk]
        ticket.sla_due = found.due  # type: ignore[attr-defined]
        ticket.sla_warn_at = found.warn_at  # type: ignore[attr-defined]
        ticket.sla_breach_at = found.breach_at  # type: ignore[attr-defined]
        ticket.sla_paused = found.paused  # type: ignore[attr-defined]


@dataclass
class _Marks:
    """The earliest of each instant over a ticket's live clocks."""

    due: dt.datetime | None = None
    warn_at: dt.datetime | None = None
    breach_at: dt.datetime | None = None
    paused: bool = False

    def add(
        self,
        running: bool,
        due_at: dt.datetime | None,
        warn_at: dt.datetime | None,
        breach_at: dt.datetime | None,
    ) -> None:
        if running:
            self.due = _earliest(self.due, due_at)
            self.warn_at = _earliest(self.warn_at, warn_at)
        else:
            self.paused = True
        self.breach_at = _earliest(self.breach_at, breach_at)


def _earliest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _ticket_sla(
    rows: list[SlaClock],
    now: dt.datetime,
    policies: Mapping[int, SlaPolicy],
    calendars: Mapping[int, Calendar],
) -> TicketSla:
    first = rows[0]
    calendar = calendars[first.calendar_id]
    business = business_calendar(calendar)
    views = tuple(_clock_view(row, now, business) for row in rows)
    return TicketSla(
        policy=policies[first.policy_id].name,
        calendar=calendar.name,
        time_zone=calendar.time_zone,
        clocks=views,
    )


def _clock_view(row: SlaClock, now: dt.datetime, business: BusinessCalendar) -> ClockView:
    running = row.status == ClockStatusChoices.RUNNING
    remaining = row.remaining_seconds
    if running and row.due_at is not None:
        remaining = business_seconds_between(business, now, row.due_at)
    return ClockView(
        kind=row.kind,
        cycle=row.cycle,
        status=row.status,
        target_seconds=row.target_seconds,
        started_at=row.started_at,
        stopped_at=row.stopped_at,
        due_at=row.due_at,
        warn_at=row.warn_at,
        remaining_seconds=remaining,
        breached=row.breach_at is not None and row.breach_at < now,
        warned=running and row.warn_at is not None and row.warn_at <= now,
    )


def calendar_list() -> QuerySet[Calendar]:
    return Calendar.objects.prefetch_related("assignments__team", "assignments__organisation")


def calendar_get(calendar_id: int) -> Calendar:
    calendar = calendar_list().filter(pk=calendar_id).first()
    if calendar is None:
        raise NotFound(_("calendar %(id)s not found") % {"id": calendar_id})
    return calendar


def policy_list() -> QuerySet[SlaPolicy]:
    return SlaPolicy.objects.select_related("calendar", "service", "organisation").prefetch_related(
        "escalations"
    )


def policy_get(policy_id: int) -> SlaPolicy:
    policy = policy_list().filter(pk=policy_id).first()
    if policy is None:
        raise NotFound(_("policy %(id)s not found") % {"id": policy_id})
    return policy
