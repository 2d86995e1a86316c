"""Reads about appointments: who may see which, agents' diaries, free slots.

Every list goes through :func:`appointment_visible_queryset`, which narrows
by the tickets the caller may see, so the API, the pages and the feeds show
the same appointments to the same people.

An agent's diary (:func:`diaries`) is what the pure availability core needs:
worked time (shifts and extra shifts, before time off is taken out, so a
booking during time off is refused for that reason and not as "off duty"),
approved time off, the appointments that still take room, and the agent's
home site.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from expediter.appointments.availability import (
    AgentAvailability,
    Busy,
    Interval,
    Kind,
    Slot,
    find_slots,
)
from expediter.appointments.models import (
    OCCUPYING_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Visit,
    VisitStatus,
)
from expediter.appointments.travel import Site as Place
from expediter.core.errors import InvalidInput, NotFound
from expediter.schedules.models import ExtraShift, Shift, TimeOff, TimeOffStatus
from expediter.schedules.selectors import shift_intervals
from expediter.staff.models import STAFF_ROLES, Role, Site, User
from expediter.tickets.models import ACTIVE_STATUSES, ServiceSkill, Ticket
from expediter.tickets.selectors import (
    qualified_agents,
    ticket_get_visible,
    ticket_visible_queryset,
)

MAX_SLOT_RANGE = dt.timedelta(days=31)
MAX_DURATION_MINUTES = 12 * 60
# Duty is read a day beyond the period asked about, so a booking near its edge
# still sees the whole working day it belongs to (and the trips that day needs).
_MARGIN = dt.timedelta(days=1)


def desk_zone() -> ZoneInfo:
    return ZoneInfo(settings.DESK_TIME_ZONE)


# --- visibility -------------------------------------------------------------------------------


def appointment_visible_queryset(user: User) -> QuerySet[Appointment]:
    """Appointments on tickets ``user`` may see."""
    return Appointment.objects.filter(ticket__in=ticket_visible_queryset(user)).select_related(
        "ticket", "agent", "site"
    )


def appointment_get_visible(*, user: User, appointment_id: int) -> Appointment:
    appointment = appointment_visible_queryset(user).filter(pk=appointment_id).first()
    if appointment is None:
        raise NotFound(_("appointment %(id)s not found") % {"id": appointment_id})
    return appointment


def appointment_list_visible(
    *,
    user: User,
    agent_id: int | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> QuerySet[Appointment]:
    """Visible appointments, narrowed to an agent and to those overlapping ``[start, end)``."""
    appointments = appointment_visible_queryset(user)
    if agent_id is not None:
        appointments = appointments.filter(agent_id=agent_id)
    if start is not None:
        appointments = appointments.filter(end__gt=start)
    if end is not None:
        appointments = appointments.filter(start__lt=end)
    return appointments


def appointment_list_for_ticket(*, user: User, ticket_id: int) -> list[Appointment]:
    """A ticket's appointments, soonest first; NotFound when the ticket is hidden."""
    ticket = ticket_get_visible(user=user, ticket_id=ticket_id)
    return list(
        Appointment.objects.filter(ticket=ticket)
        .select_related("agent", "site", "ticket")
        .order_by("start", "id")
    )


def requester_appointments(*, user: User) -> QuerySet[Appointment]:
    """The appointments on requests ``user`` opened: their "my appointments" page."""
    return appointment_visible_queryset(user).filter(ticket__requester=user).order_by("start", "id")


def visit_get_visible(*, user: User, visit_id: int) -> Visit:
    visit = (
        Visit.objects.filter(pk=visit_id, ticket__in=ticket_visible_queryset(user))
        .select_related("ticket", "site", "appointment")
        .first()
    )
    if visit is None:
        raise NotFound(_("visit %(id)s not found") % {"id": visit_id})
    return visit


def ticket_for_booking(*, user: User, ticket_id: int) -> Ticket:
    """A ticket ``user`` may book on: staff, or the requester for their own requests.

    Requesters who see colleagues' requests (an organisation that shares
    them) still only book on their own: the others look missing.
    """
    ticket = ticket_get_visible(user=user, ticket_id=ticket_id)
    if user.role == Role.REQUESTER and ticket.requester_id != user.pk:
        raise NotFound(_("ticket %(id)s not found") % {"id": ticket_id})
    return ticket


# --- places and diaries -----------------------------------------------------------------------


def as_place(site: Site | None) -> Place | None:
    """The travel core's view of a site; None when it cannot be located."""
    if site is None or site.latitude is None or site.longitude is None:
        return None
    return Place(
        id=site.pk,
        name=site.name,
        lat=site.latitude,
        lon=site.longitude,
        address=site.address,
    )


