"""Raw inbound mail in the content-addressed blob store, synced to disk before it counts.

The same layout as :mod:`expediter.tickets.storage` (so a raw message is a
``StoredBlob`` like any attachment). A message from an MTA pipe, IMAP or SMTP
is synced on its own before we answer "stored", since the sender then forgets
it. A bulk import writes a whole batch, then syncs once: one ``sync`` costs
about what a dozen ``fsync`` calls do, and the batch's rows are committed only
after it, so a row never points at bytes that a power cut could take back.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from expediter.tickets.storage import blob_path


def write_raw(data: bytes, *, durable: bool = True) -> str:
    """Write ``data`` at its content address (once) and return the SHA-256 digest."""
    return _write(data, durable=durable)[0]


def write_raw_batch(messages: Sequence[bytes]) -> list[str]:
    """Write every message at its address, then make them all durable at once.

    The sync runs even when every file was there already: one an interrupted
    earlier run wrote may still be only in the cache.
    """
    digests = [_write(data, durable=False)[0] for data in messages]
    if digests:
        sync_all()
    return digests


def _write(data: bytes, *, durable: bool) -> tuple[str, bool]:
    """``(digest, newly written)``."""
    digest = hashlib.sha256(data).hexdigest()
    path = blob_path(digest)
    if path.exists():
        return digest, False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest, True


def sync_all() -> None:
    """Flush what non-durable writes left in the operating system's cache (renames too)."""
    os.sync()
