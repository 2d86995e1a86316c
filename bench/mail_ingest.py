"""Throughput of mail intake: the corpus through ``expediter mail import`` on SQLite.

Writes the shared corpus (and, separately, its simple one-part text/plain
messages) to temporary Maildirs, then imports each into a fresh desk (new
data dir, migrated SQLite database) with the real command, in a child
process: raw bytes stored and synced, parsed, classified, threaded, tickets
created, acknowledgements queued, tasks enqueued. Prints messages per second
(wall clock, and CPU time of the importing process, steadier on a shared
machine) and sets them against parsing the same messages with the standard
library alone (``email`` with ``policy.default``).

Both are measured the same way, in three rounds of one standard-library
pass then one import (each into a fresh desk), and each figure is the least
disturbed of the three: a shared machine slows some runs down by half, and
a single run of one side set against the best of the other would measure
that. The ratio of each round is printed too, as a range.

What a process loads once (the command, the URL map that sign-in links are
built from, the mail templates) is loaded before the clock starts and
printed apart as start-up: a worker or a long import pays it once.
Run: ``.venv/bin/python bench/mail_ingest.py``.
"""

from __future__ import annotations

import codecs
import contextlib
import email
import io
import json
import mailbox
import os
import subprocess
import sys
import tempfile
import time
from email import policy
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "mail"
NOT_MAIL = frozenset({".json", ".jsonl", ".tsv", ".md", ".yml", ".ics"})
ROUNDS = 3


def corpus_messages() -> list[bytes]:
    paths = [
        path
        for path in sorted(CORPUS.rglob("*"))
        if path.is_file()
        and path.suffix not in NOT_MAIL
        and not path.name.startswith(("LICENSE", "COPYING", "NOTICE", "README"))
        and ("reply_stripping" not in path.parts or path.suffix == ".eml")
    ]
    return [path.read_bytes() for path in paths]


def is_simple(raw: bytes) -> bool:
    message = email.message_from_bytes(raw, policy=policy.default)
    return not message.is_multipart() and message.get_content_type() == "text/plain"


def stdlib_parse(messages: list[bytes]) -> None:
    """Parsing alone with the standard library: the floor any intake stands on."""
    for raw in messages:
        message = email.message_from_bytes(raw, policy=policy.default)
        for part in message.walk():
            if part.is_multipart():
                continue
            with contextlib.suppress(LookupError, KeyError, ValueError, AssertionError):
                part.get_content()  # type: ignore[attr-defined]


def stdlib_seconds(messages: list[bytes]) -> tuple[float, float]:
    """``(wall, cpu)`` seconds of one pass of the standard library over ``messages``."""
    wall, cpu = time.perf_counter(), time.process_time()
    stdlib_parse(messages)
    return time.perf_counter() - wall, time.process_time() - cpu


def write_maildir(folder: Path, messages: list[bytes]) -> Path:
    box = mailbox.Maildir(folder, create=True)
    for raw in messages:
        box.add(raw)
    return folder


def import_in_fresh_desk(maildir: Path) -> dict[str, object]:
    """Migrate a new desk, then time ``mail import`` alone (in a child process)."""
    with tempfile.TemporaryDirectory(prefix="expediter-bench-") as data_dir:
        env = os.environ | {
            "EXPEDITER_DATA_DIR": data_dir,
            "DJANGO_SETTINGS_MODULE": "expediter.config.settings",
        }
        env.pop("DATABASE_URL", None)
        output = subprocess.run(
            [sys.executable, __file__, "--child", str(maildir)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    figures: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return figures


def child(maildir: str) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    warm_up()
    startup = time.perf_counter() - started
    out = io.StringIO()
    wall, cpu = time.perf_counter(), time.process_time()
    call_command("mail", "import", maildir, "--json", stdout=out)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"wall": wall, "cpu": cpu, "startup": startup, **json.loads(out.getvalue())}))


