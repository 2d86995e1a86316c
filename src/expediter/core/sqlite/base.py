"""SQLite with a queue for writers: transactions wait on a file lock, not on sleeps.

Several processes write to one SQLite file (the server's threads, workers, an
MTA pipe). SQLite lets one write transaction run at a time, and a writer that
finds the database busy polls it from its busy handler, sleeping 1, 2, 5, 10,
... up to 100 ms between tries. Under concurrent writes those sleeps, not the
work, set the pace: eight clients created tickets no faster than one.

Here every transaction opened by ``transaction.atomic`` first takes an
exclusive ``flock`` on ``<database>.writers``, then ``BEGIN IMMEDIATE``, and
lets it go at commit or rollback. The kernel hands the lock to the next
waiter the moment it is released. Writes outside ``atomic`` (autocommit
statements) still rely on SQLite's own lock and busy timeout, so correctness
never depends on this file: it only orders the queue.

In the web server's processes connections leave checkpoints of the log to a
thread (see ``checkpoints``), so that no request's commit pays for one.
"""

from __future__ import annotations

import fcntl
import functools
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from django.db.backends.sqlite3 import base


class _CursorWrapper(base.SQLiteCursorWrapper):
    """Each statement's ``%s`` placeholders become ``?`` once, not at every run.

    A desk runs the same few hundred statements all day; Django rewrites
    each one with a regular expression every time it runs (about 10 µs, a
    sixth of what a short INSERT costs in all).
    """

    def convert_query(self, query: str, *, param_names: list[str] | None = None) -> str:
        if param_names is None:
            return _qmark_style(query)
        return str(super().convert_query(query, param_names=param_names))  # type: ignore[misc]


@functools.lru_cache(maxsize=512)
def _qmark_style(query: str) -> str:
    return str(base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%"))


class DatabaseWrapper(base.DatabaseWrapper):
    checkpoint_on_commit: ClassVar[bool] = True
    """False in a process whose log is checkpointed by a thread (``checkpoints.start``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._writer_lock_fd: int | None = None
        self._writer_lock_held = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        conn = super().get_new_connection(conn_params)
        if not DatabaseWrapper.checkpoint_on_commit:
            conn.execute("PRAGMA wal_autocheckpoint=0")
        return conn

    def create_cursor(self, name: str | None = None) -> Any:
        return self.connection.cursor(factory=_CursorWrapper)

    def _start_transaction_under_autocommit(self) -> None:
        self._take_writer_lock()
        try:
            mode = self.transaction_mode  # type: ignore[attr-defined]
            self._run_bare(f"BEGIN {mode}" if mode else "BEGIN")
        except BaseException:
            self._release_writer_lock()
            raise

    # A mail import opens a savepoint for each message. Django runs these
    # statements through a whole cursor (about 25 µs each, against 5 µs).
    def _savepoint(self, sid: str) -> None:
        self._run_bare(self.ops.savepoint_create_sql(sid))

    def _savepoint_rollback(self, sid: str) -> None:
        self._run_bare(self.ops.savepoint_rollback_sql(sid))

    def _savepoint_commit(self, sid: str) -> None:
        self._run_bare(self.ops.savepoint_commit_sql(sid))

    @property
    def bare_statements(self) -> bool:
        """Whether statements may skip Django's cursor: nobody logs or wraps the queries."""
        return not (self.queries_logged or self.execute_wrappers)

    def execute_bare(self, sql: str, params: Sequence[Any]) -> Any:
        """The connection's own cursor, on which ``sql`` ran; the caller closes it.

        See ``rows.executed``.
        """
        self.ensure_connection()
        self.validate_thread_sharing()
        self.validate_no_broken_transaction()
        with self.wrap_database_errors:
            return self.connection.execute(_qmark_style(sql), params)

    def _run_bare(self, sql: str) -> None:
        """A statement without parameters, straight on the connection when nobody watches.

        Through a cursor when queries are logged (``DEBUG``, tests that count
        queries) or wrapped, so that they see it as before.
        """
        if not self.bare_statements:
            with self.cursor() as cursor:
                cursor.execute(sql)
            return
        self.ensure_connection()
        self.validate_thread_sharing()
        with self.wrap_database_errors:
            self.connection.execute(sql)

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._release_writer_lock()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._release_writer_lock()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._release_writer_lock()
            if self._writer_lock_fd is not None:
                os.close(self._writer_lock_fd)
                self._writer_lock_fd = None

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Queue with the writers outside a transaction: no commit lands while it is held."""
        self._take_writer_lock()
        try:
            yield
        finally:
            self._release_writer_lock()

    def _take_writer_lock(self) -> None:
        if self._writer_lock_held or self.is_in_memory_db():
            return
        if self._writer_lock_fd is None:
            path = f"{self.settings_dict['NAME']}.writers"
            self._writer_lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._writer_lock_fd, fcntl.LOCK_EX)
        self._writer_lock_held = True

    def _release_writer_lock(self) -> None:
        if self._writer_lock_held and self._writer_lock_fd is not None:
            fcntl.flock(self._writer_lock_fd, fcntl.LOCK_UN)
        self._writer_lock_held = False
