"""Input schemas of the SLA endpoints: calendars, policies, assignments, the report."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import Field

Pause = Literal["waiting_requester", "waiting_third_party"]
ClockName = Literal["first_response", "next_response", "resolution"]
PAUSES: tuple[Pause, ...] = ("waiting_requester", "waiting_third_party")


class HolidayIn(Schema):
    date: dt.date
    name: str = Field(default="", max_length=200)


class OpeningIn(Schema):
    date: dt.date
    hours: str = Field(default="", max_length=200, description="'' closes the day")
    name: str = Field(default="", max_length=200)


class CalendarIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    time_zone: str = Field(min_length=1, max_length=64)
    hours: str = Field(min_length=1, max_length=500)
    country: str | None = Field(default=None, max_length=16)
    holidays: list[HolidayIn] = Field(default_factory=list, max_length=1000)
    openings: list[OpeningIn] = Field(default_factory=list, max_length=1000)
    teams: list[str] | None = Field(default=None, description="teams using it as their own")
    organisations: list[str] | None = None


class CalendarPatchIn(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    time_zone: str | None = Field(default=None, min_length=1, max_length=64)
    hours: str | None = Field(default=None, min_length=1, max_length=500)
    country: str | None = Field(default=None, max_length=16)
    holidays: list[HolidayIn] | None = Field(default=None, max_length=1000)
    openings: list[OpeningIn] | None = Field(default=None, max_length=1000)
    teams: list[str] | None = None
    organisations: list[str] | None = None


class CalendarAssignmentIn(Schema):
    calendar: str | None = Field(default=None, description="null: back to the policies' own")
    team: str | None = None
    organisation: str | None = None


class EscalationIn(Schema):
    trigger: Literal["warning", "breach"]
    action: Literal["notify", "unassign", "assign", "raise_priority"]
    clock: ClockName | None = None
    assignee_id: int | None = None
    priority: int | None = Field(default=None, ge=1, le=4)


class PolicyIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    calendar: str
    priority: int | None = Field(default=None, ge=1, le=4)
    service: str | None = None
    organisation: str | None = None
    type: Literal["incident", "service_request"] | None = None
    first_response_minutes: int = Field(ge=1)
    resolution_minutes: int = Field(ge=1)
    next_response_minutes: int | None = Field(default=None, ge=1)
    warn_percent: int | None = Field(default=80, ge=1, le=99)
    pause_statuses: list[Pause] = Field(default_factory=lambda: list(PAUSES))
    is_active: bool = True
    escalations: list[EscalationIn] | None = Field(
        default=None, description="omitted: notify on warning and on breach"
    )


class PolicyPatchIn(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    calendar: str | None = None
    priority: int | None = Field(default=None, ge=1, le=4)
    service: str | None = None
    organisation: str | None = None
    type: Literal["incident", "service_request"] | None = None
    first_response_minutes: int | None = Field(default=None, ge=1)
    resolution_minutes: int | None = Field(default=None, ge=1)
    next_response_minutes: int | None = Field(default=None, ge=1)
    warn_percent: int | None = Field(default=None, ge=1, le=99)
    pause_statuses: list[Pause] | None = None
    is_active: bool | None = None
    escalations: list[EscalationIn] | None = None


class ReportQuery(Schema):
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    group_by: Literal["team", "service", "priority", "day", "week", "month"] = "team"
