"""Business calendars: creating, changing and assigning them, and reading one as arithmetic."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.utils.translation import gettext as _

from expediter.core import clock
from expediter.core.errors import Conflict, InvalidInput, NotFound
from expediter.core.wording import translated_error
from expediter.schedules.hours import DAY_NAMES, HoursSpecError, Range, WeeklyHours, parse_hours
from expediter.sla.calc import add_business_time, calendar_from_spec
from expediter.sla.models import Calendar, CalendarAssignment, SlaClock
from expediter.sla.services.clocks import business_calendar, catalogue_changed, sla_rebuild_open
from expediter.sla.services.public_holidays import public_holidays_store, years_around
from expediter.staff.models import Organisation, Team
from expediter.tickets.models import Ticket

NAME_MAX = 120


@dataclass(frozen=True)
class Holiday:
    """A custom day off; the country's public holidays are kept by ``public_holidays``."""

    date: dt.date
    name: str = ""


@dataclass(frozen=True)
class Opening:
    """A day whose hours replace the usual ones, even on a holiday; empty hours close it."""

    date: dt.date
    hours: str
    name: str = ""


@dataclass(frozen=True)
class CalendarSpec:
    """Everything a calendar is, as people type it."""

    name: str
    time_zone: str
    hours: str
    country: str = ""
    holidays: tuple[Holiday, ...] = ()
    openings: tuple[Opening, ...] = ()
    # Names of the teams and organisations that use it as their own; None leaves them as they are.
    teams: tuple[str, ...] | None = None
    organisations: tuple[str, ...] | None = None


def parse_day(text: str, *, field: str) -> dt.date:
    """A ``YYYY-MM-DD`` date typed on a command line or a form."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            _("'%(text)s' is not a date YYYY-MM-DD") % {"text": text}, field=field
        ) from None


def holidays_from_text(values: Iterable[str]) -> tuple[Holiday, ...]:
    """``--holiday`` values (``YYYY-MM-DD``, optionally followed by a space and a name)."""
    found = []
    for value in values:
        day, _, name = value.strip().partition(" ")
        found.append(Holiday(date=parse_day(day, field="holidays"), name=name.strip()))
    return tuple(found)


@transaction.atomic
def calendar_create(*, spec: CalendarSpec) -> Calendar:
    """A new calendar; every part is checked before anything is stored."""
    name = _checked_name(spec.name)
    if Calendar.objects.filter(name__iexact=name).exists():
        raise Conflict(
            _("a calendar named '%(name)s' already exists") % {"name": name}, field="name"
        )
    fields = _checked_fields(spec)
    now = clock.now()
    calendar = Calendar.objects.create(name=name, created_at=now, updated_at=now, **fields)
    _store_public_holidays(calendar)
    catalogue_changed()
    _set_owners(calendar, spec)
    return calendar


@transaction.atomic
def calendar_update(*, calendar_id: int, spec: CalendarSpec) -> Calendar:
    """Change a calendar; open tickets counting on it get their due times recomputed."""
    calendar = _calendar_for_update(calendar_id)
    name = _checked_name(spec.name)
    if Calendar.objects.filter(name__iexact=name).exclude(pk=calendar.pk).exists():
        raise Conflict(
            _("a calendar named '%(name)s' already exists") % {"name": name}, field="name"
        )
    for field, value in {"name": name, **_checked_fields(spec)}.items():
        setattr(calendar, field, value)
    calendar.updated_at = clock.now()
    calendar.save()
    _store_public_holidays(calendar)
    catalogue_changed()
    _set_owners(calendar, spec)
    sla_rebuild_open(ticket_ids=SlaClock.objects.filter(calendar=calendar).values("ticket_id"))
    return calendar


@transaction.atomic
def calendar_delete(*, calendar_id: int) -> None:
    """Refused while a policy uses it; teams and organisations using it fall back."""
    calendar = _calendar_for_update(calendar_id)
    names = list(calendar.policies.values_list("name", flat=True))
    if names:
        raise Conflict(
            _("the calendar is used by the policies %(names)s") % {"names": ", ".join(names)}
        )
    affected = list(SlaClock.objects.filter(calendar=calendar).values_list("ticket_id", flat=True))
    calendar.delete()
    catalogue_changed()
    sla_rebuild_open(ticket_ids=affected)


@transaction.atomic
def calendar_assign(
    *, calendar_id: int | None, team: str | None = None, organisation: str | None = None
) -> None:
    """Give a team or an organisation its own calendar (None: back to the policies' own).

    A ticket's clocks use its organisation's calendar, else its team's, else
    the calendar of the policy that applies.
    """
    target = _team_or_organisation(team, organisation)
    owner = {"team": target} if isinstance(target, Team) else {"organisation": target}
    if calendar_id is None:
        CalendarAssignment.objects.filter(**owner).delete()
    else:
        calendar = Calendar.objects.filter(pk=calendar_id).first()
        if calendar is None:
            raise InvalidInput(_("no calendar %(id)s") % {"id": calendar_id}, field="calendar")
        CalendarAssignment.objects.update_or_create(defaults={"calendar": calendar}, **owner)
    catalogue_changed()
    sla_rebuild_open(ticket_ids=Ticket.objects.filter(**owner).values("pk"))


def calendar_add_business_time(
    *, calendar_name: str, start: dt.datetime, minutes: int
) -> dt.datetime:
    """The earliest whole second, in the calendar's zone, by which ``minutes`` have elapsed.

    A start without an offset is read in the calendar's zone.
    """
    calendar = calendar_by_name(calendar_name)
    if minutes < 0:
        raise InvalidInput(_("minutes must not be negative"), field="minutes")
    business = business_calendar(calendar)
    if start.tzinfo is None:
        start = start.replace(tzinfo=business.zone)
    due = add_business_time(business, start, dt.timedelta(minutes=minutes))
    if due.microsecond:
        due = due.replace(microsecond=0) + dt.timedelta(seconds=1)
    return due.astimezone(business.zone)


def calendar_by_name(name: str) -> Calendar:
    calendar = Calendar.objects.filter(name__iexact=(name or "").strip()).first()
    if calendar is None:
        raise InvalidInput(_("no calendar named '%(name)s'") % {"name": name}, field="calendar")
    return calendar


def _store_public_holidays(calendar: Calendar) -> None:
    """Store the country's holidays now, so that no web process has to ask the package."""
    if calendar.country:
        public_holidays_store([calendar.country], years=years_around(clock.now().year))


# --- checks -------------------------------------------------------------------


def _checked_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_("a calendar needs a name"), field="name")
    if len(name) > NAME_MAX:
        raise InvalidInput(
            _("the name is longer than %(max)s characters") % {"max": NAME_MAX}, field="name"
        )
    return name


