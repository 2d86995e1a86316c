"""The worker's sweep: record each warning and breach exactly once, then escalate.

Clocks due are found through the partial indexes on ``warn_at`` and
``breach_at``, so a sweep costs what is due, not what is open. A batch of
clocks is claimed with one conditional UPDATE of their "recorded" flag
inside the batch's transaction: of several workers sweeping at once, each
clock is recorded by exactly one of them, and a failed batch rolls its flags
back for the next sweep.

Escalations (notifying, reassigning, raising the priority) are side effects:
the sweep enqueues them in the same transaction as a task taking clock ids,
and :func:`sla_escalate` claims each clock's "escalated" flag the same way,
so a task run twice escalates once. Escalations whose task was lost are
enqueued again by a later sweep.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from expediter.core import clock, hooks
from expediter.core.errors import DomainError
from expediter.sla.models import (
    ClockKindChoices,
    ClockStatusChoices,
    Escalation,
    EscalationAction,
    EscalationTrigger,
    SlaClock,
)
from expediter.staff.models import Role, User
from expediter.tickets.models import Ticket, TicketEvent
from expediter.tickets.services import ticket_assign, ticket_raise_priority

logger = logging.getLogger("expediter.sla")

BATCH_SIZE = 500
MAX_PER_SWEEP = 50_000
# An escalation not done this long after its event was recorded lost its task.
STALLED_AFTER = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class SweepResult:
    warnings: int
    breaches: int


@dataclass(frozen=True)
class _Threshold:
    trigger: str
    verb: str
    at_field: str
    recorded_field: str
    escalated_field: str
    lookup: str  # a breach happens once the due time has passed; a warning as it is reached

    @property
    def reached(self) -> str:
        return f"{self.at_field}__{self.lookup}"


_BREACH = _Threshold(
    trigger=EscalationTrigger.BREACH,
    verb="sla_breached",
    at_field="breach_at",
    recorded_field="breach_recorded_at",
    escalated_field="breach_escalated_at",
    lookup="lt",
)
_WARNING = _Threshold(
    trigger=EscalationTrigger.WARNING,
    verb="sla_warning",
    at_field="warn_at",
    recorded_field="warning_recorded_at",
    escalated_field="warning_escalated_at",
    lookup="lte",
)
_THRESHOLDS = {threshold.trigger: threshold for threshold in (_BREACH, _WARNING)}
# What recording reads, and what listeners of ticket events usually read of the ticket.
_RECORDED_FIELDS = (
    "kind",
    "status",
    "target_seconds",
    "due_at",
    "warn_at",
    "breach_at",
    "policy__name",
    "policy__warn_percent",
    "ticket__number",
    "ticket__status",
    "ticket__priority",
    "ticket__assignee_id",
    "ticket__team_id",
)


def sla_sweep(*, batch_size: int = BATCH_SIZE) -> SweepResult:
    """Record what breached and what reached its warning threshold by now; safe to run twice.

    Breaches go first: a clock found past both its thresholds is recorded
    as breached only, since a warning after the fact helps nobody.
    """
    now = clock.now()
    breaches = _sweep(_BREACH, now, batch_size)
    warnings = _sweep(_WARNING, now, batch_size)
    for threshold in (_BREACH, _WARNING):
        _enqueue_stalled(threshold, now)
    return SweepResult(warnings=warnings, breaches=breaches)


def sla_escalate(*, clock_ids: Sequence[int], trigger: str) -> int:
    """Run the policy's escalations of these clocks for ``trigger``; each clock at most once."""
    threshold = _THRESHOLDS[trigger]
    escalations = _Escalations()
    done = 0
    for clock_id in clock_ids:
        with transaction.atomic():
            claimed = SlaClock.objects.filter(
                pk=clock_id,
                **{
                    f"{threshold.recorded_field}__isnull": False,
                    f"{threshold.escalated_field}__isnull": True,
                },
            ).update(**{threshold.escalated_field: clock.now()})
            if not claimed:
                continue
            row = SlaClock.objects.select_related("ticket", "ticket__assignee", "policy").get(
                pk=clock_id
            )
            escalations.run(row, threshold)
            done += 1
    return done


def _sweep(threshold: _Threshold, now: dt.datetime, size: int) -> int:
    recorded = 0
    previous: list[int] = []
    while recorded < MAX_PER_SWEEP:
        due = SlaClock.objects.filter(
            **{
                f"{threshold.at_field}__isnull": False,
                threshold.reached: now,
                f"{threshold.recorded_field}__isnull": True,
            }
        ).order_by(threshold.at_field, "pk")
        ids = list(due.values_list("pk", flat=True)[:size])
        if not ids or ids == previous:
            break
        previous = ids
        with transaction.atomic():
            recorded += _record_batch(threshold, ids, now)
    return recorded


