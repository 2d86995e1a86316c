"""Explicit listeners between domains, without importing upward.

Domains further down the dependency chain (``tickets``) announce what
happened; domains above them (``sla``, ``routing``, ``mail``) register
listeners in their ``AppConfig.ready``. Two kinds exist:

* ``in_transaction`` listeners run where the service announces, for state
  that must be in the write's own answer (SLA clocks): inside its
  transaction, except ``ticket.opening``, announced just before a new
  ticket's transaction opens, whose listeners compute and write nothing;
* ``after_commit`` listeners run once the transaction commits, and should
  only enqueue idempotent tasks that take ids (mail, notifications,
  automatic assignment).

``grep -rn "hooks.listen" src/`` lists every listener.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction

Listener = Callable[..., None]
Wants = Callable[..., bool]

_in_transaction: dict[str, list[Listener]] = defaultdict(list)
_after_commit: dict[str, list[tuple[Listener, Wants | None]]] = defaultdict(list)


def listen(
    topic: str, listener: Listener, *, after_commit: bool, when: Wants | None = None
) -> None:
    """Register ``listener`` for ``topic`` (idempotent).

    ``when`` (after-commit listeners only): whether the listener has anything
    to do with a payload, asked at the announcement. When no listener wants
    it, no transaction is opened after the commit.
    """
    if after_commit:
        if all(known is not listener for known, _ in _after_commit[topic]):
            _after_commit[topic].append((listener, when))
    elif listener not in _in_transaction[topic]:
        _in_transaction[topic].append(listener)


def announce(topic: str, **payload: Any) -> None:
    """Run in-transaction listeners now and schedule the after-commit ones that want it."""
    for listener in _in_transaction.get(topic, ()):
        listener(**payload)
    after_commit = tuple(
        listener
        for listener, wants in _after_commit.get(topic, ())
        if wants is None or wants(**payload)
    )
    if after_commit:
        transaction.on_commit(partial(_run_together, after_commit, payload))


def _run_together(listeners: tuple[Listener, ...], payload: dict[str, Any]) -> None:
    """One announcement's after-commit listeners, in one short transaction of their own.

    They write task rows; one transaction takes the write lock once for all
    of them (on SQLite, in turn with the other writers) where separate
    autocommit INSERTs would each wait for the lock on their own.
    """
    with transaction.atomic():
        for listener in listeners:
            listener(**payload)
