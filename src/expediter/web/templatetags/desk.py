"""How tickets look on the pages: badges, labels and the timeline's wording.

Presentation lives here rather than on the models, so the domain never
learns about colours or CSS classes.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from django import template
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext_lazy, pgettext, pgettext_lazy
from django.utils.translation import gettext as _

from expediter.appointments.models import AppointmentKind, AppointmentStatus
from expediter.schedules.models import TimeOffKind
from expediter.schedules.oncall import OVERRIDE
from expediter.sla.models import ClockKindChoices
from expediter.tickets.models import Channel, LinkKind, Status, TicketEvent
from expediter.web.durations import timesince

register = template.Library()

PRIORITY_LABELS = {
    1: pgettext_lazy("priority", "Critical"),
    2: pgettext_lazy("priority", "High"),
    3: pgettext_lazy("priority", "Medium"),
    4: pgettext_lazy("priority", "Low"),
}

VERB_LABELS = {
    "created": gettext_lazy("created the ticket"),
    "status_changed": gettext_lazy("changed the status"),
    "reopened": gettext_lazy("reopened the ticket"),
    "assigned": gettext_lazy("assigned the ticket"),
    "unassigned": gettext_lazy("unassigned the ticket"),
    "team_changed": gettext_lazy("changed the team"),
    "service_changed": gettext_lazy("changed the service"),
    "priority_changed": gettext_lazy("changed the priority"),
    "article_added": gettext_lazy("added a message"),
    "worklog_added": gettext_lazy("logged work"),
    "linked": gettext_lazy("linked tickets"),
    "merged": gettext_lazy("merged tickets"),
    "watcher_added": gettext_lazy("added a watcher"),
    "tags_changed": gettext_lazy("changed the tags"),
    "sla_warning": gettext_lazy("SLA warning"),
    "sla_breached": gettext_lazy("SLA breached"),
    "appointment_booked": gettext_lazy("booked an appointment"),
    "appointment_rescheduled": gettext_lazy("moved an appointment"),
    "appointment_done": gettext_lazy("completed an appointment"),
    "appointment_no_show": gettext_lazy("recorded a missed appointment"),
    "visit_requested": gettext_lazy("asked for an on-site visit"),
    "called_back": gettext_lazy("called the requester back"),
    "paged": gettext_lazy("paged the on-call technician"),
    "queued": gettext_lazy("queued the ticket"),
    "appointment_cancelled": gettext_lazy("cancelled an appointment"),
}

FIELD_LABELS = {
    "status": gettext_lazy("status"),
    "priority": gettext_lazy("priority"),
    "priority_overridden": gettext_lazy("priority set by hand"),
    "impact": gettext_lazy("impact"),
    "urgency": gettext_lazy("urgency"),
    "team": gettext_lazy("team"),
    "service": gettext_lazy("service"),
    "channel": gettext_lazy("channel"),
    "assignee": gettext_lazy("assignee"),
    "internal": gettext_lazy("internal note"),
    "from": gettext_lazy("from"),
    "kind": gettext_lazy("kind"),
    "minutes": gettext_lazy("minutes"),
    "watchers": gettext_lazy("watcher"),
    "tags": gettext_lazy("tags"),
    "merged_from": gettext_lazy("merged from"),
    "merged_into": gettext_lazy("merged into"),
    "articles": gettext_lazy("messages moved"),
    "duplicate_of": gettext_lazy("duplicate of"),
    "duplicate_of_by": gettext_lazy("has duplicate"),
    "related": gettext_lazy("related to"),
    "related_by": gettext_lazy("related to"),
    "parent_of": gettext_lazy("parent of"),
    "parent_of_by": gettext_lazy("child of"),
    "appointment_kind": gettext_lazy("appointment kind"),
    "appointment_status": gettext_lazy("appointment status"),
    "agent": gettext_lazy("agent"),
    "start": gettext_lazy("start"),
    "end": gettext_lazy("end"),
    "date": gettext_lazy("date"),
    "location": gettext_lazy("location"),
    "window": gettext_lazy("time window"),
    "duration": gettext_lazy("duration"),
    "site": gettext_lazy("site"),
    "clock": gettext_lazy("clock"),
    "due": gettext_lazy("due"),
    "paged": gettext_lazy("paged"),
}

# Stored codes whose label the model's choices already carry, by the event field holding them.
CHOICE_FIELDS: dict[str, type[models.TextChoices]] = {
    "appointment_kind": AppointmentKind,
    "appointment_status": AppointmentStatus,
    "clock": ClockKindChoices,
}
# Moments that services store as ISO text (an appointment's start and end).
MOMENT_FIELDS = frozenset({"start", "end"})

AUTHOR_KINDS = {"agent": gettext_lazy("agent"), "requester": gettext_lazy("requester")}

ARTICLE_KINDS = {
    "message": gettext_lazy("message"),
    "auto_reply": gettext_lazy("automatic reply"),
    "bounce": gettext_lazy("delivery failure"),
    "call": gettext_lazy("phone call"),
    "unknown_sender": gettext_lazy("unknown sender"),
}

# Internal references that mean nothing to a reader of the timeline.
HIDDEN_FIELDS = frozenset({"article", "worklog", "appointment", "visit", "call"})
# Already said by the event's label ("replied", "added an internal note").
ARTICLE_FIELDS = frozenset({"internal", "from"})
TICKET_NUMBER_FIELDS = frozenset(
    {"merged_from", "merged_into", *LinkKind.values, *(f"{kind}_by" for kind in LinkKind.values)}
)


@register.filter
def status_label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


@register.filter
def status_badge(status: str) -> SafeString:
    return _status_badge(status, get_language())


@functools.lru_cache(maxsize=64)
def _status_badge(status: str, language: str) -> SafeString:
    """Built once per status and language: queues show fifty of them per page."""
    return format_html(
        '<span class="badge status status-{}">{}</span>', status, status_label(status)
    )


@register.filter
def priority_label(priority: int | None) -> str:
    if priority is None:
        return "—"
    return f"P{priority} {PRIORITY_LABELS.get(int(priority), '')}".strip()


@register.filter
def priority_badge(priority: int) -> SafeString:
    return _priority_badge(priority, get_language())


@functools.lru_cache(maxsize=64)
def _priority_badge(priority: int, language: str) -> SafeString:
    return format_html(
        '<span class="badge prio prio-{}">{}</span>', priority, priority_label(priority)
    )


ARTICLE_LABELS = {
    "internal": gettext_lazy("added an internal note"),
    "agent": gettext_lazy("replied"),
    "requester": gettext_lazy("wrote"),
}


@register.filter
def verb_label(verb: str) -> str:
    label = VERB_LABELS.get(verb)
    return str(label) if label is not None else verb.replace("_", " ")


@register.filter
def event_label(event: TicketEvent) -> str:
    """What happened, worded for the timeline (a message says what kind it was)."""
    if event.verb == "article_added":
        changes = event.changes or {}
        if _after(changes, "internal"):
            return str(ARTICLE_LABELS["internal"])
        label = ARTICLE_LABELS.get(str(_after(changes, "from")))
        if label is not None:
            return str(label)
    return verb_label(event.verb)


def _after(changes: dict[str, Any], name: str) -> Any:
    pair = changes.get(name)
    return pair[1] if isinstance(pair, list | tuple) and len(pair) == 2 else None


@register.filter
def age(moment: dt.datetime | None) -> str:
    """Short elapsed time ("3 hours"), the queue's sense of how long something waited."""
    if moment is None:
        return ""
    return timesince(moment, timezone.now(), depth=1)


