"""A team as routing sees it between changes: members, skills and schedules, kept per process.

A decision weighs every member of the ticket's team. Reading hundreds of
members with their skills and shifts for each ticket cost ten times the
decision itself, while those rows change a few times a day. A process
keeps them (:class:`~expediter.core.memo.SharedMemo`) until a member,
membership, team, skill, shift, extra shift, time off or service requirement is
saved or deleted anywhere: the signals connected in ``routing.apps`` then
replace the token, so the admin, the services and the commands are all
covered. What moves with every assignment (active tickets, last
assignment) is read per decision, and only for the agents a decision lists
(:func:`current_loads`).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection
from django.utils.dateparse import parse_datetime

from expediter.core import clock
from expediter.core.memo import SharedMemo
from expediter.routing.engine import AgentFacts
from expediter.routing.models import AgentRoutingState
from expediter.schedules.models import ExtraShift, Shift, TimeOff, TimeOffStatus
from expediter.schedules.selectors import DutyReader, Interval, ShiftValues, duty_window
from expediter.staff.models import STAFF_ROLES, AgentSkill, Team, TeamMembership, User
from expediter.tickets.models import ACTIVE_STATUSES, Ticket

ROSTER = SharedMemo("expediter.routing.roster")


def desk_zone() -> ZoneInfo:
    return ZoneInfo(settings.DESK_TIME_ZONE)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone_of(user_zone: str) -> ZoneInfo:
    """The person's zone, else the desk's (an unknown name must not stop a decision)."""
    return (_zone(user_zone) if user_zone else None) or desk_zone()


HISTORY = dt.timedelta(days=7)
"""How far back a roster keeps extra shifts and time off: a decision looks a day back."""


@dataclass(frozen=True)
class RosterMember:
    """An active staff member of the team, with what decides whether they may take a ticket."""

    id: int
    name: str
    capacity: int
    time_zone: str
    zone: ZoneInfo
    skills: Mapping[str, int]
    shifts: tuple[ShiftValues, ...]
    extra: tuple[Interval, ...]
    time_off: tuple[Interval, ...]

    def duty_end(self, at: dt.datetime) -> dt.datetime | None:
        """When the member's current stretch of duty ends (None when off duty)."""
        return DutyReader(at).state(self.shifts, self.extra, self.time_off).duty_ends_at


@dataclass(frozen=True)
class TeamRoster:
    """The team's active staff in id order; schedules ending before ``since`` are left out.

    Indexed once per load for the decisions that follow: members whose time
    is only their recurring shifts (no extra shift, no time off) are grouped
    by those shifts, since they are at work together; ``levels`` gives each
    skill's holders.
    """

    team_id: int
    members: tuple[RosterMember, ...]
    since: dt.datetime
    by_id: Mapping[int, RosterMember] = field(init=False)
    ids: frozenset[int] = field(init=False)
    patterns: tuple[tuple[tuple[ShiftValues, ...], frozenset[int]], ...] = field(init=False)
    exceptional: tuple[RosterMember, ...] = field(init=False)
    levels: Mapping[str, Mapping[int, int]] = field(init=False)
    facts: dict[tuple[Any, ...], AgentFacts] = field(init=False, default_factory=dict)
    """Facts built for decisions, by what they hold (see ``facts._member_facts``)."""

    def __post_init__(self) -> None:
        grouped: dict[tuple[Any, ...], tuple[tuple[ShiftValues, ...], set[int]]] = {}
        levels: dict[str, dict[int, int]] = defaultdict(dict)
        for member in self.members:
            for skill, level in member.skills.items():
                levels[skill][member.id] = level
            if member.extra or member.time_off or not member.shifts:
                continue
            key = tuple(sorted(_pattern(s) for s in member.shifts))
            grouped.setdefault(key, (member.shifts, set()))[1].add(member.id)
        set_field = object.__setattr__
        set_field(self, "by_id", {member.id: member for member in self.members})
        set_field(self, "ids", frozenset(self.by_id))
        set_field(self, "patterns", tuple((s, frozenset(ids)) for s, ids in grouped.values()))
        set_field(self, "exceptional", tuple(m for m in self.members if m.extra or m.time_off))
        set_field(self, "levels", dict(levels))

    def member(self, agent_id: int) -> RosterMember | None:
        return self.by_id.get(agent_id)

    def duty_at(self, at: dt.datetime) -> tuple[set[int], set[int]]:
        """Who is at work (in a shift or an extra shift) and who is on time off, at ``at``."""
        duty = DutyReader(at)
        at_work: set[int] = set()
        on_time_off: set[int] = set()
        for shifts, ids in self.patterns:
            if duty.at_work(shifts, ()):
                at_work.update(ids)
        for member in self.exceptional:
            if duty.at_work(member.shifts, member.extra):
                at_work.add(member.id)
            if duty.on_time_off(member.time_off):
                on_time_off.add(member.id)
        return at_work, on_time_off

    def skilled(self, required: Mapping[str, int]) -> set[int] | None:
        """Members at or above every required level; None when nothing is required."""
        found: set[int] | None = None
        for skill, minimum in required.items():
            holders = {pk for pk, level in self.levels.get(skill, {}).items() if level >= minimum}
            found = holders if found is None else found & holders
        return found


def _pattern(shift: ShiftValues) -> tuple[Any, ...]:
    return (shift.hours, shift.time_zone, shift.valid_from, shift.valid_until)


