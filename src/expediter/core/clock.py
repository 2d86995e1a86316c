"""The one source of "now" for business rules.

Every rule that depends on the time (SLA clocks, who is on duty, reminders)
asks :func:`now` instead of calling ``timezone.now()`` so tests and the
simulator can move time deliberately with :func:`frozen`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

_frozen: list[dt.datetime] = []


def now() -> dt.datetime:
    """The current instant, timezone-aware in UTC (or the frozen one)."""
    if _frozen:
        return _frozen[-1]
    return dt.datetime.now(dt.UTC)


@contextlib.contextmanager
def frozen(at: dt.datetime) -> Iterator[None]:
    """Make :func:`now` return ``at`` inside the block (nests)."""
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    _frozen.append(at.astimezone(dt.UTC))
    try:
        yield
    finally:
        _frozen.pop()


def pinned() -> dt.datetime | None:
    """The frozen instant, or None while the clock runs (to put it back after moving it)."""
    return _frozen[-1] if _frozen else None


def set_now(at: dt.datetime | None) -> None:
    """Move the frozen clock (None releases it); for tests and simulations."""
    _frozen.clear()
    if at is not None:
        _frozen.append(at.astimezone(dt.UTC))
