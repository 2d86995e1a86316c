"""Content-addressed files and packs: written once, and synced before anything records them."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from expediter.tickets import storage
from expediter.tickets.models import StoredBlob


def new_bytes(label: str) -> bytes:
    """Content no earlier test stored (the store is shared by the whole run)."""
    return f"{label} {uuid.uuid4()}".encode()


@pytest.fixture
def syncs(monkeypatch) -> dict[str, int]:
    """How many times files were synced one by one (fsync) and all together (sync)."""
    counted = {"fsync": 0, "sync": 0}
    fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        counted["fsync"] += 1
        fsync(fd)

    def counting_sync() -> None:
        counted["sync"] += 1

    monkeypatch.setattr(storage.os, "fsync", counting_fsync)
    monkeypatch.setattr(storage.os, "sync", counting_sync)
    return counted


def test_a_file_is_synced_before_its_address_is_returned(syncs) -> None:
    report = new_bytes("report.pdf")
    digest = storage.write_bytes(report)
    assert storage.blob_path(digest).read_bytes() == report
    assert syncs == {"fsync": 1, "sync": 0}
    storage.write_bytes(report)  # there already: nothing written, nothing synced
    assert syncs == {"fsync": 1, "sync": 0}


def test_a_pack_holds_a_batch_end_to_end_synced_before_it_is_written(syncs) -> None:
    blobs = [new_bytes("first"), new_bytes("second, longer"), b""]
    pack = storage.Pack.plan(blobs)
    assert pack.offsets == (0, len(blobs[0]), len(blobs[0]) + len(blobs[1]))
    pack.write(blobs)
    assert syncs == {"fsync": 2, "sync": 0}  # the file, then its name in the folder
    assert storage.pack_path(pack.name).read_bytes() == b"".join(blobs)


@pytest.mark.django_db
def test_a_blob_in_a_pack_reads_opens_and_erases_like_one_in_its_own_file() -> None:
    blobs = [new_bytes("before"), new_bytes("kept"), new_bytes("after")]
    pack = storage.Pack.plan(blobs)
    pack.write(blobs)
    packed = [
        StoredBlob.objects.create(
            sha256=storage.content_address(data), size=len(data), pack=pack.name, offset=offset
        )
        for data, offset in zip(blobs, pack.offsets, strict=True)
    ]
    assert [storage.blob_read(blob) for blob in packed] == blobs
    with storage.blob_open(packed[1]) as handle:
        assert handle.read() == blobs[1]
    storage.blob_erase(packed[1])
    assert storage.blob_read(packed[1]) == bytes(len(blobs[1]))  # gone, and nothing else
    assert [storage.blob_read(packed[0]), storage.blob_read(packed[2])] == [blobs[0], blobs[2]]


def test_a_pack_shorter_than_its_rows_say_is_an_error_not_short_bytes() -> None:
    data = new_bytes("cut short")
    pack = storage.Pack.plan([data])
    pack.write([data[:5]])
    blob = StoredBlob(
        sha256=storage.content_address(data), size=len(data), pack=pack.name, offset=0
    )
    with pytest.raises(OSError, match="ends before"):
        storage.blob_read(blob)


def test_writing_a_pack_again_replaces_it_whole() -> None:
    blobs = [new_bytes("one"), new_bytes("two")]
    pack = storage.Pack.plan(blobs)
    pack_path = storage.pack_path(pack.name)
    pack_path.parent.mkdir(parents=True, exist_ok=True)
    pack_path.write_bytes(b"half of a pack a failed process wrote, and more")
    pack.write(blobs)
    assert pack_path.read_bytes() == b"".join(blobs)
    pack.discard()
    assert not pack_path.exists()


@pytest.mark.django_db
def test_old_packs_that_no_blob_points_into_are_removed(settings, tmp_path) -> None:
    """What an import that died between writing a pack and committing its rows left."""
    settings.DATA_DIR = tmp_path
    referred_bytes, orphan_bytes, recent_bytes = (new_bytes(n) for n in ("kept", "lost", "new"))
    referred, orphan, recent = (
        storage.Pack.plan([b]) for b in (referred_bytes, orphan_bytes, recent_bytes)
    )
    referred.write([referred_bytes])
    orphan.write([orphan_bytes])
    recent.write([recent_bytes])  # an import under way: its rows are not committed yet
    blob = StoredBlob.objects.create(
        sha256=storage.content_address(referred_bytes),
        size=len(referred_bytes),
        pack=referred.name,
        offset=0,
    )
    half_written = storage.pack_path(orphan.name).parent / ".tmp-killed"
    half_written.write_bytes(b"the start of a pack")
    two_hours_ago = time.time() - 2 * 3600
    for path in (storage.pack_path(referred.name), storage.pack_path(orphan.name), half_written):
        os.utime(path, (two_hours_ago, two_hours_ago))

    assert storage.orphan_packs_remove() == 2

    assert not storage.pack_path(orphan.name).exists() and not half_written.exists()
    assert storage.pack_path(recent.name).exists()
    assert storage.blob_read(blob) == referred_bytes
    assert storage.orphan_packs_remove() == 0


def test_without_any_pack_there_is_nothing_to_remove(settings, tmp_path) -> None:
    settings.DATA_DIR = tmp_path
    assert storage.orphan_packs_remove() == 0
