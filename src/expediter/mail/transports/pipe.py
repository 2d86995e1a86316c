"""The MTA pipe: one message on stdin (or in a file), as ``expediter mail ingest`` reads it."""

from __future__ import annotations

import sys
from pathlib import Path


def read_message(source: str) -> bytes:
    """The raw bytes of ``source``: a file path, or ``-`` for standard input."""
    if source == "-":
        return sys.stdin.buffer.read()
    return Path(source).read_bytes()
