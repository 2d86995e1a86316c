"""Replaying a ticket's history into its SLA clocks.

Every clock decision is derived from the ticket's events alone, so the
answer of a write, the next read, a rebuild and ``expediter sla explain``
agree by construction: there is no clock state that the history cannot
reproduce.

The rules, applied to the events in time order:

- The first-response clock starts when the ticket is created and stops at the
  first public reply by an agent.
- The next-response clock starts when the requester replies publicly after
  that first response, and stops at the agent's next public reply; each such
  exchange is a new cycle.
- The resolution clock starts at creation and stops when the ticket is
  resolved; the policy's pause statuses (by default ``waiting_requester`` and
  ``waiting_third_party``) pause it.
- Every clock stands still while the ticket is resolved or closed, and
  reopening resumes the clocks that still wait for something.

The policy given applies to the whole history: when a change of priority or
service makes another policy match, the clocks are re-targeted as if that
policy had applied from the start, with every pause subtracted exactly.

This module is pure: statuses are written out here rather than imported from
the ticket models (a database test checks that the two lists agree).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from expediter.sla.calc import BusinessCalendar, add_business_time, business_time_between

OPEN_STATUSES = frozenset(
    {"new", "assigned", "in_progress", "waiting_requester", "waiting_third_party"}
)
WAITING_STATUSES = frozenset({"waiting_requester", "waiting_third_party"})
# Articles that answer nobody and ask nothing: they never move a clock.
AUTOMATIC_ARTICLE_KINDS = frozenset({"auto_reply", "bounce", "unknown_sender"})
# The only verbs that can move a clock; any other event leaves the clocks as they were.
CLOCK_VERBS = frozenset({"created", "status_changed", "reopened", "article_added"})


class ClockKind(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class ClockStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


Segment = tuple[datetime, datetime | None]


@dataclass(frozen=True)
class HistoryEvent:
    """What the replay needs of a ticket event: when, what, and its before/after pairs."""

    at: datetime
    verb: str
    changes: Mapping[str, Any] = field(default_factory=dict)

    def after(self, name: str) -> Any:
        pair = self.changes.get(name)
        if isinstance(pair, list | tuple) and len(pair) == 2:
            return pair[1]
        return None


@dataclass(frozen=True)
class Targets:
    """A policy's targets in business time, and what pauses its resolution clock."""

    first_response: timedelta
    resolution: timedelta
    next_response: timedelta | None = None
    warn_percent: int | None = 80
    pause_statuses: frozenset[str] = WAITING_STATUSES

    def target(self, kind: ClockKind) -> timedelta | None:
        if kind == ClockKind.FIRST_RESPONSE:
            return self.first_response
        if kind == ClockKind.RESOLUTION:
            return self.resolution
        return self.next_response


@dataclass(frozen=True)
class Clock:
    """One clock as the history leaves it.

    ``due_at`` is when the target is (or was) reached: for a running clock the
    due time, for a stopped one the due time it had when it stopped (or when
    it was passed), and None for a paused clock that had not reached it.
    ``breach_at`` is the instant the target was passed while running (for a
    running clock, its due time even if still ahead); ``warn_at`` is when a
    running clock reaches its warning threshold.
    """

    kind: ClockKind
    cycle: int
    target: timedelta
    status: ClockStatus
    segments: tuple[Segment, ...]
    elapsed: timedelta
    due_at: datetime | None
    warn_at: datetime | None
    breach_at: datetime | None

    @property
    def started_at(self) -> datetime:
        return self.segments[0][0]

    @property
    def running_since(self) -> datetime | None:
        return self.segments[-1][0] if self.status == ClockStatus.RUNNING else None

    @property
    def stopped_at(self) -> datetime | None:
        return None if self.status == ClockStatus.RUNNING else self.segments[-1][1]

    def is_breached(self, now: datetime) -> bool:
        return self.breach_at is not None and self.breach_at < now

    def is_met(self) -> bool:
        return self.status == ClockStatus.STOPPED and self.breach_at is None

    def remaining(self, calendar: BusinessCalendar, now: datetime) -> timedelta:
        """Business time left before the target (negative once overdue)."""
        if self.status == ClockStatus.RUNNING and self.due_at is not None:
            return business_time_between(calendar, now, self.due_at)
        return self.target - self.elapsed


