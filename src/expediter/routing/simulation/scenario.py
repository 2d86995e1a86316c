"""The simulation scenario: read, checked, and turned into absolute time.

A scenario is the JSON document of the contract ("Simulation scenario"). Any
top-level field it omits takes the value of the built-in default scenario
(``routing/default_scenario.json``), whose ``days``, ``seed``, ``time_zone``,
``priorities`` and ``speed_by_level`` are the defaults the contract shows;
``speed_by_level`` may list only the levels it changes. Shares need not add
up to 1: they are weights. Every error is a ValueError naming the field, e.g.
``agents[2].capacity``.

Simulated time is minutes since the start, a Monday at local midnight in the
scenario's zone (2026-01-05); weekly hours are placed on the calendar day by
day through ``zoneinfo``, so a shift keeps its wall-clock times across a
daylight-saving change.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from expediter.schedules.hours import HoursSpecError, WeeklyHours, parse_hours

START_DATE = date(2026, 1, 5)
SKILL_LEVELS = range(1, 6)
PRIORITY_LEVELS = range(1, 5)
MAX_DAYS = 366

_FIELDS = frozenset(
    {
        "description",
        "days",
        "seed",
        "time_zone",
        "agents",
        "services",
        "arrivals",
        "priorities",
        "speed_by_level",
    }
)

Interval = tuple[float, float]


@dataclass(frozen=True)
class AgentSpec:
    name: str
    skills: Mapping[str, int]
    capacity: int
    hours: WeeklyHours

    @property
    def best_level(self) -> int:
        return max(self.skills.values(), default=0)


@dataclass(frozen=True)
class ServiceSpec:
    """A kind of request; the level in its first skill sets how fast an agent works."""

    name: str
    skills: Mapping[str, int]
    share: float
    handle_minutes: float

    @property
    def first_skill(self) -> str:
        return next(iter(self.skills))


@dataclass(frozen=True)
class ArrivalSpec:
    hours: WeeklyHours
    per_hour: float


@dataclass(frozen=True)
class PrioritySpec:
    priority: int
    share: float
    target_minutes: float


@dataclass(frozen=True)
class Scenario:
    days: int
    seed: int
    time_zone: ZoneInfo
    agents: tuple[AgentSpec, ...]
    services: tuple[ServiceSpec, ...]
    arrivals: tuple[ArrivalSpec, ...]
    priorities: tuple[PrioritySpec, ...]
    speed_by_level: Mapping[int, float]

    @property
    def start(self) -> datetime:
        """The first instant simulated, in UTC."""
        local = datetime.combine(START_DATE, time(), tzinfo=self.time_zone)
        return local.astimezone(UTC)

    def speed(self, level: int) -> float:
        """Handling-time factor at a skill level; a missing skill works at the slowest."""
        if level in self.speed_by_level:
            return self.speed_by_level[level]
        return max(self.speed_by_level.values())


def default_scenario() -> dict[str, Any]:
    """The built-in scenario as a JSON-like dict (a fresh copy each time)."""
    text = resources.files("expediter.routing").joinpath("default_scenario.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def load_scenario(
    raw: Mapping[str, Any] | None, *, days: int | None = None, seed: int | None = None
) -> Scenario:
    """Check a scenario document and fill in its defaults; ``days``/``seed`` override it."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ValueError("scenario: expected a JSON object")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown scenario field")
    if not isinstance(raw.get("description", ""), str):
        raise ValueError("description: expected text")
    merged = {**default_scenario(), **raw}
    if days is not None:
        merged["days"] = days
    if seed is not None:
        merged["seed"] = seed
    return Scenario(
        days=_int(merged["days"], "days", low=1, high=MAX_DAYS),
        seed=_int(merged["seed"], "seed"),
        time_zone=_zone(merged["time_zone"]),
        agents=_agents(merged["agents"]),
        services=_services(merged["services"]),
        arrivals=_arrivals(merged["arrivals"]),
        priorities=_priorities(merged["priorities"]),
        speed_by_level=_speeds(merged["speed_by_level"]),
    )


def open_intervals(
    hours: WeeklyHours, scenario: Scenario, *, first_day: int, last_day: int
) -> list[Interval]:
    """The open stretches of weekly hours on days [first_day, last_day), in minutes.

    Stretches that touch (``22:00-24:00`` then ``00:00-06:00``) are joined, so a
    night shift is one shift.
    """
    start = scenario.start
    intervals: list[Interval] = []
    for offset in range(first_day, last_day):
        day = START_DATE + timedelta(days=offset)
        for begin, end in hours.ranges_on(day.weekday()):
            a = _minutes_since(start, _local(day, begin, scenario.time_zone))
            b = _minutes_since(start, _local(day, end, scenario.time_zone))
            if b <= a:
                continue
            if intervals and a <= intervals[-1][1]:
                intervals[-1] = (intervals[-1][0], max(b, intervals[-1][1]))
            else:
                intervals.append((a, b))
    return intervals


