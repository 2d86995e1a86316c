"""Background tasks of the SLA engine: they take ids and are safe to run twice."""

from __future__ import annotations

from django_tasks import task

from expediter.sla import services


@task()
def sla_sweep() -> dict[str, int]:
    """Record warnings and breaches due by now (the worker enqueues this every 15 s)."""
    result = services.sla_sweep()
    return {"warnings": result.warnings, "breaches": result.breaches}


@task()
def sla_escalate(clock_ids: list[int], trigger: str) -> int:
    """Run the policies' escalations of clocks the sweep recorded; each clock once."""
    return services.sla_escalate(clock_ids=clock_ids, trigger=trigger)


@task()
def public_holidays_keep_ahead() -> int:
    """Store the coming years' public holidays of every calendar (enqueued daily)."""
    return services.public_holidays_keep_ahead()
