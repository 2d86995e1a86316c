"""Content-addressed storage of bytes under the data dir.

The same bytes are stored once, named by their SHA-256, written to a
temporary file and renamed into place so a crash never leaves half a file
under a valid name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings

from expediter.tickets.models import StoredBlob


def blob_root() -> Path:
    return Path(settings.DATA_DIR) / "blobs"


def blob_path(sha256: str) -> Path:
    return blob_root() / sha256[:2] / sha256[2:4] / sha256


def write_bytes(data: bytes) -> str:
    """Write ``data`` to its content address (once) and return the digest."""
    digest = hashlib.sha256(data).hexdigest()
    path = blob_path(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return digest


def blob_store(data: bytes) -> StoredBlob:
    """Store bytes on disk first, then record them (a DB row never points at nothing)."""
    digest = write_bytes(data)
    blob, _ = StoredBlob.objects.get_or_create(sha256=digest, defaults={"size": len(data)})
    return blob


def blob_read(blob: StoredBlob) -> bytes:
    return blob_path(blob.sha256).read_bytes()
