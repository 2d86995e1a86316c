"""Reads kept per process until a change anywhere says otherwise.

Some tables are read on every write (the SLA policies, the routing roster)
and change a few times a day. A process keeps what it read under a token
held in the shared cache; a change replaces the token, which every process
sees on its next read. The token is read *before* the rows, so a change
committed meanwhile is never kept under the token that follows it.

A change replaces the token at once, so that the rest of its transaction
reads the new rows, and again after the commit, so that what other
processes read in between (the old rows) is read again. What this process
reads in between is never kept: the transaction may yet be rolled back (and
once it is over with the token still in place, it was rolled back).
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable, Hashable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")
_EVERY: weakref.WeakSet[SharedMemo] = weakref.WeakSet()


class SharedMemo:
    """Values keyed by name, valid while the token under ``key`` stays the same."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._kept: tuple[str | None, dict[Hashable, Any]] = (None, {})
        self._unconfirmed: str | None = None
        self._pinned: ContextVar[str | None] = ContextVar(f"pinned {key}", default=None)
        _EVERY.add(self)

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Read the token once for a block that reads several kept values (one decision).

        Reading it again in the middle of one transaction would only tell a
        change apart that the transaction's own reads do not see together
        anyway; a change made inside the block is still seen at once.
        """
        reset = self._pinned.set(self._current_token())
        try:
            yield
        finally:
            self._pinned.reset(reset)

    def get(self, name: Hashable, load: Callable[[], T]) -> T:
        """The value kept under ``name``, or ``load()`` (kept when the token is settled)."""
        token = self._pinned.get() or self._current_token()
        if token == self._unconfirmed and not transaction.get_connection().in_atomic_block:
            self._unconfirmed = None  # its transaction is over, and rolled back: nothing changed
        kept_token, values = self._kept  # one read: threads may replace it meanwhile
        if token is not None and token == kept_token and name in values:
            value: T = values[name]
            return value
        value = load()
        if token is None or token == self._unconfirmed:
            return value
        if token != kept_token:
            values = {}
            self._kept = (token, values)
        values[name] = value
        return value

    def changed(self) -> None:
        """Called for every change to the rows behind the values, inside its transaction."""
        self._unconfirmed = uuid.uuid4().hex
        self._kept = (None, {})
        self._pinned.set(None)
        cache.set(self.key, self._unconfirmed, timeout=None)
        transaction.on_commit(self.confirm)

    def confirm(self) -> None:
        """What the commit of a change does: a new token, under which values are kept again."""
        cache.set(self.key, uuid.uuid4().hex, timeout=None)

    def _current_token(self) -> str | None:
        token = cache.get(self.key)
        if token is None:
            cache.add(self.key, uuid.uuid4().hex, timeout=None)
            token = cache.get(self.key)
        return token if isinstance(token, str) else None


@contextmanager
def all_pinned() -> Iterator[None]:
    """:meth:`SharedMemo.pinned` for every memo at once: a batch decided in one transaction.

    A mail import's batch opens dozens of tickets in one transaction; each
    read the tokens of the SLA policies and the priority matrix from the
    shared cache again (a file read each time).
    """
    with ExitStack() as stack:
        for memo in list(_EVERY):
            stack.enter_context(memo.pinned())
        yield