@dataclass(frozen=True)
class ChangeRow:
    field: str
    before: str
    after: str

    @property
    def is_addition(self) -> bool:
        return self.before == "—"


@register.filter
def change_rows(event: TicketEvent) -> list[ChangeRow]:
    """An event's ``{field: [before, after]}`` as readable rows, internals left out."""
    rows = []
    hidden = HIDDEN_FIELDS | (ARTICLE_FIELDS if event.verb == "article_added" else frozenset())
    for name, pair in (event.changes or {}).items():
        if name in hidden or not isinstance(pair, list | tuple) or len(pair) != 2:
            continue
        if name == "kind" and pair[1] == "message":
            continue
        label = FIELD_LABELS.get(name)
        rows.append(
            ChangeRow(
                field=str(label) if label is not None else name.replace("_", " "),
                before=format_value(name, pair[0]),
                after=format_value(name, pair[1]),
            )
        )
    return rows


def format_value(field_name: str, value: Any) -> str:
    """One before/after value as a person reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return str(value.get("name") or value.get("id") or "—")
    if isinstance(value, list | tuple):
        return ", ".join(format_value(field_name, item) for item in value)
    if field_name == "status":
        return status_label(str(value))
    if field_name == "priority":
        return priority_label(int(value))
    if field_name == "channel" and value in Channel.values:
        return str(Channel(value).label)
    if field_name == "from" and value in AUTHOR_KINDS:
        return str(AUTHOR_KINDS[value])
    if field_name == "kind" and value in ARTICLE_KINDS:
        return str(ARTICLE_KINDS[value])
    choices = CHOICE_FIELDS.get(field_name)
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    if field_name in MOMENT_FIELDS and isinstance(value, str):
        return _moment(value)
    if field_name in TICKET_NUMBER_FIELDS and isinstance(value, int):
        return f"#{value}"
    return str(value)


def _moment(iso: str) -> str:
    """A stored ISO moment in the desk's zone and the reader's date format."""
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if timezone.is_naive(moment):
        return iso
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


REVERSE_LINK_LABELS = {
    LinkKind.DUPLICATE_OF: gettext_lazy("has duplicate"),
    LinkKind.RELATED: gettext_lazy("related to"),
    LinkKind.PARENT_OF: gettext_lazy("child of"),
}


@register.filter
def link_label(link: Any) -> str:
    """How the other ticket relates to this one, read from this ticket's side."""
    if link.outgoing:
        return str(LinkKind(link.kind).label) if link.kind in LinkKind.values else link.kind
    return str(REVERSE_LINK_LABELS.get(link.kind, link.kind))


@register.filter
def minutes(total: int | None) -> str:
    """Minutes worked as hours and minutes: ``1 h 05``, ``45 min``."""
    total = int(total or 0)
    hours, rest = divmod(total, 60)
    if not hours:
        return _("%(minutes)d min") % {"minutes": rest}
    return _("%(hours)d h %(minutes)02d") % {"hours": hours, "minutes": rest}


@register.filter
def time_off_kind_label(kind: str) -> str:
    """A time off's kind as people read it ("Training"), the stored code if unknown."""
    return str(TimeOffKind(kind).label) if kind in TimeOffKind.values else kind


@register.filter
def oncall_source_label(source: str) -> str:
    """Why someone is on call: the rotation layer's own name, or a worded override."""
    return pgettext("on call", "override") if source == OVERRIDE else source
