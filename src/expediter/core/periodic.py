"""Periodic jobs for the worker (the task backend has no scheduler of its own).

Apps register jobs in ``AppConfig.ready``. Every worker ticks; a job is
claimed with a conditional UPDATE on its row, so with several workers each
due run is enqueued once. The tasks themselves must still be idempotent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from expediter.core import clock

logger = logging.getLogger("expediter.worker")


@dataclass(frozen=True)
class Job:
    name: str
    every: dt.timedelta
    enqueue: Callable[[], object]


_jobs: dict[str, Job] = {}


def register(name: str, *, every_seconds: float, enqueue: Callable[[], object]) -> None:
    _jobs[name] = Job(name=name, every=dt.timedelta(seconds=every_seconds), enqueue=enqueue)


def registered() -> list[Job]:
    return sorted(_jobs.values(), key=lambda job: job.name)


def _claim(job: Job, now: dt.datetime) -> bool:
    from expediter.core.models import PeriodicJob

    try:
        with transaction.atomic():
            PeriodicJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    except IntegrityError:
        pass
    claimed = PeriodicJob.objects.filter(name=job.name, next_run_at__lte=now).update(
        next_run_at=now + job.every, last_run_at=now
    )
    return claimed == 1


def tick() -> list[str]:
    """Enqueue every job that is due and not already claimed; return their names."""
    now = clock.now()
    started = []
    for job in registered():
        if _claim(job, now):
            job.enqueue()
            started.append(job.name)
    return started