def worked_intervals(
    shifts: Iterable[Shift],
    extra: Iterable[tuple[dt.datetime, dt.datetime]],
    start: dt.datetime,
    end: dt.datetime,
) -> list[Interval]:
    """Shifts and extra shifts over ``[start, end)``, before time off is taken out."""
    spans = list(shift_intervals(shifts, start, end))
    spans += [(max(lo, start), min(hi, end)) for lo, hi in extra]
    return [Interval(lo, hi) for lo, hi in spans if lo < hi]


def diaries(
    *,
    agents: Sequence[User],
    start: dt.datetime,
    end: dt.datetime,
    exclude_appointment_id: int | None = None,
) -> dict[int, AgentAvailability]:
    """Each agent's availability around ``[start, end)``, in five queries whatever the team."""
    ids = [agent.pk for agent in agents]
    lo, hi = start - _MARGIN, end + _MARGIN
    shifts: dict[int, list[Shift]] = defaultdict(list)
    for shift in Shift.objects.filter(agent_id__in=ids):
        shifts[shift.agent_id].append(shift)
    extra: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for agent_id, extra_start, extra_end in ExtraShift.objects.filter(
        agent_id__in=ids, start__lt=hi, end__gt=lo
    ).values_list("agent_id", "start", "end"):
        extra[agent_id].append((extra_start, extra_end))
    time_off: dict[int, list[Interval]] = defaultdict(list)
    for agent_id, off_start, off_end in TimeOff.objects.filter(
        agent_id__in=ids, status=TimeOffStatus.APPROVED, start__lt=hi, end__gt=lo
    ).values_list("agent_id", "start", "end"):
        time_off[agent_id].append(Interval(off_start, off_end))
    busy = _busy(ids, lo, hi, exclude_appointment_id)
    homes = {site.pk: site for site in Site.objects.filter(people__in=ids)}
    return {
        agent.pk: AgentAvailability(
            agent_id=agent.pk,
            agent_name=agent.name,
            duty=worked_intervals(shifts[agent.pk], extra[agent.pk], lo, hi),
            time_off=time_off[agent.pk],
            busy=busy[agent.pk],
            home=as_place(homes.get(agent.site_id) if agent.site_id else None),
        )
        for agent in agents
    }


def _busy(
    agent_ids: list[int], start: dt.datetime, end: dt.datetime, exclude_id: int | None
) -> dict[int, list[Busy]]:
    rows = Appointment.objects.filter(
        agent_id__in=agent_ids, status__in=OCCUPYING_STATUSES, start__lt=end, end__gt=start
    ).select_related("site")
    if exclude_id is not None:
        rows = rows.exclude(pk=exclude_id)
    busy: dict[int, list[Busy]] = defaultdict(list)
    for row in rows:
        place = as_place(row.site) if row.kind == AppointmentKind.ONSITE else None
        busy[row.agent_id].append(Busy(row.start, row.end, place, row.pk))
    return busy


@dataclass(frozen=True)
class BookingPlace:
    """Where a booking happens: its kind, the site (if any), its words, how to check it.

    ``check_kind`` is ``onsite`` only when the place can be located: an
    on-site booking at an address typed as free text is checked for time
    like a remote one (the agent's trips around it cannot be computed).
    """

    kind: str
    site: Site | None
    location: str
    place: Place | None

    @property
    def check_kind(self) -> Kind:
        return "onsite" if self.place is not None else "remote"


def booking_place(*, ticket: Ticket, kind: str, location: str = "") -> BookingPlace:
    """Where an appointment of ``kind`` on ``ticket`` happens.

    On site: a location naming a known site means that site; other text is
    an address as typed; no location means the requester's site.
    """
    text = " ".join((location or "").split())
    if kind != AppointmentKind.ONSITE:
        return BookingPlace(kind=kind, site=None, location=text, place=None)
    site = Site.objects.filter(name__iexact=text).first() if text else ticket.requester.site
    if site is None:
        return BookingPlace(kind=kind, site=None, location=text, place=None)
    return site_place(site)


def site_place(site: Site) -> BookingPlace:
    """On site at a known site, described by its name and address."""
    words = ", ".join(part for part in (site.name, " ".join(site.address.split())) if part)
    return BookingPlace(
        kind=AppointmentKind.ONSITE, site=site, location=words[:300], place=as_place(site)
    )


