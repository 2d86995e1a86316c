"""On-site visits: asking for one, and planning a team's day of them.

Planning reads the day (who is on duty, the visits asked for, what is
already booked), lets :func:`planner.plan_visits` order the routes, then
books each planned visit in its own short transaction through the same
checks as any booking. The solver runs outside any transaction, so a long
search never holds the database's write lock, and a visit whose slot was
taken meanwhile is reported as unplanned with the reason.

Already booked appointments of the team's agents that day are locked stops:
on-site ones where they are, remote ones at the agent's home base. Running
the plan again keeps every booking and only places the visits still
waiting, so an urgent visit can be added to a planned day without moving
anyone.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from expediter.appointments import selectors
from expediter.appointments.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Visit,
    VisitStatus,
)
from expediter.appointments.planner import (
    DEFAULT_TIME_LIMIT_SECONDS,
    Lock,
    PlanningError,
    Technician,
    plan_visits,
)
from expediter.appointments.planner import Visit as PlannerVisit
from expediter.appointments.services.booking import lock_agents, record_booking, require_free
from expediter.appointments.travel import Site as Place
from expediter.appointments.travel import travel_minutes
from expediter.core import clock
from expediter.core.errors import Conflict, DomainError, InvalidInput, NotPermitted
from expediter.core.wording import Wording, translated, translated_error
from expediter.schedules.selectors import duty_intervals
from expediter.staff import policies
from expediter.staff.models import STAFF_ROLES, AgentSkill, Team, User
from expediter.tickets.models import OPEN_STATUSES, ServiceSkill, Ticket
from expediter.tickets.services._common import event_record, ticket_for_update

# Why a visit stays unplanned, said in the reader's language when the plan is answered.
REASON_TICKET_CLOSED = Wording(gettext_noop("the ticket is no longer open"))
REASON_SITE_UNKNOWN = Wording(gettext_noop("the site has no coordinates"))
REASON_TAKEN = Wording(gettext_noop("planned meanwhile by someone else"))


def visit_request(
    *,
    ticket_id: int,
    actor: User | None,
    date: dt.date,
    window_start: dt.time,
    window_end: dt.time,
    duration_minutes: int,
) -> Visit:
    """Ask for an on-site visit at the ticket requester's site, to plan on ``date``.

    The window is local wall time in the desk's zone: the visit starts at or
    after ``window_start`` and ends by ``window_end``.
    """
    _check_window(date, window_start, window_end, duration_minutes)
    with transaction.atomic():
        ticket = ticket_for_update(ticket_id=ticket_id, actor=actor)
        if actor is not None and not policies.is_agent(actor):
            raise NotPermitted(_("only the desk asks for on-site visits"))
        if ticket.status not in OPEN_STATUSES:
            raise Conflict(
                _("ticket %(number)s is %(status)s: no visit to plan")
                % {"number": ticket.number, "status": ticket.status}
            )
        site = ticket.requester.site
        if selectors.as_place(site) is None:
            raise InvalidInput(
                _("the requester of ticket %(number)s has no site with coordinates")
                % {"number": ticket.number},
                field="ticket",
            )
        assert site is not None
        visit = Visit.objects.create(
            ticket=ticket,
            site=site,
            date=date,
            window_start=window_start,
            window_end=window_end,
            duration_minutes=duration_minutes,
            requested_by=actor,
            created_at=clock.now(),
        )
        event_record(
            ticket=ticket,
            actor=actor,
            verb="visit_requested",
            changes={
                "visit": [None, visit.pk],
                "date": [None, date.isoformat()],
                "window": [None, f"{window_start:%H:%M}-{window_end:%H:%M}"],
                "duration": [None, duration_minutes],
                "site": [None, site.name],
            },
        )
    return visit


def _check_window(
    date: dt.date, window_start: dt.time, window_end: dt.time, duration_minutes: int
) -> None:
    today = clock.now().astimezone(selectors.desk_zone()).date()
    if date < today:
        raise InvalidInput(_("a visit cannot be planned in the past"), field="date")
    if window_end <= window_start:
        raise InvalidInput(_("window_end must be after window_start"), field="window_end")
    selectors.check_duration(duration_minutes)
    window = _minutes(window_end) - _minutes(window_start)
    if duration_minutes > window:
        raise InvalidInput(
            _("a visit of %(duration)s minutes does not fit a %(window)s-minute window")
            % {"duration": duration_minutes, "window": window},
            field="duration",
        )


def _minutes(moment: dt.time) -> int:
    return moment.hour * 60 + moment.minute


# --- planning ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanStop:
    """A booked on-site appointment in a route (``visit_id`` when it came from a visit)."""

    appointment: Appointment
    visit_id: int | None


@dataclass(frozen=True)
class AgentRoute:
    """One agent's on-site day, stops in order, and the minutes spent travelling."""

    agent: User
    stops: tuple[PlanStop, ...]
    travel_minutes: int


@dataclass(frozen=True)
class Unplanned:
    visit_id: int
    reason: str


