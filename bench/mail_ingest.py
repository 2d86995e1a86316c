"""Throughput of mail intake: the corpus through ``expediter mail import`` on SQLite.

Writes the shared corpus (and, separately, its simple one-part text/plain
messages) to temporary Maildirs, then imports each into a fresh desk (new
data dir, migrated SQLite database) with the real command: raw bytes stored
and synced, parsed, classified, threaded, tickets created, acknowledgements
queued. Prints messages per second, and the time against parsing the same
messages with the standard library alone (``email`` with ``policy.default``).
Run: ``.venv/bin/python bench/mail_ingest.py``.
"""

from __future__ import annotations

import contextlib
import email
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


def stdlib_seconds(messages: list[bytes]) -> float:
    """Parsing alone with the standard library: the floor any intake stands on."""
    started = time.perf_counter()
    for raw in messages:
        message = email.message_from_bytes(raw, policy=policy.default)
        for part in message.walk():
            if part.is_multipart():
                continue
            with contextlib.suppress(LookupError, KeyError, ValueError, AssertionError):
                part.get_content()  # type: ignore[attr-defined]
    return time.perf_counter() - started


def write_maildir(folder: Path, messages: list[bytes]) -> Path:
    box = mailbox.Maildir(folder, create=True)
    for raw in messages:
        box.add(raw)
    return folder


def import_in_fresh_desk(maildir: Path) -> tuple[float, dict[str, int]]:
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
    seconds, summary = json.loads(output.strip().splitlines()[-1])
    return float(seconds), summary


def child(maildir: str) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    out = __import__("io").StringIO()
    started = time.perf_counter()
    call_command("mail", "import", maildir, "--json", stdout=out)
    seconds = time.perf_counter() - started
    print(json.dumps([seconds, json.loads(out.getvalue())]))


def report(label: str, messages: list[bytes], root: Path) -> None:
    maildir = write_maildir(root / label.replace(" ", "-").replace("/", "-"), messages)
    seconds, summary = import_in_fresh_desk(maildir)
    baseline = stdlib_seconds(messages)
    counts = ", ".join(
        f"{summary[k]} {k}" for k in ("created", "appended", "ignored", "quarantined")
    )
    print(
        f"{label:<22} {len(messages):>5} messages  mail import {len(messages) / seconds:7.0f} msg/s"
        f"  stdlib parse {len(messages) / baseline:7.0f} msg/s"
        f"  time ratio import/stdlib {seconds / baseline:5.2f}   ({counts})",
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
