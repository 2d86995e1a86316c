"""Who is on duty at an instant: shifts, extra shifts and approved time off, in bulk.

The bulk readers (:func:`agent_times`, :func:`duty_states`) cost three
queries whatever the number of agents, so a decision over a team of hundreds
stays cheap; the one-agent helpers are thin wrappers over them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from expediter.core.errors import InvalidInput
from expediter.schedules.hours import WeeklyHours, parse_hours, weekly_intervals_utc
from expediter.schedules.models import ExtraShift, Shift, TimeOff, TimeOffStatus
from expediter.staff.models import STAFF_ROLES, User

Interval = tuple[dt.datetime, dt.datetime]

_DUTY_LOOKBACK = dt.timedelta(days=1)
_DUTY_LOOKAHEAD = dt.timedelta(days=2)


# --- interval arithmetic ----------------------------------------------------------------------


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    out = []
    for lo, hi in intervals:
        pieces = [(lo, hi)]
        for h_lo, h_hi in holes:
            next_pieces = []
            for p_lo, p_hi in pieces:
                if h_hi <= p_lo or h_lo >= p_hi:
                    next_pieces.append((p_lo, p_hi))
                    continue
                if p_lo < h_lo:
                    next_pieces.append((p_lo, h_lo))
                if h_hi < p_hi:
                    next_pieces.append((h_hi, p_hi))
            pieces = next_pieces
        out.extend(pieces)
    return out


def _clip(intervals: Iterable[Interval], start: dt.datetime, end: dt.datetime) -> list[Interval]:
    return [(max(lo, start), min(hi, end)) for lo, hi in intervals if lo < end and hi > start]


@lru_cache(maxsize=1024)
def _hours(spec: str) -> WeeklyHours:
    """Stored specs are canonical and few: parse each once."""
    return parse_hours(spec)


# --- duty ---------------------------------------------------------------------------------------


class ShiftLike(Protocol):
    """What :func:`shift_intervals` reads of a shift (a row, or the few values of one)."""

    @property
    def hours(self) -> str: ...

    @property
    def time_zone(self) -> str: ...

    @property
    def valid_from(self) -> dt.date | None: ...

    @property
    def valid_until(self) -> dt.date | None: ...


@dataclass(frozen=True)
class ShiftValues:
    """A shift's values without the model instance, for bulk reads."""

    agent_id: int
    hours: str
    time_zone: str
    valid_from: dt.date | None
    valid_until: dt.date | None


def shift_intervals(
    shifts: Iterable[ShiftLike], start: dt.datetime, end: dt.datetime
) -> list[Interval]:
    """UTC intervals of recurring shifts overlapping ``[start, end)``, within their validity.

    Validity dates are local days of the shift's zone: a shift valid until
    the 31st still covers a stretch that starts on the 31st.
    """
    found: list[Interval] = []
    for shift in shifts:
        zone = ZoneInfo(shift.time_zone)
        for lo, hi in _pattern_intervals(shift.hours, shift.time_zone, start, end):
            local_day = lo.astimezone(zone).date()
            if shift.valid_from and local_day < shift.valid_from:
                continue
            if shift.valid_until and local_day > shift.valid_until:
                continue
            found.append((lo, hi))
    return _merge(found)


@lru_cache(maxsize=4096)
def _pattern_intervals(
    spec: str, zone: str, start: dt.datetime, end: dt.datetime
) -> tuple[Interval, ...]:
    """Teams share a handful of patterns: place each one on the calendar once per window."""
    return tuple(weekly_intervals_utc(_hours(spec), zone, start, end))


@dataclass(frozen=True)
class AgentTime:
    """An agent's time over a window: worked (shifts and extra shifts) and approved time off."""

    worked: list[Interval] = field(default_factory=list)
    time_off: list[Interval] = field(default_factory=list)

    @property
    def duty(self) -> list[Interval]:
        """When the agent actually works: worked time minus time off."""
        return _subtract(self.worked, self.time_off)


PatternKey = tuple[tuple[str, str, Any, Any], ...]


@dataclass
class _ScheduleRows:
    """The schedule rows of a set of agents over a window, by agent id."""

    shifts: dict[int, list[ShiftValues]]
    extra: dict[int, list[Interval]]
    time_off: dict[int, list[Interval]]

    def pattern_key(self, agent_id: int) -> PatternKey:
        """What the agent's recurring time depends on: colleagues sharing it share the work."""
        return tuple(
            sorted(
                (v.hours, v.time_zone, v.valid_from, v.valid_until) for v in self.shifts[agent_id]
            )
        )

    def has_exceptions(self, agent_id: int) -> bool:
        """An extra shift or time off in the window makes the agent's time their own."""
        return bool(self.extra.get(agent_id) or self.time_off.get(agent_id))


