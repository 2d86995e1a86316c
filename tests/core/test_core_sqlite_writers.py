"""The SQLite backend queues writers on a file lock held exactly for a transaction."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from tests.core.sqlite_files import atomic, file_wrapper
from tests.factories import make_requester

from expediter.core.sqlite.base import DatabaseWrapper
from expediter.staff.models import User


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
def database(open_file_database: Callable[..., DatabaseWrapper]) -> DatabaseWrapper:
    statements = ("CREATE TABLE counter (value INTEGER)", "INSERT INTO counter VALUES (0)")
    return open_file_database("writers_test", *statements)


def test_the_lock_is_held_for_the_transaction_and_released_by_commit_or_rollback(
    database: DatabaseWrapper, tmp_path: Path
) -> None:
    path = tmp_path / "desk.sqlite3"
    with atomic(database):
        assert not _lock_is_free(path)
    assert _lock_is_free(path)
    with pytest.raises(RuntimeError), atomic(database):
        assert not _lock_is_free(path)
        raise RuntimeError("rolled back")
    assert _lock_is_free(path)


def test_concurrent_writers_all_commit_in_turn(tmp_path: Path, database: DatabaseWrapper) -> None:
    path = tmp_path / "desk.sqlite3"
    errors: list[BaseException] = []

    def write() -> None:
        wrapper = file_wrapper(path, f"writer-{threading.get_ident()}")
        try:
            for _ in range(25):
                with atomic(wrapper), wrapper.cursor() as cursor:
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


@pytest.mark.django_db
def test_a_statement_run_again_still_takes_its_values_and_keeps_a_literal_percent() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the placeholder conversion is SQLite's")
    for value in (1, 2):
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s, '100%%'", [value])
            assert cursor.fetchone() == (value, "100%")
    with connection.cursor() as cursor:
        cursor.execute("SELECT %(n)s", {"n": 3})
        assert cursor.fetchone() == (3,)


@pytest.mark.django_db
def test_a_savepoint_rolls_back_its_own_writes_and_is_seen_where_queries_are_counted() -> None:
    with transaction.atomic():
        kept = make_requester()
        with pytest.raises(RuntimeError), transaction.atomic():
            make_requester()
            raise RuntimeError
    assert list(User.objects.values_list("pk", flat=True)) == [kept.pk]
    with CaptureQueriesContext(connection) as counted, transaction.atomic():
        make_requester()
    if connection.vendor == "sqlite":
        assert any(q["sql"].startswith("SAVEPOINT") for q in counted.captured_queries)
