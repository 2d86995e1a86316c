"""``expediter calendar add|add-business-time|assign|list``: business calendars."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from typing import Any

from expediter.core.commands import ExpediterCommand
from expediter.core.errors import InvalidInput
from expediter.sla.documents import calendar_document
from expediter.sla.selectors import calendar_list
from expediter.sla.services import (
    CalendarSpec,
    Opening,
    calendar_add_business_time,
    calendar_assign,
    calendar_by_name,
    calendar_create,
    holidays_from_text,
    parse_day,
)


class Command(ExpediterCommand):
    help = (
        "Business calendars: `calendar add --name N --time-zone TZ --hours SPEC "
        "[--country CC[-SUBDIV]] [--holiday YYYY-MM-DD]...`, "
        "`calendar add-business-time --calendar N --start ISO8601 --minutes M`"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create a calendar (JSON answer)")
        add.add_argument("--name", required=True)
        add.add_argument("--time-zone", required=True, dest="time_zone")
        add.add_argument("--hours", required=True, help="e.g. 'mon-fri 09:00-12:00,13:00-17:00'")
        add.add_argument("--country", default="", help="public holidays of CC or CC-SUBDIV")
        add.add_argument("--holiday", action="append", default=[], dest="holidays")
        add.add_argument(
            "--opening",
            action="append",
            default=[],
            dest="openings",
            help="'YYYY-MM-DD HH:MM-HH:MM[,...]': that day's hours instead of the usual ones",
        )
        business = sub.add_parser("add-business-time", help="when N business minutes elapse")
        business.add_argument("--calendar", required=True)
        business.add_argument("--start", required=True)
        business.add_argument("--minutes", required=True, type=int)
        assign = sub.add_parser("assign", help="a team's or organisation's own calendar")
        assign.add_argument("--calendar", help="omit to remove the assignment")
        assign.add_argument("--team")
        assign.add_argument("--organisation")
        sub.add_parser("list", help="every calendar (JSON)")

    def run(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "add":
            calendar = calendar_create(spec=_spec(options))
            self.print_json(calendar_document(calendar))
        elif action == "add-business-time":
            due = calendar_add_business_time(
                calendar_name=options["calendar"],
                start=_instant(options["start"]),
                minutes=options["minutes"],
            )
            self.stdout.write(due.isoformat())
        elif action == "assign":
            self._assign(options)
        else:
            self.print_json([calendar_document(calendar) for calendar in calendar_list()])

    def _assign(self, options: dict[str, Any]) -> None:
        chosen = calendar_by_name(options["calendar"]) if options["calendar"] else None
        calendar_assign(
            calendar_id=chosen.pk if chosen else None,
            team=options["team"],
            organisation=options["organisation"],
        )
        self.print_json(
            {
                "calendar": chosen.name if chosen else None,
                "team": options["team"],
                "organisation": options["organisation"],
            }
        )


def _spec(options: dict[str, Any]) -> CalendarSpec:
    return CalendarSpec(
        name=options["name"],
        time_zone=options["time_zone"],
        hours=options["hours"],
        country=options["country"] or "",
        holidays=holidays_from_text(options["holidays"]),
        openings=tuple(_opening(text) for text in options["openings"]),
    )


def _opening(text: str) -> Opening:
    day, _, hours = text.strip().partition(" ")
    return Opening(date=parse_day(day, field="openings"), hours=hours.strip())


def _instant(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"'{text}' is not an ISO 8601 instant", field="start") from None
