"""``expediter smtpd [--host H] [--port 2525] [--lmtp] [--domain D]...``: receive mail."""

from __future__ import annotations

import signal
import threading
from argparse import ArgumentParser
from typing import Any

from expediter.core.commands import ExpediterCommand
from expediter.mail.transports.smtpd import receiver


class Command(ExpediterCommand):
    help = "Receive mail over SMTP (or LMTP) and hand each message to the intake"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)
        parser.add_argument("--lmtp", action="store_true", help="speak LMTP instead of SMTP")
        parser.add_argument(
            "--domain",
            action="append",
            default=None,
            help="accept mail for this domain (repeatable; default: the desk's own domains)",
        )

    def run(self, *args: Any, **options: Any) -> None:
        controller = receiver(
            host=options["host"],
            port=options["port"],
            lmtp=options["lmtp"],
            domains=options["domain"],
        )
        controller.start()
        protocol = "LMTP" if options["lmtp"] else "SMTP"
        self.stderr.write(f"{protocol} receiver on {options['host']}:{options['port']}")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
