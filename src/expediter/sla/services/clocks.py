"""Keeping every ticket's clocks equal to the replay of its history.

The in-transaction listener recomputes a ticket's clocks whenever one of its
events can move them or change which policy applies, so a write's answer
and the next read already carry the right due times. Rebuilds run the same
code over many tickets at once, a chunk per handful of queries.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import QuerySet

from expediter.core import clock
from expediter.core.memo import SharedMemo
from expediter.core.rows import Prepared, insert_prepared, prepare
from expediter.sla.calc import BusinessCalendar, calendar_from_spec, split_country
from expediter.sla.matching import PolicyCriteria, TicketFacts, best_policy
from expediter.sla.models import Calendar, CalendarAssignment, SlaClock, SlaPolicy
from expediter.sla.services.public_holidays import stored_public_holidays
from expediter.sla.timeline import (
    CLOCK_VERBS,
    Clock,
    ClockState,
    ClockStatus,
    HistoryEvent,
    Targets,
    clocks_from_history,
)
from expediter.tickets.models import OPEN_STATUSES, Ticket, TicketEvent

logger = logging.getLogger("expediter.sla")

# Events that move a clock, or change the facts that choose the policy and calendar.
RETARGET_VERBS = CLOCK_VERBS | {
    "priority_changed",
    "service_changed",
    "team_changed",
    "organisation_changed",
    "type_changed",
}
CHUNK_SIZE = 500
BULK_THRESHOLD = 20
_SECOND = dt.timedelta(seconds=1)
_STORED_FIELDS = (
    "cycle",
    "policy_id",
    "calendar_id",
    "status",
    "target_seconds",
    "started_at",
    "running_since",
    "stopped_at",
    "remaining_seconds",
    "due_at",
    "warn_at",
    "breach_at",
    "warning_recorded_at",
    "breach_recorded_at",
    "warning_escalated_at",
    "breach_escalated_at",
)


def on_ticket_opening(
    *, ticket: Ticket, at: dt.datetime, changes: dict[str, Any], **_: Any
) -> None:
    """Listener of ``ticket.opening``: a new ticket's clocks, before its row is written.

    The creation's history is the one event about to be recorded, and nothing
    is stored yet, so the replay needs no read. It runs before the creation's
    transaction opens (the ticket has no number yet) and writes nothing. The
    due time goes into the ticket's own INSERT (no UPDATE after it); the
    clocks, their values worked out here too, wait on the ticket for its
    ``created`` event, which writes them once the ticket has an id.
    """
    facts = ticket_facts(ticket)
    catalogue = policy_catalogue()
    policy = catalogue.policy_for(facts)
    clocks: list[SlaClock] = []
    ticket.sla_due_at = None
    if policy is not None:
        history = [HistoryEvent(at=at, verb="created", changes=changes)]
        label = f"opened at {at.isoformat()}"
        replay = _replay(facts, ticket.team_id, policy, catalogue, history, label=label)
        if replay is not None:
            calendar, state = replay
            now = clock.now()
            ticket.sla_due_at = _earliest_running_due(state.clocks)
            for replayed in state.clocks:
                values = _stored_values(replayed, policy, calendar, None, now)
                clocks.append(SlaClock(ticket=ticket, kind=replayed.kind, updated_at=now, **values))
    ticket._sla_opening_clocks = prepare(clocks, later=("ticket_id",))  # type: ignore[attr-defined]


def on_ticket_event(*, ticket: Ticket, event: TicketEvent, **_: Any) -> None:
    """Listener of ``ticket.event``, inside the write's transaction."""
    if event.verb == "created":
        _start_clocks(ticket, event)
    elif event.verb in RETARGET_VERBS:
        sla_recompute(ticket=ticket)


