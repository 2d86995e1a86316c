"""``expediter worker``: runs background tasks and schedules periodic jobs."""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from argparse import ArgumentParser
from typing import Any

from django.db import close_old_connections
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from expediter.core import periodic
from expediter.core.commands import ExpediterCommand

logger = logging.getLogger("expediter.worker")


def _schedule_forever(stop: threading.Event, interval: float) -> None:
    while not stop.is_set():
        try:
            periodic.tick()
        except Exception:  # a bad tick must not kill the scheduler; log and go on
            logger.exception("periodic tick failed")
        finally:
            close_old_connections()
        stop.wait(interval)


class Command(ExpediterCommand):
    help = "Run background tasks (mail, SLA sweeps, assignment); several may run at once"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
        parser.add_argument("--batch", action="store_true", help="run what is queued, then exit")
        parser.add_argument(
            "--no-schedule", action="store_true", help="do not enqueue periodic jobs"
        )

    def run(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        if options["batch"]:
            if not options["no_schedule"]:
                periodic.tick()
        elif not options["no_schedule"]:
            threading.Thread(
                target=_schedule_forever, args=(stop, 5.0), daemon=True, name="scheduler"
            ).start()
        worker = Worker(
            queue_names=["*"],
            interval=options["interval"],
            batch=options["batch"],
            backend_name="default",
            startup_delay=not options["batch"],
            max_tasks=None,
            worker_id=f"{os.getpid()}-{get_random_string(12)}",
            excluded_queue_names=[],
        )
        if not options["batch"]:
            worker.configure_signals()
        # What is loaded by now lives as long as the process: out of the collector's sight,
        # full collections scan only what tasks create (shorter pauses, as in `serve`).
        gc.collect()
        gc.freeze()
        try:
            worker.run()
        finally:
            stop.set()
            time.sleep(0)
