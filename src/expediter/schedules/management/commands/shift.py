"""``expediter shift add --email E --hours SPEC [--time-zone TZ] [--from DATE] [--until DATE]``"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from expediter.core.commands import ExpediterCommand
from expediter.schedules.management.commands._parsing import parse_date
from expediter.schedules.selectors import agent_by_email
from expediter.schedules.services import shift_add


class Command(ExpediterCommand):
    help = "Shifts: `shift add --email E --hours SPEC` adds a recurring working pattern"

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="a recurring weekly working pattern for an agent")
        add.add_argument("--email", required=True)
        add.add_argument("--hours", required=True, help="e.g. 'mon-fri 08:00-12:00,13:00-17:00'")
        add.add_argument("--time-zone", help="default: the agent's, else the desk's")
        add.add_argument("--from", dest="valid_from", help="first day, YYYY-MM-DD")
        add.add_argument("--until", dest="valid_until", help="last day, YYYY-MM-DD")

    def run(self, *args: Any, **options: Any) -> None:
        valid_from = parse_date(options["valid_from"], "--from")
        valid_until = parse_date(options["valid_until"], "--until")
        shift = shift_add(
            agent=agent_by_email(options["email"]),
            hours=options["hours"],
            time_zone=options["time_zone"],
            valid_from=valid_from,
            valid_until=valid_until,
        )
        self.print_json(
            {
                "id": shift.pk,
                "agent": {"id": shift.agent.pk, "email": shift.agent.email},
                "hours": shift.hours,
                "time_zone": shift.time_zone,
                "valid_from": valid_from.isoformat() if valid_from else None,
                "valid_until": valid_until.isoformat() if valid_until else None,
            }
        )
