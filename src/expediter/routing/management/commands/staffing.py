"""``expediter staffing --arrivals-per-hour L --handle-minutes H --answer-within-minutes T
--target F [--shrinkage S]``: the fewest agents (Erlang C) meeting a service level."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from expediter.core.commands import ExpediterCommand
from expediter.routing.staffing import required_agents


class Command(ExpediterCommand):
    help = "Erlang C: how many agents answer the share F of requests within T minutes"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--arrivals-per-hour", type=float, required=True)
        parser.add_argument("--handle-minutes", type=float, required=True)
        parser.add_argument("--answer-within-minutes", type=float, required=True)
        parser.add_argument("--target", type=float, required=True, help="a fraction, e.g. 0.8")
        parser.add_argument("--shrinkage", type=float, default=0.0, help="a fraction, e.g. 0.3")

    def run(self, *args: Any, **options: Any) -> None:
        result = required_agents(
            arrivals_per_hour=options["arrivals_per_hour"],
            handle_minutes=options["handle_minutes"],
            answer_within_minutes=options["answer_within_minutes"],
            target=options["target"],
            shrinkage=options["shrinkage"],
        )
        self.print_json(result.as_dict())
