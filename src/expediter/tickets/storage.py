"""Content-addressed storage of bytes under the data dir.

The same bytes are stored once, named by their SHA-256, written to a
temporary file and renamed into place so a crash never leaves half a file
under a valid name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from django.conf import settings

from expediter.tickets.models import StoredBlob


def blob_root() -> Path:
    return Path(settings.DATA_DIR) / "blobs"


def blob_path(sha256: str) -> Path:
    return blob_root() / sha256[:2] / sha256[2:4] / sha256


_unsynced: ContextVar[list[str] | None] = ContextVar("blobs written, not synced", default=None)


def content_address(data: bytes) -> str:
    """The digest ``data`` is stored under."""
    return hashlib.sha256(data).hexdigest()


def write_bytes(data: bytes) -> str:
    """Write ``data`` to its content address (once) and return the digest.

    The file is synced before this returns, unless it is written inside
    :func:`synced_at_end`, which syncs it with the others written there.
    """
    digest = content_address(data)
    path = blob_path(digest)
    if path.exists():
        return digest
    unsynced = _unsynced.get()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if unsynced is None:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if unsynced is not None:
        unsynced.append(digest)
    return digest


@contextmanager
def synced_at_end(*, always: bool = False) -> Iterator[None]:
    """Files written inside are synced together, once, when the block ends without error.

    One ``sync`` costs about what a dozen ``fsync`` calls do. Record the
    files only after the block (a bulk mail import writes a batch's raw
    messages in one), so a row never points at bytes a power cut could take
    back. ``always`` syncs even when every file was there already (one that
    an interrupted earlier run wrote may still be only in the cache).
    """
    unsynced: list[str] = []
    reset = _unsynced.set(unsynced)
    try:
        yield
    finally:
        _unsynced.reset(reset)
    if unsynced or always:
        os.sync()  # flushes the renames too


def blob_store(data: bytes) -> StoredBlob:
    """Store bytes on disk first, then record them (a DB row never points at nothing)."""
    digest = write_bytes(data)
    blob, _ = StoredBlob.objects.get_or_create(sha256=digest, defaults={"size": len(data)})
    return blob


def blob_read(blob: StoredBlob) -> bytes:
    return blob_path(blob.sha256).read_bytes()
