"""Public holidays: asked of the ``holidays`` package once per year, then read from the database."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from tests.factories import make_requester, make_ticket

from expediter.core import periodic
from expediter.sla.calc import package_public_holidays
from expediter.sla.models import PublicHolidayYear
from expediter.sla.selectors import ticket_sla_view
from expediter.sla.services import (
    CalendarSpec,
    PolicySpec,
    calendar_create,
    calendar_update,
    policy_create,
    public_holidays_keep_ahead,
    public_holidays_store,
    stored_public_holidays,
)
from expediter.sla.services import public_holidays as module
from expediter.sla.services.public_holidays import package_version

pytestmark = pytest.mark.django_db

THURSDAY_BEFORE_MAY_DAY = dt.datetime(2026, 4, 30, 14, 0, tzinfo=dt.UTC)  # 16:00 in Paris


@pytest.fixture(autouse=True)
def fresh_process_cache() -> Iterator[None]:
    """Each test starts as a new process would, with nothing remembered."""
    stored_public_holidays.cache_clear()
    yield
    stored_public_holidays.cache_clear()


@pytest.fixture
def package_never_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*key: Any) -> frozenset[dt.date]:
        raise AssertionError(f"the holidays package was asked for {key}")

    monkeypatch.setattr(module, "package_public_holidays", refuse)


def stored_years(country: str = "FR") -> list[int]:
    rows = PublicHolidayYear.objects.filter(country=country, package_version=package_version())
    return sorted(rows.values_list("year", flat=True))


def test_a_year_is_asked_of_the_package_once_and_then_read_from_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = stored_public_holidays("FR", None, 2026)
    assert first == package_public_holidays("FR", None, 2026)
    assert dt.date(2026, 5, 1) in first and dt.date(2026, 7, 14) in first
    row = PublicHolidayYear.objects.get(country="FR", subdivision="", year=2026)
    assert row.days == sorted(day.isoformat() for day in first)

    stored_public_holidays.cache_clear()
    monkeypatch.setattr(module, "package_public_holidays", lambda *key: frozenset())
    assert stored_public_holidays("FR", None, 2026) == first


def test_a_subdivision_is_stored_apart_from_its_country() -> None:
    moselle = stored_public_holidays("FR", "57", 2026)
    assert dt.date(2026, 12, 26) in moselle  # St Stephen's Day, in Alsace-Moselle only
    assert dt.date(2026, 12, 26) not in stored_public_holidays("FR", None, 2026)
    assert set(PublicHolidayYear.objects.values_list("subdivision", flat=True)) == {"", "57"}


def test_a_row_of_another_version_of_the_package_is_not_used() -> None:
    PublicHolidayYear.objects.create(
        country="FR", year=2026, package_version="0.0", days=["2026-03-02"]
    )
    days = stored_public_holidays("FR", None, 2026)
    assert dt.date(2026, 3, 2) not in days
    assert dt.date(2026, 5, 1) in days
    assert PublicHolidayYear.objects.filter(year=2026).count() == 2


def test_saving_a_calendar_stores_the_years_around_today(at: Any) -> None:
    at(THURSDAY_BEFORE_MAY_DAY)
    calendar_create(
        spec=CalendarSpec(name="Lyon", time_zone="Europe/Paris", hours="mon-fri 09:00-17:00")
    )
    assert stored_years() == []
    calendar = calendar_create(
        spec=CalendarSpec(
            name="Paris", time_zone="Europe/Paris", hours="mon-fri 09:00-17:00", country="FR"
        )
    )
    assert stored_years() == [2025, 2026, 2027, 2028]

    calendar_update(
        calendar_id=calendar.pk,
        spec=CalendarSpec(
            name="Paris", time_zone="Europe/Paris", hours="mon-fri 09:00-17:00", country="DE-BY"
        ),
    )
    assert stored_years("DE") == [2025, 2026, 2027, 2028]
    assert set(
        PublicHolidayYear.objects.filter(country="DE").values_list("subdivision", flat=True)
    ) == {"BY"}


def test_storing_asks_the_package_only_for_missing_years(package_never_asked: None) -> None:
    PublicHolidayYear.objects.create(
        country="FR", year=2026, package_version=package_version(), days=[]
    )
    assert public_holidays_store(["FR"], years=[2026]) == 0
    with pytest.raises(AssertionError, match="2027"):
        public_holidays_store(["FR"], years=[2026, 2027])


def test_the_daily_job_keeps_the_years_ahead_and_drops_other_versions(at: Any) -> None:
    at(THURSDAY_BEFORE_MAY_DAY)
    calendar_create(
        spec=CalendarSpec(
            name="Munich", time_zone="Europe/Berlin", hours="mon-fri 09:00-17:00", country="DE-BY"
        )
    )
    PublicHolidayYear.objects.create(country="DE", year=2026, package_version="0.0", days=[])
    at(dt.datetime(2028, 1, 2, 9, 0, tzinfo=dt.UTC))
    assert public_holidays_keep_ahead() == 2  # 2029 and 2030; 2027 and 2028 were stored
    assert stored_years("DE") == [2025, 2026, 2027, 2028, 2029, 2030]
    assert not PublicHolidayYear.objects.exclude(package_version=package_version()).exists()
    assert public_holidays_keep_ahead() == 0
    job = next(job for job in periodic.registered() if job.name == "sla.public_holidays")
    assert job.every == dt.timedelta(days=1)


def test_a_tickets_due_time_skips_the_stored_public_holidays(
    at: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(THURSDAY_BEFORE_MAY_DAY)
    calendar = calendar_create(
        spec=CalendarSpec(
            name="Paris office",
            time_zone="Europe/Paris",
            hours="mon-fri 09:00-12:30,13:30-17:00",
            country="FR",
        )
    )
    policy_create(
        spec=PolicySpec(
            name="Standard",
            calendar=calendar.name,
            first_response_minutes=120,
            resolution_minutes=2400,
        )
    )
    # Whatever the package says, the desk counts the stored days: here Monday 4 May as well.
    row = PublicHolidayYear.objects.get(country="FR", year=2026, package_version=package_version())
    row.days = sorted([*row.days, "2026-05-04"])
    row.save()
    stored_public_holidays.cache_clear()
    monkeypatch.setattr(
        module, "package_public_holidays", lambda *key: pytest.fail(f"package asked for {key}")
    )

    ticket = make_ticket(requester=make_requester())

    view = ticket_sla_view(ticket.pk)
    assert view is not None
    clock = view.clock("first_response")
    assert clock is not None
    # One hour on Thursday, Friday 1 May and Monday 4 May closed, one hour on Tuesday.
    assert clock.shown_due == dt.datetime(2026, 5, 5, 8, 0, tzinfo=dt.UTC)


def test_the_web_application_loads_without_the_holidays_package(tmp_path: Any) -> None:
    script = (
        "import sys\n"
        "from expediter.config.wsgi import application\n"
        "from django.urls import get_resolver\n"
        "get_resolver().url_patterns\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'holidays', 'dateutil'}))\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "expediter.config.settings",
        "EXPEDITER_DATA_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
