"""The forms of the agent's ticket page: each one feeds one service call."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from expediter.staff.models import Team, User
from expediter.staff.selectors import agents_active
from expediter.tickets.models import LinkKind, Service, Status, Ticket
from expediter.tickets.services import TicketChanges
from expediter.tickets.services.worklogs import MAX_MINUTES
from expediter.web.forms.fields import AttachmentsField

IMPACT_CHOICES = [
    (1, _("1 – Many people or a whole site")),
    (2, _("2 – A team or a department")),
    (3, _("3 – One person")),
    (4, _("4 – Hardly anyone")),
]
URGENCY_CHOICES = [
    (1, _("1 – Work has stopped")),
    (2, _("2 – Work is badly hindered")),
    (3, _("3 – Work goes on with difficulty")),
    (4, _("4 – It can wait")),
]
PRIORITY_OVERRIDE_CHOICES = [
    ("", _("From impact and urgency")),
    (1, _("P1 Critical")),
    (2, _("P2 High")),
    (3, _("P3 Medium")),
    (4, _("P4 Low")),
]


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class MessageForm(forms.Form):
    """A message needs words or at least one file."""

    body = forms.CharField(
        label=_("Message"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    attachments = AttachmentsField()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        has_words = bool((data.get("body") or "").strip())
        if "attachments" in data and not has_words and not data["attachments"]:
            self.add_error("body", _("Write a message or attach a file."))
        return data


class ReplyForm(MessageForm):
    internal = forms.BooleanField(
        label=_("Internal note (the requester does not see it)"), required=False
    )

    field_order = ("body", "internal", "attachments")


class TicketUpdateForm(forms.Form):
    """Status, priority, owner, team and service in one go, as one ``ticket_update``."""

    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    impact = forms.TypedChoiceField(label=_("Impact"), choices=IMPACT_CHOICES, coerce=int)
    urgency = forms.TypedChoiceField(label=_("Urgency"), choices=URGENCY_CHOICES, coerce=int)
    priority = forms.TypedChoiceField(
        label=_("Priority override"),
        choices=PRIORITY_OVERRIDE_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    assignee = AgentChoiceField(
        label=_("Assignee"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Unassigned"),
    )
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.order_by("name"),
        to_field_name="name",
        required=False,
        empty_label=_("No team"),
    )
    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=Service.objects.order_by("name"),
        to_field_name="name",
        required=False,
        empty_label=_("No service"),
    )

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "status": ticket.status,
                "impact": ticket.impact,
                "urgency": ticket.urgency,
                "priority": ticket.priority if ticket.priority_overridden else None,
                "assignee": ticket.assignee_id,
                "team": ticket.team.name if ticket.team else None,
                "service": ticket.service.name if ticket.service else None,
            },
        )
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        # Active agents, plus the current owner even if since deactivated, so that
        # sending the form unchanged never unassigns anyone by accident.
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        current = User.objects.filter(pk=ticket.assignee_id or 0)
        field.queryset = (agents_active() | current).order_by("name", "id")

    def changes(self) -> TicketChanges:
        """Only what differs from the ticket, so nothing unchanged is re-recorded."""
        data, ticket = self.cleaned_data, self.ticket
        given: set[str] = set()
        values: dict[str, Any] = {}
        if data["impact"] != ticket.impact or data["urgency"] != ticket.urgency:
            given |= {"impact", "urgency"}
            values |= {"impact": data["impact"], "urgency": data["urgency"]}
        elif data["priority"] is not None and (
            data["priority"] != ticket.priority or not ticket.priority_overridden
        ):
            given.add("priority")
            values["priority"] = data["priority"]
        assignee = data["assignee"]
        if (assignee.pk if assignee else None) != ticket.assignee_id:
            given.add("assignee_id")
            values["assignee_id"] = assignee.pk if assignee else None
        for name, current in (("team", ticket.team), ("service", ticket.service)):
            chosen = data[name]
            if (chosen.pk if chosen else None) != (current.pk if current else None):
                given.add(name)
                values[name] = chosen.name if chosen else None
        if data["status"] != ticket.status:
            given.add("status")
            values["status"] = data["status"]
        return TicketChanges(given=frozenset(given), **values)


class TagsForm(forms.Form):
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=500,
        help_text=_("Separated by commas."),
    )

    def tag_list(self) -> list[str]:
        return [tag for tag in self.cleaned_data["tags"].split(",") if tag.strip()]


class LinkForm(forms.Form):
    kind = forms.ChoiceField(label=_("Link"), choices=LinkKind.choices)
    number = forms.IntegerField(label=_("Ticket number"), min_value=1)


class MergeForm(forms.Form):
    number = forms.IntegerField(label=_("Merge into ticket number"), min_value=1)
    confirm = forms.BooleanField(
        label=_("Move this conversation there and close this ticket"), required=True
    )


class WorklogForm(forms.Form):
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=MAX_MINUTES)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)
