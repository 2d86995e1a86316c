"""``expediter service add --name N [--team T] [--skills net:3,...]``"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from expediter.core.commands import ExpediterCommand
from expediter.staff.services import parse_skills
from expediter.tickets.services.catalogue import service_save


class Command(ExpediterCommand):
    help = "Services (categories): `service add --name N [--team T] [--skills net:3]`"

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add")
        add.add_argument("--name", required=True)
        add.add_argument("--team")
        add.add_argument("--skills")
        add.add_argument("--description", default="")

    def run(self, *args: Any, **options: Any) -> None:
        skills = parse_skills(options["skills"]) if options["skills"] is not None else None
        service = service_save(
            name=options["name"],
            team=options["team"],
            skills=skills,
            description=options["description"],
        )
        self.print_json(
            {
                "id": service.pk,
                "name": service.name,
                "team": service.team.name if service.team else None,
                "skills": {
                    r.skill.name: r.min_level
                    for r in service.required_skills.select_related("skill")
                },
            }
        )
