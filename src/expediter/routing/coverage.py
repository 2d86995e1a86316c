"""Coverage: agents on duty per hour of a week, against the number needed.

The number needed for an hour comes from Erlang C (``staffing.required_agents``)
with the team's settings (answer within T minutes for a share F, shrinkage):

- the arrival rate is the team's observed rate for that weekday and hour,
  averaged over the :data:`HISTORY_WEEKS` weeks before the week shown, or the
  team's configured default rate when it received nothing in that time;
- the handle time is the mean work logged per ticket on the team's tickets
  over the same weeks, or the team's configured default.

On duty counts agent-hours: two agents on duty for half the hour count as 1.0.
Hours are local hours of the desk's zone; on a spring-forward day the
missing hour covers nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db.models import Count, Sum
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from expediter.routing.models import TeamRoutingSettings
from expediter.routing.selectors import routing_settings
from expediter.routing.staffing import required_agents
from expediter.schedules.selectors import Interval, people_weeks, team_members, week_days
from expediter.staff.models import Team
from expediter.tickets.models import Ticket, Worklog

HISTORY_WEEKS = 4


@dataclass(frozen=True)
class CoverageCell:
    day: dt.date
    hour: int
    on_duty: float
    needed: int
    arrivals_per_hour: float

    @property
    def gap(self) -> float:
        """Agents missing (positive) or spare (negative) in that hour."""
        return self.needed - self.on_duty

    @property
    def level(self) -> str:
        """How the hour fares, for the heat map: ``idle``, ``short``, ``tight`` or ``covered``."""
        if self.needed == 0:
            return "idle" if self.on_duty == 0 else "covered"
        if self.on_duty < self.needed - 0.5:
            return "short"
        if self.on_duty < self.needed:
            return "tight"
        return "covered"


@dataclass(frozen=True)
class CoverageWeek:
    team: Team
    days: list[dt.date]
    hours: list[list[CoverageCell]]  # 24 rows (hours), 7 cells each (days)
    handle_minutes: float
    handle_from_worklogs: bool
    arrivals_from_history: bool
    settings: TeamRoutingSettings

    @property
    def short_hours(self) -> int:
        return sum(1 for row in self.hours for cell in row if cell.level == "short")


def team_coverage(*, team: Team, week_start: dt.date, zone: ZoneInfo) -> CoverageWeek:
    """The heat map's figures for a team and a week (a fixed number of queries)."""
    days = week_days(week_start)
    settings = routing_settings(team_id=team.pk)
    since = _local_midnight(days[0], zone) - dt.timedelta(weeks=HISTORY_WEEKS)
    until = _local_midnight(days[0], zone)
    arrivals = _observed_arrivals(team, since, until, zone)
    handle, from_worklogs = _handle_minutes(team, since, until, settings)
    weeks = people_weeks(agents=list(team_members(team_id=team.pk)), week_start=days[0], zone=zone)
    duty = [interval for week in weeks for day in week.days for interval in day.duty]
    rows = []
    for hour in range(24):
        row = []
        for day in days:
            rate = arrivals.get((day.isoweekday(), hour), 0.0) if arrivals else None
            rate = settings.default_arrivals_per_hour if rate is None else rate
            row.append(
                CoverageCell(
                    day=day,
                    hour=hour,
                    on_duty=_agent_hours(duty, day, hour, zone),
                    needed=_needed(rate, handle, settings),
                    arrivals_per_hour=rate,
                )
            )
        rows.append(row)
    return CoverageWeek(
        team=team,
        days=days,
        hours=rows,
        handle_minutes=handle,
        handle_from_worklogs=from_worklogs,
        arrivals_from_history=bool(arrivals),
        settings=settings,
    )


def _observed_arrivals(
    team: Team, since: dt.datetime, until: dt.datetime, zone: ZoneInfo
) -> dict[tuple[int, int], float]:
    """Tickets per hour by (ISO weekday, local hour), averaged over the history weeks."""
    rows = (
        Ticket.objects.filter(team=team, created_at__gte=since, created_at__lt=until)
        .annotate(
            weekday=ExtractIsoWeekDay("created_at", tzinfo=zone),
            hour=ExtractHour("created_at", tzinfo=zone),
        )
        .values("weekday", "hour")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {(r["weekday"], r["hour"]): r["count"] / HISTORY_WEEKS for r in rows}


def _handle_minutes(
    team: Team, since: dt.datetime, until: dt.datetime, settings: TeamRoutingSettings
) -> tuple[float, bool]:
    totals = Worklog.objects.filter(ticket__team=team, at__gte=since, at__lt=until).aggregate(
        minutes=Sum("minutes"), tickets=Count("ticket", distinct=True)
    )
    if totals["tickets"]:
        return totals["minutes"] / totals["tickets"], True
    return float(settings.default_handle_minutes), False


def _needed(rate: float, handle: float, settings: TeamRoutingSettings) -> int:
    if rate <= 0:
        return 0
    return _erlang_agents(
        round(rate, 4),
        round(handle, 4),
        float(settings.answer_within_minutes),
        float(settings.service_level_target),
        float(settings.shrinkage),
    )


@lru_cache(maxsize=4096)
def _erlang_agents(
    rate: float, handle: float, within: float, target: float, shrinkage: float
) -> int:
    """Many hours share a rate: compute each combination once."""
    return required_agents(
        arrivals_per_hour=rate,
        handle_minutes=handle,
        answer_within_minutes=within,
        target=target,
        shrinkage=shrinkage,
    ).agents


def _agent_hours(duty: list[Interval], day: dt.date, hour: int, zone: ZoneInfo) -> float:
    """Agent-hours on duty while the local clock reads ``hour`` (a repeated hour counts twice)."""
    start = _local_midnight(day, zone, hour)
    end = _local_midnight(day, zone, hour + 1)
    if end <= start:
        return 0.0
    seconds = sum(max((min(hi, end) - max(lo, start)).total_seconds(), 0.0) for lo, hi in duty)
    return round(seconds / 3600, 2)


def _local_midnight(day: dt.date, zone: ZoneInfo, hour: int = 0) -> dt.datetime:
    """The instant of ``hour``:00 local on ``day`` (24 is the next midnight; a skipped hour
    maps to the moment the clock jumps, so its cell is empty)."""
    day = day + dt.timedelta(days=hour // 24)
    return dt.datetime.combine(day, dt.time(hour % 24), tzinfo=zone).astimezone(dt.UTC)
