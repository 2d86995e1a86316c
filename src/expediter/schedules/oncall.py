"""Who is on call: rotations in the PagerDuty model, as plain functions.

A schedule is a stack of layers. Each layer is a rotation: from its
``rotation_start``, its ordered members take turns of ``turn_length`` each,
over and over. A layer may be restricted to weekly windows (the contract's
SPEC, read in the schedule's time zone): outside them the layer covers
nobody and the layers below show through. Later layers take precedence over
earlier ones, as in PagerDuty, and overrides sit on top of every layer.

Turns whose length is a whole number of days hand over at the same local
time every turn, so a daily rotation at 09:00 stays at 09:00 across a
daylight-saving change (the turn that spans the change lasts 23 or 25
hours). Other lengths (12 hours, 36 hours) are exact elapsed time.

Nothing here reads the database or the clock: ``schedules.selectors`` builds
a :class:`Schedule` from the rows and asks these functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from zoneinfo import ZoneInfo

from expediter.schedules.hours import WeeklyHours, weekly_intervals_utc

_DAY = dt.timedelta(days=1)
OVERRIDE = "override"


@dataclass(frozen=True)
class Layer:
    """One rotation; ``restrictions`` None means the whole week.

    The layer is in effect from ``starts_at`` (default: ``rotation_start``)
    until ``ends_at`` (default: for ever). Members are user ids, in turn order.
    """

    name: str
    rotation_start: dt.datetime
    turn_length: dt.timedelta
    members: tuple[int, ...]
    restrictions: WeeklyHours | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.turn_length <= dt.timedelta(0):
            raise ValueError("a turn must last some time")
        if self.rotation_start.tzinfo is None:
            raise ValueError("rotation_start must be timezone-aware")

    @property
    def effective_start(self) -> dt.datetime:
        return self.starts_at or self.rotation_start

    @property
    def follows_local_days(self) -> bool:
        """Whole-day turns hand over at the same wall-clock time, whatever the offset."""
        return self.turn_length % _DAY == dt.timedelta(0)


@dataclass(frozen=True)
class Override:
    """Someone on call in place of whoever the layers name, over ``[start, end)``."""

    user_id: int
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Schedule:
    """Layers from the bottom up (the last one wins), then overrides on top."""

    time_zone: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = field(default=())


@dataclass(frozen=True)
class OnCallShift:
    """A stretch of the final schedule; ``source`` names the layer, or "override"."""

    start: dt.datetime
    end: dt.datetime
    user_id: int
    source: str


def handoff(layer: Layer, zone: ZoneInfo, turn: int) -> dt.datetime:
    """When turn number ``turn`` begins (turn 0 at ``rotation_start``; may be negative)."""
    if not layer.follows_local_days:
        return layer.rotation_start.astimezone(dt.UTC) + turn * layer.turn_length
    local_start = layer.rotation_start.astimezone(zone).replace(tzinfo=None)
    wall = local_start + turn * layer.turn_length
    return wall.replace(tzinfo=zone).astimezone(dt.UTC)


def turn_at(layer: Layer, zone: ZoneInfo, at: dt.datetime) -> int:
    """The number of the turn running at ``at``: ``handoff(turn) <= at < handoff(turn + 1)``."""
    if layer.follows_local_days:
        local_start = layer.rotation_start.astimezone(zone).replace(tzinfo=None)
        local_at = at.astimezone(zone).replace(tzinfo=None)
        turn = (local_at - local_start) // layer.turn_length
    else:
        turn = (at.astimezone(dt.UTC) - layer.rotation_start) // layer.turn_length
    # Wall-clock arithmetic can be off by one around a repeated or skipped hour.
    while handoff(layer, zone, turn + 1) <= at:
        turn += 1
    while handoff(layer, zone, turn) > at:
        turn -= 1
    return turn


def layer_on_call(layer: Layer, zone: ZoneInfo, at: dt.datetime) -> int | None:
    """The member this layer puts on call at ``at``, or None (not in effect, restricted)."""
    if not layer.members or at < layer.effective_start:
        return None
    if layer.ends_at is not None and at >= layer.ends_at:
        return None
    if layer.restrictions is not None and not inside_restrictions(layer.restrictions, zone, at):
        return None
    return layer.members[turn_at(layer, zone, at) % len(layer.members)]


def inside_restrictions(hours: WeeklyHours, zone: ZoneInfo, at: dt.datetime) -> bool:
    """Whether the local wall clock at ``at`` lies inside the weekly windows."""
    local = at.astimezone(zone)
    second = local.hour * 3600 + local.minute * 60 + local.second
    return any(start * 60 <= second < end * 60 for start, end in hours.ranges_on(local.weekday()))


def on_call_at(schedule: Schedule, at: dt.datetime) -> int | None:
    """Who is on call at ``at``: the newest override covering it, else the top layer covering it."""
    held = holder_at(schedule, at)
    return None if held is None else held[0]


def layer_shifts(
    layer: Layer, zone: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> list[OnCallShift]:
    """The layer's own turns over ``[start, end)``, cut by its restrictions."""

    def holder(moment: dt.datetime) -> tuple[int, str] | None:
        user_id = layer_on_call(layer, zone, moment)
        return None if user_id is None else (user_id, layer.name)

    points = {start, end, *_layer_boundaries(layer, zone, start, end)}
    return _stretches(sorted(points), holder)