@dataclass(frozen=True)
class Step:
    """One decision of the replay, for ``sla explain``: a clock started, paused..."""

    at: datetime
    kind: ClockKind
    cycle: int
    action: str  # started, paused, resumed, stopped
    cause: str
    elapsed: timedelta


@dataclass(frozen=True)
class ClockState:
    """The clocks of one ticket: the current one of each kind, earlier cycles, the steps."""

    clocks: tuple[Clock, ...]
    earlier_cycles: tuple[Clock, ...]
    steps: tuple[Step, ...]

    def clock(self, kind: ClockKind) -> Clock | None:
        return next((clock for clock in self.clocks if clock.kind == kind), None)


def clocks_from_history(
    events: Iterable[HistoryEvent], policy: Targets, calendar: BusinessCalendar
) -> ClockState:
    """Replay ``events`` (any order; ties keep their order) under ``policy`` on ``calendar``."""
    replay = _Replay(policy, calendar)
    for event in sorted(events, key=lambda event: event.at):
        replay.apply(event)
    return replay.finish()


# --- the replay ---------------------------------------------------------------


@dataclass
class _Track:
    """A clock being replayed: its cycle and its running stretches so far."""

    kind: ClockKind
    cycle: int
    segments: list[Segment] = field(default_factory=list)
    used: list[timedelta] = field(default_factory=list)  # business time of each closed one
    elapsed: timedelta = timedelta(0)
    paused: bool = False

    @property
    def running(self) -> bool:
        return bool(self.segments) and self.segments[-1][1] is None


class _Replay:
    def __init__(self, policy: Targets, calendar: BusinessCalendar) -> None:
        self.policy = policy
        self.calendar = calendar
        self.status: str | None = None
        self.responded = False
        self.awaiting_next = False
        self.tracks: dict[ClockKind, _Track] = {}
        self.earlier: list[_Track] = []
        self.steps: list[Step] = []

    def apply(self, event: HistoryEvent) -> None:
        if event.verb == "created":
            self._created(event)
        elif self.status is None:
            return  # nothing happens to clocks before the ticket exists
        elif event.verb in ("status_changed", "reopened"):
            self._status(event)
        elif event.verb == "article_added":
            self._article(event)

    def _created(self, event: HistoryEvent) -> None:
        if self.status is not None:
            return
        self.status = str(event.after("status") or "new")
        self.tracks[ClockKind.FIRST_RESPONSE] = _Track(ClockKind.FIRST_RESPONSE, 1)
        self.tracks[ClockKind.RESOLUTION] = _Track(ClockKind.RESOLUTION, 1)
        self._sync(event.at, "ticket created")

    def _status(self, event: HistoryEvent) -> None:
        status = event.after("status")
        if status is None or status == self.status:
            return
        self.status = str(status)
        self._sync(event.at, f"status {status}")

    def _article(self, event: HistoryEvent) -> None:
        if event.after("internal") or event.after("kind") in AUTOMATIC_ARTICLE_KINDS:
            return
        author = event.after("from")
        if author == "agent":
            self._agent_replied(event.at)
        elif author == "requester" and self.responded and not self.awaiting_next:
            self._requester_replied(event.at)

    def _agent_replied(self, at: datetime) -> None:
        if not self.responded:
            self.responded = True
            self._sync(at, "first public reply by an agent")
        if self.awaiting_next:
            self.awaiting_next = False
            self._sync(at, "public reply by an agent")

    def _requester_replied(self, at: datetime) -> None:
        if self.policy.next_response is None:
            return
        previous = self.tracks.get(ClockKind.NEXT_RESPONSE)
        if previous is not None:
            self.earlier.append(previous)
        cycle = previous.cycle + 1 if previous is not None else 1
        self.tracks[ClockKind.NEXT_RESPONSE] = _Track(ClockKind.NEXT_RESPONSE, cycle)
        self.awaiting_next = True
        self._sync(at, "the requester replied")

    def _wants_running(self, kind: ClockKind) -> bool:
        if self.status not in OPEN_STATUSES:
            return False
        if kind == ClockKind.FIRST_RESPONSE:
            return not self.responded
        if kind == ClockKind.NEXT_RESPONSE:
            return self.awaiting_next
        return self.status not in self.policy.pause_statuses

    def _sync(self, at: datetime, cause: str) -> None:
        """Start, resume, pause or stop each clock so it matches the ticket's state."""
        for kind, track in self.tracks.items():
            wanted = self._wants_running(kind)
            if wanted and not track.running:
                action = "resumed" if track.segments else "started"
                track.segments.append((at, None))
                track.paused = False
                self._step(at, track, action, cause)
            elif track.running and not wanted:
                start = track.segments[-1][0]
                track.segments[-1] = (start, at)
                track.used.append(business_time_between(self.calendar, start, at))
                track.elapsed += track.used[-1]
                track.paused = (
                    kind == ClockKind.RESOLUTION and self.status in self.policy.pause_statuses
                )
                self._step(at, track, "paused" if track.paused else "stopped", cause)

    def _step(self, at: datetime, track: _Track, action: str, cause: str) -> None:
        self.steps.append(Step(at, track.kind, track.cycle, action, cause, track.elapsed))

    def finish(self) -> ClockState:
        clocks = tuple(
            _clock(track, self.policy, self.calendar)
            for kind, track in sorted(self.tracks.items())
            if track.segments and self.policy.target(kind) is not None
        )
        earlier = tuple(_clock(track, self.policy, self.calendar) for track in self.earlier)
        return ClockState(clocks=clocks, earlier_cycles=earlier, steps=tuple(self.steps))


