"""Public holidays kept in the database, asked of the ``holidays`` package once per year.

Every process that computes a due time needs the public holidays of its
calendars' countries. Loading the ``holidays`` package and one country loads
every country's module: some 20 MB in each web process, for a few dates a
year. So a year's dates are asked of the package once, by whichever process
first needs them, and stored; every other process reads them in one query.
Saving a calendar stores the years around today, and the worker keeps the
years ahead stored, so that web processes find them there.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Iterable
from importlib import metadata

from expediter.core import clock
from expediter.sla.calc import package_public_holidays, split_country
from expediter.sla.models import Calendar, PublicHolidayYear

# Years kept stored around today: the last one (clocks started then still
# run), this one and the next two (due times and shift plans reach ahead).
YEARS_BEFORE = 1
YEARS_AHEAD = 2


@functools.cache
def package_version() -> str:
    """The installed ``holidays`` version, read from its metadata without importing it."""
    return metadata.version("holidays")


@functools.lru_cache(maxsize=1024)
def stored_public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[dt.date]:
    """A year's public holidays: from the database, else from the package (and then stored).

    Kept per process as well: the dates of a year never change for one version
    of the package, and a calendar's timeline asks for each day it builds.
    """
    days = (
        PublicHolidayYear.objects.filter(
            country=country,
            subdivision=subdivision or "",
            year=year,
            package_version=package_version(),
        )
        .values_list("days", flat=True)
        .first()
    )
    if days is not None:
        return frozenset(dt.date.fromisoformat(day) for day in days)
    found = package_public_holidays(country, subdivision, year)
    _store(country, subdivision, year, found)
    return found


def public_holidays_store(countries: Iterable[str], *, years: Collection[int]) -> int:
    """Store the public holidays of ``countries`` (``FR``, ``FR-57``) for ``years``.

    Only missing years are asked of the package, so a call with everything
    already stored costs one query and never loads it. Returns how many
    years were stored.
    """
    regions = {split_country(country) for country in countries}
    wanted = {
        (code, subdivision or "", year) for code, subdivision in regions if code for year in years
    }
    if not wanted:
        return 0
    stored = set(
        PublicHolidayYear.objects.filter(
            package_version=package_version(),
            country__in={code for code, _, _ in wanted},
            year__in={year for _, _, year in wanted},
        ).values_list("country", "subdivision", "year")
    )
    missing = sorted(wanted - stored)
    for code, subdivision, year in missing:
        _store(
            code,
            subdivision or None,
            year,
            package_public_holidays(code, subdivision or None, year),
        )
    return len(missing)


def public_holidays_keep_ahead() -> int:
    """Store the years around today for every calendar's country (the worker runs this daily).

    Rows another version of the package wrote are deleted: nothing reads them.
    """
    PublicHolidayYear.objects.exclude(package_version=package_version()).delete()
    countries = Calendar.objects.exclude(country="").values_list("country", flat=True).distinct()
    return public_holidays_store(countries, years=years_around(clock.now().year))


def years_around(year: int) -> range:
    """The years kept stored when ``year`` is the current one."""
    return range(year - YEARS_BEFORE, year + YEARS_AHEAD + 1)


def _store(country: str, subdivision: str | None, year: int, days: frozenset[dt.date]) -> None:
    row = PublicHolidayYear(
        country=country,
        subdivision=subdivision or "",
        year=year,
        package_version=package_version(),
        days=sorted(day.isoformat() for day in days),
    )
    # Two processes asking for the same year at once store it once.
    PublicHolidayYear.objects.bulk_create([row], ignore_conflicts=True)
