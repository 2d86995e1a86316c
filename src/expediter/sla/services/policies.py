"""SLA policies and their escalations: creating, changing, removing them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from expediter.core import clock
from expediter.core.errors import Conflict, InvalidInput, NotFound
from expediter.sla.models import (
    ClockKindChoices,
    Escalation,
    EscalationAction,
    EscalationTrigger,
    SlaClock,
    SlaPolicy,
)
from expediter.sla.services.calendars import calendar_by_name
from expediter.sla.services.clocks import catalogue_changed, sla_rebuild_open
from expediter.staff.models import STAFF_ROLES, Organisation, User
from expediter.staff.services import organisation_get_or_create
from expediter.tickets.models import OPEN_STATUSES, Service, Ticket, TicketType

NAME_MAX = 120
# A year of round-the-clock minutes: anything longer is a typing error, not a target.
TARGET_MAX_MINUTES = 366 * 24 * 60


@dataclass(frozen=True)
class EscalationSpec:
    """One thing to do when a clock warns or breaches."""

    trigger: str  # warning | breach
    action: str  # notify | unassign | assign | raise_priority
    clock: str = ""  # a clock kind, or "" for any
    assignee_id: int | None = None  # for assign
    priority: int | None = None  # for raise_priority


DEFAULT_ESCALATIONS = (
    EscalationSpec(trigger=EscalationTrigger.WARNING, action=EscalationAction.NOTIFY),
    EscalationSpec(trigger=EscalationTrigger.BREACH, action=EscalationAction.NOTIFY),
)


@dataclass(frozen=True)
class PolicySpec:
    """A policy as people describe it: names for what it matches, minutes for targets."""

    name: str
    calendar: str
    first_response_minutes: int
    resolution_minutes: int
    next_response_minutes: int | None = None
    priority: int | None = None
    service: str | None = None
    organisation: str | None = None
    ticket_type: str | None = None
    warn_percent: int | None = 80
    pause_when_waiting_requester: bool = True
    pause_when_waiting_third_party: bool = True
    is_active: bool = True


@transaction.atomic
def policy_create(
    *, spec: PolicySpec, escalations: Sequence[EscalationSpec] = DEFAULT_ESCALATIONS
) -> SlaPolicy:
    """A new policy; open tickets it now matches best get re-targeted at once."""
    name = _checked_name(spec.name)
    if SlaPolicy.objects.filter(name__iexact=name).exists():
        raise Conflict(_("a policy named '%(name)s' already exists") % {"name": name}, field="name")
    policy = SlaPolicy(name=name, created_at=clock.now(), **_checked_fields(spec))
    policy.save()
    _store_escalations(policy, escalations)
    catalogue_changed()
    _rebuild_all_open()
    return policy


@transaction.atomic
def policy_update(
    *, policy_id: int, spec: PolicySpec, escalations: Sequence[EscalationSpec] | None = None
) -> SlaPolicy:
    """Change a policy (escalations replaced when given); open tickets are re-targeted."""
    policy = SlaPolicy.objects.select_for_update().filter(pk=policy_id).first()
    if policy is None:
        raise NotFound(_("policy %(id)s not found") % {"id": policy_id})
    name = _checked_name(spec.name)
    if SlaPolicy.objects.filter(name__iexact=name).exclude(pk=policy.pk).exists():
        raise Conflict(_("a policy named '%(name)s' already exists") % {"name": name}, field="name")
    policy.name = name
    for field, value in _checked_fields(spec).items():
        setattr(policy, field, value)
    policy.save()
    if escalations is not None:
        policy.escalations.all().delete()
        _store_escalations(policy, escalations)
    catalogue_changed()
    _rebuild_all_open()
    return policy


@transaction.atomic
def policy_delete(*, policy_id: int) -> None:
    """Remove a policy; its open tickets fall to the next best policy, or to none."""
    policy = SlaPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        raise NotFound(_("policy %(id)s not found") % {"id": policy_id})
    affected = list(SlaClock.objects.filter(policy=policy).values_list("ticket_id", flat=True))
    policy.delete()
    catalogue_changed()
    sla_rebuild_open(ticket_ids=affected)


def policy_by_name(name: str) -> SlaPolicy:
    policy = SlaPolicy.objects.filter(name__iexact=(name or "").strip()).first()
    if policy is None:
        raise InvalidInput(_("no policy named '%(name)s'") % {"name": name}, field="policy")
    return policy


# --- checks -------------------------------------------------------------------


def _checked_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_("a policy needs a name"), field="name")
    if len(name) > NAME_MAX:
        raise InvalidInput(
            _("the name is longer than %(max)s characters") % {"max": NAME_MAX}, field="name"
        )
    return name


def _checked_fields(spec: PolicySpec) -> dict[str, object]:
    return {
        "calendar": calendar_by_name(spec.calendar),
        "priority": _checked_level(spec.priority, "priority"),
        "service": _service(spec.service),
        "organisation": _organisation(spec.organisation),
        "ticket_type": _checked_type(spec.ticket_type),
        "first_response_minutes": _checked_minutes(
            spec.first_response_minutes, "first_response_minutes"
        ),
        "next_response_minutes": (
            None
            if spec.next_response_minutes is None
            else _checked_minutes(spec.next_response_minutes, "next_response_minutes")
        ),
        "resolution_minutes": _checked_minutes(spec.resolution_minutes, "resolution_minutes"),
        "warn_percent": _checked_percent(spec.warn_percent),
        "pause_when_waiting_requester": spec.pause_when_waiting_requester,
        "pause_when_waiting_third_party": spec.pause_when_waiting_third_party,
        "is_active": spec.is_active,
    }


def _checked_level(value: int | None, field: str) -> int | None:
    if value is not None and (not isinstance(value, int) or not 1 <= value <= 4):
        raise InvalidInput(
            _("%(field)s must be an integer from 1 to 4") % {"field": field}, field=field
        )
    return value


def _checked_minutes(value: int, field: str) -> int:
    if not isinstance(value, int) or not 1 <= value <= TARGET_MAX_MINUTES:
        raise InvalidInput(
            _("%(field)s must be a whole number of minutes from 1 to %(max)s")
            % {"field": field, "max": TARGET_MAX_MINUTES},
            field=field,
        )
    return value


def _checked_percent(value: int | None) -> int | None:
    if value is not None and (not isinstance(value, int) or not 1 <= value <= 99):
        raise InvalidInput(_("the warning threshold must be from 1 to 99 %"), field="warn_percent")
    return value


def _checked_type(value: str | None) -> str:
    if not value:
        return ""
    if value not in TicketType.values:
        known = ", ".join(TicketType.values)
        raise InvalidInput(
            _("unknown type '%(type)s' (known: %(known)s)") % {"type": value, "known": known},
            field="type",
        )
    return value


def _service(name: str | None) -> Service | None:
    if not name:
        return None
    service = Service.objects.filter(name__iexact=name.strip()).first()
    if service is None:
        raise InvalidInput(_("no service named '%(name)s'") % {"name": name}, field="service")
    return service


def _organisation(name: str | None) -> Organisation | None:
    """Organisations are created when named, as ``user add`` does."""
    return organisation_get_or_create(name=name) if name and name.strip() else None


def _store_escalations(policy: SlaPolicy, escalations: Sequence[EscalationSpec]) -> None:
    Escalation.objects.bulk_create([_checked_escalation(policy, spec) for spec in escalations])


def _checked_escalation(policy: SlaPolicy, spec: EscalationSpec) -> Escalation:
    if spec.trigger not in EscalationTrigger.values:
        raise InvalidInput(
            _("unknown escalation trigger '%(trigger)s'") % {"trigger": spec.trigger},
            field="escalations",
        )
    if spec.action not in EscalationAction.values:
        raise InvalidInput(
            _("unknown escalation action '%(action)s'") % {"action": spec.action},
            field="escalations",
        )
    if spec.clock and spec.clock not in ClockKindChoices.values:
        raise InvalidInput(
            _("unknown clock '%(clock)s'") % {"clock": spec.clock}, field="escalations"
        )
    assignee = None
    if spec.action == EscalationAction.ASSIGN:
        agents = User.objects.filter(is_active=True, role__in=STAFF_ROLES)
        assignee = agents.filter(pk=spec.assignee_id).first() if spec.assignee_id else None
        if assignee is None:
            raise InvalidInput(_("reassigning needs an active agent"), field="escalations")
    priority = None
    if spec.action == EscalationAction.RAISE_PRIORITY:
        if spec.priority is None:
            raise InvalidInput(_("raising the priority needs a priority"), field="escalations")
        priority = _checked_level(spec.priority, "escalations")
    return Escalation(
        policy=policy,
        trigger=spec.trigger,
        clock=spec.clock or "",
        action=spec.action,
        assignee=assignee,
        priority=priority,
    )


def _rebuild_all_open() -> None:
    """A policy change can make it the best match of any open ticket: recompute them all."""
    sla_rebuild_open(ticket_ids=Ticket.objects.filter(status__in=OPEN_STATUSES).values("pk"))
