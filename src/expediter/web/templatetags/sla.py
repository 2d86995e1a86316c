"""How SLA clocks look on the pages: the ticket's clocks and the queue's badge.

``{% sla_ticket_clocks ticket %}`` renders the ticket page's card;
``{% sla_badge ticket %}`` a queue row's badge, read from the marks that
``expediter.sla.selectors.attach_sla_marks`` puts on a page of rows in one
query. Colours: ``sla-ok``, ``sla-warning``,
``sla-breached``, ``sla-paused``, ``sla-met`` (see ``web/sla/_styles.html``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from expediter.core import clock
from expediter.sla.explain import human_duration
from expediter.sla.selectors import ClockView, ticket_sla_view
from expediter.web.durations import timesince, timeuntil

register = template.Library()

CLOCK_LABELS = {
    "first_response": gettext_lazy("First response"),
    "next_response": gettext_lazy("Next response"),
    "resolution": gettext_lazy("Resolution"),
}
STATE_LABELS = {
    "ok": gettext_lazy("On track"),
    "warning": gettext_lazy("Due soon"),
    "breached": gettext_lazy("Breached"),
    "paused": gettext_lazy("Paused"),
    "met": gettext_lazy("Met"),
}
GROUP_LABELS = {
    "team": gettext_lazy("Team"),
    "service": gettext_lazy("Service"),
    "priority": gettext_lazy("Priority"),
    "day": gettext_lazy("Day"),
    "week": gettext_lazy("Week"),
    "month": gettext_lazy("Month"),
}


@dataclass(frozen=True)
class ClockDisplay:
    """One clock as the ticket page shows it."""

    kind: str
    label: str
    state: str
    due: dt.datetime | None
    remaining_text: str

    @property
    def css_class(self) -> str:
        return f"sla-{self.state}"

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])


def clock_state(view: ClockView) -> str:
    """The colour a clock earns: breached beats everything, then met, paused, warning."""
    if view.breached:
        return "breached"
    if view.met:
        return "met"
    if view.paused:
        return "paused"
    return "warning" if view.warned else "ok"


def clock_display(view: ClockView) -> ClockDisplay:
    state = clock_state(view)
    remaining = view.remaining_seconds
    text = ""
    if view.running or view.paused:
        if remaining < 0:
            text = _("overdue by %(time)s of business time") % {"time": human_duration(-remaining)}
        elif view.paused:
            text = _("paused with %(time)s of business time left") % {
                "time": human_duration(remaining)
            }
        else:
            text = _("%(time)s of business time left") % {"time": human_duration(remaining)}
    label = str(CLOCK_LABELS.get(view.kind, view.kind))
    if view.kind == "next_response" and view.cycle > 1:
        label = f"{label} #{view.cycle}"
    return ClockDisplay(
        kind=view.kind, label=label, state=state, due=view.shown_due, remaining_text=text
    )


@register.inclusion_tag("web/sla/_ticket_clocks.html")
def sla_ticket_clocks(ticket: Any) -> dict[str, Any]:
    """The ticket page's SLA card (nothing when no policy applies); one query."""
    view = ticket_sla_view(ticket.pk)
    if view is None:
        return {"clocks": [], "sla": None}
    return {"clocks": [clock_display(c) for c in view.clocks], "sla": view}


@register.simple_tag
def sla_badge(ticket: Any) -> SafeString:
    """A queue row's badge for its most urgent clock, coloured by state."""
    now = clock.now()
    if not hasattr(ticket, "sla_due"):
        return _badge_from_view(ticket, now)
    return sla_badge_at(ticket, now, timezone.get_current_timezone())


def sla_badge_at(ticket: Any, now: dt.datetime, zone: dt.tzinfo) -> SafeString:
    """The badge from ``attach_sla_marks``, for a page that knows its clock and time zone."""
    due: dt.datetime | None = ticket.sla_due
    breach_at = ticket.sla_breach_at
    warn_at = ticket.sla_warn_at
    if breach_at is not None and breach_at < now:
        text = _("overdue %(time)s") % {"time": timesince(breach_at, now)}
        return _badge("breached", text, due, zone)
    if due is not None:
        state = "warning" if warn_at is not None and warn_at <= now else "ok"
        return _badge(state, _("due in %(time)s") % {"time": timeuntil(due, now)}, due, zone)
    if ticket.sla_paused:
        return _badge("paused", str(STATE_LABELS["paused"]), None, zone)
    return SafeString("")


@register.filter
def sla_minutes(minutes: int | None) -> str:
    """A target in minutes as people say it: ``4 h``, ``1 h 30 min``, ``45 min``."""
    return "—" if minutes is None else human_duration(int(minutes) * 60)


@register.filter
def sla_clock_label(kind: str) -> str:
    return str(CLOCK_LABELS.get(kind, kind))


@register.filter
def sla_group_label(group_by: str | None) -> str:
    return str(GROUP_LABELS.get(group_by or "", group_by or ""))


@register.filter
def sla_policy_criteria(policy: Any) -> str:
    """What a policy matches, strongest criterion first."""
    parts = []
    if policy.organisation_id:
        parts.append(_("organisation %(name)s") % {"name": policy.organisation.name})
    if policy.service_id:
        parts.append(_("service %(name)s") % {"name": policy.service.name})
    if policy.ticket_type:
        parts.append(_("type %(name)s") % {"name": policy.get_ticket_type_display()})
    if policy.priority is not None:
        parts.append(f"P{policy.priority}")
    return ", ".join(parts) or _("every ticket")


def _badge_from_view(ticket: Any, now: dt.datetime) -> SafeString:
    """Without the queue's annotations: one query for this ticket's clocks."""
    view = ticket_sla_view(ticket.pk, now=now)
    urgent = view.most_urgent if view is not None else None
    if urgent is None:
        return SafeString("")
    display = clock_display(urgent)
    return _badge(
        display.state, display.state_label, urgent.due_at, timezone.get_current_timezone()
    )


def _badge(state: str, text: str, due: dt.datetime | None, zone: dt.tzinfo) -> SafeString:
    title = (
        _("Due %(when)s") % {"when": due.astimezone(zone).strftime("%Y-%m-%d %H:%M")}
        if due is not None
        else ""
    )
    return format_html('<span class="badge sla-{}" title="{}">{}</span>', state, title, text)
