"""Cursor pagination: ``{"items": [...], "next_cursor": ...}`` with opaque cursors.

Keyset pagination on the primary key keeps a deep page as fast as the first
and stays stable while rows are added.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from expediter.core.errors import InvalidInput

M = TypeVar("M", bound=Model)
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
FIRST_PAGE_BOUND = 2**62


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
        return int(value)
    except (ValueError, KeyError, TypeError):
        raise InvalidInput(_("cursor is not one this API gave out"), field="cursor") from None


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(_("limit must be from 1 to %(max)s") % {"max": MAX_LIMIT}, field="limit")
    return limit


def paginate(
    queryset: QuerySet[M],
    *,
    cursor: str | None,
    limit: int | None,
    present: Callable[[M], dict[str, Any]],
    newest_first: bool,
) -> dict[str, Any]:
    """One page ordered by id (descending when ``newest_first``)."""
    size = check_limit(limit)
    if cursor:
        after = decode_cursor(cursor)
        queryset = queryset.filter(pk__lt=after) if newest_first else queryset.filter(pk__gt=after)
    elif newest_first:
        # Always true, but it steers SQLite's planner to walk the primary key
        # backwards (as for later pages) instead of gathering every visible
        # row through the OR'ed visibility indexes and sorting them: 340 ms
        # -> 7 ms for the first page at 100,000 tickets.
        queryset = queryset.filter(pk__lt=FIRST_PAGE_BOUND)
    rows = list(queryset.order_by("-pk" if newest_first else "pk")[: size + 1])
    next_cursor = encode_cursor(rows[size - 1].pk) if len(rows) > size else None
    return {"items": [present(row) for row in rows[:size]], "next_cursor": next_cursor}
