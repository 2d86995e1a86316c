"""Routing for the demo desk: on-call rotations, team settings, time off, and a first routing pass.

Runs after ``demo.builder.build_demo`` has created the teams, people and
tickets, at the real current time, through the same services as the pages:

- every team gets an on-call schedule: a weekly rotation of its members
  around the clock, and for Network a weekend-days layer on top plus an
  override tomorrow night, so the on-call page shows layers at work;
- the Service Desk hands tickets over when their assignee goes off duty;
- one agent has approved time off next week and another a request waiting
  for a lead, so the approval flow has something to show;
- tickets still waiting for an owner are routed once, which assigns those
  someone on duty may take and queues the others with their reason.

Everything is placed relative to the Monday of the current week, so the
result depends only on the week the demo is built in. Calling it again
changes nothing.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings

from expediter.core import clock
from expediter.routing import services
from expediter.routing.selectors import QUEUEABLE_STATUSES
from expediter.schedules.models import OnCallSchedule, TimeOff
from expediter.schedules.selectors import team_members
from expediter.schedules.services import (
    oncall_layer_add,
    oncall_override_add,
    oncall_schedule_create,
    timeoff_add,
    timeoff_request,
)
from expediter.staff.models import Team, User
from expediter.tickets.models import Ticket

HANDOVER_TEAMS = ("Service Desk",)
WEEKEND_LAYER_TEAM = "Network"


def build_demo_routing() -> None:
    """Create the demo's on-call schedules and routing settings, then route waiting tickets."""
    if OnCallSchedule.objects.exists():
        return
    zone = ZoneInfo(settings.DESK_TIME_ZONE)
    monday = _this_monday(zone)
    for team in Team.objects.order_by("name"):
        members = list(team_members(team_id=team.pk))
        if members:
            _team_rotation(team, members, monday)
    for handover_team in Team.objects.filter(name__in=HANDOVER_TEAMS):
        services.team_routing_settings_save(
            team=handover_team, handover_when_off_duty=True, shrinkage=0.3
        )
    _time_off(monday)
    _route_waiting()


def _this_monday(zone: ZoneInfo) -> dt.datetime:
    today = clock.now().astimezone(zone).date()
    monday = today - dt.timedelta(days=today.weekday())
    return dt.datetime.combine(monday, dt.time(9, 0), tzinfo=zone)


def _team_rotation(team: Team, members: list[User], monday: dt.datetime) -> None:
    """A weekly rotation around the clock, handing over on Mondays at 09:00."""
    schedule = oncall_schedule_create(
        name=f"{team.name} on call",
        team=team,
        time_zone=settings.DESK_TIME_ZONE,
        description="Pages P1 tickets nobody on duty can take.",
    )
    oncall_layer_add(
        schedule=schedule,
        name="Weekly",
        rotation_start=monday - dt.timedelta(weeks=4),
        turn_length=dt.timedelta(days=7),
        members=members,
    )
    if team.name != WEEKEND_LAYER_TEAM or len(members) < 2:
        return
    oncall_layer_add(
        schedule=schedule,
        name="Weekend days",
        rotation_start=monday - dt.timedelta(weeks=4, hours=1),
        turn_length=dt.timedelta(days=1),
        members=list(reversed(members)),
        restrictions="sat-sun 08:00-20:00",
    )
    today = clock.now().astimezone(ZoneInfo(schedule.time_zone)).date()
    tomorrow = today + dt.timedelta(days=1)
    tomorrow_evening = dt.datetime.combine(
        tomorrow, dt.time(18, 0), tzinfo=ZoneInfo(schedule.time_zone)
    )
    oncall_override_add(
        schedule=schedule,
        user=members[-1],
        start=tomorrow_evening,
        end=tomorrow_evening + dt.timedelta(hours=14),
        note="Swapped nights",
    )


def _time_off(monday: dt.datetime) -> None:
    """Approved time off next week for one agent, a request waiting for another."""
    if TimeOff.objects.exists():
        return
    agents = list(User.objects.filter(role="agent", is_active=True).order_by("email")[:2])
    if len(agents) < 2:
        return
    next_monday = monday.replace(hour=0) + dt.timedelta(weeks=1)
    timeoff_add(
        agent=agents[0],
        start=next_monday,
        end=next_monday + dt.timedelta(days=3),
        kind="vacation",
        reason="Family holiday",
    )
    timeoff_request(
        agent=agents[1],
        actor=agents[1],
        start=next_monday + dt.timedelta(days=4),
        end=next_monday + dt.timedelta(days=5),
        kind="training",
        reason="Network certification exam",
    )


def _route_waiting() -> None:
    waiting = Ticket.objects.filter(
        assignee__isnull=True, team__isnull=False, status__in=QUEUEABLE_STATUSES
    ).order_by("created_at", "pk")
    for ticket_id in list(waiting.values_list("pk", flat=True)):
        services.ticket_route(ticket_id=ticket_id)
