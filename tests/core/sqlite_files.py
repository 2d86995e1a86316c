"""File databases on the desk's SQLite engine, for tests of the engine itself.

The suite's own test database lives in memory, which has neither a write-ahead
log nor a writers' lock file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from expediter.core.sqlite.base import DatabaseWrapper


def file_wrapper(path: Path, alias: str) -> DatabaseWrapper:
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


@contextmanager
def file_database(path: Path, alias: str, *statements: str) -> Iterator[DatabaseWrapper]:
    """A wrapper on a new database file, with ``statements`` run; closed afterwards."""
    wrapper = file_wrapper(path, alias)
    try:
        with wrapper.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        yield wrapper
    finally:
        wrapper.close()


class atomic:
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
