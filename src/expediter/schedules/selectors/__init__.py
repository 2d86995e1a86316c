"""Who is on duty or on call at an instant, and when people work over a week.

Routing, the SLA engine, appointments and the pages all ask here:
``duty`` (shifts, extra shifts, time off; in bulk), ``week`` (the pages'
week view, time off requests) and ``rotations`` (on-call schedules).
"""

from expediter.schedules.selectors.duty import (
    OFF,
    AgentTime,
    DutyState,
    Interval,
    ShiftLike,
    ShiftValues,
    agent_by_email,
    agent_times,
    agents_on_duty,
    duty_ends_at,
    duty_intervals,
    duty_states,
    on_duty,
    on_time_off,
    shift_intervals,
    team_members,
    time_off_intervals,
)
from expediter.schedules.selectors.rotations import (
    OnCallNow,
    OnCallStretch,
    on_call_for_team,
    oncall_overview,
    oncall_schedules,
    oncall_timelines,
    schedule_by_name,
    schedule_model,
    schedules_of,
)
from expediter.schedules.selectors.week import (
    Absence,
    AgentWeek,
    ScheduleDay,
    people_weeks,
    team_week,
    time_off_of,
    time_off_pending,
    week_days,
)

__all__ = [
    "OFF",
    "Absence",
    "AgentTime",
    "AgentWeek",
    "DutyState",
    "Interval",
    "OnCallNow",
    "OnCallStretch",
    "ScheduleDay",
    "ShiftLike",
    "ShiftValues",
    "agent_by_email",
    "agent_times",
    "agents_on_duty",
    "duty_ends_at",
    "duty_intervals",
    "duty_states",
    "on_call_for_team",
    "on_duty",
    "on_time_off",
    "oncall_overview",
    "oncall_schedules",
    "oncall_timelines",
    "people_weeks",
    "schedule_by_name",
    "schedule_model",
    "schedules_of",
    "shift_intervals",
    "team_members",
    "team_week",
    "time_off_intervals",
    "time_off_of",
    "time_off_pending",
    "week_days",
]
