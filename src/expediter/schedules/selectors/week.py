"""A week of work as the pages show it, and time off waiting for a decision."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from expediter.schedules.models import TimeOff, TimeOffStatus
from expediter.schedules.selectors.duty import Interval, _clip, agent_times, team_members
from expediter.staff.models import User


@dataclass(frozen=True)
class Absence:
    """Time off as a page shows it, requested or approved."""

    id: int
    kind: str
    status: str
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class ScheduleDay:
    day: dt.date
    duty: list[Interval]
    absences: list[Absence]

    @property
    def duty_minutes(self) -> int:
        return sum(int((hi - lo).total_seconds() // 60) for lo, hi in self.duty)


@dataclass(frozen=True)
class AgentWeek:
    agent: User
    days: list[ScheduleDay]

    @property
    def duty_minutes(self) -> int:
        return sum(day.duty_minutes for day in self.days)


def week_days(week_start: dt.date) -> list[dt.date]:
    monday = week_start - dt.timedelta(days=week_start.weekday())
    return [monday + dt.timedelta(days=n) for n in range(7)]


def people_weeks(*, agents: list[User], week_start: dt.date, zone: ZoneInfo) -> list[AgentWeek]:
    """Each agent's duty and absences, day by day (local days of ``zone``), in four queries."""
    days = week_days(week_start)
    bounds = [_local_midnight(day, zone) for day in [*days, days[-1] + dt.timedelta(days=1)]]
    ids = [a.pk for a in agents]
    times = agent_times(agent_ids=ids, start=bounds[0], end=bounds[-1])
    absences: dict[int, list[Absence]] = defaultdict(list)
    for row in TimeOff.objects.filter(
        agent_id__in=ids,
        status__in=(TimeOffStatus.REQUESTED, TimeOffStatus.APPROVED),
        start__lt=bounds[-1],
        end__gt=bounds[0],
    ).order_by("start", "id"):
        absences[row.agent_id].append(Absence(row.pk, row.kind, row.status, row.start, row.end))
    weeks = []
    for agent in agents:
        duty = times[agent.pk].duty
        week = [
            ScheduleDay(
                day=day,
                duty=_clip(duty, lo, hi),
                absences=[a for a in absences[agent.pk] if a.start < hi and a.end > lo],
            )
            for day, lo, hi in zip(days, bounds, bounds[1:], strict=False)
        ]
        weeks.append(AgentWeek(agent=agent, days=week))
    return weeks


def team_week(*, team_id: int, week_start: dt.date, zone: ZoneInfo) -> list[AgentWeek]:
    """The team's week at a glance, for the schedule page (five queries)."""
    return people_weeks(
        agents=list(team_members(team_id=team_id)), week_start=week_start, zone=zone
    )


def _local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


# --- time off requests ------------------------------------------------------------------------


def time_off_pending(*, team_id: int | None = None) -> QuerySet[TimeOff]:
    """Requests waiting for a lead, oldest first; narrowed to a team's members when given."""
    rows = TimeOff.objects.filter(status=TimeOffStatus.REQUESTED)
    if team_id is not None:
        rows = rows.filter(agent__memberships__team_id=team_id)
    return rows.select_related("agent").order_by("start", "id")


def time_off_of(*, agent_id: int, since: dt.datetime) -> QuerySet[TimeOff]:
    """An agent's time off ending after ``since``, whatever its status."""
    return (
        TimeOff.objects.filter(agent_id=agent_id, end__gt=since)
        .select_related("decided_by")
        .order_by("start", "id")
    )
