"""Benchmarks for on-site visits and appointment slots; prints figures, asserts nothing on time.

1. Solomon's VRPTW instance C101 through the generic planner core, against the
   best known result (10 vehicles, 828.94).
2. A day of 50 visits for 8 technicians through ``plan_visits``.
3. Slot search latency for a team of 50 agents over two weeks.
4. ``expediter visits plan`` end to end on a fresh SQLite desk: 50 visits asked
   for through the services, 8 technicians on shift, the command run as a
   process (start-up, planning, 50 bookings with their invitations).

Run: ``.venv/bin/python bench/visits.py [--c101-seconds 9] [--visits-seconds 10] [--no-desk]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from expediter.appointments.availability import (
    AgentAvailability,
    Busy,
    Interval,
    Kind,
    find_slots,
)
from expediter.appointments.planner import (
    Technician,
    Visit,
    VrptwProblem,
    plan_visits,
    solve_vrptw,
    violations,
)
from expediter.appointments.travel import Site
from expediter.schedules.hours import parse_hours

C101 = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "vrptw" / "C101.txt"
BEST_KNOWN_VEHICLES = 10
BEST_KNOWN_DISTANCE = 828.94
SCALE = 1000  # Solomon distances and times in thousandths, so rounding stays negligible
VEHICLES = 25
CAPACITY = 200
VEHICLE_COST = 1000 * SCALE  # one vehicle outweighs any distance it could save
ZONE = ZoneInfo("Europe/Paris")


# --- 1. Solomon C101 ------------------------------------------------------------------------------


def read_solomon(path: Path) -> list[tuple[float, float, int, int, int, int]]:
    """Rows of (x, y, demand, ready, due, service); row 0 is the depot."""
    rows = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if len(fields) == 7 and fields[0].isdigit():
            _, x, y, demand, ready, due, service = fields
            rows.append((float(x), float(y), int(demand), int(ready), int(due), int(service)))
    return rows


def solomon_problem(rows: list[tuple[float, float, int, int, int, int]]) -> VrptwProblem:
    points = [(row[0], row[1]) for row in rows]
    depot_window = (rows[0][3] * SCALE, rows[0][4] * SCALE)
    return VrptwProblem(
        travel=[[round(math.dist(a, b) * SCALE) for b in points] for a in points],
        windows=[(row[3] * SCALE, row[4] * SCALE) for row in rows],
        service=[row[5] * SCALE for row in rows],
        starts=[0] * VEHICLES,
        ends=[0] * VEHICLES,
        shifts=[depot_window] * VEHICLES,
        demands=[row[2] for row in rows],
        capacities=[CAPACITY] * VEHICLES,
        vehicle_fixed_cost=VEHICLE_COST,
    )


def bench_c101(seconds: float) -> None:
    if not C101.exists():
        print(f"C101: {C101} not found, skipped")
        return
    rows = read_solomon(C101)
    began = time.perf_counter()
    problem = solomon_problem(rows)
    solution = solve_vrptw(problem, time_limit_seconds=seconds)
    elapsed = time.perf_counter() - began
    points = [(row[0], row[1]) for row in rows]
    distance = sum(
        math.dist(points[a], points[b])
        for route in solution.routes
        if route
        for a, b in itertools.pairwise([0, *route, 0])
    )
    gap = 100 * (distance - BEST_KNOWN_DISTANCE) / BEST_KNOWN_DISTANCE
    broken = violations(problem, solution)
    print(
        f"C101: {solution.vehicles_used} vehicles, distance {distance:.2f} "
        f"(best known {BEST_KNOWN_VEHICLES} vehicles, {BEST_KNOWN_DISTANCE}; gap {gap:+.2f} %), "
        f"{elapsed:.1f} s wall with a {seconds:g} s search limit, "
        f"{'valid' if not broken else f'{len(broken)} violations'}"
    )


# --- 2. a day of 50 visits ------------------------------------------------------------------------


def local(day: dt.date, minute: int) -> dt.datetime:
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=ZONE)
    return (midnight + dt.timedelta(minutes=minute)).astimezone(dt.UTC)


def random_site(rng: random.Random, site_id: int) -> Site:
    return Site(site_id, f"site {site_id}", 48.78 + rng.random() * 0.16, 2.22 + rng.random() * 0.26)


def visit_day(rng: random.Random, day: dt.date) -> tuple[list[Visit], list[Technician]]:
    skills = ["net", "win", "print"]
    technicians = [
        Technician(
            id=t,
            name=f"tech {t}",
            shift_start=local(day, 8 * 60 if t % 2 else 9 * 60),
            shift_end=local(day, 17 * 60 if t % 2 else 18 * 60),
            home=random_site(rng, 1000 + t),
            skills={skill: rng.randint(1, 5) for skill in skills},
        )
        for t in range(8)
    ]
    windows = [(8 * 60, 12 * 60), (13 * 60, 17 * 60), (8 * 60, 18 * 60), (10 * 60, 15 * 60)]
    visits = []
    for v in range(50):
        opens, closes = rng.choice(windows)
        visits.append(
            Visit(
                id=v,
                site=random_site(rng, v),
                window_start=local(day, opens),
                window_end=local(day, closes),
                duration_minutes=rng.choice([30, 45, 60, 90]),
                skills={rng.choice(skills): rng.randint(1, 3)},
                ticket_id=5000 + v,
            )
        )
    return visits, technicians


def bench_visit_day(seconds: float) -> None:
    visits, technicians = visit_day(random.Random(3), dt.date(2025, 6, 3))
    began = time.perf_counter()
    plan = plan_visits(visits, technicians, time_limit_seconds=seconds)
    elapsed = time.perf_counter() - began
    planned = sum(len(route.stops) for route in plan.routes)
    reasons = sorted({u.reason for u in plan.unplanned})
    print(
        f"plan_visits: 50 visits, 8 technicians: {planned} planned, "
        f"{len(plan.unplanned)} unplanned {reasons}, {plan.travel_minutes} travel minutes, "
        f"{elapsed:.1f} s "
        f"(search limit {seconds:g} s)"
    )


# --- 3. slot search ------------------------------------------------------------------------------


def duty_intervals(spec: str, first_day: dt.date, days: int) -> list[Interval]:
    """Local wall-time shifts expanded day by day, as the schedules layer would."""
    hours = parse_hours(spec)
    intervals = []
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        for start, end in hours.ranges_on(day.weekday()):
            intervals.append(Interval(local(day, start), local(day, end)))
    return intervals


def team(rng: random.Random, first_day: dt.date, days: int) -> list[AgentAvailability]:
    specs = [
        "mon-fri 08:00-16:00",
        "mon-fri 09:00-17:00",
        "mon-fri 10:00-18:00",
        "mon-sat 07:00-13:00",
    ]
    agents = []
    for agent_id in range(1, 51):
        duty = duty_intervals(rng.choice(specs), first_day, days)
        busy = []
        for appointment_id in range(rng.randint(3, 8)):
            shift = rng.choice(duty)
            start = shift.start + dt.timedelta(minutes=30 * rng.randint(0, 12))
            site = (
                random_site(rng, 10_000 + agent_id * 10 + appointment_id)
                if rng.random() < 0.5
                else None
            )
            busy.append(
                Busy(start, start + dt.timedelta(minutes=60), site, agent_id * 100 + appointment_id)
            )
        time_off = []
        if rng.random() < 0.2:
            off = rng.choice(duty)
            time_off.append(Interval(off.start, off.end))
        agents.append(
            AgentAvailability(
                agent_id, f"agent {agent_id}", duty, time_off, busy, random_site(rng, agent_id)
            )
        )
    return agents


def bench_slots(repeat: int) -> None:
    first_day = dt.date(2025, 10, 20)  # the two weeks hold the October clock change
    agents = team(random.Random(5), first_day, 14)
    period = (local(first_day, 0), local(first_day + dt.timedelta(days=14), 0))
    customer = Site(99_999, "customer", 48.86, 2.34)
    kinds: tuple[Kind, ...] = ("remote", "onsite")
    for kind in kinds:
        timings, count = [], 0
        for _ in range(repeat):
            began = time.perf_counter()
            slots = find_slots(
                agents,
                duration_minutes=60,
                start=period[0],
                end=period[1],
                zone=ZONE,
                kind=kind,
                site=customer if kind == "onsite" else None,
            )
            timings.append((time.perf_counter() - began) * 1000)
            count = len(slots)
        p50 = statistics.median(timings)
        p95 = statistics.quantiles(timings, n=20)[-1]
        print(
            f"find_slots ({kind}, 50 agents, 14 days, 60 min): {count} slots, "
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms over {repeat} runs"
        )


# --- 4. the command on a desk ---------------------------------------------------------------------

DESK_SEED = """
import datetime as dt, random, django
django.setup()
from expediter.appointments.services import visit_request
from expediter.schedules.services import shift_add
from expediter.staff.services import site_create, user_create
from expediter.tickets.services import ticket_create
from expediter.tickets.services.catalogue import service_save
rng = random.Random(3)
day = dt.date.fromisoformat("{day}")
service_save(name="Field work", team="Field", skills={{}})
for t in range(8):
    home = site_create(name=f"home {{t}}", latitude=48.78 + rng.random() * 0.16,
                       longitude=2.22 + rng.random() * 0.26)
    agent = user_create(email=f"tech{{t}}@bench.example", name=f"Tech {{t}}", role="agent",
                        teams=["Field"], site=home.name)
    shift_add(agent=agent, hours="mon-fri 08:00-17:00" if t % 2 else "mon-fri 09:00-18:00",
              time_zone="Europe/Paris")
