"""``expediter user add ...``"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from expediter.core.commands import ExpediterCommand
from expediter.staff.services import parse_skills, user_create


class Command(ExpediterCommand):
    help = "Manage people: `user add --email E --name N --role R ...`"

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create a person")
        add.add_argument("--email", required=True)
        add.add_argument("--name", required=True)
        add.add_argument(
            "--role", default="requester", choices=["requester", "agent", "lead", "admin"]
        )
        add.add_argument("--team", action="append", default=[])
        add.add_argument("--skills", default="")
        add.add_argument("--capacity", type=int)
        add.add_argument("--phone", default="")
        add.add_argument("--organisation")
        add.add_argument("--site")
        add.add_argument("--language", default="en", choices=["en", "fr"])
        add.add_argument("--password")
        add.add_argument("--time-zone", default="")

    def run(self, *args: Any, **options: Any) -> None:
        user = user_create(
            email=options["email"],
            name=options["name"],
            role=options["role"],
            teams=options["team"],
            skills=parse_skills(options["skills"]),
            capacity=options["capacity"],
            phone=options["phone"],
            organisation=options["organisation"],
            site=options["site"],
            language=options["language"],
            password=options["password"],
            time_zone=options["time_zone"],
        )
        self.print_json({"id": user.pk, "email": user.email})
