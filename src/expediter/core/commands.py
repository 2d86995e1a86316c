"""A base for our management commands: domain errors become one-line failures."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from expediter.core.errors import DomainError


class ExpediterCommand(BaseCommand):
    """Runs ``run()``; a refused rule exits non-zero with its message on stderr."""

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self.run(*args, **options)
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

    def run(self, *args: Any, **options: Any) -> None:
        raise NotImplementedError

    def print_json(self, document: Any) -> None:
        """Exactly one JSON document on stdout."""
        self.stdout.write(json.dumps(document, ensure_ascii=False))
