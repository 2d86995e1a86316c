"""Files uuencoded into a plain-text body, as Lotus Notes and older clients send them.

Such a client writes a ``begin 644 name.jpg`` line, the file's uuencoded
lines and an ``end`` line into the text itself, instead of attaching a MIME
part. Shown as text it is kilobytes of gibberish, and the file is lost to
whoever reads the ticket; Request Tracker extracts such files too. Each block
that decodes cleanly becomes a file and leaves the text; one that does not
stays in the text as it came, so nothing is ever lost.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator

_BEGIN = re.compile(r"^begin [0-7]{3,4} +(\S[^\n]*)$", re.MULTILINE)
_END = re.compile(r"^end[ \t]*$", re.MULTILINE)
_DATA_LINE = re.compile(r"[ -`]+")  # uuencoding writes nothing else (no lower case)


def extract_uuencoded(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    """``(text without the decoded blocks, [(filename, bytes), ...])``; lines end in ``\\n``.

    The text comes back unchanged (the same object) when it holds no block,
    which a quick look for ``begin`` settles for almost every message.
    """
    if "begin " not in text:
        return text, []
    kept: list[str] = []
    files: list[tuple[str, bytes]] = []
    position = 0
    for start, body_start, end, name in _blocks(text):
        data = _decoded(text[body_start:end])
        if data is None:
            continue
        files.append((name, data))
        kept.append(text[position:start])
        position = _after_end_line(text, end)
    if not files:
        return text, []
    kept.append(text[position:])
    return "".join(kept), files


def _blocks(text: str) -> Iterator[tuple[int, int, int, str]]:
    """``(start of begin line, start of data, start of end line, filename)`` per block."""
    search_from = 0
    while (begin := _BEGIN.search(text, search_from)) is not None:
        end = _END.search(text, begin.end())
        if end is None:
            return
        yield begin.start(), begin.end() + 1, end.start(), begin.group(1).strip()
        search_from = end.end()


def _after_end_line(text: str, end: int) -> int:
    newline = text.find("\n", end)
    return len(text) if newline < 0 else newline + 1


def _decoded(lines: str) -> bytes | None:
    """The file's bytes, or None when a line is not uuencoded data (or there is none)."""
    decoded: list[bytes] = []
    for line in lines.split("\n"):
        if not line:
            continue
        if not _DATA_LINE.fullmatch(line):
            return None
        try:
            decoded.append(binascii.a2b_uu(line))
        except binascii.Error:
            # Some encoders pad a line past its declared length: read what it declares.
            declared = (((ord(line[0]) - 32) & 63) * 4 + 5) // 3
            try:
                decoded.append(binascii.a2b_uu(line[:declared]))
            except binascii.Error:
                return None
    data = b"".join(decoded)
    return data or None
