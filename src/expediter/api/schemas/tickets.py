"""Input schemas: each lists exactly the fields its caller may set."""

from __future__ import annotations

from typing import Literal

from ninja import Schema
from pydantic import Field


class TicketCreateIn(Schema):
    subject: str = Field(min_length=1, max_length=250)
    description: str = Field(default="", max_length=1_000_000)
    service: str | None = None
    impact: int = Field(default=3, ge=1, le=4)
    urgency: int = Field(default=3, ge=1, le=4)
    type: Literal["incident", "service_request"] = "incident"
    channel: Literal["web", "email", "phone", "api"] = "api"
    requester_email: str | None = None


class TicketPatchIn(Schema):
    status: (
        Literal[
            "new",
            "assigned",
            "in_progress",
            "waiting_requester",
            "waiting_third_party",
            "resolved",
            "closed",
        ]
        | None
    ) = None
    impact: int | None = Field(default=None, ge=1, le=4)
    urgency: int | None = Field(default=None, ge=1, le=4)
    priority: int | None = Field(default=None, ge=1, le=4)
    assignee_id: int | None = None
    team: str | None = None
    service: str | None = None


class ArticleIn(Schema):
    body: str = Field(min_length=1, max_length=1_000_000)
    internal: bool = False


class WorklogIn(Schema):
    minutes: int = Field(ge=1, le=1440)
    note: str = Field(default="", max_length=10_000)
