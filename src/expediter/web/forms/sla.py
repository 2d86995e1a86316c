"""Forms of the SLA pages: calendars, policies and the attainment report."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from expediter.sla.models import Calendar, EscalationAction, EscalationTrigger, SlaPolicy
from expediter.sla.reports import GROUPINGS
from expediter.sla.services import CalendarSpec, EscalationSpec, Holiday, Opening, PolicySpec
from expediter.staff.models import STAFF_ROLES, Organisation, Team, User
from expediter.tickets.models import Service, TicketType

PRIORITY_CHOICES = [("", _("Any"))] + [(str(p), f"P{p}") for p in range(1, 5)]
GROUP_LABELS = {
    "team": _("Team"),
    "service": _("Service"),
    "priority": _("Priority"),
    "day": _("Day"),
    "week": _("Week"),
    "month": _("Month"),
}


class CalendarForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, initial="Europe/Paris")
    hours = forms.CharField(
        label=_("Weekly hours"),
        max_length=500,
        help_text=_("e.g. mon-fri 09:00-12:00,13:00-17:00; sat 09:00-12:00"),
    )
    country = forms.CharField(
        label=_("Public holidays of"),
        max_length=16,
        required=False,
        help_text=_("A country code, with a subdivision if needed: FR, US-NY, FR-57."),
    )
    holidays = forms.CharField(
        label=_("Custom holidays"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: YYYY-MM-DD and an optional name."),
    )
    openings = forms.CharField(
        label=_("Exceptional openings"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line: YYYY-MM-DD, the hours that day (09:00-12:00,14:00-16:00 or "
            "'closed') and an optional name."
        ),
    )
    teams = forms.ModelMultipleChoiceField(
        label=_("Teams using it as their own"),
        queryset=Team.objects.all(),
        required=False,
    )
    organisations = forms.ModelMultipleChoiceField(
        label=_("Organisations using it as their own"),
        queryset=Organisation.objects.all(),
        required=False,
    )

    @classmethod
    def initial_from(cls, calendar: Calendar) -> dict[str, Any]:
        return {
            "name": calendar.name,
            "time_zone": calendar.time_zone,
            "hours": calendar.hours,
            "country": calendar.country,
            "holidays": "\n".join(
                f"{entry['date']} {entry.get('name', '')}".strip() for entry in calendar.holidays
            ),
            "openings": "\n".join(
                f"{entry['date']} {entry.get('hours') or 'closed'} {entry.get('name', '')}".strip()
                for entry in calendar.openings
            ),
            "teams": [a.team for a in calendar.assignments.all() if a.team is not None],
            "organisations": [
                a.organisation for a in calendar.assignments.all() if a.organisation is not None
            ],
        }

    def clean_holidays(self) -> tuple[Holiday, ...]:
        found = []
        for number, line in _lines(self.cleaned_data["holidays"]):
            day, _sep, name = line.partition(" ")
            found.append(Holiday(date=_day(day, number), name=name.strip()))
        return tuple(found)

    def clean_openings(self) -> tuple[Opening, ...]:
        found = []
        for number, line in _lines(self.cleaned_data["openings"]):
            parts = line.split(None, 2)
            if len(parts) < 2:
                raise forms.ValidationError(
                    _("Line %(number)s: a date and the hours that day are needed.")
                    % {"number": number}
                )
            hours = "" if parts[1].lower() == "closed" else parts[1]
            name = parts[2] if len(parts) == 3 else ""
            found.append(Opening(date=_day(parts[0], number), hours=hours, name=name))
        return tuple(found)

    def spec(self) -> CalendarSpec:
        data = self.cleaned_data
        return CalendarSpec(
            name=data["name"],
            time_zone=data["time_zone"],
            hours=data["hours"],
            country=data["country"],
            holidays=data["holidays"],
            openings=data["openings"],
            teams=tuple(team.name for team in data["teams"]),
            organisations=tuple(org.name for org in data["organisations"]),
        )


class PolicyForm(forms.Form):
    """A policy, with the escalations a desk usually wants as plain choices."""

    name = forms.CharField(label=_("Name"), max_length=120)
    calendar = forms.ModelChoiceField(label=_("Calendar"), queryset=Calendar.objects.all())
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=PRIORITY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    service = forms.ModelChoiceField(
        label=_("Service"), queryset=Service.objects.all(), required=False, empty_label=_("Any")
    )
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.all(),
        required=False,
        empty_label=_("Any"),
    )
    ticket_type = forms.ChoiceField(
        label=_("Type"), choices=[("", _("Any")), *TicketType.choices], required=False
    )
    first_response_minutes = forms.IntegerField(label=_("First response (minutes)"), min_value=1)
    next_response_minutes = forms.IntegerField(
        label=_("Next response (minutes)"), min_value=1, required=False
    )
    resolution_minutes = forms.IntegerField(label=_("Resolution (minutes)"), min_value=1)
    warn_percent = forms.IntegerField(
        label=_("Warn at (% elapsed)"), min_value=1, max_value=99, required=False, initial=80
    )
    pause_when_waiting_requester = forms.BooleanField(
        label=_("Pause while waiting for the requester"), required=False, initial=True
    )
    pause_when_waiting_third_party = forms.BooleanField(
        label=_("Pause while waiting for a third party"), required=False, initial=True
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    notify_on_warning = forms.BooleanField(
        label=_("On warning: notify the assignee and the team lead"), required=False, initial=True
    )
    notify_on_breach = forms.BooleanField(
        label=_("On breach: notify the assignee and the team lead"), required=False, initial=True
    )
    unassign_on_breach = forms.BooleanField(
        label=_("On breach: return the ticket to its team's queue"), required=False
    )
    assign_on_breach = forms.ModelChoiceField(
        label=_("On breach: reassign to"),
        queryset=User.objects.filter(is_active=True, role__in=STAFF_ROLES),
        required=False,
        empty_label=_("Nobody"),
    )
    raise_priority_on_breach = forms.TypedChoiceField(
        label=_("On breach: raise the priority to"),
        choices=[("", _("Leave it")), *PRIORITY_CHOICES[1:]],
        coerce=int,
        empty_value=None,
        required=False,
    )

    ESCALATION_FIELDS = (
        "notify_on_warning",
        "notify_on_breach",
        "unassign_on_breach",
        "assign_on_breach",
        "raise_priority_on_breach",
    )

    @classmethod
    def initial_from(cls, policy: SlaPolicy) -> dict[str, Any]:
        rules = list(policy.escalations.all())

        def has(trigger: str, action: str) -> bool:
            return any(r.trigger == trigger and r.action == action for r in rules)

        assign = next((r for r in rules if r.action == EscalationAction.ASSIGN), None)
        raise_to = next((r for r in rules if r.action == EscalationAction.RAISE_PRIORITY), None)
        return {
            "name": policy.name,
            "calendar": policy.calendar,
            "priority": policy.priority,
            "service": policy.service,
            "organisation": policy.organisation,
            "ticket_type": policy.ticket_type,
            "first_response_minutes": policy.first_response_minutes,
            "next_response_minutes": policy.next_response_minutes,
            "resolution_minutes": policy.resolution_minutes,
            "warn_percent": policy.warn_percent,
            "pause_when_waiting_requester": policy.pause_when_waiting_requester,
            "pause_when_waiting_third_party": policy.pause_when_waiting_third_party,
            "is_active": policy.is_active,
            "notify_on_warning": has(EscalationTrigger.WARNING, EscalationAction.NOTIFY),
            "notify_on_breach": has(EscalationTrigger.BREACH, EscalationAction.NOTIFY),
            "unassign_on_breach": has(EscalationTrigger.BREACH, EscalationAction.UNASSIGN),
            "assign_on_breach": assign.assignee if assign else None,
            "raise_priority_on_breach": raise_to.priority if raise_to else None,
        }

    def spec(self) -> PolicySpec:
        data = self.cleaned_data
        return PolicySpec(
            name=data["name"],
            calendar=data["calendar"].name,
            priority=data["priority"],
            service=data["service"].name if data["service"] else None,
            organisation=data["organisation"].name if data["organisation"] else None,
            ticket_type=data["ticket_type"] or None,
            first_response_minutes=data["first_response_minutes"],
            next_response_minutes=data["next_response_minutes"],
            resolution_minutes=data["resolution_minutes"],
            warn_percent=data["warn_percent"],
            pause_when_waiting_requester=data["pause_when_waiting_requester"],
            pause_when_waiting_third_party=data["pause_when_waiting_third_party"],
            is_active=data["is_active"],
        )

    def escalations(self) -> list[EscalationSpec] | None:
        """The chosen escalations; None when untouched, so rules set elsewhere are kept."""
        if self.initial and not set(self.changed_data) & set(self.ESCALATION_FIELDS):
            return None
        data = self.cleaned_data
        chosen = []
        if data["notify_on_warning"]:
            chosen.append(EscalationSpec(EscalationTrigger.WARNING, EscalationAction.NOTIFY))
        if data["notify_on_breach"]:
            chosen.append(EscalationSpec(EscalationTrigger.BREACH, EscalationAction.NOTIFY))
        if data["unassign_on_breach"]:
            chosen.append(EscalationSpec(EscalationTrigger.BREACH, EscalationAction.UNASSIGN))
        if data["assign_on_breach"] is not None:
            chosen.append(
                EscalationSpec(
                    EscalationTrigger.BREACH,
                    EscalationAction.ASSIGN,
                    assignee_id=data["assign_on_breach"].pk,
                )
            )
        if data["raise_priority_on_breach"] is not None:
            chosen.append(
                EscalationSpec(
                    EscalationTrigger.BREACH,
                    EscalationAction.RAISE_PRIORITY,
                    priority=data["raise_priority_on_breach"],
                )
            )
        return chosen


class SlaReportForm(forms.Form):
    """A period of whole days in the desk's zone, both ends included, and a grouping."""

    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    group_by = forms.ChoiceField(
        label=_("Group by"), choices=[(key, GROUP_LABELS[key]) for key in GROUPINGS]
    )

    @staticmethod
    def defaults() -> dict[str, str]:
        today = timezone.localdate()
        return {
            "start": today.replace(day=1).isoformat(),
            "end": today.isoformat(),
            "group_by": "team",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The period ends before it starts."))
        return data

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        zone = timezone.get_current_timezone()
        start = dt.datetime.combine(self.cleaned_data["start"], dt.time(), tzinfo=zone)
        end_day = self.cleaned_data["end"] + dt.timedelta(days=1)
        return start, dt.datetime.combine(end_day, dt.time(), tzinfo=zone)


def _lines(text: str) -> list[tuple[int, str]]:
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def _day(text: str, number: int) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise forms.ValidationError(
            _("Line %(number)s: '%(text)s' is not a date YYYY-MM-DD.")
            % {"number": number, "text": text}
        ) from None
