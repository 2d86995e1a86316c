"""Appointment and visit pages: a ticket's appointments, the slot picker, calendars, plans.

The ticket pages (agent and portal) include ``web/appointments/_ticket_panel.html``,
which loads :func:`ticket_panel` with htmx (a plain link without JavaScript).
Every action posts one form to one service; refusals come back as form
errors (htmx: the panel in place; otherwise the page, with a 422).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from expediter.appointments import calendars, selectors, services
from expediter.appointments.availability import Slot
from expediter.appointments.models import AppointmentKind, AppointmentStatus
from expediter.core import clock
from expediter.core.errors import DomainError, NotFound
from expediter.staff import policies
from expediter.staff.models import Team, User
from expediter.tickets.models import Ticket
from expediter.tickets.selectors import qualified_agents
from expediter.web.views._support import (
    FormFailure,
    agent_required,
    attempt,
    current_user,
    is_htmx,
    member_required,
    redirect_to,
    render_form_failure,
)

TICKET_TEMPLATE = "web/appointments/ticket.html"
SLOTS_TEMPLATE = "web/appointments/slots.html"
PLAN_TEMPLATE = "web/appointments/plan.html"
FIELD_NAMES = {"agent_id": "agent", "end": "duration"}
SLOT_DAYS = 5


def _today() -> dt.date:
    return clock.now().astimezone(selectors.desk_zone()).date()


def _date_from(request: HttpRequest, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return default


# --- forms ------------------------------------------------------------------------------------


class BookingForm(forms.Form):
    """One booking: a start, a length, a kind, and optionally who and where."""

    start = forms.DateTimeField(
        label=gettext_lazy("Start"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    duration = forms.IntegerField(
        label=gettext_lazy("Duration (minutes)"), min_value=5, max_value=720, initial=60
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=AppointmentKind.choices, initial="remote"
    )
    agent = forms.TypedChoiceField(
        label=gettext_lazy("Agent"), required=False, coerce=int, empty_value=None
    )
    location = forms.CharField(label=gettext_lazy("Location"), required=False, max_length=300)

    def __init__(self, *args: Any, agents: Sequence[User] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("The best free agent")), *((a.pk, a.name) for a in agents)]
        self.fields["agent"].choices = choices  # type: ignore[attr-defined]
        self.fields["location"].help_text = _(
            "On site: a site's name, an address, or empty for the requester's site."
        )

    def booking(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "start": data["start"],
            "end": data["start"] + dt.timedelta(minutes=data["duration"]),
            "kind": data["kind"],
            "agent_id": data["agent"],
            "location": data["location"],
        }


class SlotSearchForm(forms.Form):
    date = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    duration = forms.IntegerField(
        label=gettext_lazy("Duration (minutes)"), min_value=15, max_value=480, initial=60
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=AppointmentKind.choices, initial="remote"
    )


class PlanForm(forms.Form):
    date = forms.DateField(
        label=gettext_lazy("Day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    team = forms.ChoiceField(label=gettext_lazy("Team"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = Team.objects.order_by("name").values_list("name", flat=True)
        self.fields["team"].choices = [(name, name) for name in names]  # type: ignore[attr-defined]


# --- a ticket's appointments ------------------------------------------------------------------


def _may_book(user: User, ticket: Ticket) -> bool:
    return policies.is_agent(user) or ticket.requester_id == user.pk


def _panel_context(
    request: HttpRequest, ticket_id: int, form: BookingForm | None = None
) -> dict[str, Any]:
    user = current_user(request)
    ticket = selectors.ticket_get_visible(user=user, ticket_id=ticket_id)
    appointments = selectors.appointment_list_for_ticket(user=user, ticket_id=ticket.pk)
    staff = policies.is_agent(user)
    if form is None and staff:
        form = BookingForm(agents=[q.agent for q in qualified_agents(ticket=ticket)])
    return {
        "ticket": ticket,
        "appointments": appointments,
        "staff": staff,
        "may_book": _may_book(user, ticket),
        "booking_form": form,
        "htmx": is_htmx(request),
        "slots_url": _slots_url(user, ticket.pk),
        "ticket_url": _ticket_url(user, ticket.pk),
        "now": clock.now(),
    }


def _slots_url(user: User, ticket_id: int) -> str:
    name = "web:appointment_slots" if policies.is_agent(user) else "web:appointment_portal_slots"
    return reverse(name, args=[ticket_id])


def _ticket_url(user: User, ticket_id: int) -> str:
    name = "web:ticket" if policies.is_agent(user) else "web:portal_ticket"
    return reverse(name, args=[ticket_id])


@member_required
@require_GET
@vary_on_headers("HX-Request")
def ticket_panel(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The appointments of a ticket: the panel for htmx, a page of its own otherwise."""
    context = _panel_context(request, ticket_id)
    # Loading the panel into a ticket page must not take that page's messages.
    context["quiet"] = True
    template = f"{TICKET_TEMPLATE}#panel" if is_htmx(request) else TICKET_TEMPLATE
    return render(request, template, context)


