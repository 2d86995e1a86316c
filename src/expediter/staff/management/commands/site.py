"""``expediter site add --name N --lat LAT --lon LON [--address TEXT]``"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from expediter.core.commands import ExpediterCommand
from expediter.staff.services import site_create


class Command(ExpediterCommand):
    help = "Places: `site add --name N --lat LAT --lon LON`"

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add")
        add.add_argument("--name", required=True)
        add.add_argument("--lat", type=float, required=True)
        add.add_argument("--lon", type=float, required=True)
        add.add_argument("--address", default="")

    def run(self, *args: Any, **options: Any) -> None:
        site = site_create(
            name=options["name"],
            latitude=options["lat"],
            longitude=options["lon"],
            address=options["address"],
        )
        self.print_json(
            {
                "id": site.pk,
                "name": site.name,
                "lat": site.latitude,
                "lon": site.longitude,
                "address": site.address,
            }
        )