def _local(day: date, minute: int, zone: ZoneInfo) -> datetime:
    moment = datetime.combine(day + timedelta(days=minute // 1440), time(), tzinfo=zone)
    return (moment + timedelta(minutes=minute % 1440)).astimezone(UTC)


def _minutes_since(start: datetime, moment: datetime) -> float:
    return (moment - start).total_seconds() / 60


def _agents(raw: object) -> tuple[AgentSpec, ...]:
    items = _list(raw, "agents")
    agents = []
    names: set[str] = set()
    for index, item in enumerate(items):
        where = f"agents[{index}]"
        entry = _object(item, where, {"name", "skills", "capacity", "hours"})
        name = _name(entry.get("name", f"agent {index + 1}"), f"{where}.name")
        if name in names:
            raise ValueError(f"{where}.name: '{name}' is used twice")
        names.add(name)
        agents.append(
            AgentSpec(
                name=name,
                skills=_skills(entry.get("skills"), f"{where}.skills", allow_empty=True),
                capacity=_int(entry.get("capacity", 3), f"{where}.capacity", low=1, high=1000),
                hours=_hours(entry.get("hours"), f"{where}.hours"),
            )
        )
    return tuple(agents)


def _services(raw: object) -> tuple[ServiceSpec, ...]:
    services = []
    for index, item in enumerate(_list(raw, "services")):
        where = f"services[{index}]"
        entry = _object(item, where, {"name", "skills", "share", "handle_minutes"})
        services.append(
            ServiceSpec(
                name=_name(entry.get("name", f"service {index + 1}"), f"{where}.name"),
                skills=_skills(entry.get("skills"), f"{where}.skills", allow_empty=False),
                share=_number(entry.get("share", 1.0), f"{where}.share", positive=False),
                handle_minutes=_number(entry.get("handle_minutes"), f"{where}.handle_minutes"),
            )
        )
    _check_shares([s.share for s in services], "services")
    return tuple(services)


def _arrivals(raw: object) -> tuple[ArrivalSpec, ...]:
    arrivals = []
    for index, item in enumerate(_list(raw, "arrivals")):
        where = f"arrivals[{index}]"
        entry = _object(item, where, {"hours", "per_hour"})
        arrivals.append(
            ArrivalSpec(
                hours=_hours(entry.get("hours"), f"{where}.hours"),
                per_hour=_number(entry.get("per_hour"), f"{where}.per_hour", positive=False),
            )
        )
    return tuple(arrivals)


def _priorities(raw: object) -> tuple[PrioritySpec, ...]:
    table = _mapping(raw, "priorities")
    priorities = []
    for key, item in table.items():
        where = f"priorities.{key}"
        priority = _level(key, where, PRIORITY_LEVELS)
        entry = _object(item, where, {"share", "target_minutes"})
        priorities.append(
            PrioritySpec(
                priority=priority,
                share=_number(entry.get("share"), f"{where}.share", positive=False),
                target_minutes=_number(entry.get("target_minutes"), f"{where}.target_minutes"),
            )
        )
    _check_shares([p.share for p in priorities], "priorities")
    return tuple(sorted(priorities, key=lambda p: p.priority))


def _speeds(raw: object) -> dict[int, float]:
    speeds = {int(k): float(v) for k, v in default_scenario()["speed_by_level"].items()}
    for key, value in _mapping(raw, "speed_by_level").items():
        where = f"speed_by_level.{key}"
        speeds[_level(key, where, SKILL_LEVELS)] = _number(value, where)
    return speeds


def _skills(raw: object, where: str, *, allow_empty: bool) -> dict[str, int]:
    table = _mapping(raw if raw is not None else {}, where)
    if not table and not allow_empty:
        raise ValueError(f'{where}: name at least one skill, e.g. {{"net": 3}}')
    skills = {}
    for name, level in table.items():
        skill = _name(name, f"{where} key")
        skills[skill] = _level(level, f"{where}.{skill}", SKILL_LEVELS)
    return skills


def _hours(raw: object, where: str) -> WeeklyHours:
    if not isinstance(raw, str):
        raise ValueError(f"{where}: expected a SPEC string such as 'mon-fri 09:00-17:00'")
    try:
        return parse_hours(raw)
    except HoursSpecError as error:
        raise ValueError(f"{where}: {error}") from None


def _zone(raw: object) -> ZoneInfo:
    if not isinstance(raw, str) or not raw:
        raise ValueError("time_zone: expected a zone name such as 'Europe/Paris'")
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"time_zone: unknown time zone '{raw}'") from None


def _check_shares(shares: Sequence[float], where: str) -> None:
    if not sum(shares) > 0:
        raise ValueError(f"{where}: the shares must not all be zero")


def _list(raw: object, where: str) -> list[object]:
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{where}: expected a non-empty list")
    return raw


def _mapping(raw: object, where: str) -> Mapping[str, object]:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected an object")
    return raw


def _object(raw: object, where: str, allowed: set[str]) -> Mapping[str, object]:
    entry = _mapping(raw, where)
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: unknown field")
    return entry


def _name(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"{where}: expected a non-empty name")
    return raw.strip()


def _level(raw: object, where: str, allowed: range) -> int:
    try:
        level = int(str(raw))
    except ValueError:
        level = 0
    if isinstance(raw, bool) or level not in allowed:
        raise ValueError(f"{where}: expected a level from {allowed[0]} to {allowed[-1]}")
    return level


def _int(raw: object, where: str, *, low: int | None = None, high: int | None = None) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValueError(f"{where}: expected a whole number")
    if (low is not None and raw < low) or (high is not None and raw > high):
        raise ValueError(f"{where}: expected a whole number from {low} to {high}")
    return raw


def _number(raw: object, where: str, *, positive: bool = True) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise ValueError(f"{where}: expected a number")
    if raw < 0 or (positive and raw == 0):
        raise ValueError(f"{where}: expected a {'positive' if positive else 'non-negative'} number")
    return float(raw)