@dataclass(frozen=True)
class VisitPlan:
    date: dt.date
    team: Team
    routes: tuple[AgentRoute, ...]
    unplanned: tuple[Unplanned, ...]


@dataclass(frozen=True)
class _Vehicle:
    """One stretch of an agent's duty that day: leaves home at its start, back by its end."""

    agent: User
    technician: Technician


def visits_plan(
    *,
    date: dt.date,
    team_name: str,
    actor: User | None = None,
    time_limit_seconds: float = DEFAULT_TIME_LIMIT_SECONDS,
) -> VisitPlan:
    """Plan the team's waiting visits of ``date`` and book them; answer the whole day.

    Technicians are the team's agents on duty that day (each stretch of duty
    a route from home and back), qualified per visit by the service's skills.
    ``time_limit_seconds`` caps the route search (see :func:`search_seconds`).
    """
    team = Team.objects.filter(name__iexact=team_name.strip()).first()
    if team is None:
        raise InvalidInput(_("no team named '%(name)s'") % {"name": team_name}, field="team")
    day_start, day_end = _day_bounds(date)
    members = list(
        User.objects.filter(is_active=True, role__in=STAFF_ROLES, memberships__team=team)
        .select_related("site")
        .order_by("id")
    )
    vehicles = _vehicles(members, day_start, day_end)
    waiting, unplanned = _waiting_visits(team, date)
    locks = _locks(members, vehicles, day_start, day_end)
    try:
        plan = plan_visits(
            [*waiting, *locks],
            [vehicle.technician for vehicle in vehicles],
            time_limit_seconds=search_seconds(len(waiting), time_limit_seconds),
        )
    except PlanningError as error:
        raise Conflict(translated_error(error)) from None
    unplanned += [Unplanned(u.visit_id, u.reason) for u in plan.unplanned if u.visit_id > 0]
    for route in plan.routes:
        agent = vehicles[route.technician_id].agent
        for stop in route.stops:
            if stop.locked or stop.visit_id <= 0:
                continue
            refusal = _book_visit(
                visit_id=stop.visit_id, agent=agent, start=stop.start, end=stop.end, actor=actor
            )
            if refusal is not None:
                unplanned.append(Unplanned(stop.visit_id, refusal))
    return VisitPlan(
        date=date,
        team=team,
        routes=tuple(_day_routes(vehicles, day_start, day_end)),
        unplanned=tuple(
            Unplanned(u.visit_id, translated(u.reason))
            for u in sorted(unplanned, key=lambda u: u.visit_id)
        ),
    )


def search_seconds(visits: int, limit: float) -> float:
    """Time for the route search: a second plus a fifth per visit waiting, at most ``limit``.

    The solver improves its routes until time runs out; a handful of visits
    is solved well in a second, and a page should not wait ten for it.
    """
    return min(limit, 1.0 + 0.2 * visits)


