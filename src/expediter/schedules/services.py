"""Writes about working time: shifts, extra shifts, time off and on-call rotations.

Time off follows a small workflow: an agent (or a lead for them) *requests*
it, and a lead or an admin *approves* or *rejects* it; only approved time
off takes an agent off duty. ``timeoff_add`` records time off that needs no
approval (the command line, imports). Routing notices the consequences on
its next sweep: an agent on approved time off takes no new tickets, and a
team that hands tickets over moves theirs to someone on duty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from expediter.core import clock
from expediter.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from expediter.core.wording import translated_error
from expediter.schedules.hours import HoursSpecError, parse_hours
from expediter.schedules.models import (
    ExtraShift,
    OnCallLayer,
    OnCallLayerMember,
    OnCallOverride,
    OnCallSchedule,
    Shift,
    TimeOff,
    TimeOffKind,
    TimeOffStatus,
)
from expediter.staff import policies
from expediter.staff.models import STAFF_ROLES, Role, Team, User

MIN_TURN = dt.timedelta(hours=1)
MAX_TIME_OFF = dt.timedelta(days=366)


def check_zone(name: str, *, field: str = "time_zone") -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            _("unknown time zone '%(name)s'") % {"name": name}, field=field
        ) from None
    return name


def canonical_hours(spec: str, *, field: str) -> str:
    """A SPEC in its canonical form; InvalidInput naming ``field`` when it does not parse."""
    try:
        return parse_hours(spec).to_spec()
    except HoursSpecError as exc:
        raise InvalidInput(translated_error(exc), field=field) from None


def _require_aware(moment: dt.datetime, field: str) -> None:
    if moment.tzinfo is None:
        raise InvalidInput(_("%(field)s needs a time zone offset") % {"field": field}, field=field)


def _require_agent(user: User, field: str = "agent") -> None:
    if not user.is_active or user.role not in STAFF_ROLES:
        raise InvalidInput(
            _("%(email)s is not an active agent") % {"email": user.email}, field=field
        )


def shift_add(
    *,
    agent: User,
    hours: str,
    time_zone: str | None = None,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> Shift:
    """A recurring working pattern; the SPEC is validated and stored canonically."""
    canonical = canonical_hours(hours, field="hours")
    if valid_from and valid_until and valid_until < valid_from:
        raise InvalidInput(_("--until is before --from"), field="until")
    _require_agent(agent, field="email")
    zone = check_zone(time_zone or agent.time_zone or settings.DESK_TIME_ZONE)
    return Shift.objects.create(
        agent=agent,
        hours=canonical,
        time_zone=zone,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def extra_shift_add(
    *, agent: User, start: dt.datetime, end: dt.datetime, note: str = ""
) -> ExtraShift:
    """A one-off stretch of duty (cover for a colleague, an evening migration)."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end <= start:
        raise InvalidInput(_("an extra shift must end after it starts"), field="end")
    _require_agent(agent)
    return ExtraShift.objects.create(agent=agent, start=start, end=end, note=note.strip())


def _check_period(start: dt.datetime, end: dt.datetime) -> None:
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end <= start:
        raise InvalidInput(_("time off must end after it starts"), field="end")
    if end - start > MAX_TIME_OFF:
        raise InvalidInput(_("time off cannot last more than a year at once"), field="end")


def _check_kind(kind: str) -> None:
    if kind not in TimeOffKind.values:
        raise InvalidInput(
            _("unknown kind '%(kind)s' (use %(known)s)")
            % {"kind": kind, "known": ", ".join(TimeOffKind.values)},
            field="kind",
        )


def timeoff_add(
    *,
    agent: User,
    start: dt.datetime,
    end: dt.datetime,
    reason: str = "",
    kind: str = TimeOffKind.VACATION,
    approved_by: User | None = None,
    status: str = TimeOffStatus.APPROVED,
) -> TimeOff:
    """Record time off as it is (approved unless told otherwise), without the request step."""
    _check_period(start, end)
    _check_kind(kind)
    if status not in TimeOffStatus.values:
        raise InvalidInput(_("unknown status '%(status)s'") % {"status": status}, field="status")
    now = clock.now()
    decided = status != TimeOffStatus.REQUESTED
    return TimeOff.objects.create(
        agent=agent,
        start=start,
        end=end,
        reason=reason.strip(),
        kind=kind,
        status=status,
        decided_by=approved_by,
        requested_at=now,
        decided_at=now if decided else None,
    )


def timeoff_request(
    *,
    agent: User,
    actor: User,
    start: dt.datetime,
    end: dt.datetime,
    kind: str = TimeOffKind.VACATION,
    reason: str = "",
) -> TimeOff:
    """Ask for time off; it counts only once a lead approves it.

    Agents ask for themselves; leads and admins may ask on an agent's behalf
    (a sickness reported by phone).
    """
    if actor.pk != agent.pk and not policies.may_manage_schedules(actor):
        raise NotPermitted(_("only leads ask for time off on someone else's behalf"))
    _require_agent(agent)
    return timeoff_add(
        agent=agent,
        start=start,
        end=end,
        reason=reason,
        kind=kind,
        status=TimeOffStatus.REQUESTED,
    )


