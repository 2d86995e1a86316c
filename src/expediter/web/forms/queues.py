"""Narrowing and sorting a queue."""

from __future__ import annotations

from typing import Any

from django import forms
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
    """A select without option groups, its options written inline (see the template)."""

    template_name = "web/widgets/select.html"


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
