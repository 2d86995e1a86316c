"""Calendars and policies as JSON documents, shared by the command line and the API.

They carry no instants, so they need no time-zone presentation and read
the same wherever they are printed.
"""

from __future__ import annotations

from typing import Any

from expediter.sla.models import Calendar, SlaPolicy


def calendar_document(calendar: Calendar) -> dict[str, Any]:
    teams = [a.team.name for a in calendar.assignments.all() if a.team is not None]
    organisations = [
        a.organisation.name for a in calendar.assignments.all() if a.organisation is not None
    ]
    return {
        "id": calendar.pk,
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "hours": calendar.hours,
        "country": calendar.country or None,
        "holidays": list(calendar.holidays),
        "openings": list(calendar.openings),
        "teams": sorted(teams),
        "organisations": sorted(organisations),
    }


def policy_document(policy: SlaPolicy) -> dict[str, Any]:
    pauses = [
        status
        for status, pauses in (
            ("waiting_requester", policy.pause_when_waiting_requester),
            ("waiting_third_party", policy.pause_when_waiting_third_party),
        )
        if pauses
    ]
    return {
        "id": policy.pk,
        "name": policy.name,
        "calendar": policy.calendar.name,
        "priority": policy.priority,
        "service": policy.service.name if policy.service else None,
        "organisation": policy.organisation.name if policy.organisation else None,
        "type": policy.ticket_type or None,
        "first_response_minutes": policy.first_response_minutes,
        "next_response_minutes": policy.next_response_minutes,
        "resolution_minutes": policy.resolution_minutes,
        "warn_percent": policy.warn_percent,
        "pause_statuses": pauses,
        "is_active": policy.is_active,
        "escalations": [
            {
                "trigger": rule.trigger,
                "clock": rule.clock or None,
                "action": rule.action,
                "assignee_id": rule.assignee_id,
                "priority": rule.priority,
            }
            for rule in policy.escalations.all()
        ],
    }
