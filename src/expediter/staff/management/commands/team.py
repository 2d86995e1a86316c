"""``expediter team policy --team T --policy skills|least_loaded|round_robin|manual``"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from expediter.core.commands import ExpediterCommand
from expediter.staff.models import AssignmentPolicy
from expediter.staff.services import team_set_policy


class Command(ExpediterCommand):
    help = "Teams: `team policy --team T --policy P` sets how tickets are assigned"

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        policy = sub.add_parser("policy")
        policy.add_argument("--team", required=True)
        policy.add_argument("--policy", required=True, choices=AssignmentPolicy.values)

    def run(self, *args: Any, **options: Any) -> None:
        team = team_set_policy(team_name=options["team"], policy=options["policy"])
        self.print_json({"team": team.name, "policy": team.assignment_policy})
