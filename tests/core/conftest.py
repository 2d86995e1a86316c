"""Fixtures of the core tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from tests.core.sqlite_files import file_database

from expediter.core.sqlite.base import DatabaseWrapper


@pytest.fixture
def open_file_database(
    tmp_path: Path, django_db_blocker: Any
) -> Iterator[Callable[..., DatabaseWrapper]]:
    """Opens ``desk.sqlite3`` in the test's directory with statements run; closed after it.

    A file of its own: the suite's test database lives in memory.
    """
    with ExitStack() as opened:
        opened.enter_context(django_db_blocker.unblock())

        def open_database(alias: str, *statements: str) -> DatabaseWrapper:
            path = tmp_path / "desk.sqlite3"
            return opened.enter_context(file_database(path, alias, *statements))

        yield open_database
