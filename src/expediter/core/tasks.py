"""Housekeeping tasks that belong to no domain."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django_tasks import task


def database_optimize(*, using: str = DEFAULT_DB_ALIAS) -> str:
    """Refresh the query planner's statistics.

    SQLite only chooses the primary-key scan for newest-first lists once it
    knows that team and status columns are not selective; without statistics
    it sorts every visible row. PostgreSQL's autovacuum does this by itself.

    It runs in a write transaction, queued with the other writers: the
    statistics are read, then written, and on its own that write would be
    refused ("database is locked") if the log was emptied in between, as the
    web server's checkpoints do.
    """
    if connections[using].vendor != "sqlite":
        return "nothing to do"
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        # A full pass: sampling (analysis_limit) sees one status value in the first
        # thousand index entries and calls it selective, which ruins queue plans.
        cursor.execute("PRAGMA analysis_limit=0")
        cursor.execute("PRAGMA optimize=0x10002")
    return "optimized"


@task()
def database_optimize_task() -> str:
    return database_optimize()
