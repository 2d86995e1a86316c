"""Named cases of business-time arithmetic: the situations a desk meets every week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from expediter.schedules.hours import WeeklyHours, parse_hours
from expediter.sla.calc import (
    BusinessCalendar,
    add_business_minutes,
    add_business_seconds,
    business_seconds_between,
    calendar_from_spec,
    is_open,
    next_opening,
    open_intervals,
)

PARIS = ZoneInfo("Europe/Paris")
OFFICE = "mon-fri 09:00-12:00,13:00-17:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def paris_office(**extra: object) -> BusinessCalendar:
    return calendar_from_spec(time_zone="Europe/Paris", hours=OFFICE, **extra)  # type: ignore[arg-type]


def due(cal: BusinessCalendar, start: str, minutes: int) -> datetime:
    return add_business_minutes(cal, at(start), minutes)


# --- adding business minutes --------------------------------------------------


def test_ordinary_day_adds_straight_through() -> None:
    assert due(paris_office(), "2026-03-03T10:00+01:00", 60) == at("2026-03-03T11:00+01:00")


def test_lunch_break_is_skipped() -> None:
    assert due(paris_office(), "2026-03-03T11:30+01:00", 60) == at("2026-03-03T13:30+01:00")


def test_last_minute_ending_at_closing_time_is_due_at_closing() -> None:
    assert due(paris_office(), "2026-03-03T16:00+01:00", 60) == at("2026-03-03T17:00+01:00")


def test_one_minute_past_closing_time_carries_to_the_next_opening() -> None:
    assert due(paris_office(), "2026-03-03T16:00+01:00", 61) == at("2026-03-04T09:01+01:00")


def test_start_before_opening_starts_the_clock_at_opening() -> None:
    assert due(paris_office(), "2026-03-03T07:00+01:00", 30) == at("2026-03-03T09:30+01:00")


def test_start_after_closing_starts_the_clock_next_morning() -> None:
    assert due(paris_office(), "2026-03-03T17:30+01:00", 30) == at("2026-03-04T09:30+01:00")


def test_start_on_a_weekend_starts_the_clock_on_monday() -> None:
    assert due(paris_office(), "2026-03-07T11:00+01:00", 90) == at("2026-03-09T10:30+01:00")


def test_friday_evening_to_monday() -> None:
    assert due(paris_office(), "2026-03-06T16:30+01:00", 60) == at("2026-03-09T09:30+01:00")


def test_several_days_of_business_time() -> None:
    # 7 hours a day: 3 days = 1260 minutes, from Wednesday 10:00 to Monday 10:00.
    assert due(paris_office(), "2026-03-04T10:00+01:00", 1260) == at("2026-03-09T10:00+01:00")


def test_public_holiday_is_closed() -> None:
    # Friday 1 May 2026 is Labour Day in France.
    cal = paris_office(country="FR")
    assert due(cal, "2026-04-30T16:30+02:00", 60) == at("2026-05-04T09:30+02:00")


def test_without_country_the_public_holiday_is_a_working_day() -> None:
    assert due(paris_office(), "2026-04-30T16:30+02:00", 60) == at("2026-05-01T09:30+02:00")


def test_custom_holiday_is_closed() -> None:
    cal = paris_office(holidays=["2026-03-04"])
    assert due(cal, "2026-03-03T16:30+01:00", 60) == at("2026-03-05T09:30+01:00")


def test_exceptional_opening_on_a_holiday_replaces_the_closure() -> None:
    cal = paris_office(country="FR", openings={"2026-05-01": "10:00-11:00"})
    assert due(cal, "2026-04-30T16:30+02:00", 60) == at("2026-05-01T10:30+02:00")
    assert due(cal, "2026-04-30T16:30+02:00", 120) == at("2026-05-04T09:30+02:00")


def test_exceptional_opening_on_a_weekend_and_shortened_day() -> None:
    cal = paris_office(openings={"2026-03-07": [(600, 660)], date(2026, 3, 9): "09:00-10:00"})
    assert due(cal, "2026-03-06T16:30+01:00", 60) == at("2026-03-07T10:30+01:00")
    assert due(cal, "2026-03-06T16:30+01:00", 120) == at("2026-03-09T09:30+01:00")
    assert due(cal, "2026-03-06T16:30+01:00", 180) == at("2026-03-10T09:30+01:00")


def test_empty_opening_closes_the_day() -> None:
    cal = paris_office(openings={"2026-03-04": ""})
    assert due(cal, "2026-03-03T16:30+01:00", 60) == at("2026-03-05T09:30+01:00")


def test_range_ending_at_24_00_runs_to_midnight() -> None:
    cal = calendar_from_spec(time_zone="Europe/Paris", hours="mon-fri 18:00-24:00")
    assert due(cal, "2026-03-02T23:30+01:00", 30) == at("2026-03-03T00:00+01:00")
    assert due(cal, "2026-03-02T23:30+01:00", 60) == at("2026-03-03T18:30+01:00")
    assert is_open(cal, at("2026-03-02T23:59:59+01:00"))
    assert not is_open(cal, at("2026-03-03T00:00+01:00"))


def test_night_desk_written_as_two_ranges_is_one_stretch() -> None:
    cal = calendar_from_spec(
        time_zone="Europe/Paris", hours="mon-fri 22:00-24:00; tue-sat 00:00-06:00"
    )
    assert due(cal, "2026-03-02T23:30+01:00", 60) == at("2026-03-03T00:30+01:00")
    assert due(cal, "2026-03-07T05:00+01:00", 120) == at("2026-03-09T23:00+01:00")
    stretches = list(
        open_intervals(cal, at("2026-03-02T12:00+01:00"), at("2026-03-03T12:00+01:00"))
    )
    assert stretches == [(at("2026-03-02T22:00+01:00"), at("2026-03-03T06:00+01:00"))]


def test_seconds_are_kept_exactly() -> None:
    cal = paris_office()
    assert due(cal, "2026-03-03T16:59:30+01:00", 1) == at("2026-03-04T09:00:30+01:00")
    start = at("2026-03-03T16:59:59+01:00")
    assert add_business_seconds(cal, start, 1) == at("2026-03-03T17:00:00+01:00")
    assert add_business_seconds(cal, start, 2) == at("2026-03-04T09:00:01+01:00")
    assert add_business_seconds(cal, at("2026-03-03T10:00:00.250+01:00"), 1) == at(
        "2026-03-03T10:00:01.250+01:00"
    )


def test_zero_minutes_return_the_start_even_when_closed() -> None:
    closed = at("2026-03-07T11:00+01:00")
    assert add_business_minutes(paris_office(), closed, 0) == closed
    opened = at("2026-03-03T10:00+01:00")
    assert add_business_minutes(paris_office(), opened, 0) == opened


def test_results_are_in_utc_whatever_the_start_zone() -> None:
    result = due(paris_office(), "2026-03-03T14:30+05:30", 60)
    assert result.tzinfo is UTC
    assert result == at("2026-03-03T11:00+01:00")


def test_year_end_with_new_year_holiday_in_france() -> None:
    cal = paris_office(country="FR")
    assert due(cal, "2026-12-31T16:00+01:00", 120) == at("2027-01-04T10:00+01:00")
    elapsed = business_seconds_between(
        cal, at("2026-12-31T16:00+01:00"), at("2027-01-04T10:00+01:00")
    )
    assert elapsed == 7200


def test_new_year_observed_on_the_previous_friday_in_new_york() -> None:
    # 1 January 2028 is a Saturday: the federal holiday is observed on Friday 31 December 2027.
    cal = calendar_from_spec(
        time_zone="America/New_York", hours="mon-fri 09:00-17:00", country="US-NY"
    )
    assert not is_open(cal, at("2027-12-31T10:00-05:00"))
    assert due(cal, "2027-12-30T16:30-05:00", 60) == at("2028-01-03T09:30-05:00")


def test_moselle_has_a_second_christmas_day() -> None:
    plain = paris_office(country="FR")
    moselle = paris_office(country="FR-57")
    assert due(plain, "2028-12-22T16:30+01:00", 60) == at("2028-12-26T09:30+01:00")
    assert due(moselle, "2028-12-22T16:30+01:00", 60) == at("2028-12-27T09:30+01:00")


def test_negative_minutes_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_minutes(paris_office(), at("2026-03-03T10:00+01:00"), -1)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        add_business_minutes(paris_office(), datetime(2026, 3, 3, 10), 5)


# --- elapsed business time ------------------------------------------------------


def test_between_counts_only_open_time() -> None:
    cal = paris_office()
    start, end = at("2026-03-06T16:30+01:00"), at("2026-03-09T09:30+01:00")
    assert business_seconds_between(cal, start, end) == 3600


def test_between_is_antisymmetric_and_zero_on_equal_instants() -> None:
    cal = paris_office()
    start, end = at("2026-03-03T11:00+01:00"), at("2026-03-03T14:00+01:00")
    assert business_seconds_between(cal, start, end) == 7200
    assert business_seconds_between(cal, end, start) == -7200
    assert business_seconds_between(cal, start, start) == 0


def test_between_rounds_down_to_whole_seconds() -> None:
    cal = paris_office()
    start = at("2026-03-03T10:00:00.900+01:00")
    assert business_seconds_between(cal, start, at("2026-03-03T10:00:02+01:00")) == 1


def test_between_spans_many_weeks() -> None:
    cal = paris_office()
    start, end = at("2026-03-02T00:00+01:00"), at("2026-06-01T00:00+02:00")
    # 13 weeks of 35 hours; no country, so no holiday.
    assert business_seconds_between(cal, start, end) == 13 * 35 * 3600


# --- opening and open stretches -------------------------------------------------


def test_next_opening_of_an_open_instant_is_itself() -> None:
    instant = at("2026-03-03T10:15:30+01:00")
    assert next_opening(paris_office(), instant) == instant


def test_next_opening_after_closing_and_over_a_holiday() -> None:
    cal = paris_office(country="FR")
    assert next_opening(cal, at("2026-03-03T12:00+01:00")) == at("2026-03-03T13:00+01:00")
    assert next_opening(cal, at("2026-04-30T17:00+02:00")) == at("2026-05-04T09:00+02:00")


def test_calendar_that_never_opens() -> None:
    never = BusinessCalendar(zone=PARIS, hours=WeeklyHours(days=((),) * 7))
    start = at("2026-03-03T10:00+01:00")
    assert next_opening(never, start) is None
    assert not is_open(never, start)
    assert business_seconds_between(never, start, start + timedelta(days=30)) == 0
    with pytest.raises(ValueError, match="never opens"):
        add_business_minutes(never, start, 1)


def test_calendar_whose_only_opening_is_past_gives_up() -> None:
    cal = BusinessCalendar(
        zone=PARIS,
        hours=WeeklyHours(days=((),) * 7),
        openings=((date(2026, 3, 4), ((540, 600),)),),
    )
    assert due(cal, "2026-03-03T10:00+01:00", 60) == at("2026-03-04T10:00+01:00")
    assert next_opening(cal, at("2026-03-05T10:00+01:00")) is None
    with pytest.raises(ValueError, match="never opens"):
        due(cal, "2026-03-03T10:00+01:00", 61)


def test_is_open_at_the_edges_of_a_range() -> None:
    cal = paris_office()
    assert is_open(cal, at("2026-03-03T09:00+01:00"))
    assert not is_open(cal, at("2026-03-03T08:59:59+01:00"))
    assert is_open(cal, at("2026-03-03T11:59:59.999999+01:00"))
    assert not is_open(cal, at("2026-03-03T12:00+01:00"))


def test_open_intervals_are_clipped_to_the_window() -> None:
    cal = paris_office()
    stretches = list(
        open_intervals(cal, at("2026-03-03T10:00+01:00"), at("2026-03-04T10:00+01:00"))
    )
    assert stretches == [
        (at("2026-03-03T10:00+01:00"), at("2026-03-03T12:00+01:00")),
        (at("2026-03-03T13:00+01:00"), at("2026-03-03T17:00+01:00")),
        (at("2026-03-04T09:00+01:00"), at("2026-03-04T10:00+01:00")),
    ]
    assert all(first.tzinfo is UTC and last.tzinfo is UTC for first, last in stretches)


# --- building calendars -----------------------------------------------------------


def test_calendar_from_spec_builds_an_equal_hashable_calendar() -> None:
    first = calendar_from_spec(
        time_zone="America/New_York",
        hours=OFFICE,
        country="us-ny",
        holidays=["2026-07-03", date(2026, 12, 24)],
        openings={"2026-12-26": "10:00-12:00", "2026-11-28": [(600, 720)]},
    )
    second = calendar_from_spec(
        time_zone="America/New_York",
        hours=OFFICE,
        country="US-NY",
        holidays=[date(2026, 12, 24), "2026-07-03"],
        openings={"2026-11-28": "10:00-12:00", "2026-12-26": "10:00-12:00"},
    )
    assert first == second and hash(first) == hash(second)
    assert (first.country, first.subdivision) == ("US", "NY")
    assert first.hours == parse_hours(OFFICE)
    assert first.holidays == frozenset({date(2026, 7, 3), date(2026, 12, 24)})
    assert first.openings == (
        (date(2026, 11, 28), ((600, 720),)),
        (date(2026, 12, 26), ((600, 720),)),
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"time_zone": "Europe/Atlantis"}, "not a known time zone"),
        ({"time_zone": ""}, "not a known time zone"),
        ({"hours": ""}, "empty"),
        ({"hours": "mon 17:00-09:00"}, "inverted"),
        ({"country": "XX"}, "no public holidays are known for country 'XX'"),
        ({"country": "FR-99"}, "'99' is not a subdivision of FR"),
        ({"holidays": ["2026-02-30"]}, "holiday '2026-02-30' is not a date"),
        ({"openings": {"2026-05-01": "12:00-10:00"}}, "opening 2026-05-01"),
        ({"openings": {"soon": "10:00-12:00"}}, "opening 'soon' is not a date"),
    ],
)
def test_calendar_from_spec_refuses_bad_input(arguments: dict[str, object], message: str) -> None:
    spec: dict[str, object] = {"time_zone": "Europe/Paris", "hours": OFFICE, **arguments}
    with pytest.raises(ValueError, match=message):
        calendar_from_spec(**spec)  # type: ignore[arg-type]