def _start_clocks(ticket: Ticket, created: TicketEvent) -> None:
    """A new ticket's clocks, as its opening worked them out (nothing is read back).

    A ticket created without that announcement gets the ordinary replay.
    """
    opening: Prepared[SlaClock] | None = ticket.__dict__.pop("_sla_opening_clocks", None)
    if opening is None:
        sla_recompute(ticket=ticket)
        return
    insert_prepared(opening)
    _hand_over(ticket, list(opening.objs))


def _hand_over(ticket: Ticket, clocks: list[SlaClock]) -> None:
    """Leave a new ticket's clocks (all of them: it had none) on the ticket in hand.

    They go where Django keeps prefetched rows, so ``ticket.sla_clocks.all()``
    answers from memory: whoever answers the creation (the API shows the
    clocks) does not read back what this transaction has just written.
    """
    known = ticket.sla_clocks.all()  # not evaluated: filled below, as prefetching does
    known._result_cache = sorted(clocks, key=lambda row: row.kind)
    known._prefetch_done = True  # type: ignore[attr-defined]
    cache = getattr(ticket, "_prefetched_objects_cache", None)
    if cache is None:
        cache = ticket._prefetched_objects_cache = {}  # type: ignore[attr-defined]
    cache["sla_clocks"] = known


def _forget_handed_over(ticket: Ticket) -> None:
    """Clocks left in hand are stale once the ticket's clocks are replayed again."""
    getattr(ticket, "_prefetched_objects_cache", {}).pop("sla_clocks", None)


def sla_recompute(*, ticket: Ticket) -> None:
    """Replay one ticket's history and store its clocks (from its in-memory state)."""
    _forget_handed_over(ticket)
    due = _rebuild_rows([_row_of_ticket(ticket)], policy_catalogue(), clock.now())
    ticket.sla_due_at = due[ticket.pk]


def sla_rebuild(*, ticket_ids: Iterable[int]) -> int:
    """Replay and store the clocks of these tickets; returns how many were replayed."""
    catalogue, now, done = policy_catalogue(), clock.now(), 0
    for chunk in _chunks(sorted(set(ticket_ids)), CHUNK_SIZE):
        rows = [
            _TicketRow(
                pk=pk,
                team_id=team,
                facts=TicketFacts(priority, service, org, kind),
                sla_due_at=due_at,
            )
            for pk, team, priority, service, org, kind, due_at in Ticket.objects.filter(
                pk__in=chunk
            ).values_list(
                "pk", "team_id", "priority", "service_id", "organisation_id", "type", "sla_due_at"
            )
        ]
        _rebuild_rows(rows, catalogue, now)
        done += len(rows)
    return done


def sla_rebuild_open(*, ticket_ids: Iterable[int] | QuerySet[Any]) -> int:
    """Rebuild only the open tickets among ``ticket_ids`` (ids, or a query of ids).

    Finished tickets keep the clocks they finished with: editing a calendar
    or a policy today does not rewrite last month's attainment.
    """
    ids = ticket_ids if isinstance(ticket_ids, QuerySet) else list(ticket_ids)
    open_ids = Ticket.objects.filter(pk__in=ids, status__in=OPEN_STATUSES)
    return sla_rebuild(ticket_ids=open_ids.values_list("pk", flat=True))


def sla_rebuild_all(*, open_only: bool = False) -> int:
    """Rebuild every ticket's clocks (after loading policies into a desk with tickets)."""
    tickets = Ticket.objects.all()
    if open_only:
        tickets = tickets.filter(status__in=OPEN_STATUSES)
    return sla_rebuild(ticket_ids=tickets.values_list("pk", flat=True).iterator())


def business_calendar(calendar: Calendar) -> BusinessCalendar:
    """The arithmetic view of a stored calendar (cached: building one parses every part)."""
    holidays = tuple(sorted(str(entry["date"]) for entry in calendar.holidays))
    openings = tuple(sorted((str(o["date"]), str(o.get("hours", ""))) for o in calendar.openings))
    return _business_calendar(
        calendar.time_zone, calendar.hours, calendar.country, holidays, openings
    )


