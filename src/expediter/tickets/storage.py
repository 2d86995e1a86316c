"""Content-addressed storage of bytes under the data dir.

The same bytes are stored once, named by their SHA-256, written to a
temporary file and renamed into place so a crash never leaves half a file
under a valid name. A bulk mail import stores each batch of raw messages
in one pack file instead (:class:`Pack`); the blob's row says where.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import itertools
import os
import secrets
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from expediter.tickets.models import StoredBlob


def blob_root() -> Path:
    return Path(settings.DATA_DIR) / "blobs"


def blob_path(sha256: str) -> Path:
    return blob_root() / sha256[:2] / sha256[2:4] / sha256


def content_address(data: bytes) -> str:
    """The digest ``data`` is stored under."""
    return hashlib.sha256(data).hexdigest()


def write_bytes(data: bytes) -> str:
    """Write ``data`` to its content address (once), synced, and return the digest."""
    digest = content_address(data)
    path = blob_path(digest)
    if path.exists():
        return digest
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_synced(path, [data])
    return digest


def _write_synced(path: Path, chunks: Sequence[bytes]) -> None:
    """``chunks`` end to end at ``path``, renamed into place once they are on disk."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.writelines(chunks)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- packs: many blobs in one file ----------------------------------------------------------


def pack_path(name: str) -> Path:
    return blob_root() / "packs" / f"{name}.pack"


@dataclass(frozen=True)
class Pack:
    """Where each of a batch's blobs will lie in one pack file, known before it is written.

    Creating a file is the costly part of storing a small blob: on some
    file systems it costs a millisecond, more than parsing a short
    message. A bulk import therefore writes each batch into one file, and
    its rows can be recorded (from ``name`` and ``offsets``) while the bytes
    are still being written.
    """

    name: str
    offsets: tuple[int, ...]

    @classmethod
    def plan(cls, blobs: Sequence[bytes]) -> Pack:
        offsets = itertools.accumulate((len(data) for data in blobs[:-1]), initial=0)
        return cls(name=secrets.token_hex(16), offsets=tuple(offsets) if blobs else ())

    def write(self, blobs: Sequence[bytes]) -> None:
        """Write the pack and sync it, with its name in the directory, before returning.

        Writing it again (the process that first wrote it failed) replaces
        it whole.
        """
        path = pack_path(self.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_synced(path, blobs)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def discard(self) -> None:
        """Remove a pack that no row points into (every blob in it was stored before)."""
        pack_path(self.name).unlink(missing_ok=True)


ORPHAN_PACK_AGE = dt.timedelta(hours=1)
"""Far longer than an import takes between writing a pack and committing its rows."""


def orphan_packs_remove(*, older_than: dt.timedelta = ORPHAN_PACK_AGE) -> int:
    """Remove pack files (and half-written ones) that no blob points into; how many.

    A pack is written and synced before its batch's rows are committed, so an
    import that dies in between leaves a pack nothing refers to: its messages
    are still in the mailbox it was reading, and importing it again stores
    them anew. A file younger than ``older_than`` may belong to an import
    under way, whose rows are not committed yet: it is left alone.
    """
    folder = blob_root() / "packs"
    if not folder.is_dir():
        return 0
    cutoff = time.time() - older_than.total_seconds()
    old = [path for path in folder.iterdir() if _modified(path) < cutoff]
    packs = {path.stem: path for path in old if path.suffix == ".pack"}
    names = list(packs)
    referred: set[str] = set()
    for start in range(0, len(names), 500):  # every pack of a large mailbox, a few at a time
        asked = names[start : start + 500]
        rows = StoredBlob.objects.filter(pack__in=asked).values_list("pack", flat=True)
        referred.update(rows.distinct())
    doomed = [path for path in old if path.name.startswith(".tmp-")]
    doomed += [path for name, path in packs.items() if name not in referred]
    for path in doomed:
        path.unlink(missing_ok=True)
    return len(doomed)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # removed meanwhile (a pack discarded by its import)
        return float("inf")


def blob_store(data: bytes) -> StoredBlob:
    """Store bytes on disk first, then record them (a DB row never points at nothing)."""
    digest = write_bytes(data)
    blob, _ = StoredBlob.objects.get_or_create(sha256=digest, defaults={"size": len(data)})
    return blob


def blob_read(blob: StoredBlob) -> bytes:
    """The stored bytes, from their own file or from the pack a bulk import wrote."""
    if not blob.pack:
        return blob_path(blob.sha256).read_bytes()
    with pack_path(blob.pack).open("rb") as handle:
        handle.seek(blob.offset or 0)
        data = handle.read(blob.size)
    if len(data) != blob.size:
        raise OSError(f"pack {blob.pack} ends before blob {blob.sha256}")
    return data


def blob_open(blob: StoredBlob) -> BinaryIO:
    """The stored bytes as a file to stream (a download)."""
    if blob.pack:
        return io.BytesIO(blob_read(blob))
    return blob_path(blob.sha256).open("rb")


def blob_erase(blob: StoredBlob) -> None:
    """Erase a blob's bytes for good: its file, and its place in a pack (zeroed)."""
    blob_path(blob.sha256).unlink(missing_ok=True)
    if not blob.pack:
        return
    with contextlib.suppress(FileNotFoundError), pack_path(blob.pack).open("r+b") as handle:
        handle.seek(blob.offset or 0)
        handle.write(bytes(blob.size))
        handle.flush()
        os.fsync(handle.fileno())
