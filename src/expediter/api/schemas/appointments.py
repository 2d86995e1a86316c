"""Input schemas of appointments and visits: exactly the fields each caller may set.

Instants are strings parsed by ``api.params.parse_instant`` (an offset, or the
desk's zone when none is given), so a bad one is a 422 naming its field.
"""

from __future__ import annotations

from typing import Literal

from ninja import Schema
from pydantic import Field


class AppointmentIn(Schema):
    start: str = Field(min_length=1, max_length=64)
    end: str = Field(min_length=1, max_length=64)
    kind: Literal["remote", "onsite"] = "remote"
    agent_id: int | None = None
    location: str | None = Field(default=None, max_length=300)


class AppointmentPatchIn(Schema):
    start: str | None = Field(default=None, min_length=1, max_length=64)
    end: str | None = Field(default=None, min_length=1, max_length=64)
    status: Literal["cancelled", "done", "no_show"] | None = None


class VisitIn(Schema):
    ticket: int
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    window_start: str = Field(pattern=r"^\d{2}:\d{2}$")
    window_end: str = Field(pattern=r"^\d{2}:\d{2}$")
    duration: int = Field(ge=1, le=720)
