"""Routing decision latency, and the default simulation's run time.

Prints p50/p99 of:
- ``choose_agent`` for one ticket among 500 agents, all in the ticket's team
  (the worst case: every agent is examined and ranked);
- a freed agent pulling its next ticket from a :class:`TicketQueue` of 100,000
  waiting tickets (urgency order, then arrival order), the ticket pushed back
  afterwards so the queue stays full;
- ``next_ticket_for`` over a bounded list of 200 tickets, what a database
  query handing over the first tickets of each priority would give it;
- for contrast, a full scan of all 100,000 tickets by ``next_ticket_for``.

Then times ``simulate.run`` on the built-in scenario with the default
policies, and finally measures the database-backed service (``routing.services``)
on a desk seeded with ``bulk_create`` in a throw-away SQLite database (or the
database of ``BENCH_DATABASE_URL``): 500 agents in one team (the worst case:
every decision weighs all of them) and 100,000 open tickets, of
which most wait in the queue. It prints p50/p99 of the routing decision alone
(what ``ticket_route`` reads and decides before assigning, the team's roster
kept as in a running worker), of reading that roster again, of ``ticket_route``
for new tickets, of ``agent_pull`` for an agent who freed capacity, the
statements each runs, and the time of one ``routing_sweep``. Figures only;
nothing here asserts on time.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from expediter.routing import simulate
from expediter.routing.engine import (
    AgentFacts,
    TicketFacts,
    TicketQueue,
    choose_agent,
    next_ticket_for,
)

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
SKILLS = [f"skill{n}" for n in range(12)]
TEAMS = 10
AGENTS = 500
TICKETS = 100_000
DECISIONS = 2_000


def make_agents(rng: random.Random, *, teams: int) -> list[AgentFacts]:
    agents = []
    for number in range(AGENTS):
        skills = {skill: rng.randint(1, 5) for skill in rng.sample(SKILLS, 4)}
        capacity = rng.randint(3, 8)
        agents.append(
            AgentFacts(
                id=number + 1,
                name=f"a{number + 1}",
                team_ids=frozenset({number % teams + 1}),
                on_duty=rng.random() < 0.8,
                on_time_off=rng.random() < 0.05,
                duty_ends_at=NOW + timedelta(hours=rng.randint(1, 8)),
                skills=skills,
                active=rng.randint(0, capacity),
                capacity=capacity,
                last_assigned_at=NOW - timedelta(minutes=rng.randint(0, 600)),
            )
        )
    return agents


def make_services(rng: random.Random) -> list[dict[str, int]]:
    return [{skill: rng.randint(1, 4) for skill in rng.sample(SKILLS, 1)} for _ in range(30)]


def make_ticket(
    rng: random.Random, number: int, services: list[dict[str, int]], *, team_id: int | None = None
) -> TicketFacts:
    created = NOW - timedelta(minutes=rng.uniform(0, 5 * 24 * 60))
    priority = rng.choice((1, 2, 3, 3, 4))
    return TicketFacts(
        id=number,
        team_id=team_id or rng.randint(1, TEAMS),
        priority=priority,
        required_skills=rng.choice(services),
        due_at=created + timedelta(minutes=(30, 120, 480, 1440)[priority - 1]),
        created_at=created,
    )


def percentiles(samples: list[tuple[int, int]]) -> str:
    """p50/p99 of wall time and of this process's CPU time, in ms.

    On a shared machine the wall-clock tail includes time the process spent
    preempted; CPU time is what the decision itself costs.
    """
    walls = sorted(wall for wall, _ in samples)
    cpus = sorted(cpu for _, cpu in samples)

    def pair(ordered: list[int]) -> str:
        p50 = statistics.median(ordered) / 1e6
        p99 = ordered[int(0.99 * (len(ordered) - 1))] / 1e6
        return f"p50 {p50:7.3f} p99 {p99:7.3f}"

    return f"wall {pair(walls)} ms | cpu {pair(cpus)} ms (n={len(samples)})"


def timed(action: Callable[[], object]) -> tuple[int, int]:
    """Wall and CPU time of one call, in ns."""
    wall, cpu = time.perf_counter_ns(), time.process_time_ns()
    action()
    return time.perf_counter_ns() - wall, time.process_time_ns() - cpu


def measure(action: Callable[[], object], count: int) -> list[tuple[int, int]]:
    return [timed(action) for _ in range(count)]


def bench_choose_agent(rng: random.Random, services: list[dict[str, int]]) -> None:
    agents = make_agents(rng, teams=1)
    tickets = [make_ticket(rng, n, services, team_id=1) for n in range(DECISIONS)]
    for policy in ("skills", "least_loaded", "round_robin"):
        samples = [
            timed(partial(choose_agent, ticket, agents, policy=policy, now=NOW))
            for ticket in tickets
        ]
        print(f"choose_agent, 500 agents, {policy:<12} {percentiles(samples)}")


def bench_queue(rng: random.Random, services: list[dict[str, int]]) -> None:
    agents = [a for a in make_agents(rng, teams=TEAMS) if a.on_duty and not a.on_time_off]
    agents = [dataclasses.replace(a, active=0) for a in agents]
    tickets = [make_ticket(rng, n, services) for n in range(TICKETS)]
    for policy in ("skills", "round_robin"):
        queue = TicketQueue(policy)
        started = time.perf_counter()
        for ticket in tickets:
            queue.push(ticket)
        filled = time.perf_counter() - started
        print(f"TicketQueue({policy}): 100,000 tickets pushed in {filled:.2f} s")

        def pull_and_return(queue: TicketQueue = queue) -> None:
            ticket = queue.pop_for(rng.choice(agents), now=NOW)
            if ticket is not None:
                queue.push(ticket)

        samples = measure(pull_and_return, DECISIONS)
        print(f"next ticket from 100,000, {policy:<13} {percentiles(samples)}")
    bounded = tickets[:200]
    samples = measure(
        lambda: next_ticket_for(rng.choice(agents), bounded, policy="skills", now=NOW), DECISIONS
    )
    print(f"next_ticket_for over 200 handed-over tickets {percentiles(samples)}")
    samples = measure(
        lambda: next_ticket_for(rng.choice(agents), tickets, policy="skills", now=NOW), 20
    )
    print(f"next_ticket_for scanning all 100,000 (contrast) {percentiles(samples)}")


def bench_simulation() -> None:
    started = time.perf_counter()
    result = simulate.run(None, days=None, seed=1, policies=None)
    elapsed = time.perf_counter() - started
    print(f"simulate.run(default scenario, 28 days, 3 policies): {elapsed:.1f} s")
    for row in result["policies"]:
        print(
            f"  {row['policy']:<13} sla {row['sla_attainment']:.4f}  "
            f"mean wait {row['mean_wait_minutes']:6.1f} min  "
            f"p95 {row['p95_wait_minutes']:6.1f} min  "
            f"cv {row['workload_cv']:.3f}  skill match {row['skill_match_rate']:.3f}"
        )


# --- the database-backed service --------------------------------------------------------------

DB_TICKETS = 100_000
DB_ROUTES = 400
DB_PULLS = 400
DB_DECISIONS = 400


def setup_django() -> None:
    """A throw-away data dir and database; tasks go nowhere (the bench calls services itself)."""
    os.environ["EXPEDITER_DATA_DIR"] = tempfile.mkdtemp(prefix="expediter-bench-")
    os.environ["EXPEDITER_TASKS_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    os.environ["EXPEDITER_FAST_HASHER"] = "1"
    os.environ["EXPEDITER_LOG_LEVEL"] = "WARNING"
    os.environ.pop("DATABASE_URL", None)
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    os.environ["DJANGO_SETTINGS_MODULE"] = "expediter.config.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def seed_desk(rng: random.Random) -> dict[str, Any]:
    """500 agents, 30 services, 100,000 open tickets, written with bulk_create."""
    from expediter.routing.models import QueuedTicket
    from expediter.routing.selectors import fallback_due_at
    from expediter.schedules.models import Shift, TimeOff
    from expediter.staff.models import AgentSkill, Skill, Team, TeamMembership, User
    from expediter.tickets.models import Service, ServiceSkill, Ticket, TicketNumber

    team = Team.objects.create(name="Desk")
    skills = Skill.objects.bulk_create(Skill(name=name) for name in SKILLS)
    agents = User.objects.bulk_create(
        User(
            email=f"a{n}@bench.example",
            name=f"Agent {n}",
            role="agent",
            capacity=rng.randint(3, 8),
            password="!",
        )
        for n in range(AGENTS)
    )
    TeamMembership.objects.bulk_create(
        TeamMembership(user=a, team=team, is_primary=True) for a in agents
    )
    AgentSkill.objects.bulk_create(
        AgentSkill(agent=a, skill=skill, level=rng.randint(1, 5))
        for a in agents
        for skill in rng.sample(skills, 4)
    )
    on_duty = "mon-sun 00:00-24:00"
    Shift.objects.bulk_create(
        Shift(
            agent=a, hours=on_duty if rng.random() < 0.8 else "mon-sun 20:00-22:00", time_zone="UTC"
        )
        for a in agents
    )
    TimeOff.objects.bulk_create(
        TimeOff(agent=a, start=NOW - timedelta(hours=2), end=NOW + timedelta(hours=6))
        for a in rng.sample(agents, AGENTS // 20)
    )
    services = Service.objects.bulk_create(Service(name=f"S{n}", team=team) for n in range(30))
    ServiceSkill.objects.bulk_create(
        ServiceSkill(service=service, skill=rng.choice(skills), min_level=rng.randint(1, 3))
        for service in services
    )
    requester = User.objects.create(email="r@bench.example", name="R", password="!")
    tickets = []
    loads = {a.pk: 0 for a in agents}
    targets = {a.pk: rng.randint(0, a.capacity) for a in agents}  # some full, most with room
    for number in range(1, DB_TICKETS + 1):
        created = NOW - timedelta(minutes=rng.uniform(0, 5 * 24 * 60))
        ticket = Ticket(
            number=number,
            subject=f"Ticket {number}",
            priority=rng.choice((1, 2, 3, 3, 4)),
            requester=requester,
            team=team,
            service=rng.choice(services),
            created_at=created,
            updated_at=created,
        )
        owner = rng.choice(agents)
        if loads[owner.pk] < targets[owner.pk]:
            ticket.assignee, ticket.status = owner, "in_progress"
            loads[owner.pk] += 1
        elif rng.random() < 0.15:
            ticket.assignee, ticket.status = owner, "waiting_requester"
        tickets.append(ticket)
    tickets = Ticket.objects.bulk_create(tickets, batch_size=5000)
    TicketNumber.objects.update_or_create(id=1, defaults={"value": DB_TICKETS})
    QueuedTicket.objects.bulk_create(
        (
            QueuedTicket(
                ticket=t,
                team=team,
                service=t.service,
                priority=t.priority,
                due_at=fallback_due_at(t.created_at, t.priority),
                created_at=t.created_at,
                queued_at=t.created_at,
                reason="seeded",
                reason_key="at capacity",
            )
            for t in tickets
            if t.assignee is None
        ),
        batch_size=5000,
    )
    return {"team": team, "services": services, "requester": requester, "agents": agents}


def bench_database(rng: random.Random) -> None:
    setup_django()
    from django.db import connection

    from expediter.core import clock
    from expediter.routing import services as routing
    from expediter.routing.models import QueuedTicket
    from expediter.tickets.models import Ticket

    clock.set_now(NOW)
    started = time.perf_counter()
    desk = seed_desk(rng)
    seeded = time.perf_counter() - started
    print(
        f"\ndatabase ({connection.vendor}): {AGENTS} agents in one team, "
        f"{Ticket.objects.count():,} open tickets, {QueuedTicket.objects.count():,} waiting "
        f"(seeded in {seeded:.1f} s)"
    )
    fresh = Ticket.objects.bulk_create(
        Ticket(
            number=DB_TICKETS + n + 1,
            subject=f"New {n}",
            priority=rng.choice((1, 2, 3, 4)),
            requester=desk["requester"],
            team=desk["team"],
            service=rng.choice(desk["services"]),
            created_at=NOW,
            updated_at=NOW,
        )
        for n in range(DB_ROUTES + DB_DECISIONS)
    )
    gc.collect()  # the seeding's garbage, then what a started worker freezes (see `worker`)
    gc.freeze()
    bench_decisions([t.pk for t in fresh[DB_ROUTES:]])
    Ticket.objects.filter(pk__in=[t.pk for t in fresh[DB_ROUTES:-1]]).delete()  # the sweep's
    counted, fresh = fresh[-1], fresh[:DB_ROUTES]
    outcomes: Counter[str] = Counter()

    def route(ticket_id: int) -> None:
        outcomes[routing.ticket_route(ticket_id=ticket_id).action] += 1

    samples = [timed(partial(route, t.pk)) for t in fresh]
    print(f"ticket_route, 500 agents, 100,000 open  {percentiles(samples)}")
    print(f"  outcomes: {dict(outcomes)}")
    print(f"  queries of one more: {query_counts(partial(route, counted.pk))}")
    bench_pulls(rng, desk["agents"])
    started = time.perf_counter()
    report = routing.routing_sweep()
    print(f"routing_sweep over the desk: {time.perf_counter() - started:.2f} s {report.as_dict()}")
    clock.set_now(None)


def bench_decisions(ticket_ids: list[int]) -> None:
    """The decision alone: what ``ticket_route`` reads and decides before it assigns, rolled back.

    The assignment itself goes through the ticket services (events, SLA
    clocks, notification), which the ``ticket_route`` line includes. The
    team's roster is kept by the process as in a running worker (the first
    decision reads it); the time to read it again, as after a change to the
    team, is printed below.
    """
    from django.db import transaction

    from expediter.routing.selectors.roster import HISTORY, ROSTER, load_team_roster
    from expediter.routing.services.assignment import _decide, _decision_facts
    from expediter.routing.services.locks import lock_ticket
    from expediter.tickets.models import Ticket

    def decide(ticket_id: int) -> None:
        with transaction.atomic(), ROSTER.pinned():  # as ticket_route does
            ticket = lock_ticket(ticket_id)
            assert ticket is not None and ticket.team is not None
            census, facts = _decision_facts(ticket, NOW)
            _decide(facts, census, policy=ticket.team.assignment_policy, now=NOW)
            transaction.set_rollback(True)

    samples = [timed(partial(decide, ticket_id)) for ticket_id in ticket_ids]
    print(f"route decision alone (no assignment)    {percentiles(samples)}")
    team_id = Ticket.objects.filter(pk=ticket_ids[0]).values_list("team_id", flat=True)[0]
    reads = [timed(partial(load_team_roster, team_id, NOW - HISTORY)) for _ in range(20)]
    print(f"  the team's roster read again (after a change) {percentiles(reads)}")


def query_counts(action: Callable[[], object]) -> str:
    """How many statements an action runs, and how many of them it reads before its first write."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        action()
    verbs = [q["sql"].split(None, 1)[0].upper() for q in queries.captured_queries]
    statements = [v for v in verbs if v in ("SELECT", "INSERT", "UPDATE", "DELETE")]
    writes = [n for n, v in enumerate(statements) if v != "SELECT"]
    before = writes[0] if writes else len(statements)
    return f"{len(statements)} statements, {before} reads before the first write"