def policy_targets(policy: SlaPolicy) -> Targets:
    """What the replay needs of a policy."""
    pauses = {
        "waiting_requester": policy.pause_when_waiting_requester,
        "waiting_third_party": policy.pause_when_waiting_third_party,
    }
    next_response = policy.next_response_minutes
    return Targets(
        first_response=dt.timedelta(minutes=policy.first_response_minutes),
        resolution=dt.timedelta(minutes=policy.resolution_minutes),
        next_response=None if next_response is None else dt.timedelta(minutes=next_response),
        warn_percent=policy.warn_percent,
        pause_statuses=frozenset(status for status, pauses in pauses.items() if pauses),
    )


def policy_criteria(policy: SlaPolicy) -> PolicyCriteria:
    return PolicyCriteria(
        policy_id=policy.pk,
        created_at=policy.created_at,
        priority=policy.priority,
        service_id=policy.service_id,
        organisation_id=policy.organisation_id,
        type=policy.ticket_type or None,
    )


def ticket_facts(ticket: Ticket) -> TicketFacts:
    return TicketFacts(
        priority=ticket.priority,
        service_id=ticket.service_id,
        organisation_id=ticket.organisation_id,
        type=ticket.type,
    )


def history_events(ticket_ids: Sequence[int]) -> dict[int, list[HistoryEvent]]:
    """The events that can move clocks, per ticket, oldest first (one query)."""
    found: dict[int, list[HistoryEvent]] = defaultdict(list)
    rows = (
        TicketEvent.objects.filter(ticket_id__in=ticket_ids, verb__in=CLOCK_VERBS)
        .order_by("at", "id")
        .values_list("ticket_id", "at", "verb", "changes")
    )
    for ticket_id, at, verb, changes in rows:
        found[ticket_id].append(HistoryEvent(at=at, verb=verb, changes=changes or {}))
    return found


class PolicyCatalogue:
    """Active policies and calendar assignments (see :func:`policy_catalogue`)."""

    def __init__(self) -> None:
        policies = SlaPolicy.objects.filter(is_active=True).select_related("calendar")
        self.policies = {policy.pk: policy for policy in policies}
        self.criteria = [policy_criteria(policy) for policy in self.policies.values()]
        self.team_calendars: dict[int, Calendar] = {}
        self.organisation_calendars: dict[int, Calendar] = {}
        if self.policies:
            for assignment in CalendarAssignment.objects.select_related("calendar"):
                if assignment.team_id is not None:
                    self.team_calendars[assignment.team_id] = assignment.calendar
                if assignment.organisation_id is not None:
                    self.organisation_calendars[assignment.organisation_id] = assignment.calendar

    @functools.cached_property
    def calendars(self) -> dict[int, Calendar]:
        """Every calendar the active policies and the assignments use, by id."""
        found = {policy.calendar_id: policy.calendar for policy in self.policies.values()}
        for calendar in (*self.team_calendars.values(), *self.organisation_calendars.values()):
            found[calendar.pk] = calendar
        return found

    def policy_for(self, facts: TicketFacts) -> SlaPolicy | None:
        best = best_policy(self.criteria, facts)
        return None if best is None else self.policies[best.policy_id]

    def calendar_for(
        self, *, policy: SlaPolicy, organisation_id: int | None, team_id: int | None
    ) -> Calendar:
        """The organisation's own calendar, else the team's, else the policy's."""
        if organisation_id is not None and organisation_id in self.organisation_calendars:
            return self.organisation_calendars[organisation_id]
        if team_id is not None and team_id in self.team_calendars:
            return self.team_calendars[team_id]
        return policy.calendar


_CATALOGUE = SharedMemo("expediter.sla.catalogue")


def policy_catalogue() -> PolicyCatalogue:
    """The active policies and calendars, read from the database once per change.

    Every ticket write replays its clocks against the catalogue, so reading it
    each time cost as much as the rest of a ticket's creation. A process keeps
    its catalogue until :func:`catalogue_changed` says otherwise (see
    :class:`~expediter.core.memo.SharedMemo`).
    """
    return _CATALOGUE.get("catalogue", PolicyCatalogue)


