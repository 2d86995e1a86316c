"""The lead's routing pages: the team board (load, duty, queue, reassignment) and coverage.

Each page costs a fixed number of queries whatever the team's size: the
selectors read agents, duty and the queue in bulk.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from expediter.core import clock
from expediter.routing import selectors as routing
from expediter.routing.coverage import team_coverage
from expediter.routing.services import team_routing_settings_save
from expediter.schedules.selectors import team_members
from expediter.staff import policies
from expediter.staff.models import Team, User
from expediter.tickets.selectors import visible_ticket_id
from expediter.tickets.services import ticket_assign
from expediter.web.forms.ticket import AgentChoiceField
from expediter.web.views._support import (
    agent_required,
    attempt,
    current_user,
    redirect_to,
)

BOARD_TEMPLATE = "web/routing/board.html"
COVERAGE_TEMPLATE = "web/routing/coverage.html"


def lead_required(request: HttpRequest) -> User:
    """The signed-in lead or admin; anyone else is refused."""
    user = current_user(request)
    if not policies.may_manage_schedules(user):
        raise PermissionDenied(_("This page is for team leads."))
    return user


def chosen_team(request: HttpRequest, teams: list[Team]) -> Team:
    """The team named by ``?team=`` (or the form's ``team``), else the first one."""
    wanted = request.GET.get("team") or request.POST.get("team")
    if not teams:
        raise Http404("no team yet")
    if wanted is None:
        return teams[0]
    for team in teams:
        if str(team.pk) == wanted:
            return team
    raise Http404("no such team")


def chosen_week(request: HttpRequest) -> dt.date:
    """Monday of the week named by ``?week=YYYY-MM-DD``, else of this week in the desk's zone."""
    today = clock.now().astimezone(routing.desk_zone()).date()
    try:
        day = (
            dt.date.fromisoformat(request.GET.get("week", "")) if request.GET.get("week") else today
        )
    except ValueError:
        day = today
    return day - dt.timedelta(days=day.weekday())


class AssignForm(forms.Form):
    """A lead assigns a ticket by hand; broken rules are recorded as a warning."""

    number = forms.IntegerField(label=gettext_lazy("Ticket number"), min_value=1)
    agent = AgentChoiceField(queryset=User.objects.none(), label=gettext_lazy("Assign to"))

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agent_field = self.fields["agent"]
        assert isinstance(agent_field, AgentChoiceField)
        agent_field.queryset = team_members(team_id=team.pk)


class RoutingSettingsForm(forms.Form):
    handover_when_off_duty = forms.BooleanField(
        label=gettext_lazy("Hand tickets over when their assignee goes off duty"), required=False
    )
    answer_within_minutes = forms.IntegerField(
        label=gettext_lazy("Answer within (minutes)"), min_value=1
    )
    service_level_target = forms.FloatField(
        label=gettext_lazy("Share answered in time (0–1)"), min_value=0, max_value=1
    )
    shrinkage = forms.FloatField(
        label=gettext_lazy("Shrinkage (0–0.95)"), min_value=0, max_value=0.95
    )
    default_handle_minutes = forms.IntegerField(
        label=gettext_lazy("Handle time when no work is logged (minutes)"), min_value=1
    )
    default_arrivals_per_hour = forms.FloatField(
        label=gettext_lazy("Arrivals per hour without history"), min_value=0
    )


def _board_context(
    teams: list[Team],
    team: Team,
    assign_form: AssignForm | None = None,
    settings_form: RoutingSettingsForm | None = None,
) -> dict[str, Any]:
    board = routing.team_board(team=team, at=clock.now())
    initial = {name: getattr(board.settings, name) for name in RoutingSettingsForm.base_fields}
    return {
        "teams": teams,
        "team": team,
        "board": board,
        "assign_form": assign_form or AssignForm(team=team),
        "settings_form": settings_form or RoutingSettingsForm(initial=initial),
    }


@agent_required
@vary_on_headers("HX-Request")
def routing_board(request: HttpRequest) -> HttpResponse:
    """Who carries what against capacity, who is on duty, and what waits for capacity."""
    lead_required(request)
    teams = list(Team.objects.order_by("name"))
    return render(request, BOARD_TEMPLATE, _board_context(teams, chosen_team(request, teams)))


@agent_required
@require_POST
def routing_assign(request: HttpRequest) -> HttpResponse:
    """Assign by hand through ``ticket_assign`` with the lead as the actor."""
    lead = lead_required(request)
    teams = list(Team.objects.order_by("name"))
    team = chosen_team(request, teams)
    form = AssignForm(request.POST, team=team)
    done = None
    if form.is_valid():
        agent = form.cleaned_data["agent"]
        done = attempt(
            form,
            lambda: ticket_assign(
                ticket_id=visible_ticket_id(user=lead, number=form.cleaned_data["number"]),
                assignee=agent,
                actor=lead,
            ),
            field_names={"number": "number", "assignee_id": "agent"},
        )
    if done is None:
        return render(request, BOARD_TEMPLATE, _board_context(teams, team, form), status=422)
    messages.success(
        request,
        _("#%(number)s is now assigned to %(name)s.") % {"number": done.number, "name": agent.name},
    )
    return redirect_to(request, f"{reverse('web:routing_board')}?team={team.pk}")


@agent_required
@require_POST
def routing_settings(request: HttpRequest) -> HttpResponse:
    lead_required(request)
    teams = list(Team.objects.order_by("name"))
    team = chosen_team(request, teams)
    form = RoutingSettingsForm(request.POST)
    saved = None
    if form.is_valid():
        saved = attempt(form, lambda: team_routing_settings_save(team=team, **form.cleaned_data))
    if saved is None:
        context = _board_context(teams, team, settings_form=form)
        return render(request, BOARD_TEMPLATE, context, status=422)
    messages.success(request, _("Routing settings of %(team)s saved.") % {"team": team.name})
    return redirect_to(request, f"{reverse('web:routing_board')}?team={team.pk}")


@agent_required
def coverage(request: HttpRequest) -> HttpResponse:
    """Agents on duty per hour against the number Erlang C says the team needs."""
    lead_required(request)
    teams = list(Team.objects.order_by("name"))
    team = chosen_team(request, teams)
    week = chosen_week(request)
    context = {
        "teams": teams,
        "team": team,
        "week": week,
        "previous_week": week - dt.timedelta(days=7),
        "next_week": week + dt.timedelta(days=7),
        "coverage": team_coverage(team=team, week_start=week, zone=routing.desk_zone()),
    }
    return render(request, COVERAGE_TEMPLATE, context)
