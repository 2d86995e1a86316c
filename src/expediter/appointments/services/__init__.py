"""Every change appointments and visits can undergo, re-exported from their modules."""

from expediter.appointments.services.booking import (
    appointment_book,
    appointment_reschedule,
    appointment_set_status,
)
from expediter.appointments.services.feeds import calendar_feed_key, calendar_feed_reset
from expediter.appointments.services.people import person_set_site
from expediter.appointments.services.reminders import appointment_reminders_send
from expediter.appointments.services.visits import (
    AgentRoute,
    PlanStop,
    Unplanned,
    VisitPlan,
    visit_request,
    visits_plan,
)

__all__ = [
    "AgentRoute",
    "PlanStop",
    "Unplanned",
    "VisitPlan",
    "appointment_book",
    "appointment_reminders_send",
    "appointment_reschedule",
    "appointment_set_status",
    "calendar_feed_key",
    "calendar_feed_reset",
    "person_set_site",
    "visit_request",
    "visits_plan",
]