@member_required
@require_POST
@vary_on_headers("HX-Request")
def book(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Book from the panel's form or a slot's one-click button."""
    user = current_user(request)
    ticket = selectors.ticket_for_booking(user=user, ticket_id=ticket_id)
    agents = [q.agent for q in qualified_agents(ticket=ticket)]
    form = BookingForm(request.POST, agents=agents)
    if form.is_valid():
        booking = form.booking()
        if not policies.is_agent(user):
            booking["location"] = ""  # requesters are visited at their own site
        appointment = attempt(
            form,
            lambda: services.appointment_book(ticket_id=ticket.pk, actor=user, **booking),
            FIELD_NAMES,
        )
        if appointment is not None:
            messages.success(request, _("Appointment booked."))
            return _after_change(request, user, ticket.pk)
    return render_form_failure(
        request,
        template=TICKET_TEMPLATE,
        failure=FormFailure("panel", "appointments-panel"),
        context=_panel_context(request, ticket.pk, form=form),
    )


@member_required
@require_POST
@vary_on_headers("HX-Request")
def set_status(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Cancel an appointment, or record that it was done or missed."""
    user = current_user(request)
    appointment = selectors.appointment_get_visible(user=user, appointment_id=appointment_id)
    status = request.POST.get("status", "")
    try:
        services.appointment_set_status(appointment_id=appointment.pk, actor=user, status=status)
    except NotFound:
        raise
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("Appointment updated."))
    if request.POST.get("back") == "mine":
        return redirect_to(request, reverse("web:appointment_mine"))
    return _after_change(request, user, appointment.ticket_id)


def _after_change(request: HttpRequest, user: User, ticket_id: int) -> HttpResponse:
    if is_htmx(request):
        return render(request, f"{TICKET_TEMPLATE}#panel", _panel_context(request, ticket_id))
    if not policies.is_agent(user):
        return HttpResponseRedirect(reverse("web:appointment_mine"))
    return HttpResponseRedirect(_ticket_url(user, ticket_id))


# --- the slot picker --------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotDay:
    day: dt.date
    slots: tuple[Slot, ...]


def _slot_days(slots: Sequence[Slot], *, one_per_start: bool) -> list[SlotDay]:
    """Slots by local day; requesters see each start once and get the best free agent."""
    zone = selectors.desk_zone()
    days = []
    for day, same_day in groupby(slots, key=lambda s: s.start.astimezone(zone).date()):
        kept = list(same_day)
        if one_per_start:
            kept = [next(group) for _start, group in groupby(kept, key=lambda s: s.start)]
        days.append(SlotDay(day, tuple(kept)))
    return days


