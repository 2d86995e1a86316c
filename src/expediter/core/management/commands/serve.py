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
            "--workers", type=int, default=int(os.environ.get("EXPEDITER_WEB_WORKERS", "2"))
        )
        parser.add_argument(
            "--threads", type=int, default=int(os.environ.get("EXPEDITER_WEB_THREADS", "4"))
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


def _worker_ready(worker: Any) -> None:
    """Each web process checkpoints SQLite's log from a thread, not in its requests."""
    from expediter.core.sqlite import checkpoints

    checkpoints.start()


def _gunicorn(options: dict[str, Any]) -> None:
    from gunicorn.app.base import BaseApplication

    from expediter.config.wsgi import application

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            config = {
                "bind": f"{options['host']}:{options['port']}",
                "workers": options["workers"],
                "threads": options["threads"],
                "worker_class": "gthread",
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "timeout": 60,
                "graceful_timeout": 10,
                "keepalive": 5,
                "post_worker_init": _worker_ready,
            }
            for key, value in config.items():
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
