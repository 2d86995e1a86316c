"""How many SLA due dates per second the business-time arithmetic computes.

Run with ``.venv/bin/python bench/sla_calc.py``. Uses a realistic Paris desk
(weekday hours with a lunch break, Saturday mornings, French public holidays)
and random ticket creation instants over 2026-2028 with the usual targets of
a priority matrix. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from expediter.sla.calc import (
    BusinessCalendar,
    add_business_minutes,
    business_seconds_between,
    calendar_from_spec,
)

TARGET_MINUTES = (30, 60, 120, 240, 480, 960, 1440, 2400, 4800)
SPAN_SECONDS = int(
    (datetime(2029, 1, 1, tzinfo=UTC) - datetime(2026, 1, 1, tzinfo=UTC)).total_seconds()
)


def paris_desk() -> BusinessCalendar:
    return calendar_from_spec(
        time_zone="Europe/Paris",
        hours="mon-fri 08:30-12:30,13:30-18:00; sat 09:00-12:00",
        country="FR",
        holidays=["2026-12-24", "2027-12-24"],
        openings={"2026-05-01": "09:00-12:00"},
    )


def random_jobs(count: int, seed: int) -> list[tuple[datetime, int]]:
    rng = random.Random(seed)
    origin = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        (origin + timedelta(seconds=rng.randrange(SPAN_SECONDS)), rng.choice(TARGET_MINUTES))
        for _ in range(count)
    ]


def time_due_dates(calendar: BusinessCalendar, jobs: list[tuple[datetime, int]]) -> float:
    began = time.perf_counter()
    for start, minutes in jobs:
        add_business_minutes(calendar, start, minutes)
    return time.perf_counter() - began


def time_elapsed(calendar: BusinessCalendar, jobs: list[tuple[datetime, int]]) -> float:
    ends = [start + timedelta(minutes=minutes * 3) for start, minutes in jobs]
    began = time.perf_counter()
    for (start, _), end in zip(jobs, ends, strict=True):
        business_seconds_between(calendar, start, end)
    return time.perf_counter() - began


def main() -> None:
    calendar = paris_desk()
    cold = time_due_dates(calendar, random_jobs(10_000, seed=1))
    print(f"10,000 due dates, first run (builds the timeline): {cold * 1000:.1f} ms")
    warm = time_due_dates(calendar, random_jobs(10_000, seed=2))
    print(f"10,000 due dates, warm: {warm * 1000:.1f} ms")
    big = random_jobs(100_000, seed=3)
    elapsed = time_due_dates(calendar, big)
    print(f"100,000 due dates: {elapsed:.3f} s = {len(big) / elapsed:,.0f} due dates per second")
    between = time_elapsed(calendar, big)
    print(f"100,000 elapsed-time computations: {len(big) / between:,.0f} per second")


if __name__ == "__main__":
    main()
