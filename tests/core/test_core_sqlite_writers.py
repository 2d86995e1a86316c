"""The SQLite backend queues writers on a file lock held exactly for a transaction."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from expediter.core.sqlite.base import DatabaseWrapper


def _wrapper(path: Path, alias: str) -> DatabaseWrapper:
    settings = {
        "NAME": str(path),
        "ENGINE": "expediter.core.sqlite",
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
        "ATOMIC_REQUESTS": False,
        "AUTOCOMMIT": True,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "TIME_ZONE": None,
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "TEST": {},
    }
    return DatabaseWrapper(settings, alias)


def _lock_is_free(path: Path) -> bool:
    fd = os.open(f"{path}.writers", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


@pytest.fixture
def database(tmp_path: Path, django_db_blocker: Any) -> Iterator[DatabaseWrapper]:
    """A file database of its own (the suite's test database lives in memory)."""
    with django_db_blocker.unblock():
        wrapper = _wrapper(tmp_path / "desk.sqlite3", "writers_test")
        with wrapper.cursor() as cursor:
            cursor.execute("CREATE TABLE counter (value INTEGER)")
            cursor.execute("INSERT INTO counter VALUES (0)")
        yield wrapper
        wrapper.close()


def test_the_lock_is_held_for_the_transaction_and_released_by_commit_or_rollback(
    database: DatabaseWrapper, tmp_path: Path
) -> None:
    path = tmp_path / "desk.sqlite3"
    with _atomic(database):
        assert not _lock_is_free(path)
    assert _lock_is_free(path)
    with pytest.raises(RuntimeError), _atomic(database):
        assert not _lock_is_free(path)
        raise RuntimeError("rolled back")
    assert _lock_is_free(path)


def test_concurrent_writers_all_commit_in_turn(tmp_path: Path, database: DatabaseWrapper) -> None:
    path = tmp_path / "desk.sqlite3"
    errors: list[BaseException] = []

    def write() -> None:
        wrapper = _wrapper(path, f"writer-{threading.get_ident()}")
        try:
            for _ in range(25):
                with _atomic(wrapper), wrapper.cursor() as cursor:
                    cursor.execute("UPDATE counter SET value = value + 1")
        except BaseException as error:
            errors.append(error)
        finally:
            wrapper.close()

    threads = [threading.Thread(target=write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with database.cursor() as cursor:
        cursor.execute("SELECT value FROM counter")
        assert cursor.fetchone() == (150,)


class _atomic:
    """``transaction.atomic`` for a wrapper that is not in ``django.db.connections``."""

    def __init__(self, wrapper: DatabaseWrapper) -> None:
        self.wrapper = wrapper

    def __enter__(self) -> None:
        self.wrapper.set_autocommit(False)
        self.wrapper._start_transaction_under_autocommit()

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            self.wrapper.commit()
        else:
            self.wrapper.rollback()
        self.wrapper.set_autocommit(True)
