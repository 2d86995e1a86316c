"""``expediter token create --email E``"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from expediter.core.commands import ExpediterCommand
from expediter.core.errors import InvalidInput
from expediter.staff.models import User
from expediter.staff.services import token_create


class Command(ExpediterCommand):
    help = "API tokens: `token create --email E` prints a new token"

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token for a person")
        create.add_argument("--email", required=True)
        create.add_argument("--label", default="")

    def run(self, *args: Any, **options: Any) -> None:
        user = User.objects.with_email(options["email"]).first()
        if user is None:
            raise InvalidInput(f"no user with email {options['email']}", field="email")
        self.stdout.write(token_create(user=user, label=options["label"]))
