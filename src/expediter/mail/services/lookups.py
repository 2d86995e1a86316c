"""What the intake must know about messages before acting on them, read a batch at a time.

Earlier copies (duplicates), the desk's own Message-IDs, threads, failing
addresses and the automatic replies each address has had lately are read with
a handful of queries for a whole batch, then kept up to date as each message
of the batch is processed, so that a later message of the batch is judged
exactly as if it had arrived alone afterwards: a copy of an earlier one is a
duplicate, a reply to it threads to its ticket, an address it bounced is
failing.

A message that fails is rolled back to its savepoint; :meth:`IntakeLookups.discard`
undoes what it changed here too, and :meth:`IntakeLookups.settle` keeps it
once the savepoint is released. Mail the desk sends during a batch
(acknowledgements) carries fresh random Message-IDs that no message read
before the batch can mention, so it never needs adding. Failing addresses
and automatic replies are read when first needed (most batches of bounces
never send an acknowledgement), then counted in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial

from django.db import transaction

from expediter.core import clock
from expediter.mail import selectors
from expediter.mail.addresses import (
    Bounces,
    address_bounces_record,
    address_clear_failing,
    address_mark_failing,
    bare,
    failing_addresses,
    recent_auto_reply_counts,
)
from expediter.mail.models import InboundMessage
from expediter.mail.outbox import OutboxContext, enqueue_sends
from expediter.mail.parsing import ParsedMessage
from expediter.tickets.models import Ticket


@dataclass
class IntakeLookups(OutboxContext):
    """The facts of one batch, answered from memory after :meth:`prefetch`.

    ``checked`` lists the (bare) addresses the batch's messages may touch:
    their failing records and recent automatic replies are read for all of
    them at once; any other address is asked of the database.
    """

    copies: dict[str, int] = field(default_factory=dict)  # Message-ID -> first processed row
    own: set[str] = field(default_factory=set)  # Message-IDs the desk sent
    threads: selectors.ThreadIndex = field(default_factory=selectors.ThreadIndex)
    checked: frozenset[str] = frozenset()
    _failing: set[str] | None = None  # read when first needed
    _auto_replies: dict[str, int] | None = None  # read when first needed
    _sends: list[int] = field(default_factory=list)  # outbound mail queued by the batch
    _bounces: dict[str, Bounces] = field(default_factory=dict)  # written by finish()
    _undo: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def prefetch(cls, messages: Iterable[ParsedMessage]) -> IntakeLookups:
        """Read what these messages need: four queries, whatever their number.

        Failing addresses and recent automatic replies take one more each,
        when first needed.
        """
        message_ids: set[str] = set()
        thread_ids: set[str] = set()
        addresses: set[str] = set()
        for parsed in messages:
            if parsed.message_id:
                message_ids.add(parsed.message_id)
            thread_ids.update(_thread_ids(parsed))
            addresses.update(_addresses(parsed))
        return cls(
            copies=selectors.inbound_processed_copies(message_ids=message_ids),
            own=selectors.own_message_ids(message_ids=message_ids),
            threads=selectors.thread_index(message_ids=thread_ids),
            checked=frozenset(addresses),
        )

    # --- what the intake asks -----------------------------------------------------

    def duplicate_of(self, message_id: str | None) -> int | None:
        """The first processed message with this Message-ID, if any."""
        return self.copies.get(message_id) if message_id else None

    def is_own(self, message_id: str | None) -> bool:
        return bool(message_id) and message_id in self.own

    def thread_ticket(self, message_ids: Sequence[str]) -> Ticket | None:
        """The ticket of the nearest known message among ``message_ids``, past merges."""
        return selectors.ticket_of_thread(self.threads.ticket_id(message_ids))

    def mark_failing(self, *, address: str, inbound: InboundMessage) -> None:
        """Count a bounce; :meth:`finish` writes the batch's bounces together."""
        key = bare(address)
        if key not in self.checked:
            address_mark_failing(address=address, inbound=inbound)
            return
        earlier, now = self._bounces.get(key), clock.now()
        self._undo.append(partial(_put_bounces, self._bounces, key, earlier))
        self._bounces[key] = (
            Bounces.first(at=now, inbound_id=inbound.pk, recorded=key in self._failing_set())
            if earlier is None
            else earlier.again(at=now, inbound_id=inbound.pk)
        )
        self._set_failing(key, True)

    def clear_failing(self, *, address: str) -> None:
        """An address that writes to us works again (no query when it never failed)."""
        key = bare(address)
        if key not in self.checked:
            address_clear_failing(address=address)
            return
        if key not in self._failing_set():
            return
        counted = self._bounces.get(key)
        if counted is None or counted.recorded:  # it has a record from before the batch
            address_clear_failing(address=address)
        self._undo.append(partial(_put_bounces, self._bounces, key, counted))
        self._bounces.pop(key, None)
        self._set_failing(key, False)

    # --- what the outbox asks about acknowledgements ---------------------------------

    def failing(self, keys: Sequence[str]) -> set[str]:
        unchecked = [key for key in keys if key not in self.checked]
        failing = failing_addresses(unchecked) if unchecked else set()
        if len(unchecked) < len(keys):
            failing |= self._failing_set().intersection(keys)
        return failing

    def recent_auto_replies(self, key: str) -> int:
        if key not in self.checked:
            return super().recent_auto_replies(key)
        return self._auto_reply_counts().get(key, 0)

    def auto_replied(self, keys: Sequence[str]) -> None:
        if self._auto_replies is None:
            return  # not read yet: the database will count these when it is
        for key in keys:
            self._undo.append(partial(_count, self._auto_replies, key, -1))
            _count(self._auto_replies, key, 1)

    def send_after_commit(self, message_pk: int) -> None:
        self._sends.append(message_pk)
        self._undo.append(partial(self._sends.remove, message_pk))

    def finish(self) -> None:
        """Write the bounces counted in memory; once committed, one task sends what was queued.

        Call at the end of the transaction, outside any message's savepoint.
        """
        if self._bounces:
            address_bounces_record(bounces=self._bounces)
            self._bounces = {}
        if self._sends:
            transaction.on_commit(partial(enqueue_sends, tuple(self._sends)))
            self._sends = []

    # --- after each message -----------------------------------------------------------

    def settle(self, inbound: InboundMessage) -> None:
        """``inbound`` is recorded for good: later messages of the batch see it."""
        self._undo.clear()
        if not inbound.message_id:
            return
        if inbound.status in selectors.PROCESSED:
            self.copies.setdefault(inbound.message_id, inbound.pk)
        if inbound.ticket_id is not None:
            self.threads.received.setdefault(inbound.message_id, inbound.ticket_id)

    def discard(self) -> None:
        """The message being processed was rolled back: forget what it changed."""
        while self._undo:
            self._undo.pop()()

    def _failing_set(self) -> set[str]:
        if self._failing is None:
            self._failing = failing_addresses(self.checked) if self.checked else set()
            self._undo.append(self._forget_failing)  # read inside a savepoint that may roll back
        return self._failing

    def _forget_failing(self) -> None:
        self._failing = None

    def _auto_reply_counts(self) -> dict[str, int]:
        if self._auto_replies is None:
            self._auto_replies = recent_auto_reply_counts(self.checked) if self.checked else {}
            self._undo.append(self._forget_auto_replies)
        return self._auto_replies

    def _forget_auto_replies(self) -> None:
        self._auto_replies = None

    def _set_failing(self, key: str, failing: bool) -> None:
        if key not in self.checked:
            return  # always asked of the database
        failing_set = self._failing_set()
        self._undo.append(partial(_put, failing_set, key, key in failing_set))
        _put(failing_set, key, failing)


def _count(counts: dict[str, int], key: str, change: int) -> None:
    counts[key] = counts.get(key, 0) + change


def _put_bounces(counted: dict[str, Bounces], key: str, bounces: Bounces | None) -> None:
    if bounces is None:
        counted.pop(key, None)
    else:
        counted[key] = bounces


def _put(members: set[str], key: str, present: bool) -> None:
    if present:
        members.add(key)
    else:
        members.discard(key)


def _thread_ids(parsed: ParsedMessage) -> Iterator[str]:
    yield from selectors.thread_candidates(parsed.thread_ids)
    original = parsed.classification.original_message_id
    if parsed.classification.kind == "bounce" and original:
        yield from selectors.thread_candidates([original])


def _addresses(parsed: ParsedMessage) -> Iterator[str]:
    """Every address whose failing record processing ``parsed`` may read or touch."""
    if parsed.sender is not None:
        yield bare(parsed.sender.address)
        yield bare(parsed.sender.address.rstrip("."))
    for address in parsed.classification.bounced_recipients:
        yield bare(address)
