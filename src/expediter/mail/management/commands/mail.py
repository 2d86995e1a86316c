"""``expediter mail ingest|import|retry|poll|rekey``: the mail channel's command line.

``ingest`` is what an MTA pipes each message into; it exits 0 whenever the
message was stored, and 75 (EX_TEMPFAIL, "try again later" to sendmail and
Postfix) when it could not store it, so the MTA keeps the message queued.
``rekey`` names mailboxes, never prints a secret, and fails while any
mailbox's secrets cannot be decrypted, so a script can tell when the old key
may go.
"""

from __future__ import annotations

import gc
import sys
from argparse import ArgumentParser
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from expediter.core.commands import ExpediterCommand
from expediter.core.secrets import key_source
from expediter.mail.models import InboundSource
from expediter.mail.services import inbound_retry_pending, mail_import, mail_receive
from expediter.mail.services.mailboxes import mailbox_secrets_reencrypt
from expediter.mail.transports import files, pipe
from expediter.mail.transports.imap import poll_due_mailboxes

EX_TEMPFAIL = 75
STATUSES = ("created", "appended", "ignored", "quarantined")


class Command(ExpediterCommand):
    help = "Mail intake: ingest one message, import a Maildir or mbox, retry, poll IMAP"

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        ingest = commands.add_parser("ingest", help="read one message from FILE or stdin")
        ingest.add_argument("file", nargs="?", default="-")
        imported = commands.add_parser("import", help="import every message of a Maildir or mbox")
        imported.add_argument("path")
        imported.add_argument("--json", action="store_true", help="print the summary as JSON")
        commands.add_parser("retry", help="process stored messages left unprocessed")
        commands.add_parser("poll", help="poll every active IMAP mailbox now")
        commands.add_parser(
            "rekey", help="encrypt every mailbox's secrets again with the first key"
        )

    def run(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "ingest":
            self._ingest(options["file"])
        elif action == "import":
            self._import(Path(options["path"]), as_json=options["json"])
        elif action == "retry":
            results = inbound_retry_pending()
            self.print_json(_summary(Counter(r.status for r in results), total=len(results)))
        elif action == "rekey":
            self._rekey()
        else:
            self.print_json({"polled": poll_due_mailboxes(force=True)})

    def _ingest(self, source: str) -> None:
        try:
            raw = pipe.read_message(source)
        except OSError as error:
            raise CommandError(f"cannot read {source}: {error}") from error
        try:
            result = mail_receive(raw=raw, source=InboundSource.PIPE, source_detail=source)
        except Exception as error:  # not stored: the MTA must keep it and try again
            raise CommandError(
                f"the message could not be stored: {error}", returncode=EX_TEMPFAIL
            ) from error
        self.print_json(result.as_json())

    def _rekey(self) -> None:
        result = mailbox_secrets_reencrypt()
        self.print_json({"reencrypted": result.mailboxes, "unreadable": result.unreadable})
        if result.unreadable:
            raise CommandError(
                f"the secrets of {', '.join(result.unreadable)} cannot be decrypted with the "
                f"configured keys ({key_source()}): put back the key they were encrypted "
                f"with, or enter them again in the administration"
            )

    def _import(self, path: Path, *, as_json: bool) -> None:
        try:
            store = files.open_store(path)
        except files.NotAMailStore as error:
            raise CommandError(str(error)) from error
        total = files.store_size(store)
        counts: Counter[str] = Counter()
        progress = _Progress(total) if sys.stderr.isatty() else None
        messages = ((f"{path.name}:{key}", raw) for key, raw in files.raw_messages(store))
        # What is loaded by now lives as long as the process: out of the collector's sight,
        # a full collection during a long import scans only what the import keeps (one such
        # scan of the loaded application took 120 ms on a 2-core machine).
        gc.freeze()
        for result in mail_import(messages=messages, source=InboundSource.IMPORT):
            counts[result.status] += 1
            counts["already_received"] += int(result.duplicate)
            if progress is not None:
                progress.advance()
        if progress is not None:
            progress.finish()
        summary = _summary(counts, total=total)
        if as_json:
            self.print_json(summary)
        else:
            self.stdout.write(_sentence(summary, path))


def _summary(counts: Counter[str], *, total: int) -> dict[str, int]:
    return {
        "messages": total,
        **{status: counts.get(status, 0) for status in STATUSES},
        "already_received": counts.get("already_received", 0),
    }


def _sentence(summary: dict[str, int], path: Path) -> str:
    parts = ", ".join(f"{summary[status]} {status}" for status in STATUSES)
    again = summary["already_received"]
    tail = f" ({again} already received)" if again else ""
    return f"{path}: {summary['messages']} messages: {parts}{tail}"


class _Progress:
    """A one-line progress bar on a terminal."""

    WIDTH = 30

    def __init__(self, total: int) -> None:
        self.total = max(total, 1)
        self.done = 0

    def advance(self) -> None:
        self.done += 1
        if self.done % 10 and self.done != self.total:
            return
        filled = self.WIDTH * self.done // self.total
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        sys.stderr.write(f"\r[{bar}] {self.done}/{self.total}")
        sys.stderr.flush()

    def finish(self) -> None:
        sys.stderr.write("\n")
