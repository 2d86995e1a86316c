"""On-call rotations in the PagerDuty model: layers, restrictions, overrides, DST (pure)."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.schedules.hours import parse_hours
from expediter.schedules.oncall import (
    Layer,
    Override,
    Schedule,
    final_schedule,
    handoff,
    layer_shifts,
    on_call_at,
    turn_at,
)

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC
ANN, BOB, CYD, DEE, EVE = 1, 2, 3, 4, 5


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def weekly(*members: int, start: dt.datetime | None = None, **kw: object) -> Layer:
    return Layer(
        name=str(kw.pop("name", "weekly")),
        rotation_start=start or local(2026, 3, 2, 9, 0),
        turn_length=dt.timedelta(days=7),
        members=members,
        **kw,  # type: ignore[arg-type]
    )


def test_members_take_turns_from_the_rotation_start() -> None:
    schedule = Schedule("Europe/Paris", (weekly(ANN, BOB, CYD),))
    assert on_call_at(schedule, local(2026, 3, 2, 8, 59)) is None  # before the layer starts
    assert on_call_at(schedule, local(2026, 3, 2, 9, 0)) == ANN
    assert on_call_at(schedule, local(2026, 3, 9, 8, 59)) == ANN
    assert on_call_at(schedule, local(2026, 3, 9, 9, 0)) == BOB
    assert on_call_at(schedule, local(2026, 3, 16, 12, 0)) == CYD
    assert on_call_at(schedule, local(2026, 3, 23, 12, 0)) == ANN


def test_daily_turns_keep_their_local_handoff_across_both_dst_changes() -> None:
    daily = Layer("daily", local(2026, 3, 27, 9, 0), dt.timedelta(days=1), (ANN, BOB))
    zone = PARIS
    spring = [handoff(daily, zone, n) for n in range(4)]  # UTC instants
    assert [h.astimezone(PARIS).hour for h in spring] == [9, 9, 9, 9]
    assert spring[2] - spring[1] == dt.timedelta(hours=23)  # 28 -> 29 March lasts 23 hours
    autumn_start = local(2026, 10, 24, 9, 0)
    autumn = Layer("daily", autumn_start, dt.timedelta(days=1), (ANN, BOB))
    assert handoff(autumn, zone, 1) - handoff(autumn, zone, 0) == dt.timedelta(hours=25)
    schedule = Schedule("Europe/Paris", (daily,))
    assert on_call_at(schedule, local(2026, 3, 29, 8, 59)) == BOB  # turn 2 starts at 09:00
    assert on_call_at(schedule, local(2026, 3, 29, 9, 0)) == ANN


def test_hour_based_turns_count_elapsed_time_across_dst() -> None:
    twelve = Layer("12h", local(2026, 3, 28, 8, 0), dt.timedelta(hours=12), (ANN, BOB))
    handoffs = [handoff(twelve, PARIS, n).astimezone(PARIS) for n in range(4)]
    assert [(h.day, h.hour) for h in handoffs] == [(28, 8), (28, 20), (29, 9), (29, 21)]


def test_turn_at_is_exact_around_a_repeated_hour() -> None:
    layer = Layer("daily", local(2026, 10, 20, 2, 30), dt.timedelta(days=1), (ANN, BOB))
    first_230 = dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second_230 = dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, an hour later
    assert turn_at(layer, PARIS, first_230) == 5
    assert turn_at(layer, PARIS, first_230 - dt.timedelta(seconds=1)) == 4
    assert turn_at(layer, PARIS, second_230) == 5


def test_restrictions_mask_a_layer_and_the_layer_below_shows_through() -> None:
    base = weekly(ANN, BOB, name="nights and weekends")
    days = Layer(
        name="office hours",
        rotation_start=local(2026, 3, 2, 8, 0),
        turn_length=dt.timedelta(days=1),
        members=(CYD, DEE),
        restrictions=parse_hours("mon-fri 08:00-18:00"),
    )
    schedule = Schedule("Europe/Paris", (base, days))
    assert on_call_at(schedule, local(2026, 3, 2, 10, 0)) == CYD
    assert on_call_at(schedule, local(2026, 3, 3, 10, 0)) == DEE
    assert on_call_at(schedule, local(2026, 3, 3, 18, 0)) == ANN  # after hours: the base layer
    assert on_call_at(schedule, local(2026, 3, 7, 10, 0)) == ANN  # Saturday
    assert on_call_at(schedule, local(2026, 3, 9, 10, 0)) == DEE  # turns ran on over the weekend


def test_overrides_win_and_the_newest_wins_among_them() -> None:
    schedule = Schedule(
        "Europe/Paris",
        (weekly(ANN, BOB),),
        (
            Override(EVE, local(2026, 3, 3, 0, 0), local(2026, 3, 4, 0, 0)),
            Override(DEE, local(2026, 3, 3, 12, 0), local(2026, 3, 3, 14, 0)),
        ),
    )
    assert on_call_at(schedule, local(2026, 3, 3, 11, 0)) == EVE
    assert on_call_at(schedule, local(2026, 3, 3, 12, 30)) == DEE
    assert on_call_at(schedule, local(2026, 3, 3, 14, 0)) == EVE
    assert on_call_at(schedule, local(2026, 3, 4, 0, 0)) == ANN


def test_final_schedule_lists_stretches_with_their_source() -> None:
    days = Layer(
        name="office hours",
        rotation_start=local(2026, 3, 2, 8, 0),
        turn_length=dt.timedelta(days=1),
        members=(CYD,),
        restrictions=parse_hours("mon-fri 08:00-18:00"),
    )
    schedule = Schedule(
        "Europe/Paris",
        (weekly(ANN, BOB), days),
        (Override(EVE, local(2026, 3, 2, 20, 0), local(2026, 3, 2, 22, 0)),),
    )
    stretches = final_schedule(schedule, local(2026, 3, 2, 9, 0), local(2026, 3, 3, 9, 0))
    assert [(s.start.astimezone(PARIS).hour, s.user_id, s.source) for s in stretches] == [
        (9, CYD, "office hours"),
        (18, ANN, "weekly"),
        (20, EVE, "override"),
        (22, ANN, "weekly"),
        (8, CYD, "office hours"),
    ]
    assert stretches[-1].end == local(2026, 3, 3, 9, 0)


def test_layer_shifts_follow_the_turns_and_restrictions() -> None:
    layer = Layer(
        "evenings",
        local(2026, 3, 2, 0, 0),
        dt.timedelta(days=1),
        (ANN, BOB),
        restrictions=parse_hours("mon-sun 18:00-22:00"),
    )
    shifts = layer_shifts(layer, PARIS, local(2026, 3, 2, 0, 0), local(2026, 3, 4, 0, 0))
    assert [(s.start.astimezone(PARIS).day, s.user_id) for s in shifts] == [(2, ANN), (3, BOB)]
    assert all(s.end - s.start == dt.timedelta(hours=4) for s in shifts)


def test_a_layer_must_have_a_positive_turn_and_an_aware_start() -> None:
    with pytest.raises(ValueError):
        Layer("x", local(2026, 3, 2, 0, 0), dt.timedelta(0), (ANN,))
    with pytest.raises(ValueError):
        Layer("x", dt.datetime(2026, 3, 2), dt.timedelta(hours=8), (ANN,))


# The final schedule agrees with the point query everywhere --------------------------------------

zones = st.sampled_from(["Europe/Paris", "America/New_York", "Australia/Sydney", "UTC"])
turns = st.sampled_from([dt.timedelta(hours=h) for h in (1, 5, 8, 12, 24, 36, 48, 168)])
specs = st.sampled_from(
    [None, "mon-fri 09:00-17:00", "sat-sun 00:00-24:00", "mon-sun 02:00-03:00,22:00-24:00"]
)
offsets = st.integers(min_value=-30 * 24 * 60, max_value=30 * 24 * 60)


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    base = dt.datetime(2026, 3, 20, tzinfo=UTC)
    layers = []
    for index in range(draw(st.integers(1, 3))):
        spec = draw(specs)
        layers.append(
            Layer(
                name=f"L{index}",
                rotation_start=base + dt.timedelta(minutes=draw(offsets)),
                turn_length=draw(turns),
                members=tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=4))),
                restrictions=parse_hours(spec) if spec else None,
            )
        )
    overrides = []
    for _ in range(draw(st.integers(0, 3))):
        start = base + dt.timedelta(minutes=draw(offsets))
        overrides.append(Override(draw(st.integers(1, 6)), start, start + dt.timedelta(hours=5)))
    return Schedule(draw(zones), tuple(layers), tuple(overrides))


@settings(max_examples=60, deadline=None)
@given(schedule=schedules(), probes=st.lists(offsets, min_size=1, max_size=12))
def test_final_schedule_matches_on_call_at_at_every_instant(
    schedule: Schedule, probes: list[int]
) -> None:
    start = dt.datetime(2026, 3, 5, tzinfo=UTC)
    end = dt.datetime(2026, 4, 5, tzinfo=UTC)
    stretches = final_schedule(schedule, start, end)
    for earlier, later in pairwise(stretches):
        assert earlier.end <= later.start
    for offset in probes:
        moment = dt.datetime(2026, 3, 20, tzinfo=UTC) + dt.timedelta(minutes=offset)
        if not start <= moment < end:
            continue
        covering = [s.user_id for s in stretches if s.start <= moment < s.end]
        expected = on_call_at(schedule, moment)
        assert covering == ([] if expected is None else [expected])
