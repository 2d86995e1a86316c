"""``expediter simulate [--days D] [--seed N] [--policies a,b] [--scenario FILE]``"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from expediter.core.commands import ExpediterCommand
from expediter.routing import simulate


class Command(ExpediterCommand):
    help = "Compare assignment policies on a simulated desk (the real routing engine)"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--days", type=int)
        parser.add_argument("--seed", type=int)
        parser.add_argument("--policies", help="comma-separated, e.g. skills,round_robin")
        parser.add_argument("--scenario", help="a JSON scenario file (see the contract)")

    def run(self, *args: Any, **options: Any) -> None:
        policies = None
        if options["policies"] is not None:
            policies = [p.strip() for p in options["policies"].split(",") if p.strip()]
        result = simulate.run(
            _scenario(options["scenario"]),
            days=options["days"],
            seed=options["seed"],
            policies=policies,
        )
        self.print_json(result)


def _scenario(path: str | None) -> dict[str, Any] | None:
    """The scenario file's document; a missing or malformed file is a one-line refusal."""
    if path is None:
        return None
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"--scenario: cannot read {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise ValueError(
            f"--scenario: {path} is not JSON ({error.msg}, line {error.lineno})"
        ) from None
    if not isinstance(document, dict):
        raise ValueError("--scenario: the document must be a JSON object")
    return document