def _checked_fields(spec: CalendarSpec) -> dict[str, object]:
    """The stored form of a spec; each refusal names the field at fault."""
    zone = _checked_zone(spec.time_zone)
    try:
        hours = compact_hours(parse_hours(spec.hours))
    except HoursSpecError as error:
        raise InvalidInput(translated_error(error), field="hours") from None
    country = _checked_country(zone, hours, spec.country)
    openings = _checked_openings(zone, hours, spec.openings)
    holidays = {holiday.date: holiday for holiday in spec.holidays}
    return {
        "time_zone": zone,
        "hours": hours,
        "country": country,
        "holidays": [
            {"date": day.isoformat(), "name": holidays[day].name} for day in sorted(holidays)
        ],
        "openings": openings,
    }


def _checked_zone(name: str) -> str:
    name = (name or "").strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            _("'%(name)s' is not a known time zone (e.g. Europe/Paris)") % {"name": name},
            field="time_zone",
        ) from None
    return name


def _checked_country(zone: str, hours: str, country: str | None) -> str:
    if not (country or "").strip():
        return ""
    try:
        parsed = calendar_from_spec(time_zone=zone, hours=hours, country=country)
    except ValueError as error:
        raise InvalidInput(translated_error(error), field="country") from None
    assert parsed.country is not None
    return f"{parsed.country}-{parsed.subdivision}" if parsed.subdivision else parsed.country


