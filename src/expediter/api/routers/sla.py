"""``/sla/...``: calendars and policies (administrators write, staff read), the report.

Thin adapters over ``expediter.sla``: each operation parses its input, calls
one service or selector and presents the result.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import Query, Router, Status

from expediter.api.auth import request_user, require_admin
from expediter.api.pagination import paginate
from expediter.api.params import parse_instant
from expediter.api.presenters import iso
from expediter.api.schemas.sla import (
    CalendarAssignmentIn,
    CalendarIn,
    CalendarPatchIn,
    EscalationIn,
    HolidayIn,
    OpeningIn,
    PolicyIn,
    PolicyPatchIn,
    ReportQuery,
)
from expediter.api.sla import ticket_sla
from expediter.core import clock
from expediter.core.errors import NotPermitted
from expediter.sla import exports
from expediter.sla import selectors as sla_selectors
from expediter.sla import services as sla
from expediter.sla.documents import calendar_document, policy_document
from expediter.sla.explain import sla_explain
from expediter.sla.reports import AttainmentReport, AttainmentRow, sla_attainment_report
from expediter.staff import policies
from expediter.staff.models import User
from expediter.tickets import selectors as ticket_selectors

router = Router(tags=["sla"])


def _admin(request: HttpRequest) -> User:
    return require_admin(request, what=gettext_noop("change calendars and SLA policies"))


def _staff(request: HttpRequest) -> User:
    user = request_user(request)
    if not policies.is_agent(user):
        raise NotPermitted(_("only the service desk staff read SLA settings and reports"))
    return user


# --- calendars ----------------------------------------------------------------


@router.get("/sla/calendars", response=dict, summary="Business calendars")
def list_calendars(
    request: HttpRequest, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    _staff(request)
    return paginate(
        sla_selectors.calendar_list(),
        cursor=cursor,
        limit=limit,
        present=calendar_document,
        newest_first=False,
    )


@router.post("/sla/calendars", response={201: dict}, summary="Create a business calendar")
def create_calendar(request: HttpRequest, payload: CalendarIn) -> Status[dict[str, Any]]:
    _admin(request)
    calendar = sla.calendar_create(spec=_calendar_spec(payload))
    return Status(201, calendar_document(sla_selectors.calendar_get(calendar.pk)))


@router.get("/sla/calendars/{calendar_id}", response=dict, summary="One business calendar")
def get_calendar(request: HttpRequest, calendar_id: int) -> dict[str, Any]:
    _staff(request)
    return calendar_document(sla_selectors.calendar_get(calendar_id))


@router.patch("/sla/calendars/{calendar_id}", response=dict, summary="Change a calendar")
def patch_calendar(
    request: HttpRequest, calendar_id: int, payload: CalendarPatchIn
) -> dict[str, Any]:
    _admin(request)
    current = calendar_document(sla_selectors.calendar_get(calendar_id))
    given = payload.model_dump(exclude_unset=True)
    merged = CalendarIn(**{**current, **given})
    sla.calendar_update(calendar_id=calendar_id, spec=_calendar_spec(merged))
    return calendar_document(sla_selectors.calendar_get(calendar_id))


@router.delete("/sla/calendars/{calendar_id}", response={204: None}, summary="Delete")
def delete_calendar(request: HttpRequest, calendar_id: int) -> Status[None]:
    _admin(request)
    sla.calendar_delete(calendar_id=calendar_id)
    return Status(204, None)


@router.post("/sla/calendar-assignments", response=dict, summary="A team's or org's calendar")
def assign_calendar(request: HttpRequest, payload: CalendarAssignmentIn) -> dict[str, Any]:
    _admin(request)
    calendar = sla.calendar_by_name(payload.calendar) if payload.calendar else None
    sla.calendar_assign(
        calendar_id=calendar.pk if calendar else None,
        team=payload.team,
        organisation=payload.organisation,
    )
    return {
        "calendar": calendar.name if calendar else None,
        "team": payload.team,
        "organisation": payload.organisation,
    }


def _calendar_spec(payload: CalendarIn) -> sla.CalendarSpec:
    return sla.CalendarSpec(
        name=payload.name,
        time_zone=payload.time_zone,
        hours=payload.hours,
        country=payload.country or "",
        holidays=tuple(_holiday(h) for h in payload.holidays),
        openings=tuple(_opening(o) for o in payload.openings),
        teams=None if payload.teams is None else tuple(payload.teams),
        organisations=None if payload.organisations is None else tuple(payload.organisations),
    )


def _holiday(entry: HolidayIn) -> sla.Holiday:
    return sla.Holiday(date=entry.date, name=entry.name)


def _opening(entry: OpeningIn) -> sla.Opening:
    return sla.Opening(date=entry.date, hours=entry.hours, name=entry.name)


# --- policies -----------------------------------------------------------------


@router.get("/sla/policies", response=dict, summary="SLA policies")
def list_policies(
    request: HttpRequest, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    _staff(request)
    return paginate(
        sla_selectors.policy_list(),
        cursor=cursor,
        limit=limit,
        present=policy_document,
        newest_first=False,
    )


@router.post("/sla/policies", response={201: dict}, summary="Create an SLA policy")
def create_policy(request: HttpRequest, payload: PolicyIn) -> Status[dict[str, Any]]:
    _admin(request)
    escalations = _escalations(payload.escalations)
    policy = sla.policy_create(
        spec=_policy_spec(payload),
        escalations=sla.DEFAULT_ESCALATIONS if escalations is None else escalations,
    )
    return Status(201, policy_document(sla_selectors.policy_get(policy.pk)))


@router.get("/sla/policies/{policy_id}", response=dict, summary="One SLA policy")
def get_policy(request: HttpRequest, policy_id: int) -> dict[str, Any]:
    _staff(request)
    return policy_document(sla_selectors.policy_get(policy_id))


@router.patch("/sla/policies/{policy_id}", response=dict, summary="Change an SLA policy")
def patch_policy(request: HttpRequest, policy_id: int, payload: PolicyPatchIn) -> dict[str, Any]:
    _admin(request)
    current = policy_document(sla_selectors.policy_get(policy_id))
    given = payload.model_dump(exclude_unset=True)
    escalations = given.pop("escalations", None)
    current.pop("escalations")
    merged = PolicyIn(**{**current, **given})
    sla.policy_update(
        policy_id=policy_id,
        spec=_policy_spec(merged),
        escalations=_escalations(
            None if escalations is None else [EscalationIn(**rule) for rule in escalations]
        ),
    )
    return policy_document(sla_selectors.policy_get(policy_id))


@router.delete("/sla/policies/{policy_id}", response={204: None}, summary="Delete a policy")
def delete_policy(request: HttpRequest, policy_id: int) -> Status[None]:
    _admin(request)
    sla.policy_delete(policy_id=policy_id)
    return Status(204, None)


def _policy_spec(payload: PolicyIn) -> sla.PolicySpec:
    return sla.PolicySpec(
        name=payload.name,
        calendar=payload.calendar,
        priority=payload.priority,
        service=payload.service,
        organisation=payload.organisation,
        ticket_type=payload.type,
        first_response_minutes=payload.first_response_minutes,
        resolution_minutes=payload.resolution_minutes,
        next_response_minutes=payload.next_response_minutes,
        warn_percent=payload.warn_percent,
        pause_when_waiting_requester="waiting_requester" in payload.pause_statuses,
        pause_when_waiting_third_party="waiting_third_party" in payload.pause_statuses,
        is_active=payload.is_active,
    )


def _escalations(rules: list[EscalationIn] | None) -> list[sla.EscalationSpec] | None:
    if rules is None:
        return None
    return [
        sla.EscalationSpec(
            trigger=rule.trigger,
            action=rule.action,
            clock=rule.clock or "",
            assignee_id=rule.assignee_id,
            priority=rule.priority,
        )
        for rule in rules
    ]


# --- report and explanations --------------------------------------------------


@router.get("/sla/report", response=dict, summary="SLA attainment, with breached tickets")
def report(request: HttpRequest, filters: Query[ReportQuery]) -> dict[str, Any]:
    found = _report(request, filters)
    return {
        "from": iso(found.start),
        "to": iso(found.end),
        "group_by": found.group_by,
        "rows": [_row_out(row) for row in found.rows],
        "total": _row_out(found.total),
        "breached": [
            {
                "ticket": item.ticket_id,
                "number": item.number,
                "subject": item.subject,
                "priority": item.priority,
                "team": item.team,
                "service": item.service,
                "assignee": item.assignee,
                "clock": item.clock,
                "due": iso(item.due_at),
                "stopped_at": iso(item.stopped_at),
            }
            for item in found.breached
        ],
    }


@router.get("/sla/report.csv", summary="SLA attainment as CSV")
def report_csv(request: HttpRequest, filters: Query[ReportQuery]) -> HttpResponse:
    return _csv_response(exports.summary_csv(_report(request, filters)), "sla-attainment.csv")


@router.get("/sla/report/breached.csv", summary="Breached tickets as CSV")
def breached_csv(request: HttpRequest, filters: Query[ReportQuery]) -> HttpResponse:
    return _csv_response(exports.breached_csv(_report(request, filters)), "sla-breached.csv")


@router.get("/sla/tickets/{ticket_id}/explain", response=dict, summary="How the clocks decided")
def explain(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    user = _staff(request)
    ticket = ticket_selectors.ticket_get_visible(user=user, ticket_id=ticket_id)
    return {
        "ticket": ticket.pk,
        "sla": ticket_sla(ticket),
        "lines": sla_explain(ticket_number=ticket.number),
    }


def _report(request: HttpRequest, filters: ReportQuery) -> AttainmentReport:
    user = _staff(request)
    start = parse_instant(filters.from_, field="from") or _month_start()
    end = parse_instant(filters.to, field="to") or clock.now() + dt.timedelta(seconds=1)
    return sla_attainment_report(user=user, start=start, end=end, group_by=filters.group_by)


def _month_start() -> dt.datetime:
    today = clock.now().astimezone(ZoneInfo(settings.DESK_TIME_ZONE))
    return today.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _row_out(row: AttainmentRow) -> dict[str, Any]:
    return {
        "group": row.label,
        "tickets": row.tickets,
        "first_response": {
            "met": row.first_response.met,
            "breached": row.first_response.breached,
            "pending": row.first_response.pending,
            "attainment_percent": row.first_response.rate,
        },
        "resolution": {
            "met": row.resolution.met,
            "breached": row.resolution.breached,
            "pending": row.resolution.pending,
            "attainment_percent": row.resolution.rate,
        },
    }


def _csv_response(content: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
