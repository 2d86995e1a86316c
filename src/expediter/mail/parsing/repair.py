"""Repairing the header block of messages that the standard parser would cut.

Two damages are common in stored mail: a preamble line before the headers
(``---- Original email message ----`` when a message was saved from a client),
and a long header value whose continuation lines lost their leading space
(base64 tracking headers). Both make ``email`` treat everything after the
damage as body, losing From, Subject and the MIME structure.
"""

from __future__ import annotations

import re

_FIELD = re.compile(rb"^[\x21-\x39\x3b-\x7e]+[ \t]*:")
_MBOX_FROM = re.compile(rb"^From ")
_MAX_HEADER_LINES = 5000
_MAX_PREAMBLE_LINES = 3


def repair_header_block(raw: bytes) -> bytes | None:
    """The message with its header block repaired, or None if nothing to repair."""
    lines = raw.splitlines(keepends=True)
    end = _header_end(lines)
    kinds = [_kind(line, index) for index, line in enumerate(lines[:end])]
    if "bad" not in kinds:
        return None
    first_field = kinds.index("field") if "field" in kinds else None
    if first_field is None:
        return None
    preamble = [i for i in range(first_field) if kinds[i] == "bad"]
    if len(preamble) > _MAX_PREAMBLE_LINES:
        return None
    last_field = len(kinds) - 1 - kinds[::-1].index("field")
    repaired = []
    for index, line in enumerate(lines):
        if index in preamble:
            continue
        if first_field < index < last_field and kinds[index] == "bad":
            line = b" " + line
        repaired.append(line)
    return b"".join(repaired)


def _header_end(lines: list[bytes]) -> int:
    for index, line in enumerate(lines[:_MAX_HEADER_LINES]):
        if not line.strip(b"\r\n"):
            return index
    return min(len(lines), _MAX_HEADER_LINES)


def _kind(line: bytes, index: int) -> str:
    if _FIELD.match(line):
        return "field"
    if line[:1] in (b" ", b"\t"):
        return "continuation"
    if index == 0 and _MBOX_FROM.match(line):
        return "mbox"
    return "bad"
