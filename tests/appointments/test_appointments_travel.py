"""Travel time between sites: haversine × detour at an average speed, rounded up."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.appointments.travel import (
    Site,
    great_circle_km,
    travel_matrix,
    travel_minutes,
)

EQUATOR = Site(1, "Equator", 0.0, 0.0)
ONE_DEGREE_NORTH = Site(2, "One degree north", 1.0, 0.0)
PARIS = Site(10, "Paris, Notre-Dame", 48.8530, 2.3498)
VERSAILLES = Site(11, "Versailles, palace", 48.8049, 2.1204)


def test_one_degree_of_latitude_is_about_111_km() -> None:
    assert great_circle_km(EQUATOR, ONE_DEGREE_NORTH) == pytest.approx(111.195, abs=0.01)


def test_paris_to_versailles_is_about_17_km() -> None:
    assert great_circle_km(PARIS, VERSAILLES) == pytest.approx(17.7, abs=0.3)


def test_minutes_are_distance_times_detour_at_speed_rounded_up() -> None:
    # 111.195 km × 1.3 / 40 km/h = 3.614 h = 216.8 min, rounded up.
    assert travel_minutes(EQUATOR, ONE_DEGREE_NORTH) == 217
    assert travel_minutes(EQUATOR, ONE_DEGREE_NORTH, speed_kmh=80.0) == 109
    assert travel_minutes(EQUATOR, ONE_DEGREE_NORTH, detour=1.0) == 167
    assert travel_minutes(PARIS, VERSAILLES) == math.ceil(
        great_circle_km(PARIS, VERSAILLES) * 1.3 / 40 * 60
    )


def test_same_site_or_same_place_takes_no_time() -> None:
    assert travel_minutes(PARIS, PARIS) == 0
    twin = Site(99, "Same building", PARIS.lat, PARIS.lon)
    assert travel_minutes(PARIS, twin) == 0


def test_invalid_parameters_and_coordinates_are_refused() -> None:
    with pytest.raises(ValueError, match="speed"):
        travel_minutes(PARIS, VERSAILLES, speed_kmh=0)
    with pytest.raises(ValueError, match="detour"):
        travel_minutes(PARIS, VERSAILLES, detour=0.5)
    with pytest.raises(ValueError, match="latitude"):
        Site(3, "Nowhere", 91.0, 0.0)
    with pytest.raises(ValueError, match="longitude"):
        Site(3, "Nowhere", 0.0, 181.0)


def test_matrix_treats_unknown_places_as_zero_and_asks_each_pair_once() -> None:
    calls: list[tuple[int, int]] = []

    def counting(a: Site, b: Site) -> int:
        calls.append((a.id, b.id))
        return 7

    matrix = travel_matrix([PARIS, None, VERSAILLES, PARIS], counting)
    assert matrix == [
        [0, 0, 7, 0],
        [0, 0, 0, 0],
        [7, 0, 0, 7],
        [0, 0, 7, 0],
    ]
    assert sorted(calls) == [(10, 11), (11, 10)]


coordinates = st.tuples(st.floats(-80, 80, allow_nan=False), st.floats(-179, 179, allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(a=coordinates, b=coordinates)
def test_minutes_are_symmetric_and_never_below_the_exact_figure(
    a: tuple[float, float], b: tuple[float, float]
) -> None:
    first, second = Site(1, "a", *a), Site(2, "b", *b)
    minutes = travel_minutes(first, second)
    exact = great_circle_km(first, second) * 1.3 / 40 * 60
    assert minutes == travel_minutes(second, first)
    assert exact - 1e-6 <= minutes < exact + 1
