"""The web server checkpoints SQLite's log from a thread, never in a request's commit."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from tests.core.sqlite_files import atomic, file_wrapper

from expediter.core.sqlite import checkpoints
from expediter.core.sqlite.base import DatabaseWrapper
from expediter.core.tasks import database_optimize


@pytest.fixture
def database(open_file_database: Callable[..., DatabaseWrapper]) -> DatabaseWrapper:
    return open_file_database(
        "checkpoints_test", "PRAGMA journal_mode=WAL", "CREATE TABLE note (body TEXT)"
    )


@pytest.fixture
def checkpointed_by_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DatabaseWrapper, "checkpoint_on_commit", False)


def _write(wrapper: DatabaseWrapper, transactions: int) -> None:
    for i in range(transactions):
        with atomic(wrapper), wrapper.cursor() as cursor:
            cursor.execute("INSERT INTO note VALUES (%s)", [f"note {i} " + "x" * 3000])


def _autocheckpoint(wrapper: DatabaseWrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        return int(cursor.fetchone()[0])


def _log_size(tmp_path: Path) -> int:
    return (tmp_path / "desk.sqlite3-wal").stat().st_size


def test_connections_checkpoint_at_commit_unless_a_thread_does(
    database: DatabaseWrapper, tmp_path: Path, django_db_blocker: Any
) -> None:
    assert _autocheckpoint(database) == 1000
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseWrapper, "checkpoint_on_commit", False)
        other = file_wrapper(tmp_path / "desk.sqlite3", "checkpoints_other")
        try:
            assert _autocheckpoint(other) == 0
        finally:
            other.close()


@pytest.mark.usefixtures("checkpointed_by_thread")
def test_a_short_log_is_copied_without_the_write_lock(
    database: DatabaseWrapper, tmp_path: Path
) -> None:
    _write(database, 5)
    held = _hold_writer_lock(tmp_path)
    try:
        busy, logged, copied = checkpoints.checkpoint(database, truncate_above=1000)
    finally:
        os.close(held)
    assert busy == 0
    assert logged == copied > 0
    assert _log_size(tmp_path) > 0  # copied, not emptied: short enough to keep


@pytest.mark.usefixtures("checkpointed_by_thread")
def test_a_long_log_is_emptied_between_two_writers(
    database: DatabaseWrapper, tmp_path: Path
) -> None:
    _write(database, 40)
    assert _log_size(tmp_path) > 40 * 3000  # nothing was checkpointed at commit
    assert checkpoints.checkpoint(database, truncate_above=10) == (0, 0, 0)
    assert _log_size(tmp_path) == 0
    _write(database, 1)  # and writing goes on in the emptied log
    with database.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM note")
        assert cursor.fetchone() == (41,)


@pytest.mark.usefixtures("checkpointed_by_thread")
def test_emptying_the_log_queues_behind_a_writer(database: DatabaseWrapper, tmp_path: Path) -> None:
    _write(database, 40)
    held = _hold_writer_lock(tmp_path)
    finished = threading.Event()

    def run() -> None:
        other = file_wrapper(tmp_path / "desk.sqlite3", "checkpoints_thread")
        try:
            checkpoints.checkpoint(other, truncate_above=10)
            finished.set()
        finally:
            other.close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert not finished.wait(0.3)
    finally:
        os.close(held)
    thread.join(5)
    assert finished.is_set()


@pytest.mark.django_db
def test_no_thread_for_a_database_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DatabaseWrapper, "checkpoint_on_commit", True)
    assert checkpoints.start() is False
    assert DatabaseWrapper.checkpoint_on_commit is True


def _hold_writer_lock(path: Path) -> int:
    fd = os.open(f"{path / 'desk.sqlite3'}.writers", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_the_planner_statistics_queue_with_the_writers(
    database: DatabaseWrapper, tmp_path: Path
) -> None:
    """Read then written in one statement: outside a write transaction a checkpoint
    emptying the log in between would make SQLite refuse the write."""
    held = _hold_writer_lock(tmp_path)
    outcome: list[str] = []

    def run() -> None:
        connections["optimize_test"] = file_wrapper(tmp_path / "desk.sqlite3", "optimize_test")
        try:
            outcome.append(database_optimize(using="optimize_test"))
        finally:
            connections["optimize_test"].close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        thread.join(0.3)
        assert outcome == []  # waiting for the writer ahead of it
    finally:
        os.close(held)
    thread.join(5)
    assert outcome == ["optimized"]