def bench_pulls(rng: random.Random, agents: list[Any]) -> None:
    """An agent resolves a ticket and pulls the next one; the resolution is not timed."""
    from expediter.routing.selectors import agent_facts
    from expediter.tickets.models import Ticket

    facts = agent_facts(agent_ids=[a.pk for a in agents], at=NOW)
    working = [f.id for f in facts if f.on_duty and not f.on_time_off and f.active > 0]
    samples = []
    pulled: list[int] = []
    for _ in range(DB_PULLS):
        agent_id = rng.choice(working)
        done = Ticket.objects.filter(assignee_id=agent_id, status="in_progress").first()
        if done is not None:
            Ticket.objects.filter(pk=done.pk).update(status="resolved")
        samples.append(timed(partial(_pull_into, pulled, agent_id)))
    print(f"agent_pull from a queue of ~75,000     {percentiles(samples)} ({len(pulled)} pulled)")
    for agent_id in working:  # the first agent who resolves a ticket and pulls another
        done = Ticket.objects.filter(assignee_id=agent_id, status="in_progress").first()
        if done is None:
            continue
        Ticket.objects.filter(pk=done.pk).update(status="resolved")
        before = len(pulled)
        counts = query_counts(partial(_pull_into, pulled, agent_id))
        if len(pulled) > before:
            print(f"  queries of one more: {counts}")
            break


def _pull_into(pulled: list[int], agent_id: int) -> None:
    from expediter.routing import services as routing

    pulled.extend(routing.agent_pull(agent_id=agent_id, limit=1))


def main() -> None:
    rng = random.Random(7)
    services = make_services(rng)
    bench_choose_agent(rng, services)
    bench_queue(rng, services)
    bench_simulation()
    bench_database(rng)


if __name__ == "__main__":
    main()