def _record_batch(threshold: _Threshold, ids: list[int], now: dt.datetime) -> int:
    claimed = _claim(threshold, ids, now)
    if not claimed:
        return 0
    rows = (
        SlaClock.objects.filter(pk__in=claimed)
        .select_related("ticket", "policy")
        .only(*_RECORDED_FIELDS)
        .order_by(threshold.at_field, "pk")
    )
    live: list[int] = []
    finished: list[int] = []
    events = []
    for row in rows:
        stopped = row.status == ClockStatusChoices.STOPPED
        events.append(_event(row, threshold, now, stopped=stopped))
        (finished if stopped else live).append(row.pk)
    _record_events(events)
    if finished:  # a clock that already stopped is history: nobody to chase any more
        SlaClock.objects.filter(pk__in=finished).update(**{threshold.escalated_field: now})
    if live:
        _enqueue_escalations(live, threshold)
    return len(claimed)


def _claim(threshold: _Threshold, ids: list[int], now: dt.datetime) -> list[int]:
    """Set the "recorded" flag of those still unset, and say which: one UPDATE ... RETURNING.

    The WHERE clause is checked again under each row's lock, so when two
    workers claim the same clocks, each clock goes to exactly one of them. A
    breach also settles the clock's warning (recorded and escalated).
    """
    table = SlaClock._meta.db_table
    quote = connection.ops.quote_name
    stamp = connection.ops.adapt_datetimefield_value(now)
    settings = [f"{quote(threshold.recorded_field)} = %s"]
    params: list[Any] = [stamp]
    if threshold is _BREACH:
        for field in ("warning_recorded_at", "warning_escalated_at"):
            settings.append(f"{quote(field)} = COALESCE({quote(field)}, %s)")
            params.append(stamp)
    operator = "<" if threshold.lookup == "lt" else "<="
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        f"UPDATE {quote(table)} SET {', '.join(settings)} "  # noqa: S608 (names, not input)
        f"WHERE {quote('id')} IN ({marks}) AND {quote(threshold.recorded_field)} IS NULL "
        f"AND {quote(threshold.at_field)} {operator} %s RETURNING {quote('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *ids, stamp])
        return [int(row[0]) for row in cursor.fetchall()]


def _event(row: SlaClock, threshold: _Threshold, now: dt.datetime, *, stopped: bool) -> TicketEvent:
    return TicketEvent(
        ticket=row.ticket,
        actor=None,
        verb=threshold.verb,
        changes={"clock": [None, row.kind], "due": [None, _local(row.due_at)]},
        reason=_reason(row, threshold, stopped=stopped),
        at=getattr(row, threshold.at_field) if stopped else now,
    )


def _record_events(events: list[TicketEvent]) -> None:
    """What ``event_record`` does, for a whole batch: append the rows, tell the listeners.

    A sweep can meet thousands of breaches at once (a desk reopening after a
    holiday); one INSERT per batch keeps it within its interval.
    """
    TicketEvent.objects.bulk_create(events)
    for event in events:
        hooks.announce("ticket.event", ticket=event.ticket, event=event)


def _reason(row: SlaClock, threshold: _Threshold, *, stopped: bool) -> str:
    clock_name = ClockKindChoices(row.kind).label
    target = _duration(row.target_seconds)
    if threshold is _BREACH:
        text = (
            f"{clock_name} target of policy '{row.policy.name}' ({target} of business time) "
            f"passed at {_local(row.breach_at)}"
        )
    else:
        text = (
            f"{clock_name} clock of policy '{row.policy.name}' reached "
            f"{row.policy.warn_percent} % of its {target} target; due {_local(row.due_at)}"
        )
    return f"{text} (recorded after the clock stopped)" if stopped else text


def _enqueue_escalations(clock_ids: list[int], threshold: _Threshold) -> None:
    """In the caller's transaction: the task exists if and only if the flags were set."""
    from expediter.sla import tasks

    tasks.sla_escalate.enqueue(clock_ids=clock_ids, trigger=threshold.trigger)


def _enqueue_stalled(threshold: _Threshold, now: dt.datetime) -> None:
    stalled = list(
        SlaClock.objects.filter(
            **{
                f"{threshold.recorded_field}__isnull": False,
                f"{threshold.recorded_field}__lt": now - STALLED_AFTER,
                f"{threshold.escalated_field}__isnull": True,
            }
        ).values_list("pk", flat=True)[:BATCH_SIZE]
    )
    if stalled:
        logger.warning(
            "SLA %s escalations of %d clocks enqueued again", threshold.trigger, len(stalled)
        )
        _enqueue_escalations(stalled, threshold)


