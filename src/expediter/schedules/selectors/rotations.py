"""Who is on call: schedules read from the rows and asked to the pure ``schedules.oncall``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from expediter.core.errors import InvalidInput
from expediter.schedules import oncall
from expediter.schedules.models import (
    OnCallLayer,
    OnCallLayerMember,
    OnCallOverride,
    OnCallSchedule,
)
from expediter.schedules.selectors.duty import _hours
from expediter.staff.models import User

_ONCALL_HORIZON = dt.timedelta(days=31)


def oncall_schedules(*, team_id: int | None = None) -> QuerySet[OnCallSchedule]:
    """Schedules with their layers and members prefetched (overrides are per window)."""
    members = OnCallLayerMember.objects.select_related("user").order_by("position")
    layers = OnCallLayer.objects.order_by("position").prefetch_related(
        Prefetch("members", queryset=members)
    )
    schedules = OnCallSchedule.objects.select_related("team").prefetch_related(
        Prefetch("layers", queryset=layers)
    )
    if team_id is not None:
        schedules = schedules.filter(team_id=team_id)
    return schedules.order_by("name", "id")


def schedule_model(
    schedule: OnCallSchedule, overrides: Iterable[OnCallOverride] = ()
) -> oncall.Schedule:
    """The pure core's view of a schedule (layers and members must be prefetched)."""
    return oncall.Schedule(
        time_zone=schedule.time_zone,
        layers=tuple(_layer_model(layer) for layer in schedule.layers.all()),
        overrides=tuple(
            oncall.Override(user_id=o.user_id, start=o.start, end=o.end)
            for o in sorted(overrides, key=lambda o: o.pk)
        ),
    )


def _layer_model(layer: OnCallLayer) -> oncall.Layer:
    return oncall.Layer(
        name=layer.name,
        rotation_start=layer.rotation_start,
        turn_length=layer.turn_length,
        members=tuple(m.user_id for m in layer.members.all()),
        restrictions=_hours(layer.restrictions) if layer.restrictions else None,
        starts_at=layer.starts_at,
        ends_at=layer.ends_at,
    )


@dataclass(frozen=True)
class OnCallStretch:
    """A stretch of a final schedule, with the person."""

    start: dt.datetime
    end: dt.datetime
    user: User
    source: str


@dataclass(frozen=True)
class OnCallNow:
    """Who a schedule puts on call at an instant, and until when (None: nobody)."""

    schedule: OnCallSchedule
    user: User | None
    source: str
    until: dt.datetime | None


def oncall_timelines(
    *, schedules: list[OnCallSchedule], start: dt.datetime, end: dt.datetime
) -> dict[int, list[OnCallStretch]]:
    """Each schedule's final schedule over ``[start, end)``, in two queries for all of them."""
    overrides: dict[int, list[OnCallOverride]] = defaultdict(list)
    for row in OnCallOverride.objects.filter(
        schedule__in=schedules, start__lt=end, end__gt=start
    ).order_by("id"):
        overrides[row.schedule_id].append(row)
    timelines = {
        s.pk: oncall.final_schedule(schedule_model(s, overrides[s.pk]), start, end)
        for s in schedules
    }
    wanted = {shift.user_id for shifts in timelines.values() for shift in shifts}
    users = User.objects.in_bulk(wanted)
    return {
        schedule_id: [
            OnCallStretch(s.start, s.end, users[s.user_id], s.source)
            for s in shifts
            if s.user_id in users
        ]
        for schedule_id, shifts in timelines.items()
    }


def oncall_overview(*, at: dt.datetime, team_id: int | None = None) -> list[OnCallNow]:
    """Who every schedule (or a team's) puts on call at ``at``, in five queries."""
    schedules = list(oncall_schedules(team_id=team_id))
    horizon = at + _ONCALL_HORIZON
    timelines = oncall_timelines(schedules=schedules, start=at, end=horizon)
    return [_now_from(schedule, timelines[schedule.pk], at, horizon) for schedule in schedules]


def _now_from(
    schedule: OnCallSchedule, stretches: list[OnCallStretch], at: dt.datetime, horizon: dt.datetime
) -> OnCallNow:
    """The stretch under way at ``at``; ``until`` None when it lasts beyond the horizon."""
    if not stretches or stretches[0].start > at or not stretches[0].user.is_active:
        return OnCallNow(schedule=schedule, user=None, source="", until=None)
    first = stretches[0]
    until = first.end
    for stretch in stretches[1:]:
        if stretch.start != until or stretch.user.pk != first.user.pk:
            break
        until = stretch.end
    return OnCallNow(
        schedule=schedule,
        user=first.user,
        source=first.source,
        until=None if until >= horizon else until,
    )


def on_call_for_team(*, team_id: int, at: dt.datetime) -> OnCallNow | None:
    """Who the team's schedules put on call at ``at``: the first schedule naming someone."""
    for answer in oncall_overview(at=at, team_id=team_id):
        if answer.user is not None:
            return answer
    return None


def schedules_of(user: User) -> QuerySet[OnCallSchedule]:
    """Schedules where ``user`` takes turns or has an override."""
    return OnCallSchedule.objects.filter(
        Q(layers__members__user=user) | Q(overrides__user=user)
    ).distinct()


def schedule_by_name(name: str) -> OnCallSchedule:
    schedule = OnCallSchedule.objects.filter(name__iexact=(name or "").strip()).first()
    if schedule is None:
        message = _("no on-call schedule named '%(name)s'") % {"name": name}
        raise InvalidInput(message, field="schedule")
    return schedule