def place_of(appointment: Appointment) -> BookingPlace:
    """Where a booked appointment happens, to check a new time for it."""
    onsite = appointment.kind == AppointmentKind.ONSITE
    return BookingPlace(
        kind=appointment.kind,
        site=appointment.site,
        location=appointment.location,
        place=as_place(appointment.site) if onsite else None,
    )


# --- slots and the choice of an agent ---------------------------------------------------------


def check_period(
    start: dt.datetime, end: dt.datetime, *, start_field: str = "from", end_field: str = "to"
) -> None:
    if end <= start:
        raise InvalidInput(
            _("%(end)s must be after %(start)s") % {"end": end_field, "start": start_field},
            field=end_field,
        )
    if end - start > MAX_SLOT_RANGE:
        raise InvalidInput(
            _("ask for at most %(days)s days of slots at once") % {"days": MAX_SLOT_RANGE.days},
            field=end_field,
        )


def check_duration(minutes: int, *, field: str = "duration") -> None:
    if not 1 <= minutes <= MAX_DURATION_MINUTES:
        raise InvalidInput(
            _("%(field)s must be from 1 to %(max)s minutes")
            % {"field": field, "max": MAX_DURATION_MINUTES},
            field=field,
        )


def check_kind(kind: str) -> None:
    if kind not in AppointmentKind.values:
        raise InvalidInput(_("kind must be 'remote' or 'onsite'"), field="kind")


def ticket_slots(
    *,
    user: User,
    ticket_id: int,
    duration_minutes: int,
    start: dt.datetime,
    end: dt.datetime,
    kind: str = AppointmentKind.REMOTE,
) -> list[Slot]:
    """Every bookable slot for the ticket: qualified agents, on duty, free, travel allowed."""
    ticket = ticket_for_booking(user=user, ticket_id=ticket_id)
    check_duration(duration_minutes)
    check_period(start, end)
    check_kind(kind)
    where = booking_place(ticket=ticket, kind=kind)
    agents = [qualified.agent for qualified in qualified_agents(ticket=ticket)]
    if not agents:
        return []
    return find_slots(
        diaries(agents=agents, start=start, end=end).values(),
        duration_minutes=duration_minutes,
        start=start,
        end=end,
        zone=desk_zone(),
        kind=where.check_kind,
        site=where.place,
    )


def agent_loads(*, agent_ids: Sequence[int], day_of: dt.datetime) -> dict[int, int]:
    """How busy each agent already is, to keep the load even when choosing one.

    The load is the appointments booked for the agent on that local day plus
    the tickets they have in hand (assigned or in progress): both compete for
    the same working day.
    """
    zone = desk_zone()
    local_day = day_of.astimezone(zone).date()
    day_start = dt.datetime.combine(local_day, dt.time(0), tzinfo=zone)
    day_end = dt.datetime.combine(local_day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    loads: dict[int, int] = defaultdict(int)
    booked = (
        Appointment.objects.filter(
            agent_id__in=agent_ids,
            status=AppointmentStatus.BOOKED,
            start__lt=day_end,
            end__gt=day_start,
        )
        .values("agent_id")
        .annotate(count=Count("id"))
    )
    for row in booked:
        loads[row["agent_id"]] += row["count"]
    in_hand = (
        Ticket.objects.filter(assignee_id__in=agent_ids, status__in=ACTIVE_STATUSES)
        .values("assignee_id")
        .annotate(count=Count("id"))
    )
    for row in in_hand:
        loads[row["assignee_id"]] += row["count"]
    return dict(loads)


def skill_levels(*, ticket: Ticket, skills_by_agent: dict[int, dict[str, int]]) -> dict[int, int]:
    """Each agent's summed level in the skills the ticket's service needs (tie-breaker)."""
    if ticket.service_id is None:
        return {agent_id: 0 for agent_id in skills_by_agent}
    required = list(
        ServiceSkill.objects.filter(service_id=ticket.service_id).values_list(
            "skill__name", flat=True
        )
    )
    return {
        agent_id: sum(skills.get(name, 0) for name in required)
        for agent_id, skills in skills_by_agent.items()
    }


def bookable_agent(*, agent_id: int) -> User | None:
    """An active member of staff who can be booked, or None."""
    return User.objects.filter(pk=agent_id, is_active=True, role__in=STAFF_ROLES).first()


def visits_waiting(*, team_id: int, date: dt.date) -> QuerySet[Visit]:
    """Visits of the team's tickets asked for on ``date`` and not planned yet."""
    return (
        Visit.objects.filter(ticket__team_id=team_id, date=date, status=VisitStatus.REQUESTED)
        .select_related("ticket", "site")
        .order_by("window_start", "id")
    )