def _schedule_rows(
    scope: Collection[int] | QuerySet[Any], start: dt.datetime, end: dt.datetime
) -> _ScheduleRows:
    """Shifts, extra shifts and approved time off overlapping ``[start, end)``: three queries.

    Unordered on purpose: intervals are merged afterwards, and sorting hundreds
    of rows in the database would only add to each decision.
    """
    shifts: dict[int, list[ShiftValues]] = defaultdict(list)
    for row in (
        Shift.objects.filter(agent_id__in=scope)
        .order_by()
        .values_list("agent_id", "hours", "time_zone", "valid_from", "valid_until")
    ):
        shifts[row[0]].append(ShiftValues(*row))
    extra: dict[int, list[Interval]] = defaultdict(list)
    for agent_id, lo, hi in (
        ExtraShift.objects.filter(agent_id__in=scope, start__lt=end, end__gt=start)
        .order_by()
        .values_list("agent_id", "start", "end")
    ):
        extra[agent_id].append((max(lo, start), min(hi, end)))
    time_off: dict[int, list[Interval]] = defaultdict(list)
    for agent_id, lo, hi in (
        TimeOff.objects.filter(
            agent_id__in=scope, status=TimeOffStatus.APPROVED, start__lt=end, end__gt=start
        )
        .order_by()
        .values_list("agent_id", "start", "end")
    ):
        time_off[agent_id].append((lo, hi))
    return _ScheduleRows(shifts=shifts, extra=extra, time_off=time_off)


def _agent_time(rows: _ScheduleRows, agent_id: int, recurring: list[Interval]) -> AgentTime:
    worked = recurring
    if rows.extra.get(agent_id):
        worked = _merge([*worked, *rows.extra[agent_id]])
    return AgentTime(worked=worked, time_off=_merge(rows.time_off.get(agent_id, ())))


def agent_times(
    *,
    agent_ids: Collection[int],
    start: dt.datetime,
    end: dt.datetime,
    among: QuerySet[Any] | None = None,
) -> dict[int, AgentTime]:
    """Worked time and approved time off of each agent over ``[start, end)``, in three queries.

    ``among``, a subquery selecting at least these agents' ids (a team's
    memberships), replaces a long ``IN (...)`` list whose preparation costs
    more than the queries themselves for hundreds of agents.
    """
    rows = _schedule_rows(agent_ids if among is None else among, start, end)
    patterns: dict[PatternKey, list[Interval]] = {}
    times = {}
    for agent_id in agent_ids:
        key = rows.pattern_key(agent_id)
        if key not in patterns:  # colleagues on the same pattern share one computation
            patterns[key] = shift_intervals(rows.shifts[agent_id], start, end)
        times[agent_id] = _agent_time(rows, agent_id, patterns[key])
    return times


def time_off_intervals(*, agent_id: int, start: dt.datetime, end: dt.datetime) -> list[Interval]:
    return agent_times(agent_ids=[agent_id], start=start, end=end)[agent_id].time_off


def duty_intervals(*, agent_id: int, start: dt.datetime, end: dt.datetime) -> list[Interval]:
    """When the agent works in ``[start, end)``: shifts and extra shifts, minus time off."""
    return agent_times(agent_ids=[agent_id], start=start, end=end)[agent_id].duty


@dataclass(frozen=True)
class DutyState:
    """What routing needs to know about an agent's time at one instant."""

    on_duty: bool
    on_time_off: bool
    duty_ends_at: dt.datetime | None


OFF = DutyState(on_duty=False, on_time_off=False, duty_ends_at=None)


def duty_states(
    *, agent_ids: Collection[int], at: dt.datetime, among: QuerySet[Any] | None = None
) -> dict[int, DutyState]:
    """Each agent's duty at ``at`` in three queries: the bulk form of :func:`on_duty`.

    ``on_duty`` is false during time off; ``duty_ends_at`` is when the
    current stretch of work ends (time off starting later cuts it short),
    looking two days ahead at most. ``among`` as for :func:`agent_times`.

    Agents with neither an extra shift nor time off near ``at`` are in the
    same state as every colleague on the same shifts, so a team of hundreds
    costs one computation per shift pattern plus one per exception.
    """
    start, end = duty_window(at)
    rows = _schedule_rows(agent_ids if among is None else among, start, end)
    recurring: dict[PatternKey, list[Interval]] = {}
    shared: dict[PatternKey, DutyState] = {}
    states = {}
    for agent_id in agent_ids:
        key = rows.pattern_key(agent_id)
        if key not in recurring:
            recurring[key] = shift_intervals(rows.shifts[agent_id], start, end)
        if rows.has_exceptions(agent_id):
            time = _agent_time(rows, agent_id, recurring[key])
            states[agent_id] = _state_at(time, at)
            continue
        if key not in shared:
            shared[key] = _state_at(AgentTime(worked=recurring[key]), at)
        states[agent_id] = shared[key]
    return states