# --- escalations --------------------------------------------------------------


class _Escalations:
    """The policies' escalation rules and the teams' leads, read once per task."""

    def __init__(self) -> None:
        self.rules: dict[int, list[Escalation]] = defaultdict(list)
        for rule in Escalation.objects.select_related("assignee").order_by("id"):
            self.rules[rule.policy_id].append(rule)
        self.leads: dict[int, list[User]] = {}

    def run(self, row: SlaClock, threshold: _Threshold) -> None:
        rules = [
            rule
            for rule in self.rules.get(row.policy_id, [])
            if rule.trigger == threshold.trigger and rule.clock in ("", row.kind)
        ]
        rules.sort(key=lambda rule: rule.action != EscalationAction.NOTIFY)
        for rule in rules:
            try:
                with transaction.atomic():
                    _ACTIONS[rule.action](self, row, rule, threshold)
            except DomainError as error:
                logger.warning(
                    "SLA escalation %s on ticket %s refused: %s",
                    rule.action,
                    row.ticket_id,
                    error.detail,
                )

    def leads_of(self, team_id: int | None) -> list[User]:
        if team_id is None:
            return []
        if team_id not in self.leads:
            self.leads[team_id] = list(
                User.objects.filter(
                    role=Role.LEAD, is_active=True, memberships__team_id=team_id
                ).order_by("id")
            )
        return self.leads[team_id]


def _notify(
    escalations: _Escalations, row: SlaClock, rule: Escalation, threshold: _Threshold
) -> None:
    from expediter.mail.notify import notify_user

    ticket = row.ticket
    recipients = [ticket.assignee] if ticket.assignee is not None else []
    recipients += escalations.leads_of(ticket.team_id)
    seen: set[int] = set()
    for person in recipients:
        if person.pk in seen:
            continue
        seen.add(person.pk)
        with translation.override(person.language or None):
            text = _notification_text(row, threshold)
        notify_user(user=person, ticket=ticket, kind=threshold.verb, text=text)


def _notification_text(row: SlaClock, threshold: _Threshold) -> str:
    values = {
        "number": row.ticket.number,
        "clock": ClockKindChoices(row.kind).label,
        "due": _local(row.due_at),
    }
    if threshold is _BREACH:
        return _("SLA breached on #%(number)s: %(clock)s was due %(due)s.") % values
    return _("SLA warning on #%(number)s: %(clock)s is due %(due)s.") % values


def _unassign(
    escalations: _Escalations, row: SlaClock, rule: Escalation, threshold: _Threshold
) -> None:
    if _fresh(row.ticket_id).assignee_id is None:
        return
    ticket_assign(
        ticket_id=row.ticket_id,
        assignee=None,
        actor=None,
        reason=f"SLA {threshold.trigger} ({row.kind}): back to the team queue",
    )


def _assign(
    escalations: _Escalations, row: SlaClock, rule: Escalation, threshold: _Threshold
) -> None:
    if rule.assignee is None or _fresh(row.ticket_id).assignee_id == rule.assignee_id:
        return
    ticket_assign(
        ticket_id=row.ticket_id,
        assignee=rule.assignee,
        actor=None,
        reason=f"SLA {threshold.trigger} ({row.kind}): escalated to {rule.assignee.name}",
    )


def _raise_priority(
    escalations: _Escalations, row: SlaClock, rule: Escalation, threshold: _Threshold
) -> None:
    if rule.priority is None or _fresh(row.ticket_id).priority <= rule.priority:
        return
    ticket_raise_priority(
        ticket_id=row.ticket_id,
        priority=rule.priority,
        actor=None,
        reason=f"SLA {threshold.trigger} ({row.kind}): priority raised to {rule.priority}",
    )


_ACTIONS: dict[str, Callable[[_Escalations, SlaClock, Escalation, _Threshold], None]] = {
    EscalationAction.NOTIFY: _notify,
    EscalationAction.UNASSIGN: _unassign,
    EscalationAction.ASSIGN: _assign,
    EscalationAction.RAISE_PRIORITY: _raise_priority,
}


def _fresh(ticket_id: int) -> Ticket:
    """The ticket as it is now: an earlier escalation of this run may have changed it."""
    return Ticket.objects.only("assignee_id", "priority").get(pk=ticket_id)


def _local(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value).replace(microsecond=0).isoformat()


def _duration(seconds: int) -> str:
    hours, minutes = divmod(seconds // 60, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"
