"""Calendars to look at: an agent's subscribed feed, a team's week, a technician's day.

Reads only. Appointments on tickets the viewer may not see still take room
in a calendar (the time is busy) but show no subject.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from expediter.appointments.availability import Interval
from expediter.appointments.ical import (
    FeedEvent,
    appointment_uid,
    build_feed,
    feed_window,
    shift_events,
)
from expediter.appointments.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    CalendarFeed,
)
from expediter.appointments.selectors import as_place, desk_zone
from expediter.appointments.travel import Site as Place
from expediter.appointments.travel import travel_minutes
from expediter.core import clock
from expediter.schedules.selectors import duty_intervals, time_off_intervals
from expediter.staff.models import STAFF_ROLES, Role, Team, User
from expediter.tickets.selectors import ticket_visible_queryset

SHOWN_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.DONE, AppointmentStatus.NO_SHOW)


def desk_address() -> tuple[str, str]:
    """The desk's own address and display name (organiser of invitations)."""
    name, address = parseaddr(settings.MAIL_FROM)
    return address or settings.MAIL_FROM, name or "Service desk"


def uid_of(appointment: Appointment) -> str:
    """The appointment's UID in invitations and feeds alike."""
    domain = desk_address()[0].rpartition("@")[2] or "expediter.invalid"
    return appointment_uid(appointment.pk, domain)


def ticket_link(ticket_id: int, *, portal: bool = False) -> str:
    try:
        path = reverse("web:portal_ticket" if portal else "web:ticket", args=[ticket_id])
    except NoReverseMatch:
        path = "/"
    return settings.BASE_URL + path


# --- the subscribed feed ----------------------------------------------------------------------


def feed_key_of(*, agent_id: int, nonce: str) -> str:
    """The secret of an agent's link, derived from the stored nonce and the desk's key."""
    message = f"calendar-feed:{agent_id}:{nonce}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def feed_key_existing(*, agent_id: int) -> str | None:
    """The agent's current feed key, or None while they have not asked for a link."""
    nonce = CalendarFeed.objects.filter(agent_id=agent_id).values_list("nonce", flat=True).first()
    return feed_key_of(agent_id=agent_id, nonce=nonce) if nonce else None


def feed_key_matches(*, agent_id: int, key: str) -> bool:
    """Whether ``key`` opens this agent's feed (compared in constant time)."""
    nonce = CalendarFeed.objects.filter(agent_id=agent_id).values_list("nonce", flat=True).first()
    if not nonce or not key:
        return False
    return hmac.compare_digest(feed_key_of(agent_id=agent_id, nonce=nonce), key)


def calendar_agent(*, agent_id: int) -> User | None:
    """An active member of staff whose calendar may exist, or None."""
    return User.objects.filter(pk=agent_id, is_active=True, role__in=STAFF_ROLES).first()


def may_view_agent_calendar(*, viewer: User, agent: User) -> bool:
    """The agent, the leads of one of their teams, and admins."""
    if not viewer.is_authenticated or not viewer.is_active:
        return False
    if viewer.pk == agent.pk or viewer.role == Role.ADMIN:
        return True
    if viewer.role != Role.LEAD:
        return False
    teams = set(agent.memberships.values_list("team_id", flat=True))
    return viewer.memberships.filter(team_id__in=teams).exists()


def agent_calendar_ics(*, agent: User) -> bytes:
    """The agent's appointments and duty over :func:`ical.feed_window`, as RFC 5545.

    Cancelled appointments stay in the feed as ``STATUS:CANCELLED`` so
    calendars that already hold them drop them.
    """
    window = feed_window(clock.now())
    appointments = (
        Appointment.objects.filter(agent=agent, start__lt=window.end, end__gt=window.start)
        .select_related("ticket", "ticket__requester")
        .order_by("start", "id")
    )
    events = [_feed_event(appointment) for appointment in appointments]
    duty = duty_intervals(agent_id=agent.pk, start=window.start, end=window.end)
    domain = desk_address()[0].rpartition("@")[2] or "expediter.invalid"
    events += shift_events(
        agent_id=agent.pk, duty=[Interval(lo, hi) for lo, hi in duty], domain=domain
    )
    return build_feed(name=f"{agent.name} · Expediter", events=events)


def _feed_event(appointment: Appointment) -> FeedEvent:
    ticket = appointment.ticket
    return FeedEvent(
        uid=uid_of(appointment),
        start=appointment.start,
        end=appointment.end,
        summary=f"#{ticket.number} {ticket.subject}",
        description=f"{ticket.requester.name} <{ticket.requester.email}>\n{ticket_link(ticket.pk)}",
        location=appointment.location,
        status="CANCELLED" if appointment.status == AppointmentStatus.CANCELLED else "CONFIRMED",
        sequence=appointment.sequence,
    )


