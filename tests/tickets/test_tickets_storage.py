"""Content-addressed files: written once, and synced before anything records them."""

from __future__ import annotations

import os
import uuid

import pytest

from expediter.tickets import storage


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


def test_files_written_in_one_block_are_synced_once_at_its_end(syncs) -> None:
    first, second = new_bytes("first"), new_bytes("second")
    with storage.synced_at_end():
        digest = storage.write_bytes(first)
        storage.write_bytes(second)
        storage.write_bytes(first)
        assert syncs == {"fsync": 0, "sync": 0}
    assert syncs == {"fsync": 0, "sync": 1}
    assert storage.blob_path(digest).read_bytes() == first


def test_a_block_that_fails_syncs_nothing(syncs) -> None:
    with pytest.raises(RuntimeError), storage.synced_at_end():
        storage.write_bytes(new_bytes("half a batch"))
        raise RuntimeError("rolled back")
    assert syncs == {"fsync": 0, "sync": 0}


def test_a_block_that_wrote_nothing_new_syncs_only_when_asked_to(syncs) -> None:
    old = new_bytes("old")
    storage.write_bytes(old)
    with storage.synced_at_end():
        storage.write_bytes(old)
    assert syncs["sync"] == 0
    with storage.synced_at_end(always=True):
        storage.write_bytes(old)
    assert syncs["sync"] == 1