@member_required
@require_GET
def slot_picker(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Free slots over the next days; each is a one-click booking."""
    user = current_user(request)
    ticket = selectors.ticket_for_booking(user=user, ticket_id=ticket_id)
    form = SlotSearchForm(
        request.GET if "duration" in request.GET else None,
        initial={"date": _today(), "duration": 60, "kind": AppointmentKind.REMOTE},
    )
    search = form.cleaned_data if form.is_bound and form.is_valid() else form.initial
    duration, kind = int(search["duration"]), str(search["kind"])
    zone = selectors.desk_zone()
    first_day = max(search["date"], _today())
    start = max(dt.datetime.combine(first_day, dt.time(0), tzinfo=zone), clock.now())
    end = dt.datetime.combine(first_day + dt.timedelta(days=SLOT_DAYS), dt.time(0), tzinfo=zone)
    slots = attempt(
        form,
        lambda: selectors.ticket_slots(
            user=user,
            ticket_id=ticket.pk,
            duration_minutes=duration,
            start=start,
            end=end,
            kind=kind,
        ),
    )
    context = {
        "ticket": ticket,
        "form": form,
        "days": _slot_days(slots or [], one_per_start=not policies.is_agent(user)),
        "duration": duration,
        "kind": kind,
        "staff": policies.is_agent(user),
        "ticket_url": _ticket_url(user, ticket.pk),
    }
    return render(request, SLOTS_TEMPLATE, context)


# --- the requester's appointments -------------------------------------------------------------


@member_required
@require_GET
def my_appointments(request: HttpRequest) -> HttpResponse:
    appointments = selectors.requester_appointments(user=current_user(request))
    now = clock.now()
    context = {
        "upcoming": list(appointments.filter(end__gte=now, status=AppointmentStatus.BOOKED)),
        "past": list(appointments.exclude(end__gte=now, status=AppointmentStatus.BOOKED))[-50:],
    }
    return render(request, "web/appointments/mine.html", context)


# --- calendars --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """A block drawn on a day's strip, as percentages of the day."""

    block: calendars.CalendarBlock
    left: float
    width: float


def _bars(blocks: Sequence[calendars.CalendarBlock], day: dt.date) -> list[Bar]:
    zone = selectors.desk_zone()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    length = (end - start).total_seconds()
    bars = []
    for block in blocks:
        lo, hi = max(block.start, start), min(block.end, end)
        left = (lo - start).total_seconds() / length * 100
        bars.append(Bar(block, round(left, 2), round((hi - lo).total_seconds() / length * 100, 2)))
    return bars


def _team_for(request: HttpRequest, user: User) -> Team:
    wanted = request.GET.get("team", "")
    team = Team.objects.filter(name=wanted).first() if wanted else None
    if team is None:
        membership = user.memberships.order_by("-is_primary", "id").select_related("team").first()
        team = membership.team if membership else Team.objects.order_by("name").first()
    if team is None:
        raise Http404(_("There is no team yet."))
    return team


@agent_required
@require_GET
def team_calendar(request: HttpRequest) -> HttpResponse:
    """A team's day or week, per agent: shifts, time off and appointments together."""
    user = current_user(request)
    team = _team_for(request, user)
    week = request.GET.get("view") == "week"
    day = _date_from(request, _today())
    first_day = day - dt.timedelta(days=day.weekday()) if week else day
    length = 7 if week else 1
    calendar = calendars.team_calendar(viewer=user, team=team, first_day=first_day, days=length)
    rows = [
        (row.agent, [_bars(blocks, d) for blocks, d in zip(row.days, calendar.days, strict=True)])
        for row in calendar.rows
    ]
    context = {
        "calendar": calendar,
        "rows": rows,
        "teams": Team.objects.order_by("name"),
        "week": week,
        "day": day,
        "previous": first_day - dt.timedelta(days=length),
        "next": first_day + dt.timedelta(days=length),
    }
    return render(request, "web/appointments/team_calendar.html", context)


@agent_required
@require_GET
def agent_day(request: HttpRequest, agent_id: int) -> HttpResponse:
    """A technician's day in order, with addresses and tickets: made to be printed."""
    user = current_user(request)
    agent = calendars.calendar_agent(agent_id=agent_id)
    if agent is None or not calendars.may_view_agent_calendar(viewer=user, agent=agent):
        raise Http404(_("No such agent."))
    date = _date_from(request, _today())
    day = calendars.technician_day(viewer=user, agent=agent, date=date)
    context = {
        "day": day,
        "previous": date - dt.timedelta(days=1),
        "next": date + dt.timedelta(days=1),
    }
    return render(request, "web/appointments/agent_day.html", context)


# --- planning visits --------------------------------------------------------------------------


@agent_required
@vary_on_headers("HX-Request")
def visit_plan(request: HttpRequest) -> HttpResponse:
    """Leads plan a team's day of on-site visits and see the routes."""
    user = current_user(request)
    if not policies.sees_everything(user):
        raise Http404(_("Planning visits is for team leads."))
    tomorrow = _today() + dt.timedelta(days=1)
    form = PlanForm(request.POST or None, initial={"date": tomorrow})
    plan = None
    if request.method == "POST" and form.is_valid():
        plan = attempt(
            form,
            lambda: services.visits_plan(
                date=form.cleaned_data["date"], team_name=form.cleaned_data["team"], actor=user
            ),
        )
    context = {"form": form, "plan": plan, "waiting": _waiting(form)}
    if request.method == "POST" and plan is None:
        return render_form_failure(
            request,
            template=PLAN_TEMPLATE,
            failure=FormFailure("plan_form", "plan-form"),
            context=context,
        )
    return render(request, PLAN_TEMPLATE, context)


def _waiting(form: PlanForm) -> list[Any]:
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    team = Team.objects.filter(name=data.get("team", "")).first()
    if team is None:
        return []
    return list(selectors.visits_waiting(team_id=team.pk, date=data["date"]))


# --- the agent's calendar link ----------------------------------------------------------------


def _feed_url(agent_id: int, key: str) -> str:
    path = reverse("api-1.0.0:agent_calendar", args=[agent_id])
    return f"{settings.BASE_URL}{path}?key={key}"


@agent_required
@require_GET
def feed_link(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    key = calendars.feed_key_existing(agent_id=user.pk)
    context = {"feed_url": _feed_url(user.pk, key) if key else None}
    return render(request, "web/appointments/feed.html", context)


@agent_required
@require_POST
def feed_reset(request: HttpRequest) -> HttpResponse:
    """Make a new secret link; any link handed out before stops working."""
    services.calendar_feed_reset(agent=current_user(request))
    messages.success(request, _("Your calendar link is ready; earlier links no longer work."))
    return HttpResponseRedirect(reverse("web:appointment_feed"))
