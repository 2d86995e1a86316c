"""Travel time between sites, as the contract defines it by default.

Visits and on-site appointments need a travel time between two places that is
cheap, deterministic and works without any map service: the great-circle
distance, stretched by a detour factor because roads are not straight, driven
at an average urban speed. Rounding up to whole minutes keeps every plan on
the safe side and lets the planner work in integers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088
DEFAULT_SPEED_KMH = 40.0
DEFAULT_DETOUR = 1.3

# Floating-point noise must not turn an exact 12 minutes into 13.
_ROUNDING_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Site:
    """A place where work happens: a requester's office or an agent's home base."""

    id: int
    name: str
    lat: float
    lon: float
    address: str = ""

    def __post_init__(self) -> None:
        if not -90.0 <= self.lat <= 90.0:
            raise ValueError(f"latitude {self.lat} of site {self.name!r} is outside [-90, 90]")
        if not -180.0 <= self.lon <= 180.0:
            raise ValueError(f"longitude {self.lon} of site {self.name!r} is outside [-180, 180]")


TravelFn = Callable[[Site, Site], int]
"""Whole minutes needed to go from the first site to the second."""


def great_circle_km(a: Site, b: Site) -> float:
    """Haversine distance; accurate enough for city-scale trips and stable near zero."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    d_lat = lat2 - lat1
    d_lon = math.radians(b.lon - a.lon)
    h = math.sin(d_lat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(d_lon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def travel_minutes(
    a: Site, b: Site, *, speed_kmh: float = DEFAULT_SPEED_KMH, detour: float = DEFAULT_DETOUR
) -> int:
    """Minutes from ``a`` to ``b``: distance × detour at ``speed_kmh``, rounded up."""
    if speed_kmh <= 0:
        raise ValueError("speed_kmh must be positive")
    if detour < 1.0:
        raise ValueError("detour must be at least 1 (roads are never shorter than the crow flies)")
    if a.id == b.id:
        return 0
    minutes = great_circle_km(a, b) * detour / speed_kmh * 60.0
    return max(0, math.ceil(minutes - _ROUNDING_TOLERANCE))


def travel_matrix(
    sites: Sequence[Site | None], travel: TravelFn = travel_minutes
) -> list[list[int]]:
    """Pairwise travel minutes; an unknown place (None) is taken as zero minutes from anywhere.

    An agent without a home site still has a day to plan: treating the unknown
    place as "already there" never refuses work for lack of data.
    """
    cache: dict[tuple[int, int], int] = {}
    matrix: list[list[int]] = []
    for origin in sites:
        row: list[int] = []
        for destination in sites:
            row.append(_cached_travel(origin, destination, travel, cache))
        matrix.append(row)
    return matrix


def _cached_travel(
    origin: Site | None,
    destination: Site | None,
    travel: TravelFn,
    cache: dict[tuple[int, int], int],
) -> int:
    if origin is None or destination is None or origin.id == destination.id:
        return 0
    key = (origin.id, destination.id)
    if key not in cache:
        cache[key] = travel(origin, destination)
    return cache[key]
