"""A message at the size limit parses within a bounded amount of memory."""

from __future__ import annotations

import base64
import hashlib
import random
import tracemalloc

import pytest

from expediter.mail.parsing import DEFAULT_MAX_BYTES, parse_message

MEMORY_BUDGET = 200 * 1024 * 1024
_BASE64_LINE = 57  # raw bytes per 76-character base64 line


def _message_at_the_limit() -> tuple[bytes, bytes]:
    """A message of just under 25 MB, nearly all of it one base64 attachment."""
    head = (
        b"From: Big Sender <big@example.org>\r\nTo: helpdesk@example.com\r\n"
        b"Subject: Scan of the whole archive\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="BOUNDARY"\r\n\r\n'
        b"--BOUNDARY\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attached.\r\n"
        b"--BOUNDARY\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="archive.bin"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n"
    )
    tail = b"\r\n--BOUNDARY--\r\n"
    lines = (DEFAULT_MAX_BYTES - len(head) - len(tail) - 1024) // 78
    payload = random.Random(7).randbytes(lines * _BASE64_LINE)
    encoded = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    return head + encoded + tail, payload


@pytest.mark.slow
def test_a_25_mb_message_parses_within_200_mb() -> None:
    raw, payload = _message_at_the_limit()
    assert DEFAULT_MAX_BYTES - 100_000 < len(raw) <= DEFAULT_MAX_BYTES

    tracemalloc.start()
    try:
        parsed = parse_message(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert parsed.outcome == "normal"
    (attachment,) = parsed.attachments
    assert hashlib.sha256(attachment.content).digest() == hashlib.sha256(payload).digest()
    assert peak < MEMORY_BUDGET, f"peak {peak / 2**20:.0f} MB"
