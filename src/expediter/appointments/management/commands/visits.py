"""``expediter visits plan --date YYYY-MM-DD --team T [--time-limit SECONDS]``"""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from typing import Any

from expediter.appointments.planner import DEFAULT_TIME_LIMIT_SECONDS
from expediter.appointments.selectors import desk_zone
from expediter.appointments.services import AgentRoute, VisitPlan, visits_plan
from expediter.core.commands import ExpediterCommand
from expediter.core.errors import InvalidInput


class Command(ExpediterCommand):
    help = "On-site visits: `visits plan --date YYYY-MM-DD --team T` books a day's routes"
    # The system checks import every URL and API module: seconds a scheduled plan can spare.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        plan = sub.add_parser("plan", help="plan the team's waiting visits of a day")
        plan.add_argument("--date", required=True, help="the local day, YYYY-MM-DD")
        plan.add_argument("--team", required=True)
        plan.add_argument(
            "--time-limit",
            type=float,
            default=DEFAULT_TIME_LIMIT_SECONDS,
            help="seconds the route search may take",
        )

    def run(self, *args: Any, **options: Any) -> None:
        try:
            date = dt.date.fromisoformat(options["date"])
        except ValueError:
            raise InvalidInput(
                f"'{options['date']}' is not a YYYY-MM-DD date", field="date"
            ) from None
        if options["time_limit"] <= 0:
            raise InvalidInput("--time-limit must be positive", field="time_limit")
        plan = visits_plan(
            date=date, team_name=options["team"], time_limit_seconds=options["time_limit"]
        )
        self.print_json(plan_document(plan))


def plan_document(plan: VisitPlan) -> dict[str, Any]:
    """The contract's JSON: routes with their stops, and the visits left out with why."""
    return {
        "routes": [_route(route) for route in plan.routes],
        "unplanned": [{"visit": u.visit_id, "reason": u.reason} for u in plan.unplanned],
    }


def _route(route: AgentRoute) -> dict[str, Any]:
    return {
        "agent": {"id": route.agent.pk, "name": route.agent.name},
        "stops": [
            {
                "visit": stop.visit_id,
                "ticket": stop.appointment.ticket_id,
                "site": stop.appointment.site_id,
                "start": _iso(stop.appointment.start),
                "end": _iso(stop.appointment.end),
            }
            for stop in route.stops
        ],
        "travel_minutes": route.travel_minutes,
    }


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(desk_zone()).replace(microsecond=0).isoformat()
