"""``expediter demo``: load the demo desk (does nothing if the desk is not empty)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from expediter.core.commands import ExpediterCommand
from expediter.demo.builder import PASSWORD, build_demo, desk_is_empty


class Command(ExpediterCommand):
    help = "Load a believable demo desk (only into an empty database)"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--tickets", type=int, default=300)

    def run(self, *args: Any, **options: Any) -> None:
        if not desk_is_empty():
            self.stdout.write("The desk is not empty: demo data not loaded.")
            return
        summary = build_demo(tickets=options["tickets"])
        self.stdout.write(
            f"Demo desk loaded: {summary.agents} teams of agents, {summary.requesters} requesters, "
            f"{summary.tickets} tickets. Sign in as admin@demo.example, lead@demo.example, "
            f"agent@demo.example or requester@demo.example with password '{PASSWORD}'."
        )
