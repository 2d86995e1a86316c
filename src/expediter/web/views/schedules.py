"""Schedule pages: a team's week, an agent's own schedule, time off requests, who is on call.

Agents see their own schedule and their teams' weeks (absences without their
kind); leads and admins see every team, decide on time off and see kinds.
The iCalendar feed of an agent's shifts and appointments lives in the API
(``/api/v1/agents/{id}/calendar.ics``); these pages link to it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from expediter.core import clock
from expediter.core.errors import DomainError, NotFound
from expediter.routing.selectors import desk_zone
from expediter.schedules import selectors
from expediter.schedules.models import TimeOffKind
from expediter.schedules.services import timeoff_cancel, timeoff_decide, timeoff_request
from expediter.staff import policies
from expediter.staff.models import STAFF_ROLES, Team, User
from expediter.web.views._support import agent_required, attempt, current_user, redirect_to
from expediter.web.views.routing import chosen_team, chosen_week, lead_required

ONCALL_DAYS = 14
UPCOMING_TURNS_DAYS = 28


class TimeOffRequestForm(forms.Form):
    start = forms.DateTimeField(
        label=gettext_lazy("From"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    end = forms.DateTimeField(
        label=gettext_lazy("Until"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=TimeOffKind.choices)
    reason = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=300)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    note = forms.CharField(required=False, max_length=300)


def _visible_teams(user: User) -> list[Team]:
    teams = Team.objects.order_by("name")
    if not policies.may_manage_schedules(user):
        teams = teams.filter(memberships__user=user)
    return list(teams)


def _week_links(week: dt.date) -> dict[str, Any]:
    return {
        "week": week,
        "previous_week": week - dt.timedelta(days=7),
        "next_week": week + dt.timedelta(days=7),
        "days": selectors.week_days(week),
    }


@agent_required
def schedule_team(request: HttpRequest) -> HttpResponse:
    """The team's week: who works when, who is away, and (for leads) requests to decide."""
    user = current_user(request)
    teams = _visible_teams(user)
    team = chosen_team(request, teams)
    week = chosen_week(request)
    lead = policies.may_manage_schedules(user)
    context = {
        "teams": teams,
        "team": team,
        "lead": lead,
        "weeks": selectors.team_week(team_id=team.pk, week_start=week, zone=desk_zone()),
        "pending": list(selectors.time_off_pending(team_id=team.pk)) if lead else [],
        "on_duty_now": selectors.agents_on_duty(team_id=team.pk, at=clock.now()),
        "on_call": selectors.oncall_overview(at=clock.now(), team_id=team.pk),
        **_week_links(week),
    }
    return render(request, "web/schedules/team.html", context)


@agent_required
def schedule_mine(request: HttpRequest) -> HttpResponse:
    return redirect_to(request, reverse("web:schedule_agent", args=[current_user(request).pk]))


def _agent_context(
    request: HttpRequest, agent: User, form: TimeOffRequestForm | None = None
) -> dict[str, Any]:
    viewer = current_user(request)
    now = clock.now()
    week = chosen_week(request)
    schedules = list(selectors.oncall_schedules().filter(pk__in=selectors.schedules_of(agent)))
    timelines = selectors.oncall_timelines(
        schedules=schedules, start=now, end=now + dt.timedelta(days=UPCOMING_TURNS_DAYS)
    )
    turns = sorted(
        (
            (schedule, stretch)
            for schedule in schedules
            for stretch in timelines[schedule.pk]
            if stretch.user.pk == agent.pk
        ),
        key=lambda pair: pair[1].start,
    )
    return {
        "agent": agent,
        "own": viewer.pk == agent.pk,
        "lead": policies.may_manage_schedules(viewer),
        "agent_week": selectors.people_weeks(agents=[agent], week_start=week, zone=desk_zone())[0],
        "shifts": list(agent.shifts.order_by("id")),
        "time_off": list(selectors.time_off_of(agent_id=agent.pk, since=now)),
        "turns": turns,
        "form": form or TimeOffRequestForm(),
        "calendar_url": f"/api/v1/agents/{agent.pk}/calendar.ics",
        **_week_links(week),
    }


def _schedule_owner(request: HttpRequest, agent_id: int) -> User:
    """An agent's schedule is for them and for leads; anyone else sees a 404."""
    viewer = current_user(request)
    agent = User.objects.filter(pk=agent_id, role__in=STAFF_ROLES).first()
    if agent is None or (agent.pk != viewer.pk and not policies.may_manage_schedules(viewer)):
        raise Http404("no such schedule")
    return agent


@agent_required
def schedule_agent(request: HttpRequest, agent_id: int) -> HttpResponse:
    agent = _schedule_owner(request, agent_id)
    return render(request, "web/schedules/agent.html", _agent_context(request, agent))


@agent_required
@require_POST
def schedule_timeoff_request(request: HttpRequest) -> HttpResponse:
    """Ask for time off (for oneself, or a lead for the agent named in ``agent``)."""
    viewer = current_user(request)
    agent = _schedule_owner(request, int(request.POST.get("agent") or viewer.pk))
    form = TimeOffRequestForm(request.POST)
    done = None
    if form.is_valid():
        data = form.cleaned_data
        done = attempt(
            form,
            lambda: timeoff_request(
                agent=agent,
                actor=viewer,
                start=data["start"],
                end=data["end"],
                kind=data["kind"],
                reason=data["reason"],
            ),
        )
    if done is None:
        context = _agent_context(request, agent, form)
        return render(request, "web/schedules/agent.html", context, status=422)
    messages.success(request, _("Time off requested; a lead will decide on it."))
    return redirect_to(request, reverse("web:schedule_agent", args=[agent.pk]))


@agent_required
@require_POST
def schedule_timeoff_withdraw(request: HttpRequest, time_off_id: int) -> HttpResponse:
    viewer = current_user(request)
    try:
        timeoff_cancel(time_off_id=time_off_id, actor=viewer)
    except NotFound:
        raise Http404("no such request") from None
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("Request withdrawn."))
    return redirect_to(request, reverse("web:schedule_agent", args=[viewer.pk]))


@agent_required
@require_POST
def schedule_timeoff_decide(request: HttpRequest, time_off_id: int) -> HttpResponse:
    """A lead approves or rejects a request; back to the team's week."""
    lead = lead_required(request)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        raise Http404("no such decision")
    approve = form.cleaned_data["decision"] == "approve"
    try:
        decided = timeoff_decide(
            time_off_id=time_off_id, approve=approve, actor=lead, note=form.cleaned_data["note"]
        )
    except NotFound:
        raise Http404("no such request") from None
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        done = (
            _("Time off of %(name)s approved.") if approve else _("Time off of %(name)s rejected.")
        )
        messages.success(request, done % {"name": decided.agent.name})
    url = reverse("web:schedule_team")
    team = request.POST.get("team", "")
    return redirect_to(request, f"{url}?team={team}" if team.isdigit() else url)


@agent_required
def oncall_overview(request: HttpRequest) -> HttpResponse:
    """Who is on call now on every schedule, and the next two weeks stretch by stretch."""
    now = clock.now()
    schedules = list(selectors.oncall_schedules())
    answers = selectors.oncall_overview(at=now)
    timelines = selectors.oncall_timelines(
        schedules=schedules, start=now, end=now + dt.timedelta(days=ONCALL_DAYS)
    )
    rows = [(answer, timelines[answer.schedule.pk]) for answer in answers]
    return render(request, "web/schedules/oncall.html", {"rows": rows, "days": ONCALL_DAYS})