def duty_window(at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The stretch of calendar duty is computed over: a day back, two days ahead.

    Validity dates are checked against the local day a stretch starts in
    this window (see :func:`shift_intervals`), so every reader of duty at
    ``at`` uses this same window.
    """
    return at - _DUTY_LOOKBACK, at + _DUTY_LOOKAHEAD


def _state_at(time: AgentTime, at: dt.datetime) -> DutyState:
    on_time_off = any(lo <= at < hi for lo, hi in time.time_off)
    for lo, hi in time.duty:
        if lo <= at < hi:
            return DutyState(on_duty=True, on_time_off=on_time_off, duty_ends_at=hi)
    return DutyState(on_duty=False, on_time_off=on_time_off, duty_ends_at=None)


class DutyReader:
    """Duty at one instant of people whose schedule rows are already in hand.

    For a routing roster kept in memory: it answers exactly as
    :func:`duty_states` would from the database (a person is on duty when at
    work and not on time off), and places each shift pattern on the calendar
    once however many people share it.
    """

    def __init__(self, at: dt.datetime) -> None:
        self.at = at
        self.start, self.end = duty_window(at)
        self._days: dict[tuple[str, str], dt.date | None] = {}

    def at_work(self, shifts: Iterable[ShiftLike], extra: Iterable[Interval]) -> bool:
        """In a stretch of a valid recurring shift, or in an extra shift (time off aside)."""
        for shift in shifts:
            key = (shift.hours, shift.time_zone)
            if key not in self._days:
                self._days[key] = _stretch_day(*key, self.at, self.start, self.end)
            day = self._days[key]
            if day is not None and _valid_on(shift, day):
                return True
        return any(lo <= self.at < hi for lo, hi in extra)

    def on_time_off(self, time_off: Iterable[Interval]) -> bool:
        return any(lo <= self.at < hi for lo, hi in time_off)

    def state(
        self, shifts: Iterable[ShiftLike], extra: Iterable[Interval], time_off: Iterable[Interval]
    ) -> DutyState:
        """The person's :class:`DutyState`, until when included, as :func:`duty_states` says."""
        start, end = self.start, self.end
        worked = shift_intervals(shifts, start, end)
        extra_in = [(max(lo, start), min(hi, end)) for lo, hi in extra if lo < end and hi > start]
        if extra_in:
            worked = _merge([*worked, *extra_in])
        away = _merge((lo, hi) for lo, hi in time_off if lo < end and hi > start)
        return _state_at(AgentTime(worked=worked, time_off=away), self.at)


def _valid_on(shift: ShiftLike, day: dt.date) -> bool:
    return (shift.valid_from is None or shift.valid_from <= day) and (
        shift.valid_until is None or shift.valid_until >= day
    )


def _ids(rows: QuerySet[Any]) -> list[int]:
    return list(rows.order_by().values_list("agent_id", flat=True))


def _stretch_day(
    hours: str, zone: str, at: dt.datetime, start: dt.datetime, end: dt.datetime
) -> dt.date | None:
    """The local day on which the pattern's stretch holding ``at`` starts; None when off."""
    for lo, hi in _pattern_intervals(hours, zone, start, end):
        if lo <= at < hi:
            return lo.astimezone(ZoneInfo(zone)).date()
    return None


def on_time_off(*, agent_id: int, at: dt.datetime) -> bool:
    return TimeOff.objects.filter(
        agent_id=agent_id, status=TimeOffStatus.APPROVED, start__lte=at, end__gt=at
    ).exists()


def on_duty(*, agent_id: int, at: dt.datetime) -> bool:
    """Inside a shift (recurring or extra) and not on approved time off."""
    return duty_states(agent_ids=[agent_id], at=at)[agent_id].on_duty


def duty_ends_at(*, agent_id: int, at: dt.datetime) -> dt.datetime | None:
    """When the current stretch of duty ends (None if off duty now)."""
    return duty_states(agent_ids=[agent_id], at=at)[agent_id].duty_ends_at


def team_members(*, team_id: int) -> QuerySet[User]:
    """Active agents, leads and admins of a team, by name."""
    return User.objects.filter(
        is_active=True, role__in=STAFF_ROLES, memberships__team_id=team_id
    ).order_by("name", "id")


def agents_on_duty(*, team_id: int, at: dt.datetime) -> list[User]:
    """Who of the team is on duty at ``at`` (in four queries)."""
    members = list(team_members(team_id=team_id))
    states = duty_states(agent_ids=[m.pk for m in members], at=at)
    return [m for m in members if states[m.pk].on_duty]


def agent_by_email(email: str) -> User:
    """The active agent behind an address, for commands and forms that name people."""
    agent = User.objects.with_email(email).filter(is_active=True, role__in=STAFF_ROLES).first()
    if agent is None:
        message = _("no active agent with email '%(email)s'") % {"email": email}
        raise InvalidInput(message, field="email")
    return agent