@transaction.atomic
def timeoff_decide(*, time_off_id: int, approve: bool, actor: User, note: str = "") -> TimeOff:
    """A lead approves or rejects a request, once; nobody but an admin decides their own."""
    if not policies.may_manage_schedules(actor):
        raise NotPermitted(_("only leads and admins decide on time off"))
    time_off = TimeOff.objects.select_for_update().filter(pk=time_off_id).first()
    if time_off is None:
        raise NotFound(_("time off %(id)s not found") % {"id": time_off_id})
    if time_off.agent_id == actor.pk and actor.role != Role.ADMIN:
        raise NotPermitted(_("another lead must decide on your own time off"))
    if time_off.status != TimeOffStatus.REQUESTED:
        raise Conflict(_("this time off was already %(status)s") % {"status": time_off.status})
    time_off.status = TimeOffStatus.APPROVED if approve else TimeOffStatus.REJECTED
    time_off.decided_by = actor
    time_off.decided_at = clock.now()
    time_off.decision_note = note.strip()[:300]
    time_off.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return time_off


def timeoff_cancel(*, time_off_id: int, actor: User) -> None:
    """The agent withdraws a request that no lead has decided on yet."""
    time_off = TimeOff.objects.filter(pk=time_off_id, agent=actor).first()
    if time_off is None:
        raise NotFound(_("time off %(id)s not found") % {"id": time_off_id})
    if time_off.status != TimeOffStatus.REQUESTED:
        raise Conflict(_("only a request still waiting for a decision can be withdrawn"))
    time_off.delete()


# --- on call ----------------------------------------------------------------------------------


def _require_manager(actor: User | None) -> None:
    if actor is not None and not policies.may_manage_schedules(actor):
        raise NotPermitted(_("only leads and admins change on-call schedules"))


def oncall_schedule_create(
    *,
    name: str,
    team: Team | None = None,
    time_zone: str | None = None,
    description: str = "",
    actor: User | None = None,
) -> OnCallSchedule:
    """A new, empty schedule; add layers with :func:`oncall_layer_add`."""
    _require_manager(actor)
    name = name.strip()
    if not name:
        raise InvalidInput(_("a schedule needs a name"), field="name")
    if OnCallSchedule.objects.filter(name__iexact=name).exists():
        raise Conflict(
            _("a schedule named '%(name)s' already exists") % {"name": name}, field="name"
        )
    return OnCallSchedule.objects.create(
        name=name,
        team=team,
        time_zone=check_zone(time_zone or settings.DESK_TIME_ZONE),
        description=description.strip(),
    )


@transaction.atomic
def oncall_layer_add(
    *,
    schedule: OnCallSchedule,
    name: str,
    rotation_start: dt.datetime,
    turn_length: dt.timedelta,
    members: Sequence[User],
    restrictions: str = "",
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    actor: User | None = None,
) -> OnCallLayer:
    """A rotation on top of the schedule's existing layers (it takes precedence over them)."""
    _require_manager(actor)
    _require_aware(rotation_start, "rotation_start")
    if turn_length < MIN_TURN:
        raise InvalidInput(_("a turn lasts at least one hour"), field="turn_length")
    if not members:
        raise InvalidInput(_("a rotation needs at least one member"), field="members")
    for member in members:
        _require_agent(member, field="members")
    if starts_at and ends_at and ends_at <= starts_at:
        raise InvalidInput(_("a layer must end after it starts"), field="ends_at")
    top = schedule.layers.order_by("-position").values_list("position", flat=True).first()
    layer = OnCallLayer.objects.create(
        schedule=schedule,
        position=(top or 0) + 1,
        name=name.strip() or f"Layer {(top or 0) + 1}",
        rotation_start=rotation_start,
        turn_length=turn_length,
        restrictions=canonical_hours(restrictions, field="restrictions")
        if restrictions.strip()
        else "",
        starts_at=starts_at,
        ends_at=ends_at,
    )
    OnCallLayerMember.objects.bulk_create(
        OnCallLayerMember(layer=layer, user=member, position=index)
        for index, member in enumerate(members)
    )
    return layer


def oncall_override_add(
    *,
    schedule: OnCallSchedule,
    user: User,
    start: dt.datetime,
    end: dt.datetime,
    note: str = "",
    actor: User | None = None,
) -> OnCallOverride:
    """Put ``user`` on call over ``[start, end)`` whatever the layers say (the newest wins)."""
    _require_manager(actor)
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end <= start:
        raise InvalidInput(_("an override must end after it starts"), field="end")
    _require_agent(user, field="user")
    return OnCallOverride.objects.create(
        schedule=schedule, user=user, start=start, end=end, note=note.strip(), created_by=actor
    )