# --- from stretches of running time to due, warning and breach ----------------


def _clock(track: _Track, policy: Targets, calendar: BusinessCalendar) -> Clock:
    target = policy.target(track.kind)
    assert target is not None  # tracks exist only for clocks the policy sets
    segments = tuple(track.segments)
    reached = _reached_at(calendar, segments, track.used, target)
    if track.running:
        status, due, breach = ClockStatus.RUNNING, reached, reached
        warn = _warning_at(calendar, segments, track.used, target, policy.warn_percent)
    else:
        status = ClockStatus.PAUSED if track.paused else ClockStatus.STOPPED
        stopped_at = segments[-1][1]
        assert stopped_at is not None
        breach = reached if reached is not None and reached < stopped_at else None
        due = reached
        if due is None and status == ClockStatus.STOPPED:
            due = _due_in_last_run(calendar, segments, track.used, target, track.elapsed)
        warn = None
    return Clock(
        kind=track.kind,
        cycle=track.cycle,
        target=target,
        status=status,
        segments=segments,
        elapsed=track.elapsed,
        due_at=due,
        warn_at=warn,
        breach_at=breach,
    )


def _reached_at(
    calendar: BusinessCalendar,
    segments: tuple[Segment, ...],
    used: list[timedelta],
    amount: timedelta,
) -> datetime | None:
    """The instant ``amount`` of business time has run in these stretches (None: not yet).

    ``used`` holds the business time of each closed stretch, measured once
    when it closed.
    """
    remaining = amount
    for (start, end), spent in zip(segments, [*used, None], strict=False):
        if end is None or spent is None or spent >= remaining:
            return add_business_time(calendar, start, remaining)
        remaining -= spent
    return None


def _warning_at(
    calendar: BusinessCalendar,
    segments: tuple[Segment, ...],
    used: list[timedelta],
    target: timedelta,
    percent: int | None,
) -> datetime | None:
    if not percent or not 0 < percent < 100:
        return None
    return _reached_at(calendar, segments, used, target * percent // 100)


def _due_in_last_run(
    calendar: BusinessCalendar,
    segments: tuple[Segment, ...],
    used: list[timedelta],
    target: timedelta,
    elapsed: timedelta,
) -> datetime:
    """The due time a clock that stopped short of its target showed while it last ran."""
    before_last = elapsed - used[-1]
    return add_business_time(calendar, segments[-1][0], target - before_last)