def _checked_openings(zone: str, hours: str, openings: Sequence[Opening]) -> list[dict[str, str]]:
    checked = {}
    for opening in openings:
        if opening.date in checked:
            raise InvalidInput(
                _("opening %(day)s is given twice") % {"day": opening.date}, field="openings"
            )
        try:
            parsed = calendar_from_spec(
                time_zone=zone, hours=hours, openings={opening.date: opening.hours}
            )
        except ValueError as error:
            raise InvalidInput(translated_error(error), field="openings") from None
        ranges = parsed.openings[0][1]
        text = ",".join(f"{_hhmm(start)}-{_hhmm(end)}" for start, end in ranges)
        checked[opening.date] = {"date": opening.date.isoformat(), "hours": text}
        checked[opening.date]["name"] = opening.name
    return [checked[day] for day in sorted(checked)]


def compact_hours(hours: WeeklyHours) -> str:
    """The SPEC with runs of days sharing their hours written as a span (``mon-fri``)."""
    groups: list[tuple[int, int, tuple[Range, ...]]] = []
    for weekday, ranges in enumerate(hours.days):
        if groups and groups[-1][1] == weekday - 1 and groups[-1][2] == ranges:
            groups[-1] = (groups[-1][0], weekday, ranges)
        else:
            groups.append((weekday, weekday, ranges))
    parts = []
    for first, last, ranges in groups:
        if not ranges:
            continue
        days = DAY_NAMES[first] if first == last else f"{DAY_NAMES[first]}-{DAY_NAMES[last]}"
        parts.append(f"{days} " + ",".join(f"{_hhmm(s)}-{_hhmm(e)}" for s, e in ranges))
    return "; ".join(parts)


def _set_owners(calendar: Calendar, spec: CalendarSpec) -> None:
    """Make exactly the named teams and organisations use ``calendar`` as their own."""
    if spec.teams is not None:
        teams = [_named(Team, name, "teams") for name in spec.teams]
        _replace_owners(calendar, "team", teams)
    if spec.organisations is not None:
        organisations = [_named(Organisation, name, "organisations") for name in spec.organisations]
        _replace_owners(calendar, "organisation", organisations)


def _replace_owners(
    calendar: Calendar, owner_field: str, owners: Sequence[Team | Organisation]
) -> None:
    current = CalendarAssignment.objects.filter(
        calendar=calendar, **{f"{owner_field}__isnull": False}
    )
    dropped = list(current.exclude(**{f"{owner_field}__in": owners}))
    touched = [getattr(assignment, f"{owner_field}_id") for assignment in dropped]
    CalendarAssignment.objects.filter(pk__in=[assignment.pk for assignment in dropped]).delete()
    for owner in owners:
        assignment, _ = CalendarAssignment.objects.get_or_create(
            **{owner_field: owner}, defaults={"calendar": calendar}
        )
        if assignment.calendar_id != calendar.pk:
            assignment.calendar = calendar
            assignment.save(update_fields=["calendar"])
        touched.append(owner.pk)
    catalogue_changed()
    sla_rebuild_open(
        ticket_ids=Ticket.objects.filter(**{f"{owner_field}_id__in": touched}).values("pk")
    )


def _named(model: type[Team] | type[Organisation], name: str, field: str) -> Team | Organisation:
    found = model.objects.filter(name__iexact=name.strip()).first()
    if found is None:
        if model is Team:
            missing = _("no team named '%(name)s'")
        else:
            missing = _("no organisation named '%(name)s'")
        raise InvalidInput(missing % {"name": name}, field=field)
    return found


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _calendar_for_update(calendar_id: int) -> Calendar:
    calendar = Calendar.objects.select_for_update().filter(pk=calendar_id).first()
    if calendar is None:
        raise NotFound(_("calendar %(id)s not found") % {"id": calendar_id})
    return calendar


def _team_or_organisation(team: str | None, organisation: str | None) -> Team | Organisation:
    if bool(team) == bool(organisation):
        raise InvalidInput(_("name either a team or an organisation"), field="team")
    if team:
        found_team = Team.objects.filter(name__iexact=team.strip()).first()
        if found_team is None:
            raise InvalidInput(_("no team named '%(name)s'") % {"name": team}, field="team")
        return found_team
    found = Organisation.objects.filter(name__iexact=(organisation or "").strip()).first()
    if found is None:
        raise InvalidInput(
            _("no organisation named '%(name)s'") % {"name": organisation}, field="organisation"
        )
    return found