def _day_bounds(date: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = selectors.desk_zone()
    start = dt.datetime.combine(date, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _local(date: dt.date, moment: dt.time) -> dt.datetime:
    return dt.datetime.combine(date, moment, tzinfo=selectors.desk_zone()).astimezone(dt.UTC)


def _vehicles(members: Sequence[User], start: dt.datetime, end: dt.datetime) -> list[_Vehicle]:
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    for agent_id, name, level in AgentSkill.objects.filter(agent__in=members).values_list(
        "agent_id", "skill__name", "level"
    ):
        skills[agent_id][name] = level
    vehicles: list[_Vehicle] = []
    for agent in members:
        for lo, hi in duty_intervals(agent_id=agent.pk, start=start, end=end):
            technician = Technician(
                id=len(vehicles),
                name=agent.name,
                shift_start=lo,
                shift_end=hi,
                home=selectors.as_place(agent.site),
                skills=skills[agent.pk],
            )
            vehicles.append(_Vehicle(agent, technician))
    return vehicles


def _waiting_visits(team: Team, date: dt.date) -> tuple[list[PlannerVisit], list[Unplanned]]:
    rows = list(
        Visit.objects.filter(date=date, status=VisitStatus.REQUESTED, ticket__team=team)
        .select_related("ticket", "site")
        .order_by("id")
    )
    required = _required_skills(row.ticket for row in rows)
    waiting: list[PlannerVisit] = []
    unplanned: list[Unplanned] = []
    for row in rows:
        place = selectors.as_place(row.site)
        if row.ticket.status not in OPEN_STATUSES:
            unplanned.append(Unplanned(row.pk, REASON_TICKET_CLOSED))
        elif place is None:
            unplanned.append(Unplanned(row.pk, REASON_SITE_UNKNOWN))
        else:
            waiting.append(
                PlannerVisit(
                    id=row.pk,
                    site=place,
                    window_start=_local(date, row.window_start),
                    window_end=_local(date, row.window_end),
                    duration_minutes=row.duration_minutes,
                    skills=required.get(row.ticket.service_id or 0, {}),
                    ticket_id=row.ticket_id,
                )
            )
    return waiting, unplanned


def _required_skills(tickets: Iterable[Ticket]) -> dict[int, dict[str, int]]:
    service_ids = {t.service_id for t in tickets if t.service_id}
    required: dict[int, dict[str, int]] = defaultdict(dict)
    for service_id, name, level in ServiceSkill.objects.filter(
        service_id__in=service_ids
    ).values_list("service_id", "skill__name", "min_level"):
        required[service_id][name] = level
    return required


def _locks(
    members: Sequence[User], vehicles: Sequence[_Vehicle], start: dt.datetime, end: dt.datetime
) -> list[PlannerVisit]:
    """The day's booked appointments as locked stops (ids negated: they are not visits).

    A remote appointment (or one at an address that cannot be located) is
    placed at the agent's home: a route then goes by home around it, never
    shorter than the trip the agent really makes, so every planned stop also
    passes the booking check. One outside every stretch of its agent's duty
    (time off recorded after it was booked) is left out: it cannot be part of
    a route, and stays booked.
    """
    booked = Appointment.objects.filter(
        agent__in=members, status=AppointmentStatus.BOOKED, start__lt=end, end__gt=start
    ).select_related("site")
    locks: list[PlannerVisit] = []
    for appointment in booked:
        vehicle = next(
            (
                v
                for v in vehicles
                if v.agent.pk == appointment.agent_id
                and v.technician.shift_start <= appointment.start
                and appointment.end <= v.technician.shift_end
            ),
            None,
        )
        if vehicle is None:
            continue
        onsite = appointment.kind == AppointmentKind.ONSITE
        place = selectors.as_place(appointment.site) if onsite else None
        locks.append(
            PlannerVisit(
                id=-appointment.pk,
                site=place or vehicle.technician.home,
                window_start=appointment.start,
                window_end=appointment.end,
                duration_minutes=math.ceil(
                    (appointment.end - appointment.start).total_seconds() / 60
                ),
                ticket_id=appointment.ticket_id,
                lock=Lock(technician_id=vehicle.technician.id, start=appointment.start),
            )
        )
    return locks


def _whole_minutes(length: dt.timedelta) -> int:
    return math.ceil(length / dt.timedelta(minutes=1))


def _book_visit(
    *, visit_id: int, agent: User, start: dt.datetime, end: dt.datetime, actor: User | None
) -> str | None:
    """Book one planned visit; None when booked, else why not (the diary changed meanwhile)."""
    try:
        with transaction.atomic():
            waiting = Visit.objects.filter(pk=visit_id, status=VisitStatus.REQUESTED)
            if connection.features.has_select_for_update:
                waiting = waiting.select_for_update(of=("self",))
            visit = waiting.select_related("site").first()
            if visit is None:
                return REASON_TAKEN
            ticket = ticket_for_update(ticket_id=visit.ticket_id, actor=None)
            if ticket.status not in OPEN_STATUSES:
                return REASON_TICKET_CLOSED
            lock_agents([agent.pk])
            where = selectors.site_place(visit.site)
            require_free(agent, where=where, start=start, end=end)
            appointment = record_booking(
                ticket=ticket, actor=actor, agent=agent, where=where, start=start, end=end
            )
            visit.status = VisitStatus.PLANNED
            visit.appointment = appointment
            visit.save(update_fields=["status", "appointment"])
    except DomainError as error:
        return error.detail
    return None


def _day_routes(
    vehicles: Sequence[_Vehicle], start: dt.datetime, end: dt.datetime
) -> list[AgentRoute]:
    """Each agent on duty with their on-site appointments of the day, as booked now."""
    agents = {vehicle.agent.pk: vehicle.agent for vehicle in vehicles}
    onsite = (
        Appointment.objects.filter(
            agent_id__in=list(agents),
            status=AppointmentStatus.BOOKED,
            kind=AppointmentKind.ONSITE,
            start__lt=end,
            end__gt=start,
        )
        .select_related("site", "ticket", "visit")
        .order_by("start", "id")
    )
    by_agent: dict[int, list[Appointment]] = defaultdict(list)
    for appointment in onsite:
        by_agent[appointment.agent_id].append(appointment)
    routes = []
    for agent_id, agent in agents.items():
        stops = by_agent[agent_id]
        own = [v.technician for v in vehicles if v.agent.pk == agent_id]
        routes.append(
            AgentRoute(
                agent=agent,
                stops=tuple(PlanStop(a, _visit_id(a)) for a in stops),
                travel_minutes=sum(_stretch_travel(t, stops) for t in own),
            )
        )
    return routes


def _visit_id(appointment: Appointment) -> int | None:
    try:
        return appointment.visit.pk
    except Visit.DoesNotExist:
        return None


def _stretch_travel(technician: Technician, stops: Sequence[Appointment]) -> int:
    """Minutes from home through this stretch's located stops and back; zero when idle."""
    inside = [
        selectors.as_place(s.site)
        for s in stops
        if technician.shift_start <= s.start and s.end <= technician.shift_end
    ]
    if not inside:
        return 0
    path: list[Place | None] = [technician.home, *inside, technician.home]
    located = [place for place in path if place is not None]
    return sum(travel_minutes(a, b) for a, b in itertools.pairwise(located) if a.id != b.id)
