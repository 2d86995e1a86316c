"""Narrowing and sorting a queue."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from expediter.staff.models import Team
from expediter.tickets.models import Service, Status
from expediter.tickets.selectors import TicketFilters

SORTS: dict[str, tuple[str, ...]] = {
    "sla": (),  # most urgent first: the SLA engine orders these (see views/queues.py)
    "priority": ("priority", "created_at", "id"),
    "oldest": ("created_at", "id"),
    "newest": ("-created_at", "-id"),
    "updated": ("-updated_at", "-id"),
}

PRIORITY_CHOICES = [
    ("", _("Any priority")),
    ("1", _("P1 Critical")),
    ("2", _("P2 High")),
    ("3", _("P3 Medium")),
    ("4", _("P4 Low")),
]


class FlatSelect(forms.Select):
    """A select without option groups, written here rather than by templates.

    Django renders a select through an include per option; even written
    inline, the template engine's lookups for the queue's five filters cost
    a fifth of the page. The markup is Django's (the same attributes, the
    same escaping), which a test compares.
    """

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        options = "".join(
            _option(option) for _group, choices, _index in widget["optgroups"] for option in choices
        )
        return format_html(
            '<select name="{}"{}>{}\n</select>',
            widget["name"],
            _attributes(widget["attrs"]),
            mark_safe(options),  # noqa: S308 - built of escaped parts by _option
        )


def _option(option: dict[str, Any]) -> str:
    selected = " selected" if option["selected"] else ""
    return format_html(
        '\n  <option value="{}"{}>{}</option>', str(option["value"]), selected, option["label"]
    )


def _attributes(attrs: dict[str, Any]) -> SafeString:
    """As Django's ``attrs.html``: ``True`` writes the bare name, ``False`` nothing."""
    parts = [
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, str(value))
        for name, value in attrs.items()
        if value is not False
    ]
    return mark_safe("".join(parts))  # noqa: S308 - each part escaped by format_html


def _status_choices() -> list[tuple[str, Any]]:
    return [("", _("Open")), ("all", _("Any status")), *Status.choices]


class QueueFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.SearchInput(attrs={"placeholder": _("Search subject and messages")}),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_status_choices, widget=FlatSelect
    )
    team = forms.ModelChoiceField(
        label=_("Team"),
        required=False,
        queryset=Team.objects.order_by("name"),
        to_field_name="name",
        empty_label=_("Any team"),
        widget=FlatSelect,
    )
    service = forms.ModelChoiceField(
        label=_("Service"),
        required=False,
        queryset=Service.objects.order_by("name"),
        to_field_name="name",
        empty_label=_("Any service"),
        widget=FlatSelect,
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        choices=PRIORITY_CHOICES,
        coerce=int,
        empty_value=None,
        widget=FlatSelect,
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("sla", _("Most urgent (SLA)")),
            ("priority", _("Priority, then oldest")),
            ("oldest", _("Oldest first")),
            ("newest", _("Newest first")),
            ("updated", _("Recently updated")),
        ],
        widget=FlatSelect,
    )

    def filters(self, base: TicketFilters) -> TicketFilters:
        """The queue's own filters with what the person chose on top."""
        self.is_valid()  # fields that did not validate are simply not applied
        data = self.cleaned_data
        status = data.get("status") or ""
        team = data.get("team")
        service = data.get("service")
        return TicketFilters(
            status=None if status == "all" else (status or "open"),
            assignee_id=base.assignee_id,
            unassigned=base.unassigned,
            team=team.name if team else None,
            team_ids=base.team_ids,
            query=data.get("q") or "",
            priority=data.get("priority"),
            service=service.name if service else None,
        )

    def ordering(self) -> tuple[str, ...]:
        self.is_valid()
        sort = self.cleaned_data.get("sort") or "sla"
        return SORTS[sort]
