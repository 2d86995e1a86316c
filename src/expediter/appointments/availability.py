"""When an agent can take an appointment: duty minus time off minus other appointments.

Everything here is plain arithmetic over aware datetimes (normalised to UTC),
so booking checks, slot searches and the visit planner agree without a
database. The service layer gathers an agent's shifts, time off and booked
appointments into an :class:`AgentAvailability` and asks.

How travel is modelled
----------------------
An agent's *day* is one duty interval (shifts that touch, such as a night
split at midnight, are merged first). The day starts at the agent's home site
at the start of duty and must end there by the end of duty. In between, the
agent is located only by on-site appointments: consecutive located points
(home, on-site stops, home) form *legs*, and the trip of each leg must fit in
the leg's free time, that is its length minus time off and appointments
inside it. Remote appointments and time off are held wherever the agent
happens to be, but they consume time the trip needs: a remote booking is
refused when it leaves a leg too little free time for its trip. A split
shift (09:00-12:00, 13:00-17:00) is therefore two days, each starting and
ending at home; this is conservative, never optimistic. An agent with no
home site is taken to be already wherever the first and last stops are.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import repeat
from operator import itemgetter
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

from expediter.appointments.travel import Site, TravelFn, travel_minutes
from expediter.core.wording import Wording, gettext_noop

Kind = Literal["remote", "onsite"]
SLOT_STEP = dt.timedelta(minutes=30)
_ZERO = dt.timedelta(0)
_DAY = dt.timedelta(days=1)
_TICK = dt.timedelta(microseconds=1)
# Multiples of the step over a day, computed once: multiplying timedeltas is slow.
_STEPS = [k * SLOT_STEP for k in range(_DAY // SLOT_STEP + 1)]
# Why a booking is refused, said in the reader's language by the service.
OFF_DUTY = Wording(gettext_noop("off duty"))
ON_TIME_OFF = Wording(gettext_noop("on time off"))
ANOTHER_APPOINTMENT = Wording(gettext_noop("another appointment"))
AN_UNKNOWN_PLACE = Wording(gettext_noop("an unknown place"))


def _utc(value: dt.datetime, what: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, got {value!r}")
    return value.astimezone(dt.UTC)


@dataclass(frozen=True)
class Interval:
    """A half-open period ``[start, end)`` in UTC."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _utc(self.start, "start"))
        object.__setattr__(self, "end", _utc(self.end, "end"))
        if self.end <= self.start:
            raise ValueError(f"interval ends ({self.end}) at or before it starts ({self.start})")

    @property
    def length(self) -> dt.timedelta:
        return self.end - self.start

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.start < end and start < self.end

    def contains(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.start <= start and end <= self.end


@dataclass(frozen=True)
class Busy:
    """An appointment already in the agent's diary; ``site`` is set for on-site ones."""

    start: dt.datetime
    end: dt.datetime
    site: Site | None = None
    appointment_id: int | None = None

    def __post_init__(self) -> None:
        interval = Interval(self.start, self.end)
        object.__setattr__(self, "start", interval.start)
        object.__setattr__(self, "end", interval.end)

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)

    def describe(self) -> str:
        if self.appointment_id is None:
            return ANOTHER_APPOINTMENT
        return Wording(gettext_noop("appointment #%(id)s"), id=self.appointment_id)


@dataclass(frozen=True)
class AgentAvailability:
    """What the diary says about one agent over the period of interest.

    When checking a change to an existing appointment, leave that appointment
    out of ``busy`` so it does not collide with itself.
    """

    agent_id: int
    agent_name: str
    duty: Sequence[Interval]
    time_off: Sequence[Interval] = ()
    busy: Sequence[Busy] = ()
    home: Site | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "duty", tuple(self.duty))
        object.__setattr__(self, "time_off", tuple(self.time_off))
        object.__setattr__(self, "busy", tuple(sorted(self.busy, key=lambda b: b.start)))


class Slot(NamedTuple):
    """A bookable period for one agent.

    A named tuple rather than a dataclass: a fortnight for a team makes
    thousands, and tuples are built and sorted (by start, then agent id, as
    the API lists them) at C speed.
    """

    start: dt.datetime
    end: dt.datetime
    agent_id: int
    agent_name: str


