"""``expediter sla policy add|list``, ``sla explain TICKET``, ``sla sweep``, ``sla rebuild``."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from expediter.core.commands import ExpediterCommand
from expediter.core.errors import InvalidInput
from expediter.sla.documents import policy_document
from expediter.sla.explain import sla_explain
from expediter.sla.selectors import policy_list
from expediter.sla.services import PolicySpec, policy_create, sla_rebuild_all, sla_sweep
from expediter.sla.timeline import WAITING_STATUSES


class Command(ExpediterCommand):
    help = (
        "SLA: `sla policy add --name N --calendar C [--priority P] [--service S] "
        "[--organisation O] [--type T] --first-response MIN --resolution MIN "
        "[--next-response MIN]`, `sla explain TICKET`, `sla sweep`, `sla rebuild`"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        policy = sub.add_parser("policy", help="SLA policies")
        policy_sub = policy.add_subparsers(dest="policy_action", required=True)
        add = policy_sub.add_parser("add", help="create a policy (JSON answer)")
        add.add_argument("--name", required=True)
        add.add_argument("--calendar", required=True)
        add.add_argument("--priority", type=int)
        add.add_argument("--service")
        add.add_argument("--organisation")
        add.add_argument("--type", dest="ticket_type")
        add.add_argument("--first-response", type=int, required=True, dest="first_response")
        add.add_argument("--resolution", type=int, required=True)
        add.add_argument("--next-response", type=int, dest="next_response")
        add.add_argument("--warn-percent", type=int, default=80, dest="warn_percent")
        add.add_argument(
            "--pause",
            default=",".join(sorted(WAITING_STATUSES)),
            help="statuses that pause the resolution clock, comma-separated, or 'none'",
        )
        policy_sub.add_parser("list", help="every policy (JSON)")
        explain = sub.add_parser("explain", help="how a ticket's clocks were decided")
        explain.add_argument("ticket", type=int, help="the ticket's number")
        sub.add_parser("sweep", help="record warnings and breaches due now (JSON)")
        rebuild = sub.add_parser("rebuild", help="replay every ticket's clocks (JSON)")
        rebuild.add_argument("--open-only", action="store_true", dest="open_only")

    def run(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "policy":
            self._policy(options)
        elif action == "explain":
            for line in sla_explain(ticket_number=options["ticket"]):
                self.stdout.write(line)
        elif action == "sweep":
            result = sla_sweep()
            self.print_json({"warnings": result.warnings, "breaches": result.breaches})
        else:
            self.print_json({"tickets": sla_rebuild_all(open_only=options["open_only"])})

    def _policy(self, options: dict[str, Any]) -> None:
        if options["policy_action"] == "list":
            self.print_json([policy_document(policy) for policy in policy_list()])
            return
        pauses = _pauses(options["pause"])
        policy = policy_create(
            spec=PolicySpec(
                name=options["name"],
                calendar=options["calendar"],
                priority=options["priority"],
                service=options["service"],
                organisation=options["organisation"],
                ticket_type=options["ticket_type"],
                first_response_minutes=options["first_response"],
                resolution_minutes=options["resolution"],
                next_response_minutes=options["next_response"],
                warn_percent=options["warn_percent"] or None,
                pause_when_waiting_requester="waiting_requester" in pauses,
                pause_when_waiting_third_party="waiting_third_party" in pauses,
            )
        )
        self.print_json(policy_document(policy))


def _pauses(text: str) -> set[str]:
    chosen = {part.strip() for part in text.split(",") if part.strip()} - {"none"}
    unknown = chosen - WAITING_STATUSES
    if unknown:
        raise InvalidInput(
            f"only {', '.join(sorted(WAITING_STATUSES))} can pause the resolution clock",
            field="pause",
        )
    return chosen
