"""Raw inbound mail in the content-addressed blob store, synced to disk or not.

The same layout as :mod:`expediter.tickets.storage` (so a raw message is a
``StoredBlob`` like any attachment), with the sync made a choice: a message
from an MTA pipe, IMAP or SMTP must be on disk before we answer "stored",
since the sender then forgets it; a bulk import reads files that stay where
they are, and syncing each of thousands of messages would only slow it down
(the import syncs the whole file system once at the end instead).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from expediter.tickets.storage import blob_path


def write_raw(data: bytes, *, durable: bool = True) -> str:
    """Write ``data`` at its content address (once) and return the SHA-256 digest."""
    digest = hashlib.sha256(data).hexdigest()
    path = blob_path(digest)
    if path.exists():
        return digest
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
    return digest


def sync_all() -> None:
    """Flush what non-durable writes left in the operating system's cache."""
    os.sync()
