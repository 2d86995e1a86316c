"""SLA engine figures: due dates per second, history replays per second, one sweep.

Run with ``.venv/bin/python bench/sla.py [--tickets 100000] [--due 1000]``. The
sweep runs against a throw-away SQLite database (or ``DATABASE_URL``) whose
clocks table is seeded in bulk: ``--tickets`` open tickets with their two
clocks each, of which ``--due`` are past their due time, assigned, in a team
with a lead, so every breach records its event and sends its notifications.
Prints figures; asserts nothing about time. ``bench/sla_calc.py`` has the
finer figures of the business-time arithmetic alone.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

TARGET_MINUTES = (30, 60, 120, 240, 480, 960, 1440, 2400)
SPAN = timedelta(days=3 * 365)
ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)


def bench_due_dates(count: int) -> None:
    from expediter.sla.calc import add_business_time, calendar_from_spec

    calendar = calendar_from_spec(
        time_zone="Europe/Paris", hours="mon-fri 08:00-18:00", country="FR"
    )
    rng = random.Random(1)
    jobs = [
        (
            ORIGIN + timedelta(seconds=rng.randrange(int(SPAN.total_seconds()))),
            timedelta(minutes=rng.choice(TARGET_MINUTES)),
        )
        for _ in range(count)
    ]
    for start, amount in jobs[:2000]:  # build the calendar's timeline once
        add_business_time(calendar, start, amount)
    began = time.perf_counter()
    for start, amount in jobs:
        add_business_time(calendar, start, amount)
    elapsed = time.perf_counter() - began
    print(f"due dates: {count:,} in {elapsed:.3f} s = {count / elapsed:,.0f} per second")


def bench_replays(count: int) -> None:
    """Whole-history replays (what the listener does per write), for a typical ticket."""
    from expediter.sla.calc import calendar_from_spec
    from expediter.sla.timeline import HistoryEvent, Targets, clocks_from_history

    calendar = calendar_from_spec(
        time_zone="Europe/Paris", hours="mon-fri 08:00-18:00", country="FR"
    )
    targets = Targets(
        first_response=timedelta(hours=2),
        resolution=timedelta(hours=8),
        next_response=timedelta(hours=4),
    )
    rng = random.Random(2)
    histories = []
    for _ in range(count):
        start = ORIGIN + timedelta(seconds=rng.randrange(int(SPAN.total_seconds())))
        histories.append(_typical_history(start))
    began = time.perf_counter()
    for events in histories:
        clocks_from_history(events, targets, calendar)
    elapsed = time.perf_counter() - began
    print(
        f"history replays (9 events, 3 clocks): {count:,} in {elapsed:.3f} s = "
        f"{count / elapsed:,.0f} per second"
    )
    del HistoryEvent


def _typical_history(start: datetime) -> list[object]:
    from expediter.sla.timeline import HistoryEvent

    def at(minutes: int) -> datetime:
        return start + timedelta(minutes=minutes)

    def reply(minutes: int, author: str) -> HistoryEvent:
        changes = {"internal": [None, False], "from": [None, author], "kind": [None, "message"]}
        return HistoryEvent(at(minutes), "article_added", changes)

    def moved(minutes: int, before: str, after: str) -> HistoryEvent:
        return HistoryEvent(at(minutes), "status_changed", {"status": [before, after]})

    return [
        HistoryEvent(start, "created", {"status": [None, "new"]}),
        moved(5, "new", "assigned"),
        reply(40, "agent"),
        moved(41, "assigned", "waiting_requester"),
        reply(300, "requester"),
        moved(300, "waiting_requester", "in_progress"),
        reply(420, "agent"),
        moved(600, "in_progress", "resolved"),
        HistoryEvent(at(601), "priority_changed", {"priority": [3, 2]}),
    ]


def setup_django() -> None:
    """A fresh database; tasks are queued in it as a desk does, not run inline."""
    os.environ.setdefault("EXPEDITER_DATA_DIR", tempfile.mkdtemp(prefix="expediter-sla-bench-"))
    os.environ.setdefault("EXPEDITER_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expediter.config.testing")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def seed(tickets: int, due: int, *, notify: bool = True) -> None:
    """Bulk rows: a benchmark fixture, not a desk operation (no history, no listener).

    Rows go in with ``executemany``: each ticket copies every column of one
    ticket built by the model (so new fields keep their defaults) and varies
    only what the sweep reads.
    """
    from expediter.core import clock
    from expediter.sla.models import SlaClock
    from expediter.sla.services import CalendarSpec, PolicySpec, calendar_create, policy_create
    from expediter.staff.models import Team
    from expediter.staff.services import user_create
    from expediter.tickets.models import Ticket

    now = clock.now()
    calendar = calendar_create(
        spec=CalendarSpec(name="Paris", time_zone="Europe/Paris", hours="mon-fri 08:00-18:00")
    )
    policy = policy_create(
        spec=PolicySpec(
            name="Standard",
            calendar=calendar.name,
            first_response_minutes=240,
            resolution_minutes=1440,
        ),
        **({} if notify else {"escalations": ()}),
    )
    requester = user_create(email="requester@bench.example", name="Req", role="requester")
    agent = user_create(email="agent@bench.example", name="Agent", role="agent", teams=["Desk"])
    user_create(email="lead@bench.example", name="Lead", role="lead", teams=["Desk"])
    team = Team.objects.get(name="Desk")
    created = now - timedelta(hours=2)
    template = Ticket(
        subject="bench", requester=requester, team=team, created_at=created, updated_at=created
    )
    varying = {"id", "number", "subject", "status", "assignee"}
    ticket_rows = []
    clock_rows = []
    for i in range(1, tickets + 1):
        late = i <= due
        values = {
            "id": i,
            "number": i,
            "subject": f"bench {i}",
            "status": "assigned" if late else "new",
            "assignee": agent.pk if late else None,
        }
        ticket_rows.append(values)
        for kind, minutes in (("first_response", 240), ("resolution", 1440)):
            due_at = (
                now - timedelta(minutes=5)
                if late and kind == "first_response"
                else (now + timedelta(minutes=minutes))
            )
            clock_rows.append(
                {
                    "ticket": i,
                    "kind": kind,
                    "cycle": 1,
                    "policy": policy.pk,
                    "calendar": calendar.pk,
                    "status": "running",
                    "target_seconds": minutes * 60,
                    "started_at": created,
                    "running_since": created,
                    "stopped_at": None,
                    "remaining_seconds": minutes * 60,
                    "due_at": due_at,
                    "warn_at": due_at - timedelta(minutes=minutes // 5),
                    "breach_at": due_at,
                    # the clocks not due had their warning long ago: this sweep meets breaches
                    "warning_recorded_at": None if late else now,
                    "warning_escalated_at": None if late else now,
                    "breach_recorded_at": None,
                    "breach_escalated_at": None,
                    "updated_at": now,
                }
            )
    _insert(Ticket, ticket_rows, template=template, varying=varying)
    _insert(SlaClock, clock_rows)


def _insert(model: type, rows: list[dict[str, object]], **copy: object) -> None:
    """``executemany`` in batches, values prepared by the fields as the ORM would.

    Plain numbers and strings go in as they are; instants (a handful of
    distinct ones) are prepared once each by their field.
    """
    from django.db import connection, transaction

    template, varying = copy.get("template"), copy.get("varying", set())
    fields = [f for f in model._meta.concrete_fields if f.name != "id" or "id" in varying]  # type: ignore[attr-defined]
    fixed = {
        f.name: f.get_db_prep_save(getattr(template, f.attname), connection)
        for f in fields
        if template is not None and f.name not in varying  # type: ignore[operator]
    }
    prepared: dict[tuple[str, object], object] = {}

    def value(field: object, row: dict[str, object]) -> object:
        name = field.name  # type: ignore[attr-defined]
        if name in fixed:
            return fixed[name]
        raw = row[name]
        if not isinstance(raw, datetime):
            return raw
        key = (name, raw)
        if key not in prepared:
            prepared[key] = field.get_db_prep_save(raw, connection)  # type: ignore[attr-defined]
        return prepared[key]

    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({marks})"  # type: ignore[attr-defined]
    for start in range(0, len(rows), 10_000):
        batch = [tuple(value(f, row) for f in fields) for row in rows[start : start + 10_000]]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, batch)


def bench_sweep(tickets: int, due: int, notify: bool) -> None:
    from expediter.mail.models import Notification
    from expediter.sla.models import SlaClock
    from expediter.sla.services import sla_escalate, sla_sweep
    from expediter.tickets.models import TicketEvent

    began = time.perf_counter()
    seed(tickets, due, notify=notify)
    print(
        f"seeded {tickets:,} open tickets and {2 * tickets:,} clocks in "
        f"{time.perf_counter() - began:.1f} s ({due:,} due now)"
    )
    began = time.perf_counter()
    result = sla_sweep()
    elapsed = time.perf_counter() - began
    events = TicketEvent.objects.filter(verb="sla_breached").count()
    print(
        f"sweep: {result.breaches:,} breaches and {result.warnings:,} warnings recorded in "
        f"{elapsed:.3f} s ({events:,} events; escalations queued as tasks)"
    )
    began = time.perf_counter()
    again = sla_sweep()
    print(
        f"second sweep (nothing due): {again.breaches + again.warnings} recorded in "
        f"{(time.perf_counter() - began) * 1000:.1f} ms"
    )
    # What the worker then does with the queued tasks (run here directly, same service).
    recorded = list(
        SlaClock.objects.filter(
            breach_recorded_at__isnull=False, breach_escalated_at__isnull=True
        ).values_list("pk", flat=True)
    )
    began = time.perf_counter()
    escalated = sla_escalate(clock_ids=recorded, trigger="breach")
    print(
        f"escalations run by the worker: {escalated:,} clocks, "
        f"{Notification.objects.count():,} in-app notifications (and as many emails queued) "
        f"in {time.perf_counter() - began:.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--due-dates", type=int, default=200_000, dest="due_dates")
    parser.add_argument("--replays", type=int, default=20_000)
    parser.add_argument(
        "--no-notify", action="store_false", dest="notify", help="policy without escalations"
    )
    options = parser.parse_args()
    bench_due_dates(options.due_dates)
    bench_replays(options.replays)
    setup_django()
    bench_sweep(options.tickets, options.due, options.notify)


if __name__ == "__main__":
    main()