def team_roster(team_id: int, *, at: dt.datetime) -> TeamRoster:
    """The team's roster, as kept by this process, read again for a decision about the past."""
    roster = ROSTER.get(
        ("team", team_id), partial(load_team_roster, team_id, clock.now() - HISTORY)
    )
    if duty_window(at)[0] < roster.since:
        return load_team_roster(team_id, duty_window(at)[0])
    return roster


def kept_team(team_id: int) -> Team:
    """The team, as kept by this process (a copy: callers may not change the kept one)."""
    teams = ROSTER.get("teams", _load_teams)
    team = teams.get(team_id)
    return copy.copy(team) if team is not None else Team.objects.get(pk=team_id)


def _load_teams() -> dict[int, Team]:
    return {team.pk: team for team in Team.objects.all()}


def roster_changed(**_: Any) -> None:
    """Receiver of the saves and deletes that change a roster (see ``routing.apps``)."""
    ROSTER.changed()


def user_saved(
    instance: User, created: bool = False, update_fields: Collection[str] | None = None, **_: Any
) -> None:
    """Any save of a person may change a roster, but a sign-in and a new requester cannot.

    New requesters arrive with every mail from a new address; a requester
    made staff later is saved again, and that save counts.
    """
    if created and instance.role not in STAFF_ROLES:
        return
    if update_fields is not None and set(update_fields) <= {"last_login", "password"}:
        return
    ROSTER.changed()


def load_team_roster(team_id: int, since: dt.datetime) -> TeamRoster:
    """The team's roster from the database, with extra shifts and time off ending after ``since``.

    Five queries whatever the team's size (memberships go
    through a subquery rather than long ``IN`` lists).
    """
    scope = TeamMembership.objects.filter(team_id=team_id).values("user_id")
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    for agent_id, skill, level in (
        AgentSkill.objects.filter(agent_id__in=scope)
        .order_by()
        .values_list("agent_id", "skill__name", "level")
    ):
        skills[agent_id][skill] = level
    shifts: dict[int, list[ShiftValues]] = defaultdict(list)
    for row in (
        Shift.objects.filter(agent_id__in=scope)
        .order_by("pk")
        .values_list("agent_id", "hours", "time_zone", "valid_from", "valid_until")
    ):
        shifts[row[0]].append(ShiftValues(*row))
    extra = _intervals(ExtraShift.objects.filter(agent_id__in=scope, end__gt=since))
    time_off = _intervals(
        TimeOff.objects.filter(agent_id__in=scope, status=TimeOffStatus.APPROVED, end__gt=since)
    )
    people = (
        User.objects.filter(is_active=True, role__in=STAFF_ROLES, memberships__team_id=team_id)
        .order_by("pk")
        .values_list("pk", "name", "capacity", "time_zone")
    )
    members = tuple(
        RosterMember(
            id=pk,
            name=name,
            capacity=capacity,
            time_zone=time_zone,
            zone=zone_of(time_zone),
            skills=skills.get(pk, {}),
            shifts=tuple(shifts.get(pk, ())),
            extra=tuple(extra.get(pk, ())),
            time_off=tuple(time_off.get(pk, ())),
        )
        for pk, name, capacity, time_zone in people
    )
    return TeamRoster(team_id=team_id, members=members, since=since)


def _intervals(rows: Any) -> dict[int, list[Interval]]:
    found: dict[int, list[Interval]] = defaultdict(list)
    for agent_id, start, end in rows.order_by("start").values_list("agent_id", "start", "end"):
        found[agent_id].append((start, end))
    return found


def current_loads(agent_ids: Collection[int]) -> dict[int, tuple[int, dt.datetime | None]]:
    """Each agent's active tickets and last assignment, in one statement.

    Written in SQL because it runs for every decision and the query itself
    costs a tenth of what building it through the ORM did; it is portable
    between SQLite and PostgreSQL (a correlated ``COUNT`` on the
    ``(assignee, status)`` index, a ``LEFT JOIN`` on the routing state).
    """
    if not agent_ids:
        return {}
    ids = list(agent_ids)
    with connection.cursor() as cursor:
        cursor.execute(_loads_sql(len(ids), len(ACTIVE_STATUSES)), [*ACTIVE_STATUSES, *ids])
        rows = cursor.fetchall()
    return {pk: (active, _aware(last)) for pk, active, last in rows}


def _loads_sql(agents: int, statuses: int) -> str:
    quote = connection.ops.quote_name
    user, ticket, state = User._meta, Ticket._meta, AgentRoutingState._meta
    status = ticket.get_field("status").column
    assignee = ticket.get_field("assignee").column
    agent = state.get_field("agent").column
    last = state.get_field("last_assigned_at").column
    # Identifiers come from the models' metadata; every value is a parameter.
    return (
        f"SELECT u.id, (SELECT COUNT(*) FROM {quote(ticket.db_table)} t"  # noqa: S608
        f" WHERE t.{quote(assignee)} = u.id AND t.{quote(status)} IN ({_marks(statuses)})),"
        f" r.{quote(last)} FROM {quote(user.db_table)} u"
        f" LEFT JOIN {quote(state.db_table)} r ON r.{quote(agent)} = u.id"
        f" WHERE u.id IN ({_marks(agents)})"
    )


def _marks(count: int) -> str:
    return ", ".join(["%s"] * count)


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    """A stored time as an aware datetime (SQLite hands back naive UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
        assert value is not None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
