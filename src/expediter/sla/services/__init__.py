"""Every write of the SLA engine: calendars, policies, clocks and the sweep."""

from expediter.sla.services.calendars import (
    CalendarSpec,
    Holiday,
    Opening,
    calendar_add_business_time,
    calendar_assign,
    calendar_by_name,
    calendar_create,
    calendar_delete,
    calendar_update,
    holidays_from_text,
    parse_day,
)
from expediter.sla.services.clocks import (
    business_calendar,
    on_ticket_event,
    on_ticket_opening,
    sla_rebuild,
    sla_rebuild_all,
    sla_rebuild_open,
    sla_recompute,
)
from expediter.sla.services.policies import (
    DEFAULT_ESCALATIONS,
    EscalationSpec,
    PolicySpec,
    policy_by_name,
    policy_create,
    policy_delete,
    policy_update,
)
from expediter.sla.services.public_holidays import (
    public_holidays_keep_ahead,
    public_holidays_store,
    stored_public_holidays,
)
from expediter.sla.services.sweep import SweepResult, sla_escalate, sla_sweep

__all__ = [
    "DEFAULT_ESCALATIONS",
    "CalendarSpec",
    "EscalationSpec",
    "Holiday",
    "Opening",
    "PolicySpec",
    "SweepResult",
    "business_calendar",
    "calendar_add_business_time",
    "calendar_assign",
    "calendar_by_name",
    "calendar_create",
    "calendar_delete",
    "calendar_update",
    "holidays_from_text",
    "on_ticket_event",
    "on_ticket_opening",
    "parse_day",
    "policy_by_name",
    "policy_create",
    "policy_delete",
    "policy_update",
    "public_holidays_keep_ahead",
    "public_holidays_store",
    "sla_escalate",
    "sla_rebuild",
    "sla_rebuild_all",
    "sla_rebuild_open",
    "sla_recompute",
    "sla_sweep",
    "stored_public_holidays",
]
