"""``/telephony/calls``: the PBX reports every call here."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from expediter.api.presenters import iso
from expediter.core.errors import NotPermitted
from expediter.staff import policies
from expediter.telephony.models import Call
from expediter.telephony.services import call_record_from_pbx

router = Router(tags=["telephony"])


class CallIn(Schema):
    caller: str = Field(min_length=1, max_length=40, description="caller number, e.g. +33140000000")
    called: str = Field(default="", max_length=40, description="number that was dialled")
    started_at: dt.datetime
    duration: int = Field(default=0, ge=0, description="seconds")
    status: Literal["answered", "missed", "voicemail"]
    recording_url: str = Field(default="", max_length=500)
    id: str = Field(default="", max_length=120, description="the PBX's call id, for retries")


def call_out(call: Call) -> dict[str, Any]:
    return {
        "id": call.pk,
        "caller": call.caller_number,
        "called": call.called_number,
        "started_at": iso(call.started_at),
        "duration": call.duration_seconds,
        "status": call.status,
        "ticket": call.ticket_id,
        "needs_callback": call.needs_callback,
        "called_back_at": iso(call.called_back_at),
    }


@router.post("/telephony/calls", response={201: dict}, summary="Record a call (PBX webhook)")
def record_call(request: HttpRequest, payload: CallIn) -> Status[dict[str, Any]]:
    if not policies.is_agent(request.auth):  # type: ignore[attr-defined]
        raise NotPermitted(_("calls are reported with an agent or integration token"))
    started = payload.started_at
    if started.tzinfo is None:
        started = started.replace(tzinfo=dt.UTC)
    call = call_record_from_pbx(
        caller_number=payload.caller,
        called_number=payload.called,
        started_at=started,
        duration_seconds=payload.duration,
        status=payload.status,
        recording_url=payload.recording_url,
        external_id=payload.id,
    )
    return Status(201, call_out(call))