def catalogue_changed() -> None:
    """Called by every service that changes policies, calendars or their assignments.

    The rebuild that follows in the same transaction then sees the change.
    """
    _CATALOGUE.changed()


@dataclass(frozen=True)
class _TicketRow:
    pk: int
    team_id: int | None
    facts: TicketFacts
    sla_due_at: dt.datetime | None  # as stored on the ticket before the replay


def _row_of_ticket(ticket: Ticket) -> _TicketRow:
    return _TicketRow(
        pk=ticket.pk,
        team_id=ticket.team_id,
        facts=ticket_facts(ticket),
        sla_due_at=ticket.sla_due_at,
    )


def _rebuild_rows(
    rows: Sequence[_TicketRow],
    catalogue: PolicyCatalogue,
    now: dt.datetime,
) -> dict[int, dt.datetime | None]:
    """Replay each ticket and bring its stored clocks in line, in a few bulk queries.

    Returns each ticket's earliest running due time, also stored on the
    ticket (``Ticket.sla_due_at``) for the queues' index.
    """
    ids = [row.pk for row in rows]
    due = dict.fromkeys(ids)
    chosen = {row.pk: catalogue.policy_for(row.facts) for row in rows}
    covered = [row.pk for row in rows if chosen[row.pk] is not None]
    existing = _stored_clocks(ids)
    history = history_events(covered) if covered else {}
    created: list[SlaClock] = []
    changed: list[SlaClock] = []
    kept: set[tuple[int, str]] = set()
    for row in rows:
        policy = chosen[row.pk]
        if policy is None:
            continue
        replay = _replay(
            row.facts, row.team_id, policy, catalogue, history.get(row.pk, []), label=row.pk
        )
        if replay is None:
            continue
        calendar, state = replay
        due[row.pk] = _earliest_running_due(state.clocks)
        for replayed in state.clocks:
            key = (row.pk, str(replayed.kind))
            kept.add(key)
            stored = existing.get(key)
            values = _stored_values(replayed, policy, calendar, stored, now)
            if stored is None:
                created.append(
                    SlaClock(ticket_id=row.pk, kind=replayed.kind, updated_at=now, **values)
                )
            elif any(getattr(stored, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(stored, name, value)
                stored.updated_at = now
                changed.append(stored)
    stale = [stored.pk for key, stored in existing.items() if key not in kept]
    if stale:
        SlaClock.objects.filter(pk__in=stale).delete()
    if created:
        SlaClock.objects.bulk_create(created)
    _store_changed_clocks(changed)
    _store_due_times(rows, due)
    return due


def _replay(
    facts: TicketFacts,
    team_id: int | None,
    policy: SlaPolicy,
    catalogue: PolicyCatalogue,
    history: list[HistoryEvent],
    *,
    label: object,
) -> tuple[Calendar, ClockState] | None:
    """One ticket's clocks under its policy and calendar, or None when none can be computed."""
    calendar = catalogue.calendar_for(
        policy=policy, organisation_id=facts.organisation_id, team_id=team_id
    )
    try:
        state = clocks_from_history(history, policy_targets(policy), business_calendar(calendar))
    except ValueError:
        # A calendar closed for years cannot give a due time; the ticket's write
        # must still go through, so the ticket goes without clocks and it is said.
        logger.exception("SLA clocks of ticket %s cannot be computed", label)
        return None
    return calendar, state


def _store_changed_clocks(changed: Sequence[SlaClock]) -> None:
    """One UPDATE per clock for a ticket's few, ``bulk_update`` for a rebuild's many.

    ``bulk_update`` writes a CASE per field; for the two or three clocks of one
    ticket write that costs more to build than the plain UPDATEs it replaces.
    """
    fields = [*_STORED_FIELDS, "updated_at"]
    if len(changed) > BULK_THRESHOLD:
        SlaClock.objects.bulk_update(changed, fields)
        return
    for stored in changed:
        SlaClock.objects.filter(pk=stored.pk).update(
            **{name: getattr(stored, name) for name in fields}
        )


def _stored_clocks(ticket_ids: Sequence[int]) -> dict[tuple[int, str], SlaClock]:
    return {(c.ticket_id, c.kind): c for c in SlaClock.objects.filter(ticket_id__in=ticket_ids)}


def _store_due_times(rows: Sequence[_TicketRow], due: dict[int, dt.datetime | None]) -> None:
    """Write ``Ticket.sla_due_at`` where the replay moved it."""
    moved = [row.pk for row in rows if due[row.pk] != row.sla_due_at]
    if len(moved) == 1:
        Ticket.objects.filter(pk=moved[0]).update(sla_due_at=due[moved[0]])
    elif moved:
        Ticket.objects.bulk_update(
            [Ticket(pk=pk, sla_due_at=due[pk]) for pk in moved], ["sla_due_at"]
        )


def _earliest_running_due(clocks: Iterable[Clock]) -> dt.datetime | None:
    running = [c.due_at for c in clocks if c.status == ClockStatus.RUNNING and c.due_at]
    return min(running, default=None)


def _stored_values(
    replayed: Clock,
    policy: SlaPolicy,
    calendar: Calendar,
    stored: SlaClock | None,
    now: dt.datetime,
) -> dict[str, Any]:
    flags = _kept_flags(replayed, stored, now)
    return {
        "cycle": replayed.cycle,
        "policy_id": policy.pk,
        "calendar_id": calendar.pk,
        "status": str(replayed.status),
        "target_seconds": replayed.target // _SECOND,
        "started_at": replayed.started_at,
        "running_since": replayed.running_since,
        "stopped_at": replayed.stopped_at,
        "remaining_seconds": (replayed.target - replayed.elapsed) // _SECOND,
        "due_at": replayed.due_at,
        "warn_at": replayed.warn_at,
        "breach_at": replayed.breach_at,
        **flags,
    }


def _kept_flags(
    replayed: Clock, stored: SlaClock | None, now: dt.datetime
) -> dict[str, dt.datetime | None]:
    """Which "recorded" and "escalated" flags still hold after a replay.

    A new cycle starts with none. A flag also falls when re-targeting moved
    its threshold back into the future, so that crossing it again is told
    again; otherwise a warning or a breach is recorded and escalated once.
    """
    names = (
        "warning_recorded_at",
        "warning_escalated_at",
        "breach_recorded_at",
        "breach_escalated_at",
    )
    if stored is None or stored.cycle != replayed.cycle:
        return dict.fromkeys(names)
    flags = {name: getattr(stored, name) for name in names}
    running = replayed.status == ClockStatus.RUNNING
    if running and (replayed.warn_at is None or replayed.warn_at > now):
        flags["warning_recorded_at"] = flags["warning_escalated_at"] = None
    if replayed.breach_at is None or replayed.breach_at > now:
        flags["breach_recorded_at"] = flags["breach_escalated_at"] = None
    return flags


@functools.lru_cache(maxsize=256)
def _business_calendar(
    time_zone: str,
    hours: str,
    country: str,
    holidays: tuple[str, ...],
    openings: tuple[tuple[str, str], ...],
) -> BusinessCalendar:
    """The country was checked when the calendar was saved: it is only split here.

    Checking it again would load the ``holidays`` package, which the stored
    public holidays exist to keep out of this process.
    """
    code, subdivision = split_country(country)
    parsed = calendar_from_spec(
        time_zone=time_zone, hours=hours, holidays=holidays, openings=dict(openings)
    )
    return replace(
        parsed, country=code, subdivision=subdivision, public_holidays=stored_public_holidays
    )


def _chunks(items: Iterable[int], size: int) -> Iterator[list[int]]:
    chunk: list[int] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
