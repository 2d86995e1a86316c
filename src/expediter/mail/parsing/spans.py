"""Where each MIME part's body lies in the raw bytes.

The ``email`` package parses an embedded ``message/rfc822`` into objects and
cannot give back its original bytes: regenerating them refolds headers and
changes line endings, so a forwarded message would not be kept byte for byte.
This module finds the byte span of every part by following the boundaries the
parser already found, and gives up (returning nothing for that subtree) as
soon as its count of parts disagrees with the parser's.
"""

from __future__ import annotations

from email.message import Message

_CR, _LF = 13, 10
_LINE_BREAK_BYTES = (_CR, _LF)
_BLANK_BYTES = (32, 9)
_MAX_DEPTH = 40


def message_body_spans(raw: bytes, message: Message) -> dict[int, bytes]:
    """Raw body bytes of each ``message/*`` part, keyed by ``id(part)``."""
    found: dict[int, bytes] = {}
    _walk(raw, message, 0, len(raw), found, 0)
    return found


def _walk(
    raw: bytes, part: Message, start: int, end: int, found: dict[int, bytes], depth: int
) -> None:
    if depth > _MAX_DEPTH:
        return
    body_start = _body_start(raw, start, end)
    if part.get_content_maintype() == "message":
        found[id(part)] = raw[body_start:end]
        return
    if not part.is_multipart():
        return  # (a leaf's get_payload() would decode it, and may choke on its charset)
    payload = part.get_payload()
    if not isinstance(payload, list):
        return
    boundary = part.get_boundary()
    if not boundary:
        return
    children = _child_spans(raw, body_start, end, boundary)
    if len(children) != len(payload):
        return
    for child, (child_start, child_end) in zip(payload, children, strict=True):
        _walk(raw, child, child_start, child_end, found, depth + 1)


def _body_start(raw: bytes, start: int, end: int) -> int:
    """Where the body begins: after the first blank line, or at once for a
    part without headers."""
    if raw.startswith(b"\r\n", start):
        return start + 2
    if raw.startswith((b"\n", b"\r"), start):
        return start + 1
    found = [
        position + len(separator)
        for separator in (b"\n\n", b"\n\r\n")
        if (position := raw.find(separator, start, end)) >= 0
    ]
    if not found and (position := raw.find(b"\r\r", start, end)) >= 0:
        found.append(position + 2)
    return min(found) if found else end


def _child_spans(raw: bytes, start: int, end: int, boundary: str) -> list[tuple[int, int]]:
    """Spans between delimiter lines; the line break before a delimiter
    belongs to the delimiter (RFC 2046 5.1.1). A delimiter is a whole line:
    ``--boundary``, optionally ``--``, optionally trailing blanks."""
    needle = b"--" + boundary.encode("utf-8", "surrogateescape")
    spans: list[tuple[int, int]] = []
    open_at: int | None = None
    position = start
    while (found := raw.find(needle, position, end)) >= 0:
        delimiter = _delimiter_at(raw, found, len(needle), start, end)
        if delimiter is None:
            position = found + 1
            continue
        line_start, line_end, closing = delimiter
        if open_at is not None:
            spans.append((open_at, line_start))
        if closing:
            return spans
        open_at = position = line_end
    if open_at is not None:
        spans.append((open_at, end))
    return spans


def _delimiter_at(
    raw: bytes, found: int, length: int, start: int, end: int
) -> tuple[int, int, bool] | None:
    """``(start including the preceding line break, end of line, closing)``."""
    if found > start and raw[found - 1] not in _LINE_BREAK_BYTES:
        return None
    cursor = found + length
    closing = raw.startswith(b"--", cursor, end)
    if closing:
        cursor += 2
    while cursor < end and raw[cursor] in _BLANK_BYTES:
        cursor += 1
    if cursor < end and raw[cursor] not in _LINE_BREAK_BYTES:
        return None
    line_start = found
    if line_start > start and raw[line_start - 1] == _LF:
        line_start -= 1
    if line_start > start and raw[line_start - 1] == _CR:
        line_start -= 1
    line_end = cursor + (2 if raw.startswith(b"\r\n", cursor) else 1 if cursor < end else 0)
    return line_start, line_end, closing