lead = user_create(email="lead@bench.example", name="Lead", role="lead", teams=["Field"])
windows = [(8, 12), (13, 17), (8, 18), (10, 15)]
for v in range(50):
    site = site_create(name=f"customer {{v}}", latitude=48.78 + rng.random() * 0.16,
                       longitude=2.22 + rng.random() * 0.26)
    requester = user_create(email=f"customer{{v}}@bench.example", name=f"Customer {{v}}",
                            site=site.name)
    ticket = ticket_create(requester=requester, actor=requester, subject="On-site repair",
                           description="", service="Field work")
    opens, closes = rng.choice(windows)
    visit_request(ticket_id=ticket.pk, actor=lead, date=day, window_start=dt.time(opens),
                  window_end=dt.time(closes), duration_minutes=rng.choice([30, 45, 60, 90]))
"""


def next_monday() -> dt.date:
    today = dt.date.today()
    return today + dt.timedelta(days=7 - today.weekday())


def bench_command() -> None:
    with tempfile.TemporaryDirectory(prefix="expediter-bench-") as data:
        env = {
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
            "EXPEDITER_DATA_DIR": data,
            "DJANGO_SETTINGS_MODULE": "expediter.config.settings",
            "EXPEDITER_FAST_HASHER": "1",
            # Compiled once (by migrate) outside the source tree, as an installed desk has them.
            "PYTHONPYCACHEPREFIX": str(Path(data) / "pycache"),
        }
        expediter = [sys.executable, "-m", "expediter"]
        subprocess.run([*expediter, "migrate", "--verbosity", "0"], env=env, check=True)
        day = next_monday()
        subprocess.run(
            [sys.executable, "-c", DESK_SEED.format(day=day.isoformat())], env=env, check=True
        )
        began = time.perf_counter()
        answer = subprocess.run(
            [*expediter, "visits", "plan", "--date", day.isoformat(), "--team", "Field"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - began
    plan = json.loads(answer.stdout)
    planned = sum(len(route["stops"]) for route in plan["routes"])
    travel = sum(route["travel_minutes"] for route in plan["routes"])
    print(
        f"expediter visits plan: 50 visits, 8 technicians: {planned} planned and booked, "
        f"{len(plan['unplanned'])} unplanned, {travel} travel minutes, {elapsed:.1f} s "
        "for the whole command (contract: under 30 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--c101-seconds", type=float, default=9.0)
    parser.add_argument("--visits-seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--no-desk", action="store_true", help="skip the end-to-end command")
    arguments = parser.parse_args()
    bench_slots(arguments.repeat)
    bench_visit_day(arguments.visits_seconds)
    bench_c101(arguments.c101_seconds)
    if not arguments.no_desk:
        bench_command()


if __name__ == "__main__":
    main()
