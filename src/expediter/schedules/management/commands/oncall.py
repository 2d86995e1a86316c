"""``expediter oncall schedule|layer|override|now``: on-call rotations from the command line.

- ``oncall schedule --name N [--team T] [--time-zone TZ]``
- ``oncall layer --schedule N --start ISO --turn 1w --members a@x,b@x [--restrictions SPEC]``
- ``oncall override --schedule N --email E --start ISO --end ISO [--note TEXT]``
- ``oncall now [--team T]``: who is on call, per schedule
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from expediter.core import clock
from expediter.core.commands import ExpediterCommand
from expediter.schedules import selectors
from expediter.schedules.management.commands._parsing import iso, parse_instant, parse_turn
from expediter.schedules.services import (
    oncall_layer_add,
    oncall_override_add,
    oncall_schedule_create,
)
from expediter.tickets.services.tickets import team_by_name


class Command(ExpediterCommand):
    help = "On-call rotations: `oncall schedule|layer|override|now`"

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        schedule = sub.add_parser("schedule", help="a new on-call schedule")
        schedule.add_argument("--name", required=True)
        schedule.add_argument("--team")
        schedule.add_argument("--time-zone")
        layer = sub.add_parser("layer", help="a rotation on top of the schedule's layers")
        layer.add_argument("--schedule", required=True)
        layer.add_argument("--name", default="")
        layer.add_argument("--start", required=True, help="first handoff, ISO 8601")
        layer.add_argument("--turn", required=True, help="turn length: 12h, 1d, 1w...")
        layer.add_argument("--members", required=True, help="emails in turn order, comma-separated")
        layer.add_argument(
            "--restrictions", default="", help="weekly SPEC, e.g. 'mon-fri 18:00-24:00'"
        )
        override = sub.add_parser("override", help="someone on call in place of the rotation")
        override.add_argument("--schedule", required=True)
        override.add_argument("--email", required=True)
        override.add_argument("--start", required=True)
        override.add_argument("--end", required=True)
        override.add_argument("--note", default="")
        now = sub.add_parser("now", help="who is on call now")
        now.add_argument("--team")

    def run(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "schedule":
            self._schedule(options)
        elif action == "layer":
            self._layer(options)
        elif action == "override":
            self._override(options)
        else:
            self._now(options)

    def _schedule(self, options: dict[str, Any]) -> None:
        team = team_by_name(options["team"])
        schedule = oncall_schedule_create(
            name=options["name"], team=team, time_zone=options["time_zone"]
        )
        self.print_json(
            {
                "id": schedule.pk,
                "name": schedule.name,
                "team": team.name if team else None,
                "time_zone": schedule.time_zone,
            }
        )

    def _layer(self, options: dict[str, Any]) -> None:
        emails = [e for e in (options["members"] or "").split(",") if e.strip()]
        layer = oncall_layer_add(
            schedule=selectors.schedule_by_name(options["schedule"]),
            name=options["name"],
            rotation_start=parse_instant(options["start"], "--start"),
            turn_length=parse_turn(options["turn"]),
            members=[selectors.agent_by_email(e) for e in emails],
            restrictions=options["restrictions"],
        )
        self.print_json(
            {
                "id": layer.pk,
                "schedule": layer.schedule.name,
                "position": layer.position,
                "name": layer.name,
                "turn_hours": layer.turn_length.total_seconds() / 3600,
                "restrictions": layer.restrictions or None,
            }
        )

    def _override(self, options: dict[str, Any]) -> None:
        override = oncall_override_add(
            schedule=selectors.schedule_by_name(options["schedule"]),
            user=selectors.agent_by_email(options["email"]),
            start=parse_instant(options["start"], "--start"),
            end=parse_instant(options["end"], "--end"),
            note=options["note"],
        )
        self.print_json(
            {
                "id": override.pk,
                "schedule": override.schedule.name,
                "user": {"id": override.user.pk, "email": override.user.email},
                "start": iso(override.start),
                "end": iso(override.end),
            }
        )

    def _now(self, options: dict[str, Any]) -> None:
        team = team_by_name(options["team"])
        answers = selectors.oncall_overview(at=clock.now(), team_id=team.pk if team else None)
        self.print_json(
            {
                "on_call": [
                    {
                        "schedule": a.schedule.name,
                        "team": a.schedule.team.name if a.schedule.team else None,
                        "user": None
                        if a.user is None
                        else {"id": a.user.pk, "name": a.user.name, "email": a.user.email},
                        "until": iso(a.until),
                    }
                    for a in answers
                ]
            }
        )
