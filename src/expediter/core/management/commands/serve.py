"""``expediter serve``: the production web server, with a worker unless ``--no-worker``."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command

from expediter.core.commands import ExpediterCommand
from expediter.core.tasks import database_optimize


class Command(ExpediterCommand):
    help = "Serve pages and API with gunicorn; a background worker runs alongside"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("EXPEDITER_WEB_WORKERS") or max(2, os.cpu_count() or 1)),
            help="web processes (default: one per core, at least 2)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("EXPEDITER_WEB_THREADS", "1")),
            help="threads per web process; 1 (the default) runs gunicorn's synchronous workers",
        )
        parser.add_argument("--no-worker", action="store_true", help="do not start a worker")

    def run(self, *args: Any, **options: Any) -> None:
        call_command("collectstatic", interactive=False, verbosity=0)
        database_optimize()
        worker = None
        if not options["no_worker"]:
            worker = subprocess.Popen([sys.executable, "-m", "expediter", "worker"])
        try:
            _gunicorn(options)
        finally:
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()


def gunicorn_config(options: dict[str, Any]) -> dict[str, Any]:
    """How gunicorn runs: synchronous workers unless more than one thread is asked for.

    A synchronous worker runs one request at a time, and the kernel hands the
    next connection to whichever process is free. Threads in one process take
    turns on Python's global lock instead: on SQLite a thread that holds the
    write lock then waits for the lock of Python behind its neighbours, and
    every writer of the desk waits with it. With two cores, eight clients
    created half again as many tickets per second with two synchronous
    processes as with two processes of four threads.

    A synchronous worker stays busy while a slow client sends or reads, so it
    wants a buffering proxy in front (which a desk reached over HTTPS has
    anyway); ``--threads 4`` suits a server exposed without one.
    """
    config: dict[str, Any] = {
        "bind": f"{options['host']}:{options['port']}",
        "workers": options["workers"],
        "worker_class": "sync",
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "timeout": 60,
        "graceful_timeout": 10,
        "post_worker_init": _worker_ready,
    }
    if options["threads"] > 1:
        config.update(worker_class="gthread", threads=options["threads"], keepalive=5)
    return config


def _worker_ready(worker: Any) -> None:
    """Each web process checkpoints SQLite's log from a thread, not in its requests."""
    from expediter.core.sqlite import checkpoints

    checkpoints.start()


def _gunicorn(options: dict[str, Any]) -> None:
    from gunicorn.app.base import BaseApplication

    from expediter.config.wsgi import application

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in gunicorn_config(options).items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    # The application is loaded: move its objects out of the collector's sight
    # before the workers fork. Full collections then scan only what requests
    # create (shorter pauses in the latency tail), and never write to the pages
    # the workers share with this process.
    gc.collect()
    gc.freeze()
    Server().run()