def final_schedule(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[OnCallShift]:
    """The final schedule over ``[start, end)``: who is on call, stretch by stretch.

    Boundaries are every handoff, restriction edge, layer start and end, and
    override edge in the range; between two of them nobody changes, so the
    answer at each stretch's start holds for the whole stretch. Adjacent
    stretches of the same person from the same source are merged.
    """
    if end <= start:
        return []
    zone = ZoneInfo(schedule.time_zone)
    points = {start, end}
    for layer in schedule.layers:
        points.update(_layer_boundaries(layer, zone, start, end))
    for override in schedule.overrides:
        points.update(p for p in (override.start, override.end) if start < p < end)
    return _stretches(sorted(points), lambda moment: holder_at(schedule, moment, zone=zone))


def holder_at(
    schedule: Schedule, at: dt.datetime, *, zone: ZoneInfo | None = None
) -> tuple[int, str] | None:
    """Who is on call at ``at`` and why: ``(user_id, layer name or "override")``."""
    covering = [o for o in schedule.overrides if o.start <= at < o.end]
    if covering:
        return covering[-1].user_id, OVERRIDE
    zone = zone or ZoneInfo(schedule.time_zone)
    for layer in reversed(schedule.layers):
        user_id = layer_on_call(layer, zone, at)
        if user_id is not None:
            return user_id, layer.name
    return None


Holder = Callable[[dt.datetime], tuple[int, str] | None]


def _stretches(points: list[dt.datetime], holder: Holder) -> list[OnCallShift]:
    """Evaluate ``holder`` once per stretch between consecutive points, merging neighbours."""
    shifts: list[OnCallShift] = []
    for lo, hi in pairwise(points):
        held = holder(lo)
        if held is None:
            continue
        user_id, source = held
        last = shifts[-1] if shifts else None
        if last and last.end == lo and last.user_id == user_id and last.source == source:
            shifts[-1] = OnCallShift(last.start, hi, user_id, source)
        else:
            shifts.append(OnCallShift(lo, hi, user_id, source))
    return shifts


def _layer_boundaries(
    layer: Layer, zone: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> Iterator[dt.datetime]:
    """Every instant strictly inside ``(start, end)`` where the layer may change hands."""
    for edge in (layer.effective_start, layer.ends_at):
        if edge is not None and start < edge < end:
            yield edge
    first = max(start, layer.effective_start)
    if first < end:
        turn = turn_at(layer, zone, first) + 1
        moment = handoff(layer, zone, turn)
        while moment < end:
            yield moment
            turn += 1
            moment = handoff(layer, zone, turn)
    if layer.restrictions is not None:
        for lo, hi in weekly_intervals_utc(layer.restrictions, zone.key, start, end):
            yield from (p for p in (lo, hi) if start < p < end)
