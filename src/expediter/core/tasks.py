"""Housekeeping tasks that belong to no domain."""

from __future__ import annotations

from django.db import connection
from django_tasks import task


def database_optimize() -> str:
    """Refresh the query planner's statistics.

    SQLite only chooses the primary-key scan for newest-first lists once it
    knows that team and status columns are not selective; without statistics
    it sorts every visible row. PostgreSQL's autovacuum does this by itself.
    """
    if connection.vendor != "sqlite":
        return "nothing to do"
    with connection.cursor() as cursor:
        # A full pass: sampling (analysis_limit) sees one status value in the first
        # thousand index entries and calls it selective, which ruins queue plans.
        cursor.execute("PRAGMA analysis_limit=0")
        cursor.execute("PRAGMA optimize=0x10002")
    return "optimized"


@task()
def database_optimize_task() -> str:
    return database_optimize()
