"""Throughput of inbound mail parsing on the shared corpus.

Parses every email of the corpus N times with ``parse_message`` (parsing,
decoding, sanitising and classification) and, on the same messages, with the
standard library alone (``email.message_from_bytes`` with ``policy.default``,
walking the parts and calling ``get_content``), then prints messages per
second for both, their ratio, and the same figures for simple one-part
messages. Run: ``.venv/bin/python bench/mail_parse.py [N]``.
"""

from __future__ import annotations

import contextlib
import email
import sys
import time
from collections.abc import Callable
from email import policy
from pathlib import Path

from expediter.mail.parsing import parse_message
from expediter.mail.parsing.mimepolicy import clear_header_cache

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


def standard_library(raw: bytes) -> None:
    message = email.message_from_bytes(raw, policy=policy.default)
    for part in message.walk():
        if part.is_multipart():
            continue
        with contextlib.suppress(LookupError, KeyError, ValueError, AssertionError):
            part.get_content()  # type: ignore[attr-defined]


def expediter(raw: bytes) -> None:
    parse_message(raw)


def rate(function: Callable[[bytes], None], messages: list[bytes], rounds: int) -> float:
    """Messages per second, best of ``rounds`` passes (the least disturbed).

    The parser's header cache is emptied before each pass, so that a pass
    does not profit from having seen the very same messages before.
    """
    best = float("inf")
    for _ in range(rounds):
        clear_header_cache()
        started = time.perf_counter()
        for raw in messages:
            function(raw)
        best = min(best, time.perf_counter() - started)
    return len(messages) / best


def is_simple(raw: bytes) -> bool:
    message = email.message_from_bytes(raw, policy=policy.default)
    return not message.is_multipart() and message.get_content_type() == "text/plain"


def report(label: str, messages: list[bytes], rounds: int) -> None:
    ours = rate(expediter, messages, rounds)
    baseline = rate(standard_library, messages, rounds)
    print(
        f"{label:<22} {len(messages):>5} messages  parse_message {ours:8.0f} msg/s"
        f"  stdlib {baseline:8.0f} msg/s  time ratio ours/stdlib {baseline / ours:5.2f}"
    )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    if not CORPUS.is_dir():
        sys.exit(f"corpus not found at {CORPUS}")
    messages = corpus_messages()
    for raw in messages:  # warm caches and imports before timing
        parse_message(raw)
    report("whole corpus", messages, rounds)
    report("one-part text/plain", [m for m in messages if is_simple(m)], rounds)


if __name__ == "__main__":
    main()
