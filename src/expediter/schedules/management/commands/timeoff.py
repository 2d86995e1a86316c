"""``expediter timeoff add --email E --start ISO8601 --end ISO8601 [--reason TEXT]``"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from expediter.core.commands import ExpediterCommand
from expediter.schedules.management.commands._parsing import iso, parse_instant
from expediter.schedules.models import TimeOffKind
from expediter.schedules.selectors import agent_by_email
from expediter.schedules.services import timeoff_add


class Command(ExpediterCommand):
    help = "Time off: `timeoff add --email E --start ISO --end ISO` records approved time off"

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="approved time off (no request step)")
        add.add_argument("--email", required=True)
        add.add_argument("--start", required=True, help="ISO 8601; the desk's zone if no offset")
        add.add_argument("--end", required=True, help="ISO 8601; the desk's zone if no offset")
        add.add_argument("--reason", default="")
        add.add_argument("--kind", default=TimeOffKind.VACATION, choices=TimeOffKind.values)

    def run(self, *args: Any, **options: Any) -> None:
        start = parse_instant(options["start"], "--start")
        end = parse_instant(options["end"], "--end")
        time_off = timeoff_add(
            agent=agent_by_email(options["email"]),
            start=start,
            end=end,
            reason=options["reason"],
            kind=options["kind"],
        )
        self.print_json(
            {
                "id": time_off.pk,
                "agent": {"id": time_off.agent.pk, "email": time_off.agent.email},
                "start": iso(time_off.start),
                "end": iso(time_off.end),
                "kind": time_off.kind,
                "reason": time_off.reason,
                "status": time_off.status,
            }
        )
