"""Availability arithmetic, booking checks and slot search, without a database."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.appointments.availability import (
    AgentAvailability,
    Busy,
    Interval,
    Kind,
    Slot,
    aligned_starts,
    check_booking,
    choose_best_agent,
    find_slots,
    free_windows,
    merge_intervals,
)
from expediter.appointments.travel import Site

PARIS = ZoneInfo("Europe/Paris")
KATHMANDU = ZoneInfo("Asia/Kathmandu")
UTC = dt.UTC

HOME = Site(1, "Home base", 48.85, 2.35)
ALPHA = Site(2, "Alpha office", 48.86, 2.30)
BRAVO = Site(3, "Bravo plant", 48.80, 2.40)
_MINUTES = {
    frozenset({1, 2}): 20,
    frozenset({1, 3}): 30,
    frozenset({2, 3}): 25,
}


def table_travel(a: Site, b: Site) -> int:
    """Exact, readable travel times for the tests (same site: zero)."""
    return 0 if a.id == b.id else _MINUTES[frozenset({a.id, b.id})]


def wall(day: dt.date, hhmm: str, zone: ZoneInfo = PARIS, fold: int = 0) -> dt.datetime:
    """A local wall time turned into UTC, the way a shift spec is expanded."""
    hours, minutes = map(int, hhmm.split(":"))
    base = dt.datetime(day.year, day.month, day.day, tzinfo=zone, fold=fold)
    if hours == 24:
        return (base + dt.timedelta(days=1)).astimezone(UTC)
    return base.replace(hour=hours, minute=minutes).astimezone(UTC)


def shift(day: dt.date, start: str, end: str, zone: ZoneInfo = PARIS) -> Interval:
    return Interval(wall(day, start, zone), wall(day, end, zone))


MONDAY = dt.date(2025, 6, 2)


def agent(
    agent_id: int = 1,
    *,
    duty: list[Interval] | None = None,
    time_off: list[Interval] | None = None,
    busy: list[Busy] | None = None,
    home: Site | None = HOME,
) -> AgentAvailability:
    return AgentAvailability(
        agent_id=agent_id,
        agent_name=f"agent {agent_id}",
        duty=duty if duty is not None else [shift(MONDAY, "09:00", "17:00")],
        time_off=time_off or [],
        busy=busy or [],
        home=home,
    )


def at(hhmm: str, day: dt.date = MONDAY) -> dt.datetime:
    return wall(day, hhmm)


def onsite_at_bravo(availability: AgentAvailability, start: str, end: str) -> str | None:
    return check_booking(
        availability, start=at(start), end=at(end), kind="onsite", site=BRAVO, travel=table_travel
    )


def remote(availability: AgentAvailability, start: str, end: str) -> str | None:
    return check_booking(availability, start=at(start), end=at(end), travel=table_travel)


# --- intervals ----------------------------------------------------------------------------------


def test_interval_normalises_to_utc_and_refuses_naive_or_inverted_times() -> None:
    interval = Interval(
        dt.datetime(2025, 6, 2, 9, tzinfo=PARIS), dt.datetime(2025, 6, 2, 10, tzinfo=PARIS)
    )
    assert interval.start == dt.datetime(2025, 6, 2, 7, tzinfo=UTC)
    assert interval.start.tzinfo is UTC
    with pytest.raises(ValueError, match="aware"):
        Interval(dt.datetime(2025, 6, 2, 9), dt.datetime(2025, 6, 2, 10))
    with pytest.raises(ValueError, match="before"):
        Interval(at("10:00"), at("09:00"))


def test_touching_shifts_merge_into_one_day() -> None:
    night = [
        shift(MONDAY, "22:00", "24:00"),
        shift(MONDAY + dt.timedelta(days=1), "00:00", "06:00"),
    ]
    assert merge_intervals(night) == [
        Interval(at("22:00"), wall(MONDAY + dt.timedelta(days=1), "06:00"))
    ]


def test_a_booking_across_midnight_of_a_night_shift_is_on_duty() -> None:
    tuesday = MONDAY + dt.timedelta(days=1)
    night = agent(duty=[shift(MONDAY, "22:00", "24:00"), shift(tuesday, "00:00", "06:00")])
    assert check_booking(night, start=at("23:30"), end=wall(tuesday, "00:30")) is None


# --- booking checks -----------------------------------------------------------------------------


def test_booking_outside_or_partly_outside_duty_is_off_duty() -> None:
    day = agent()
    assert check_booking(day, start=at("08:00"), end=at("09:00")) == "off duty"
    assert check_booking(day, start=at("16:30"), end=at("17:30")) == "off duty"
    assert check_booking(day, start=at("09:00"), end=at("10:00")) is None


def test_booking_during_time_off_is_refused() -> None:
    day = agent(time_off=[Interval(at("12:00"), at("14:00"))])
    assert check_booking(day, start=at("13:30"), end=at("14:30")) == "on time off"
    assert check_booking(day, start=at("14:00"), end=at("15:00")) is None


def test_booking_that_overlaps_an_appointment_names_it() -> None:
    day = agent(busy=[Busy(at("10:00"), at("11:00"), appointment_id=12)])
    assert check_booking(day, start=at("10:30"), end=at("11:30")) == "overlaps appointment #12"
    assert check_booking(day, start=at("11:00"), end=at("12:00")) is None
    anonymous = agent(busy=[Busy(at("10:00"), at("11:00"))])
    assert (
        check_booking(anonymous, start=at("09:30"), end=at("10:30"))
        == "overlaps another appointment"
    )


def test_onsite_booking_needs_time_to_travel_from_the_previous_stop() -> None:
    day = agent(busy=[Busy(at("10:00"), at("11:00"), site=ALPHA, appointment_id=7)])
    assert onsite_at_bravo(day, "11:00", "12:00") == "no time to travel from Alpha office (25 min)"
    assert onsite_at_bravo(day, "11:25", "12:25") is None


def test_onsite_booking_needs_time_to_reach_the_next_stop() -> None:
    day = agent(busy=[Busy(at("14:00"), at("15:00"), site=ALPHA, appointment_id=8)])
    assert onsite_at_bravo(day, "13:00", "13:45") == "no time to travel to Alpha office (25 min)"
    assert onsite_at_bravo(day, "13:00", "13:35") is None


def test_the_day_starts_and_ends_at_the_home_site() -> None:
    day = agent()
    assert onsite_at_bravo(day, "09:00", "10:00") == "no time to travel from Home base (30 min)"
    assert onsite_at_bravo(day, "16:00", "17:00") == "no time to travel to Home base (30 min)"
    assert onsite_at_bravo(day, "09:30", "16:30") is None


def test_time_off_and_remote_calls_do_not_count_as_travel_time() -> None:
    day = agent(
        time_off=[Interval(at("11:00"), at("11:20"))],
        busy=[
            Busy(at("10:00"), at("11:00"), site=ALPHA, appointment_id=7),
            Busy(at("11:20"), at("11:30"), appointment_id=9),
        ],
    )
    # From Alpha at 11:00, time off and a call leave the 25-minute trip to end at 11:55.
    assert onsite_at_bravo(day, "11:45", "12:15") == "no time to travel from Alpha office (25 min)"
    assert onsite_at_bravo(day, "11:55", "12:15") is None


def test_remote_booking_may_not_eat_the_time_a_trip_needs() -> None:
    day = agent(
        busy=[
            Busy(at("10:00"), at("11:00"), site=ALPHA, appointment_id=1),
            Busy(at("12:00"), at("13:00"), site=BRAVO, appointment_id=2),
        ]
    )
    # The hour between the visits must keep 25 minutes for the trip from Alpha to Bravo.
    expected = "no time to travel from Alpha office to Bravo plant (25 min)"
    assert remote(day, "11:00", "11:40") == expected
    assert remote(day, "11:20", "11:56") == expected
    assert remote(day, "11:00", "11:35") is None
    assert remote(day, "11:25", "12:00") is None


def test_agent_without_home_site_travels_only_between_stops() -> None:
    day = agent(home=None, busy=[Busy(at("10:00"), at("11:00"), site=ALPHA, appointment_id=7)])
    assert onsite_at_bravo(day, "09:00", "09:35") is None
    assert onsite_at_bravo(day, "09:00", "09:40") == "no time to travel to Alpha office (25 min)"
    assert onsite_at_bravo(day, "16:00", "17:00") is None


def test_onsite_booking_without_a_site_or_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="site"):
        check_booking(agent(), start=at("10:00"), end=at("11:00"), kind="onsite")
    with pytest.raises(ValueError, match="kind"):
        check_booking(agent(), start=at("10:00"), end=at("11:00"), kind="phone")  # type: ignore[arg-type]


def test_free_windows_shrink_for_travel_and_cap_remote_length() -> None:
    day = agent(busy=[Busy(at("12:00"), at("13:00"), site=ALPHA, appointment_id=1)])
    onsite = free_windows(day, kind="onsite", site=BRAVO, travel=table_travel)
    assert [(w.start, w.end) for w in onsite] == [
        (at("09:30"), at("11:35")),
        (at("13:25"), at("16:30")),
    ]
    remote = free_windows(day, travel=table_travel)
    # 180 free minutes before the visit, 20 of them needed to reach Alpha from home.
    assert remote[0].longest == dt.timedelta(minutes=160)
    assert remote[0].fits(at("09:00"), at("11:40"))
    assert not remote[0].fits(at("09:00"), at("11:45"))
    assert not onsite[0].fits(at("09:00"), at("10:00"))


# --- slot search --------------------------------------------------------------------------------


def slot_starts(slots: list[Slot]) -> list[dt.datetime]:
    return [slot.start for slot in slots]


def test_slots_start_on_the_hour_or_half_hour_and_fit_the_period() -> None:
    day = agent(duty=[Interval(at("09:10"), at("12:00"))])
    slots = find_slots([day], duration_minutes=60, start=at("00:00"), end=at("23:00"), zone=PARIS)
    assert slot_starts(slots) == [at("09:30"), at("10:00"), at("10:30"), at("11:00")]
    assert all(slot.end - slot.start == dt.timedelta(minutes=60) for slot in slots)
    clipped = find_slots([day], duration_minutes=60, start=at("10:15"), end=at("11:45"), zone=PARIS)
    assert slot_starts(clipped) == [at("10:30")]


def test_slot_alignment_follows_local_wall_time_in_a_quarter_hour_zone() -> None:
    day = agent(duty=[shift(MONDAY, "09:00", "11:00", KATHMANDU)])
    local = find_slots(
        [day], duration_minutes=30, start=at("00:00"), end=at("23:00"), zone=KATHMANDU
    )
    assert [s.start.astimezone(KATHMANDU).strftime("%H:%M") for s in local] == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
    ]
    assert {s.start.minute for s in local} == {15, 45}
    in_utc = find_slots(
        [day], duration_minutes=30, start=at("00:00"), end=at("23:00"), zone=ZoneInfo("UTC")
    )
    assert {s.start.minute for s in in_utc} == {0, 30}


def test_slots_across_spring_forward_skip_the_missing_hour() -> None:
    sunday = dt.date(2025, 3, 30)
    day = agent(duty=[shift(sunday, "00:00", "06:00")])
    slots = find_slots(
        [day],
        duration_minutes=60,
        start=wall(sunday, "00:00"),
        end=wall(sunday, "06:00"),
        zone=PARIS,
    )
    local = [s.start.astimezone(PARIS).strftime("%H:%M") for s in slots]
    assert local == [
        "00:00",
        "00:30",
        "01:00",
        "01:30",
        "03:00",
        "03:30",
        "04:00",
        "04:30",
        "05:00",
    ]
    assert shift(sunday, "00:00", "06:00").length == dt.timedelta(hours=5)


def test_slots_across_fall_back_offer_both_passes_of_the_repeated_hour() -> None:
    sunday = dt.date(2025, 10, 26)
    day = agent(duty=[shift(sunday, "00:00", "06:00")])
    slots = find_slots(
        [day],
        duration_minutes=60,
        start=wall(sunday, "00:00"),
        end=wall(sunday, "06:00"),
        zone=PARIS,
    )
    assert len(slots) == 13
    twice = [s for s in slots if s.start.astimezone(PARIS).strftime("%H:%M") == "02:30"]
    assert len(twice) == 2
    assert twice[1].start - twice[0].start == dt.timedelta(hours=1)


def test_slots_are_sorted_by_start_then_agent_and_skip_busy_agents() -> None:
    first = agent(2, busy=[Busy(at("09:00"), at("10:00"), appointment_id=1)])
    second = agent(1, time_off=[Interval(at("09:30"), at("17:00"))])
    slots = find_slots(
        [first, second], duration_minutes=30, start=at("09:00"), end=at("11:00"), zone=PARIS
    )
    assert [(s.start, s.agent_id) for s in slots] == [
        (at("09:00"), 1),
        (at("10:00"), 2),
        (at("10:30"), 2),
    ]
    assert slots[0].agent_name == "agent 1"


def test_onsite_slots_leave_room_for_travel_to_neighbouring_stops() -> None:
    day = agent(busy=[Busy(at("12:00"), at("13:00"), site=ALPHA, appointment_id=1)])
    slots = find_slots(
        [day],
        duration_minutes=60,
        start=at("09:00"),
        end=at("17:00"),
        zone=PARIS,
        kind="onsite",
        site=BRAVO,
        travel=table_travel,
    )
    local = [s.start.astimezone(PARIS).strftime("%H:%M") for s in slots]
    # From home (30 min) and back to Alpha (25 min) before noon; from Alpha and home by 17:00.
    assert local == ["09:30", "10:00", "10:30", "13:30", "14:00", "14:30", "15:00", "15:30"]


def test_find_slots_refuses_a_non_positive_duration() -> None:
    with pytest.raises(ValueError, match="duration"):
        find_slots([agent()], duration_minutes=0, start=at("09:00"), end=at("10:00"), zone=PARIS)


def test_aligned_starts_is_empty_for_an_inverted_range() -> None:
    assert list(aligned_starts(at("10:00"), at("09:00"), PARIS)) == []


# --- choosing an agent --------------------------------------------------------------------------


def test_best_agent_is_free_then_least_loaded_then_most_skilled() -> None:
    busy = agent(1, busy=[Busy(at("10:00"), at("11:00"), appointment_id=3)])
    light, heavy, skilled = agent(2), agent(3), agent(4)
    loads = {1: 0, 2: 1, 3: 5, 4: 1}

    def best(candidates: list[AgentAvailability], levels: dict[int, int]) -> int | None:
        chosen = choose_best_agent(
            candidates, start=at("10:00"), end=at("11:00"), loads=loads, skill_levels=levels
        )
        return None if chosen is None else chosen.agent_id

    assert best([busy, heavy, light], {}) == 2
    assert best([light, skilled], {2: 3, 4: 5}) == 4
    assert best([heavy, skilled], {3: 5, 4: 1}) == 4
    assert best([busy], {}) is None


# --- properties: the slot search agrees with the booking check ------------------------------------

BASE = dt.datetime(2025, 3, 29, 20, 0, tzinfo=UTC)  # the night Paris springs forward
SITES = [HOME, ALPHA, BRAVO]


def _offset(minutes: int) -> dt.datetime:
    return BASE + dt.timedelta(minutes=minutes)


@st.composite
def intervals(draw: st.DrawFn, max_count: int) -> list[tuple[int, int]]:
    count = draw(st.integers(0, max_count))
    spans = []
    for _ in range(count):
        start = draw(st.integers(0, 180)) * 5
        length = draw(st.integers(1, 60)) * 5
        spans.append((start, start + length))
    return spans


@st.composite
def availabilities(draw: st.DrawFn) -> AgentAvailability:
    duty = [Interval(_offset(a), _offset(b)) for a, b in draw(intervals(3))]
    time_off = [Interval(_offset(a), _offset(b)) for a, b in draw(intervals(2))]
    busy = [
        Busy(
            _offset(a),
            _offset(b),
            site=draw(st.sampled_from([None, ALPHA, BRAVO])),
            appointment_id=i,
        )
        for i, (a, b) in enumerate(draw(intervals(4)))
    ]
    home = draw(st.sampled_from([None, *SITES]))
    return AgentAvailability(1, "someone", duty, time_off, busy, home)


def _aligned_candidates(zone: ZoneInfo) -> list[dt.datetime]:
    """Every 5 minutes over the test horizon, kept when the wall clock reads :00 or :30."""
    moments = (_offset(5 * k) for k in range(0, 260))
    return [m for m in moments if m.astimezone(zone).minute in (0, 30)]


@settings(max_examples=150, deadline=None)
@given(
    availability=availabilities(),
    duration=st.sampled_from([15, 30, 45, 60, 90]),
    kind=st.sampled_from(["remote", "onsite"]),
    site=st.sampled_from(SITES),
    zone=st.sampled_from([PARIS, KATHMANDU]),
)
def test_slots_are_exactly_the_aligned_bookings_the_check_accepts(
    availability: AgentAvailability, duration: int, kind: Kind, site: Site, zone: ZoneInfo
) -> None:
    period_end = _offset(260 * 5)
    slots = find_slots(
        [availability],
        duration_minutes=duration,
        start=BASE,
        end=period_end,
        zone=zone,
        kind=kind,
        site=site,
        travel=table_travel,
    )
    length = dt.timedelta(minutes=duration)
    expected = [
        start
        for start in _aligned_candidates(zone)
        if start + length <= period_end
        and check_booking(
            availability,
            start=start,
            end=start + length,
            kind=kind,
            site=site,
            travel=table_travel,
        )
        is None
    ]
    assert slot_starts(slots) == expected


@settings(max_examples=100, deadline=None)
@given(availability=availabilities(), duration=st.sampled_from([15, 30, 60]))
def test_remote_slots_never_touch_time_off_appointments_or_off_duty_time(
    availability: AgentAvailability, duration: int
) -> None:
    slots = find_slots(
        [availability],
        duration_minutes=duration,
        start=BASE,
        end=_offset(1300),
        zone=PARIS,
        travel=table_travel,
    )
    for slot in slots:
        assert any(d.contains(slot.start, slot.end) for d in merge_intervals(availability.duty))
        assert not any(off.overlaps(slot.start, slot.end) for off in availability.time_off)
        assert not any(b.interval.overlaps(slot.start, slot.end) for b in availability.busy)