def warm_up() -> None:
    """Load what a process loads once: the command, the URL map, the mail templates.

    Also, for each language, the translation catalogues and the URL map
    Django keeps per language (acknowledgements go out in the requester's
    language), the parser's lazily imported modules (the charset guesser
    among them), by parsing one message that is not part of the run, the
    codecs the guesser may try, the patterns that check a sender's
    address, and the settings a process keeps (SLA policies, priority
    matrix).
    """
    from charset_normalizer.constant import IANA_SUPPORTED
    from django.conf import settings
    from django.core.management import call_command
    from django.core.validators import validate_email
    from django.template.loader import get_template
    from django.urls import get_resolver, reverse
    from django.utils import translation

    from expediter.mail.parsing.message import parse_message
    from expediter.sla.services.clocks import policy_catalogue
    from expediter.tickets.services.tickets import matrix_priority

    with tempfile.TemporaryDirectory(prefix="expediter-empty-") as empty:
        folder = Path(empty) / "Maildir"
        mailbox.Maildir(folder, create=True)
        call_command("mail", "import", str(folder), "--json", stdout=io.StringIO())
    get_resolver().url_patterns  # noqa: B018 - imports every view and the API
    templates = [get_template(f"mail/acknowledgement.{kind}") for kind in ("txt", "html")]
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            reverse("web:magic_login", args=["warm-up"])
            for template in templates:
                template.render({"name": "", "number": 1, "subject": "", "link": ""})
    parse_message(
        b"From: Warm Up <warm@up.example>\r\nTo: desk@up.example\r\nSubject: warm-up\r\n"
        b"Message-ID: <warm-up@up.example>\r\nContent-Type: text/html; charset=latin-1\r\n"
        b"\r\n<p>caf\xe9</p>\r\n"
    )
    # Headers in undeclared Shift_JIS and Latin-1: the charset guesser loads on its first
    # guess, and fills its tables for a script on its first guess in it (25 ms for Latin-1).
    for undeclared in ("会議室の予約、明日".encode("shift_jis"), "Håvard".encode("latin-1")):
        parse_message(b"From: warm@up.example\r\nSubject: " + undeclared + b"\r\n\r\nwarm-up\r\n")
    # Every codec the guesser may try: Python imports each on its first use (a
    # mislabelled message's first guess imported 19 of them, 30 ms).
    for codec in IANA_SUPPORTED:
        codecs.lookup(codec)
    validate_email("warm@up.example")  # compiles the address patterns on first use
    # What a process reads once and keeps until an administrator changes it: the SLA
    # policies and the priority matrix (the first ticket of a process read them, 6 ms).
    policy_catalogue()
    matrix_priority(3, 3)


def report(label: str, messages: list[bytes], root: Path) -> None:
    maildir = write_maildir(root / label.replace(" ", "-").replace("/", "-"), messages)
    stdlib: list[tuple[float, float]] = []
    imports: list[dict[str, object]] = []
    for _ in range(ROUNDS):
        stdlib.append(stdlib_seconds(messages))
        imports.append(import_in_fresh_desk(maildir))
    walls = [float(f["wall"]) for f in imports]  # type: ignore[arg-type]
    cpus = [float(f["cpu"]) for f in imports]  # type: ignore[arg-type]
    figures = imports[walls.index(min(walls))]
    wall, cpu, startup = min(walls), min(cpus), float(figures["startup"])  # type: ignore[arg-type]
    stdlib_wall, stdlib_cpu = min(w for w, _ in stdlib), min(c for _, c in stdlib)
    rounds = [w / s for w, (s, _) in zip(walls, stdlib, strict=True)]
    n = len(messages)
    counts = ", ".join(
        f"{figures[k]} {k}" for k in ("created", "appended", "ignored", "quarantined")
    )
    print(
        f"{label:<22} {n:>5} messages  mail import {n / wall:5.0f} msg/s (cpu {n / cpu:4.0f})"
        f"  stdlib parse {stdlib_wall:5.2f} s, {n / stdlib_wall:5.0f} msg/s"
        f" (cpu {n / stdlib_cpu:4.0f})"
        f"  time ratio import/stdlib {wall / stdlib_wall:5.2f} (cpu {cpu / stdlib_cpu:4.2f};"
        f" rounds {min(rounds):.2f} to {max(rounds):.2f})"
        f"  start-up {startup:.1f} s  ({counts})",
        flush=True,
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return
    if not CORPUS.is_dir():
        sys.exit(f"corpus not found at {CORPUS}")
    messages = corpus_messages()
    with tempfile.TemporaryDirectory(prefix="expediter-maildirs-") as root:
        report("whole corpus", messages, Path(root))
        report("one-part text/plain", [m for m in messages if is_simple(m)], Path(root))


if __name__ == "__main__":
    main()