# Builds slots from field tuples in C, skipping the Python-level ``__new__`` of a NamedTuple.
_new_slot = partial(tuple.__new__, Slot)


@dataclass(frozen=True)
class FreeWindow:
    """Where a booking may lie: inside ``[start, end)`` and no longer than ``longest``.

    ``longest`` is shorter than the window when a remote booking would eat into
    the time a trip around it needs.
    """

    start: dt.datetime
    end: dt.datetime
    longest: dt.timedelta

    def fits(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.start <= start and end <= self.end and end - start <= self.longest


Span = tuple[dt.datetime, dt.datetime]
"""A validated ``[start, end)`` in UTC as a bare tuple: the slot search makes thousands."""


@dataclass(frozen=True)
class _Leg:
    """The stretch between two located points of a day, and its free time."""

    origin: Site | None
    destination: Site | None
    free: tuple[Span, ...]

    @property
    def free_total(self) -> dt.timedelta:
        return _total(self.free)


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted union; touching intervals join so a shift split at midnight is one day."""
    return [Interval(start, end) for start, end in _merge((i.start, i.end) for i in intervals)]


def _merge(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(start: dt.datetime, end: dt.datetime, blocks: Sequence[Span]) -> list[Span]:
    """``[start, end)`` minus sorted, merged ``blocks``; empty when the range is."""
    free: list[Span] = []
    cursor = start
    for block_start, block_end in blocks:
        if block_end <= cursor:
            continue
        if block_start >= end:
            break
        if block_start > cursor:
            free.append((cursor, block_start))
        cursor = max(cursor, block_end)
    if cursor < end:
        free.append((cursor, end))
    return free


def _total(spans: Iterable[Span]) -> dt.timedelta:
    return sum((end - start for start, end in spans), _ZERO)


def _minutes(travel: TravelFn, origin: Site | None, destination: Site | None) -> int:
    if origin is None or destination is None or origin.id == destination.id:
        return 0
    return travel(origin, destination)


def _blocks(agent: AgentAvailability) -> list[Span]:
    return _merge(
        [*((o.start, o.end) for o in agent.time_off), *((b.start, b.end) for b in agent.busy)]
    )


def _days(agent: AgentAvailability) -> list[Span]:
    return _merge((d.start, d.end) for d in agent.duty)


def _legs(agent: AgentAvailability) -> Iterator[_Leg]:
    blocks = _blocks(agent)
    for day_start, day_end in _days(agent):
        origin, leaves_at = agent.home, day_start
        for stop in _stops_in(agent, day_start, day_end):
            yield _Leg(origin, stop.site, tuple(_subtract(leaves_at, stop.start, blocks)))
            origin, leaves_at = stop.site, stop.end
        yield _Leg(origin, agent.home, tuple(_subtract(leaves_at, day_end, blocks)))


def _stops_in(agent: AgentAvailability, day_start: dt.datetime, day_end: dt.datetime) -> list[Busy]:
    return [b for b in agent.busy if b.site is not None and b.start < day_end and day_start < b.end]


def free_windows(
    agent: AgentAvailability,
    *,
    kind: Kind = "remote",
    site: Site | None = None,
    travel: TravelFn = travel_minutes,
) -> list[FreeWindow]:
    """Every window where a booking of this kind (at ``site`` if on-site) can go, sorted."""
    _check_kind(kind, site)
    windows: list[FreeWindow] = []
    for leg in _legs(agent):
        if kind == "onsite":
            assert site is not None
            windows.extend(_onsite_windows(leg, site, travel))
        else:
            windows.extend(_remote_windows(leg, travel))
    return windows


def _remote_windows(leg: _Leg, travel: TravelFn) -> Iterator[FreeWindow]:
    trip = dt.timedelta(minutes=_minutes(travel, leg.origin, leg.destination))
    spare = leg.free_total - trip
    if spare <= _ZERO:
        return
    for start, end in leg.free:
        yield FreeWindow(start, end, min(end - start, spare))


def _onsite_windows(leg: _Leg, site: Site, travel: TravelFn) -> Iterator[FreeWindow]:
    """Windows that leave the trips from the origin and to the destination enough free time."""
    trip_in = dt.timedelta(minutes=_minutes(travel, leg.origin, site))
    trip_out = dt.timedelta(minutes=_minutes(travel, site, leg.destination))
    free_before = _ZERO
    free_after = leg.free_total
    for free_start, free_end in leg.free:
        free_after -= free_end - free_start
        start = free_start + max(_ZERO, trip_in - free_before)
        end = free_end - max(_ZERO, trip_out - free_after)
        if end > start:
            yield FreeWindow(start, end, end - start)
        free_before += free_end - free_start


def _check_kind(kind: str, site: Site | None) -> None:
    if kind not in ("remote", "onsite"):
        raise ValueError(f"kind must be 'remote' or 'onsite', got {kind!r}")
    if kind == "onsite" and site is None:
        raise ValueError("an on-site booking needs a site")


def check_booking(
    agent: AgentAvailability,
    *,
    start: dt.datetime,
    end: dt.datetime,
    kind: Kind = "remote",
    site: Site | None = None,
    travel: TravelFn = travel_minutes,
) -> str | None:
    """None when the agent can take this booking, else the first rule it breaks.

    Reasons read as sentences for a 409: ``off duty``, ``on time off``,
    ``overlaps appointment #12``, ``no time to travel from <site> (25 min)``; each is a
    :class:`~expediter.core.wording.Wording` the service says in the reader's language.
    """
    _check_kind(kind, site)
    booking = Interval(start, end)
    day = next((d for d in _days(agent) if d[0] <= booking.start and booking.end <= d[1]), None)
    if day is None:
        return OFF_DUTY
    if any(off.overlaps(booking.start, booking.end) for off in agent.time_off):
        return ON_TIME_OFF
    clash = next((b for b in agent.busy if b.interval.overlaps(booking.start, booking.end)), None)
    if clash is not None:
        return Wording(gettext_noop("overlaps %(what)s"), what=clash.describe())
    return _travel_reason(agent, day, booking, site if kind == "onsite" else None, travel)


def _travel_reason(
    agent: AgentAvailability,
    day: Span,
    booking: Interval,
    site: Site | None,
    travel: TravelFn,
) -> str | None:
    stops = _stops_in(agent, *day)
    before = [s for s in stops if s.end <= booking.start]
    after = [s for s in stops if s.start >= booking.end]
    origin, leaves_at = (before[-1].site, before[-1].end) if before else (agent.home, day[0])
    destination, due_at = (after[0].site, after[0].start) if after else (agent.home, day[1])
    blocks = _blocks(agent)
    if site is None:
        trip = _minutes(travel, origin, destination)
        spare = _free_length(leaves_at, due_at, blocks) - booking.length
        if trip and spare < dt.timedelta(minutes=trip):
            return Wording(
                gettext_noop("no time to travel from %(origin)s to %(destination)s (%(trip)s min)"),
                origin=_name(origin),
                destination=_name(destination),
                trip=trip,
            )
        return None
    trip_in = _minutes(travel, origin, site)
    if trip_in and _free_length(leaves_at, booking.start, blocks) < dt.timedelta(minutes=trip_in):
        return Wording(
            gettext_noop("no time to travel from %(origin)s (%(trip)s min)"),
            origin=_name(origin),
            trip=trip_in,
        )
    trip_out = _minutes(travel, site, destination)
    if trip_out and _free_length(booking.end, due_at, blocks) < dt.timedelta(minutes=trip_out):
        return Wording(
            gettext_noop("no time to travel to %(destination)s (%(trip)s min)"),
            destination=_name(destination),
            trip=trip_out,
        )
    return None


def _free_length(start: dt.datetime, end: dt.datetime, blocks: Sequence[Span]) -> dt.timedelta:
    return _total(_subtract(start, end, blocks))


def _name(site: Site | None) -> str:
    return site.name if site is not None else AN_UNKNOWN_PLACE


def find_slots(
    agents: Iterable[AgentAvailability],
    *,
    duration_minutes: int,
    start: dt.datetime,
    end: dt.datetime,
    zone: ZoneInfo,
    kind: Kind = "remote",
    site: Site | None = None,
    travel: TravelFn = travel_minutes,
) -> list[Slot]:
    """Every bookable slot inside ``[start, end)`` starting on :00 or :30 of ``zone``'s wall time.

    Alignment follows local wall time, so in a zone 5:45 ahead of UTC slots
    start at :15 and :45 past the UTC hour, and both passes through an
    ambiguous autumn half hour are offered.
    """
    if duration_minutes <= 0:
        raise ValueError("duration_minutes must be positive")
    _check_kind(kind, site)
    period = Interval(start, end)
    duration = dt.timedelta(minutes=duration_minutes)
    starts = aligned_starts(period.start, period.end - duration, zone)
    ends = [begin + duration for begin in starts]
    slots: list[Slot] = []
    for agent in sorted(agents, key=lambda a: a.agent_id):
        for window in free_windows(agent, kind=kind, site=site, travel=travel):
            if window.longest < duration:
                continue
            low = bisect_left(starts, window.start)
            high = bisect_right(starts, window.end - duration)
            fields = zip(
                starts[low:high],
                ends[low:high],
                repeat(agent.agent_id),
                repeat(agent.agent_name),
                strict=False,  # the repeats are endless
            )
            slots.extend(map(_new_slot, fields))
    slots.sort(key=itemgetter(0))  # stable: agents were taken in id order
    return slots


def aligned_starts(first: dt.datetime, last: dt.datetime, zone: ZoneInfo) -> list[dt.datetime]:
    """UTC instants in ``[first, last]`` whose wall time in ``zone`` is on :00 or :30.

    Worked out a day at a time: no zone changes its offset twice in a day, so
    only a day with a change is walked step by step.
    """
    moments: list[dt.datetime] = []
    day_start = first
    while day_start <= last:
        moments.extend(_aligned_within_a_day(day_start, min(day_start + _DAY - _TICK, last), zone))
        day_start += _DAY
    return moments


def _aligned_within_a_day(
    first: dt.datetime, last: dt.datetime, zone: ZoneInfo
) -> Iterator[dt.datetime]:
    offset = _offset(first, zone)
    if offset == _offset(last, zone):
        aligned = _align_up(first, offset)
        if aligned <= last:
            yield from (aligned + step for step in _STEPS[: (last - aligned) // SLOT_STEP + 1])
        return
    moment = _align_up(first, offset)
    while moment <= last:
        aligned = _align_up(moment, _offset(moment, zone))
        if aligned == moment:
            yield moment
            moment += SLOT_STEP
        else:
            moment = aligned


def _offset(moment: dt.datetime, zone: ZoneInfo) -> dt.timedelta:
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _align_up(moment: dt.datetime, offset: dt.timedelta) -> dt.datetime:
    """The first instant at or after ``moment`` whose wall time at ``offset`` is on the step."""
    wall = moment.replace(tzinfo=None) + offset
    since_midnight = wall - wall.replace(hour=0, minute=0, second=0, microsecond=0)
    remainder = since_midnight % SLOT_STEP
    return moment if remainder == _ZERO else moment + (SLOT_STEP - remainder)


def choose_best_agent(
    candidates: Iterable[AgentAvailability],
    *,
    start: dt.datetime,
    end: dt.datetime,
    loads: Mapping[int, int],
    kind: Kind = "remote",
    site: Site | None = None,
    travel: TravelFn = travel_minutes,
    skill_levels: Mapping[int, int] | None = None,
) -> AgentAvailability | None:
    """The free candidate that keeps the load even; None when nobody is free.

    Candidates are the agents already qualified for the ticket. Among the free
    ones the lightest load wins (open appointments or tickets, as ``loads``
    counts them), then the higher skill level, then the lower id so the choice
    is deterministic.
    """
    levels = skill_levels or {}
    free = [
        agent
        for agent in candidates
        if check_booking(agent, start=start, end=end, kind=kind, site=site, travel=travel) is None
    ]
    return min(free, key=_ranking(loads, levels), default=None)


def _ranking(
    loads: Mapping[int, int], levels: Mapping[int, int]
) -> Callable[[AgentAvailability], tuple[int, int, int]]:
    def rank(agent: AgentAvailability) -> tuple[int, int, int]:
        return (loads.get(agent.agent_id, 0), -levels.get(agent.agent_id, 0), agent.agent_id)

    return rank
