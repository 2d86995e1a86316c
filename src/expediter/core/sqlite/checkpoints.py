"""Checkpointing the write-ahead log from a thread, off the web server's requests.

In WAL mode SQLite copies committed pages back into the database file (a
checkpoint) from inside the commit that takes the log past 1,000 pages. That
commit then holds the write lock, which every other writer queues on, while it
copies about 4 MB and syncs the file: 10 to 30 ms, paid by one request in
about eighty, with every concurrent writer waiting behind it.

A process of ``expediter serve`` therefore turns that off for its own
connections and checkpoints from a thread of its own, once a second:

* a PASSIVE checkpoint copies what is committed without taking the write
  lock, while writers go on;
* once the log is longer than SQLite's own threshold, the thread queues for
  the write lock like any writer, copies the few pages committed meanwhile and
  empties the log (TRUNCATE). Under a steady stream of writes the log would
  otherwise never be found fully copied between two commits, and would grow
  without end.

Every other process (the worker, the command line, an MTA pipe) keeps
SQLite's own automatic checkpoint, so the log never grows unchecked when no
server runs.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import cast

from django.db import connections

from expediter.core.sqlite.base import DatabaseWrapper

logger = logging.getLogger("expediter.sqlite")

INTERVAL_SECONDS = 1.0
TRUNCATE_ABOVE_FRAMES = 1000
"""SQLite's own automatic checkpoint threshold: the log stays as long as it would."""
READERS_WAIT_MS = 100
"""How long writers may queue behind the truncation while it waits for readers to finish;
past that it gives up until the next round, rather than stall every write behind a long
report."""

_starting = threading.Lock()


def start(*, alias: str = "default", interval: float = INTERVAL_SECONDS) -> bool:
    """Start this process's checkpointing thread, once; False for a database without a log.

    Connections already open keep checkpointing at commit; the thread closes
    this thread's own so that the next one opens without.
    """
    wrapper = connections[alias]
    if not isinstance(wrapper, DatabaseWrapper) or wrapper.is_in_memory_db():
        return False
    with _starting:
        if not DatabaseWrapper.checkpoint_on_commit:
            return True
        DatabaseWrapper.checkpoint_on_commit = False
    wrapper.close()
    thread = threading.Thread(
        target=_checkpoint_forever, args=(alias, interval), name="wal-checkpoint", daemon=True
    )
    thread.start()
    return True


def checkpoint(
    wrapper: DatabaseWrapper, *, truncate_above: int = TRUNCATE_ABOVE_FRAMES
) -> tuple[int, int, int]:
    """Copy the log into the database: (1 if busy, frames in the log, frames copied).

    The frame counts are those of the last checkpoint run: (0, 0, 0) once the
    log was emptied.
    """
    with wrapper.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        busy, logged, copied = cursor.fetchone()
        if busy == 0 and logged > truncate_above:
            cursor.execute("PRAGMA busy_timeout")
            (usual_wait,) = cursor.fetchone()
            cursor.execute(f"PRAGMA busy_timeout={READERS_WAIT_MS}")
            try:
                with wrapper.writer_lock():
                    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    busy, logged, copied = cursor.fetchone()
            finally:
                cursor.execute(f"PRAGMA busy_timeout={int(usual_wait)}")
    return int(busy), int(logged), int(copied)


def _checkpoint_forever(alias: str, interval: float) -> None:
    while True:
        time.sleep(interval)
        try:
            checkpoint(cast(DatabaseWrapper, connections[alias]))  # checked by start()
        except Exception:
            # A failed checkpoint loses nothing (the log keeps every page); the
            # next one starts from a fresh connection.
            logger.exception("checkpoint of the SQLite log failed")
            connections[alias].close()