# --- a team's calendar ------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarBlock:
    """Something in an agent's day: ``shift``, ``time_off`` or ``appointment``.

    ``appointment`` is None for an appointment the viewer may not see.
    """

    kind: str
    start: dt.datetime
    end: dt.datetime
    appointment: Appointment | None = None

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass(frozen=True)
class CalendarRow:
    agent: User
    days: tuple[tuple[CalendarBlock, ...], ...]


@dataclass(frozen=True)
class TeamCalendar:
    team: Team
    days: tuple[dt.date, ...]
    rows: tuple[CalendarRow, ...]


def team_calendar(*, viewer: User, team: Team, first_day: dt.date, days: int) -> TeamCalendar:
    """Shifts, time off and appointments of each of the team's agents, day by day."""
    dates = tuple(first_day + dt.timedelta(days=n) for n in range(days))
    bounds = [_day_bounds(day) for day in dates]
    start, end = bounds[0][0], bounds[-1][1]
    agents = list(
        User.objects.filter(is_active=True, role__in=STAFF_ROLES, memberships__team=team)
        .order_by("name", "id")
        .distinct()
    )
    appointments = _appointments_by_agent(viewer, agents, start, end)
    rows = []
    for agent in agents:
        blocks = _agent_blocks(agent, start, end, appointments[agent.pk])
        per_day = tuple(
            tuple(b for b in blocks if b.start < day_end and day_start < b.end)
            for day_start, day_end in bounds
        )
        rows.append(CalendarRow(agent=agent, days=per_day))
    return TeamCalendar(team=team, days=dates, rows=tuple(rows))


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = desk_zone()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _appointments_by_agent(
    viewer: User, agents: Sequence[User], start: dt.datetime, end: dt.datetime
) -> dict[int, list[CalendarBlock]]:
    rows = Appointment.objects.filter(
        agent__in=agents, status__in=SHOWN_STATUSES, start__lt=end, end__gt=start
    )
    visible = set(
        rows.filter(ticket__in=ticket_visible_queryset(viewer)).values_list("id", flat=True)
    )
    blocks: dict[int, list[CalendarBlock]] = defaultdict(list)
    for row in rows.select_related("ticket", "site"):
        shown = row if row.pk in visible else None
        blocks[row.agent_id].append(CalendarBlock("appointment", row.start, row.end, shown))
    return blocks


def _agent_blocks(
    agent: User, start: dt.datetime, end: dt.datetime, appointments: list[CalendarBlock]
) -> list[CalendarBlock]:
    shifts = [
        CalendarBlock("shift", lo, hi)
        for lo, hi in duty_intervals(agent_id=agent.pk, start=start, end=end)
    ]
    time_off = [
        CalendarBlock("time_off", max(lo, start), min(hi, end))
        for lo, hi in time_off_intervals(agent_id=agent.pk, start=start, end=end)
    ]
    return sorted([*shifts, *time_off, *appointments], key=lambda b: (b.start, b.kind))


# --- a technician's day -----------------------------------------------------------------------


@dataclass(frozen=True)
class DayStop:
    """One appointment of the day, and the trip that leads to it (for on-site ones)."""

    appointment: Appointment
    travel_minutes: int


@dataclass(frozen=True)
class TechnicianDay:
    agent: User
    date: dt.date
    duty: tuple[tuple[dt.datetime, dt.datetime], ...]
    stops: tuple[DayStop, ...]
    back_home_minutes: int


def technician_day(*, viewer: User, agent: User, date: dt.date) -> TechnicianDay:
    """The agent's appointments of ``date`` in order, with the trips between the sites.

    Meant for the agent, their leads and admins (see
    :func:`may_view_agent_calendar`); appointments on tickets the viewer may
    not see are left out.
    """
    start, end = _day_bounds(date)
    appointments = list(
        Appointment.objects.filter(
            agent=agent,
            status=AppointmentStatus.BOOKED,
            start__lt=end,
            end__gt=start,
            ticket__in=ticket_visible_queryset(viewer),
        )
        .select_related("ticket", "ticket__requester", "site")
        .order_by("start", "id")
    )
    home = as_place(agent.site)
    here: Place | None = home
    stops = []
    for appointment in appointments:
        place = as_place(appointment.site) if appointment.kind == AppointmentKind.ONSITE else None
        stops.append(DayStop(appointment, _trip(here, place)))
        here = place or here
    duty = tuple(duty_intervals(agent_id=agent.pk, start=start, end=end))
    return TechnicianDay(
        agent=agent,
        date=date,
        duty=duty,
        stops=tuple(stops),
        back_home_minutes=_trip(here, home),
    )


def _trip(origin: Place | None, destination: Place | None) -> int:
    if origin is None or destination is None or origin.id == destination.id:
        return 0
    return travel_minutes(origin, destination)
