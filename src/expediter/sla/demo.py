"""The demo desk's SLA: a Paris business calendar and one policy per priority.

Called by ``expediter demo`` before any ticket exists, so every demo ticket
gets its clocks from its first event; calling it again changes nothing.
"""

from __future__ import annotations

from expediter.sla.models import Calendar, SlaPolicy
from expediter.sla.services import CalendarSpec, PolicySpec, calendar_create, policy_create

DEMO_CALENDAR = "Paris office"
# priority: (first response, resolution) in business minutes
DEMO_TARGETS = {1: (30, 4 * 60), 2: (2 * 60, 8 * 60), 3: (4 * 60, 24 * 60), 4: (8 * 60, 40 * 60)}
DEMO_NEXT_RESPONSE = {1: 60, 2: 4 * 60, 3: 8 * 60, 4: 16 * 60}


def build_demo_sla() -> None:
    """Create the demo calendar and policies unless they already exist."""
    if not Calendar.objects.filter(name=DEMO_CALENDAR).exists():
        calendar_create(
            spec=CalendarSpec(
                name=DEMO_CALENDAR,
                time_zone="Europe/Paris",
                hours="mon-fri 08:00-18:00",
                country="FR",
            )
        )
    for priority, (first_response, resolution) in DEMO_TARGETS.items():
        name = f"P{priority} standard"
        if SlaPolicy.objects.filter(name=name).exists():
            continue
        policy_create(
            spec=PolicySpec(
                name=name,
                calendar=DEMO_CALENDAR,
                priority=priority,
                first_response_minutes=first_response,
                next_response_minutes=DEMO_NEXT_RESPONSE[priority],
                resolution_minutes=resolution,
            )
        )
