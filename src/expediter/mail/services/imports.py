"""Bulk intake (``expediter mail import``): the rules of :func:`mail_receive`, a batch at a time.

Message by message, most of the cost of intake is the database's fixed price
per statement and per transaction, not the work itself. A Maildir or mbox is
therefore imported in batches, each in three steps that keep every promise
of the one-message path:

1. the batch's raw bytes are written to the store in one pack file and
   synced once, then recorded as ``pending`` (and claimed) in one
   transaction: from here on, nothing is lost;
2. each message is parsed, outside any transaction;
3. the batch is processed in one transaction, each message in its own
   savepoint: a message that fails rolls back its own work only, is recorded
   as failed and retried later like any other, and its neighbours keep theirs.

A crash during step 3 rolls the batch back to ``pending``; once the claim
expires, ``expediter mail retry`` and the worker process those messages.

Writing bytes and parsing them touch no database, so an import works ahead
in a second process (:class:`_Helper`): while this process processes batch
*n*, the other writes and syncs the bytes of batch *n + 1*, then parses
them; this process parses whatever of a batch the other has not started by
the time it is needed (:class:`_Parsing`, :class:`_Claims`). While the other
syncs a batch's bytes, this one parses and records the batch's rows, which
it commits once the bytes are synced (:class:`_Writing`). A second process
that fails or dies costs nothing but time: its share is done here instead.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from django.db import IntegrityError, connection, transaction

from expediter.core import clock
from expediter.core.memo import all_pinned
from expediter.core.rows import Stamp, executed, insert_batch, quoted_columns
from expediter.mail.models import InboundMessage, InboundSource, InboundStatus
from expediter.mail.parsing import ParsedMessage, parse_message
from expediter.mail.quoting import split_reply
from expediter.mail.services.ingest import (
    CLAIM,
    IngestResult,
    already_received,
    inbound_process,
    inbound_store,
    outcome_result,
    record_failure,
)
from expediter.mail.services.intake import (
    NoLongerPending,
    parse_options,
    parse_stored,
    process_one,
)
from expediter.mail.services.lookups import IntakeLookups
from expediter.tickets.models import StoredBlob
from expediter.tickets.storage import Pack, content_address

logger = logging.getLogger("expediter.mail")

BATCH_MESSAGES = 100  # the write lock is held for the processing of one batch
BATCH_BYTES = 32 * 1024 * 1024  # and its raw and parsed messages are in memory at once
PARSE_CHUNK = 10  # messages either process parses as one (see _Claims)
T = TypeVar("T")


@dataclass
class _Delivery:
    """One message of a batch, as it goes through the three steps."""

    raw: bytes
    source_detail: str
    inbound: InboundMessage | None = None
    fresh: bool = False  # a row this import created and claimed
    first: _Delivery | None = None  # the same bytes, earlier in the batch
    parsed: ParsedMessage | None = None
    result: IngestResult | None = None


def mail_import(
    *,
    messages: Iterable[tuple[str, bytes]],
    source: str = InboundSource.IMPORT,
    parse_ahead: bool = True,
) -> Iterator[IngestResult]:
    """Store and process every ``(source detail, raw bytes)``; one result each, in order.

    ``parse_ahead`` lets a second process write and parse the next batch
    while this one processes the current one (when the machine has a second
    core).
    """
    with _Helper(enabled=parse_ahead) as helper:
        previous: tuple[list[_Delivery], _Writing, _Parsing] | None = None
        for batch in _batches(messages):
            ahead = previous is not None
            writing, parsing = helper.write(batch, ahead=ahead), helper.parse(batch, ahead=ahead)
            if previous is not None:
                yield from _finish(*previous, source=source)
            previous = (batch, writing, parsing)
        if previous is not None:
            yield from _finish(*previous, source=source)


def _batches(messages: Iterable[tuple[str, bytes]]) -> Iterator[list[_Delivery]]:
    batch: list[_Delivery] = []
    size = 0
    for source_detail, raw in messages:
        batch.append(_Delivery(raw=raw, source_detail=source_detail[:255]))
        size += len(raw)
        if len(batch) >= BATCH_MESSAGES or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _fresh(batch: list[_Delivery]) -> list[_Delivery]:
    return [delivery for delivery in batch if delivery.fresh]


def _finish(
    batch: list[_Delivery], writing: _Writing, parsing: _Parsing, *, source: str
) -> list[IngestResult]:
    """The three steps of a batch whose bytes are being written and parsed; its results.

    Bytes that an earlier batch of this import stored are settled by then:
    their results read what that batch recorded. While the other process
    syncs the bytes (the first batch, mostly), this one parses, then records.
    """
    parsing.parse_while(writing.syncing)
    _store(batch, writing, source=source)
    parsing.wait()
    _process([delivery for delivery in _fresh(batch) if delivery.parsed is not None])
    return [_result_of(delivery) for delivery in batch]


# --- step 1: store ------------------------------------------------------------------


class _Writing:
    """One batch's bytes, being written and synced in the second process, or left to here."""

    def __init__(self, raws: list[bytes], pack: Pack, future: Future[list[str]] | None) -> None:
        self.raws = raws
        self.pack = pack
        self.future = future
        self.synced = False
        self._outcome: list[list[str] | None] = []  # the second process's, once asked

    @property
    def elsewhere(self) -> bool:
        """Whether the second process is writing the bytes."""
        return self.future is not None

    def syncing(self) -> bool:
        """Whether the second process is still writing or syncing the bytes."""
        return self.future is not None and not self.future.done()

    def digests(self) -> list[str]:
        """Each message's content address: from the second process if it has written the bytes.

        Otherwise worked out here, without waiting for the bytes to be on disk.
        """
        if self.future is not None and self.future.done():
            there = self._written_there()
            if there is not None and len(there) == len(self.raws):
                return there
        return [content_address(raw) for raw in self.raws]

    def wait_synced(self) -> None:
        """Return once every message of the batch is written and synced to disk."""
        if self.synced:
            return
        # A pack the second process failed to finish is written again, whole.
        if self._written_there() is None:
            self.pack.write(self.raws)
        self.synced = True

    def _written_there(self) -> list[str] | None:
        """The addresses the second process returned once the pack was synced; None if it failed.

        Waited for, and a failure logged, once.
        """
        if not self._outcome:
            self._outcome.append(_done_there(self.future, "writing"))
        return self._outcome[0]


def _done_there(future: Future[T] | None, doing: str) -> T | None:
    """The second process's result, or None: then this process does the work itself."""
    if future is None:
        return None
    try:
        return future.result()
    except Exception:  # a dead or failing second process costs only time
        logger.warning("the second process failed; %s in this process", doing, exc_info=True)
        return None


def _write_batch(pack: Pack, raws: list[bytes]) -> list[str]:
    """What the second process runs for a batch's bytes; their content addresses.

    The pack is written even when every message was stored before: which
    were is known only from the database, and this process removes a pack
    that no row points into. The addresses are worked out there too, where
    the time is free: this process uses them when the bytes are synced by
    the time it records the batch (every batch but the first).
    """
    digests = [content_address(raw) for raw in raws]
    pack.write(raws)
    return digests


def _store(batch: list[_Delivery], writing: _Writing, *, source: str) -> None:
    """The batch's rows, committed only once its bytes are synced.

    While the second process syncs the bytes, this one records the rows;
    the commit waits for the sync, so a committed row never points at bytes
    a power cut could take back. Bytes written here are synced first, before
    the write lock is taken. A pack that holds only bytes stored before is
    removed.
    """
    if not writing.elsewhere:
        writing.wait_synced()
    digests = writing.digests()
    try:
        with transaction.atomic():
            packed = _record_rows(batch, digests, writing.pack, source=source)
            writing.wait_synced()
    except IntegrityError:  # another process stored some of these bytes at the same moment
        writing.wait_synced()
        packed = 0
        _store_one_by_one(batch, digests, source=source)
    if not packed:
        writing.pack.discard()


def _record_rows(batch: list[_Delivery], digests: list[str], pack: Pack, *, source: str) -> int:
    """Rows for the new bytes and their blobs, many per INSERT, claimed for this import.

    Returns how many new blobs lie in ``pack``.
    """
    blob_ids, known = _stored_before(digests)
    new: dict[str, _Delivery] = {}
    offsets: dict[str, int] = {}
    for delivery, digest, offset in zip(batch, digests, pack.offsets, strict=True):
        if digest in known:
            delivery.inbound = known[digest]
        elif digest in new:
            delivery.first = new[digest]
        else:
            new[digest], offsets[digest] = delivery, offset
    blobs, packed = _blob_ids(
        {digest: (len(delivery.raw), offsets[digest]) for digest, delivery in new.items()},
        pack,
        stored=blob_ids,
    )
    now = clock.now()
    stamp = Stamp(InboundMessage, source=source, received_at=now, claimed_until=now + CLAIM)
    rows = [
        stamp.make(
            blob_id=blobs[digest],
            sha256=digest,
            size=len(delivery.raw),
            source_detail=delivery.source_detail,
        )
        for digest, delivery in new.items()
    ]
    insert_batch(rows)
    for delivery, row in zip(new.values(), rows, strict=True):
        delivery.inbound, delivery.fresh = row, True
    return packed


def _stored_before(digests: list[str]) -> tuple[dict[str, int], dict[str, InboundMessage]]:
    """``({sha256: StoredBlob id}, {sha256: InboundMessage})`` of the bytes stored before.

    One query: the bytes of a message are a blob first (an attachment may
    be the same bytes as a message, and a message's row points at its blob).
    Built here rather than by the ORM, which took longer to write the query
    for a batch's hundred addresses than the database took to answer it.
    """
    unique = list(dict.fromkeys(digests))
    with executed(_stored_before_sql(connection.vendor, len(unique)), unique) as cursor:
        found = cursor.fetchall()
    blob_ids: dict[str, int] = {}
    inbound_ids: list[int] = []
    for digest, blob_id, inbound_id in found:
        blob_ids[digest] = blob_id
        if inbound_id is not None:
            inbound_ids.append(inbound_id)
    rows = InboundMessage.objects.filter(pk__in=inbound_ids) if inbound_ids else []
    return blob_ids, {row.sha256: row for row in rows}


@functools.lru_cache(maxsize=8)
def _stored_before_sql(vendor: str, count: int) -> str:
    """The blobs among ``count`` addresses, each with the message stored as those bytes."""
    quote = connection.ops.quote_name
    blob, message = quoted_columns(StoredBlob), quoted_columns(InboundMessage)
    wanted = ", ".join(["%s"] * count)
    return (
        f"SELECT b.{blob['sha256']}, b.{blob['id']}, m.{message['id']}"  # noqa: S608
        f" FROM {quote(StoredBlob._meta.db_table)} b"
        f" LEFT JOIN {quote(InboundMessage._meta.db_table)} m"
        f" ON m.{message['blob']} = b.{blob['id']}"
        f" WHERE b.{blob['sha256']} IN ({wanted})"
    )


def _blob_ids(
    places: dict[str, tuple[int, int]], pack: Pack, *, stored: dict[str, int]
) -> tuple[dict[str, int], int]:
    """``{sha256: StoredBlob id}`` for ``{sha256: (size, offset in pack)}``, and how many are new.

    Blobs not recorded yet (not in ``stored``) are recorded as lying in
    ``pack``; the others stay where they were stored before (an
    attachment's own file, say).
    """
    ids = {digest: stored[digest] for digest in places if digest in stored}
    stamp = Stamp(StoredBlob, pack=pack.name)
    missing = [
        stamp.make(sha256=digest, size=size, offset=offset)
        for digest, (size, offset) in places.items()
        if digest not in ids
    ]
    insert_batch(missing)
    ids.update((blob.sha256, blob.pk) for blob in missing)
    return ids, len(missing)


def _store_one_by_one(batch: list[_Delivery], digests: list[str], *, source: str) -> None:
    """The one-message path, which settles races row by row (the bytes are already synced)."""
    seen: dict[str, _Delivery] = {}
    for delivery, digest in zip(batch, digests, strict=True):
        delivery.first = seen.get(digest)
        if delivery.first is not None:
            continue
        seen[digest] = delivery
        delivery.inbound, delivery.fresh = inbound_store(
            raw=delivery.raw, source=source, source_detail=delivery.source_detail
        )


# --- step 2: parse --------------------------------------------------------------------


def _parse_fresh(deliveries: list[_Delivery]) -> None:
    """Parse here the messages of a chunk that this import recorded (not earlier copies)."""
    for delivery in _fresh(deliveries):
        _parse(delivery)


def _parse(delivery: _Delivery) -> None:
    assert delivery.inbound is not None
    try:
        delivery.parsed = parse_stored(delivery.raw)
    except Exception as error:  # recorded, retried, and finally quarantined: never lost
        logger.exception("processing inbound message %s failed", delivery.inbound.pk)
        delivery.result = _failed(delivery.inbound, error)


def _parse_chunks(
    chunks: list[list[bytes]], options: dict[str, Any], slots: list[int] | None = None
) -> list[list[ParsedMessage | None] | None]:
    """What the second process runs for a batch: the parser alone, no database.

    The chunks are parsed in order, each unless the importing process took
    it over meanwhile (see :class:`_Claims`): that one is left to it whole
    (``None``). A person's message is likely to become an article, whose
    display folds the quotation: that split is worked out here too, on the
    other core. A message the parser fails on is left (``None``) to the
    importing process, which records the failure.
    """
    parsed: list[list[ParsedMessage | None] | None] = []
    for index, raws in enumerate(chunks):
        if slots is not None and _CLAIMS is not None and not _CLAIMS.start(slots[index]):
            parsed.append(None)
            continue
        parsed.append([_parse_apart(raw, options) for raw in raws])
    return parsed


class _Claims:
    """Which process parses each chunk, settled once, in memory both processes share.

    The second process has the whole batch from the start; this process may
    still take a chunk over, as long as the other has not started it, and
    the other then skips it.
    """

    FREE, STARTED, TAKEN = 0, 1, 2
    SLOTS = 4096  # chunks in flight at once are a few batches' worth

    def __init__(self) -> None:
        self.states = multiprocessing.get_context("fork").Array("b", self.SLOTS)
        self.next = 0

    def new(self) -> int:
        slot, self.next = self.next, (self.next + 1) % self.SLOTS
        self.states[slot] = self.FREE
        return slot

    def start(self, slot: int) -> bool:
        """In the second process: whether it parses the chunk (not taken over)."""
        return self._settle(slot, self.STARTED, unless=self.TAKEN)

    def take(self, slot: int) -> bool:
        """In this process: whether it parses the chunk (not started there)."""
        return self._settle(slot, self.TAKEN, unless=self.STARTED)

    def _settle(self, slot: int, state: int, *, unless: int) -> bool:
        with self.states.get_lock():
            if self.states[slot] == unless:
                return False
            self.states[slot] = state
            return True


_CLAIMS: _Claims | None = None  # set before the second process is forked, which inherits it


def _parse_apart(raw: bytes, options: dict[str, Any]) -> ParsedMessage | None:
    try:
        return _with_reply_split(parse_message(raw, **options))
    except Exception:
        return None


def _with_reply_split(parsed: ParsedMessage) -> ParsedMessage:
    if parsed.quarantine_reason or parsed.classification.is_automatic or not parsed.text:
        return parsed
    sender_name = parsed.sender.name if parsed.sender else None
    return replace(parsed, reply_split=split_reply(parsed.text, sender_name=sender_name))


class _Parsing:
    """One batch's step 2, shared between the parsing process and this one.

    The whole batch goes to the parsing process at once (one job: each job
    handed over waits for this busy process to feed it), which parses its
    chunks from the front. When this process needs the batch, it parses
    the chunks that have not started there itself, from the back: neither
    process sits idle while the other has work, whether parsing (large
    multipart mail) or recording (plain messages that each open a ticket)
    is the slower step.
    """

    def __init__(
        self,
        chunks: list[list[_Delivery]],
        future: Future[list[list[ParsedMessage | None] | None]] | None = None,
        claims: _Claims | None = None,
        slots: list[int] | None = None,
        options: dict[str, Any] | None = None,
    ):
        self.chunks = chunks
        self.future = future
        self.claims = claims
        self.slots = slots
        self.options = options or {}
        self.taken_over: set[int] = set()  # parsed here once the batch's rows exist
        self.parsed_early: dict[int, list[ParsedMessage | None]] = {}  # parsed here before

    def parse_while(self, busy: Callable[[], bool]) -> None:
        """Take chunks over, from the back, and parse them for as long as ``busy()``.

        The batch's rows do not exist yet, so a chunk is parsed whole, as the
        other process parses it; :meth:`wait` hands the results out (and
        parses again, to record it, a message that failed).
        """
        for index in reversed(range(len(self.chunks))):
            if not busy() or not self._taken(index):
                return
            self.parsed_early[index] = [
                _parse_apart(d.raw, self.options) for d in self.chunks[index]
            ]

    def _taken(self, index: int) -> bool:
        """Whether this process parses the chunk: it was not started there."""
        if self.future is None or self.slots is None or self.claims is None:
            return False
        return self.claims.take(self.slots[index])

    def wait(self) -> None:
        """Give every delivery this import recorded its parsed message (or its failure)."""
        if self.future is None:
            for chunk in self.chunks:
                _parse_fresh(chunk)
            return
        for index in reversed(range(len(self.chunks))):
            if index in self.parsed_early:
                continue
            if not self._taken(index):
                break  # this chunk and every one before it started in the other process
            self.taken_over.add(index)
            _parse_fresh(self.chunks[index])
        there = _done_there(self.future, "parsing")
        for index, chunk in enumerate(self.chunks):
            if index in self.taken_over:
                continue
            parsed = self.parsed_early.get(index) or (there[index] if there else None)
            if parsed is None:
                _parse_fresh(chunk)
                continue
            for delivery, message in zip(chunk, parsed, strict=True):
                if message is None:
                    _parse_fresh([delivery])
                elif delivery.fresh:
                    delivery.parsed = message


class _Helper:
    """At most one second process beside this one, for the length of an import.

    It is forked, which is quick and needs no second start-up, but only from a
    process with a single thread (a fork copies no other thread, and locks
    another thread holds would stay held forever in the copy); it never
    touches the database it inherits. It is forked once the import has more
    than a chunk to parse (``ahead``: a batch follows another). With one
    core, or after a failure, everything is done in this process.
    """

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled and (os.cpu_count() or 1) > 1
        self.pool: ProcessPoolExecutor | None = None
        self.claims: _Claims | None = None

    def __enter__(self) -> _Helper:
        return self

    def __exit__(self, *_: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def write(self, batch: list[_Delivery], *, ahead: bool) -> _Writing:
        """Write and sync the batch's bytes there, before any of its parsing."""
        raws = [delivery.raw for delivery in batch]
        pack = Pack.plan(raws)
        pool = self._pool(ahead=ahead, size=len(batch))
        future = None if pool is None else self._submit(pool, _write_batch, pack, raws)
        return _Writing(raws, pack, future)

    def parse(self, batch: list[_Delivery], *, ahead: bool) -> _Parsing:
        """Hand the batch's parsing over, in chunks of one job (see :class:`_Parsing`)."""
        pool = self._pool(ahead=ahead, size=len(batch))
        if pool is None:
            return _Parsing([batch])
        options = parse_options()
        chunks = [batch[start : start + PARSE_CHUNK] for start in range(0, len(batch), PARSE_CHUNK)]
        slots = [self.claims.new() for _ in chunks] if self.claims is not None else None
        raws = [[delivery.raw for delivery in chunk] for chunk in chunks]
        future = self._submit(pool, _parse_chunks, raws, options, slots)
        return _Parsing(chunks, future, self.claims, slots, options)

    def _submit(
        self, pool: ProcessPoolExecutor, function: Callable[..., T], *args: Any
    ) -> Future[T] | None:
        if not self.enabled:
            return None
        try:
            future = pool.submit(function, *args)
        except Exception:  # the pool broke on an earlier task
            logger.warning("no second process; working in this process", exc_info=True)
            self.enabled = False
            return None
        future.add_done_callback(self._disable_if_failed)
        return future

    def _pool(self, *, ahead: bool, size: int) -> ProcessPoolExecutor | None:
        if not self.enabled or not (ahead or size > PARSE_CHUNK):
            return None
        if self.pool is None:
            if threading.active_count() > 1:
                self.enabled = False
                return None
            global _CLAIMS
            _CLAIMS = self.claims = _Claims()
            self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
        return self.pool

    def _disable_if_failed(self, future: Future[Any]) -> None:
        if not future.cancelled() and future.exception() is not None:
            self.enabled = False


# --- step 3: process --------------------------------------------------------------------


def _process(deliveries: list[_Delivery]) -> None:
    if not deliveries:
        return
    with transaction.atomic(), all_pinned():
        lookups = IntakeLookups.prefetch(d.parsed for d in deliveries if d.parsed is not None)
        for delivery in deliveries:
            delivery.result = _process_delivery(delivery, lookups)
        lookups.finish()


def _process_delivery(delivery: _Delivery, lookups: IntakeLookups) -> IngestResult:
    inbound, parsed = delivery.inbound, delivery.parsed
    assert inbound is not None and parsed is not None
    try:
        with transaction.atomic():
            outcome = process_one(inbound=inbound, parsed=parsed, lookups=lookups)
    except NoLongerPending:
        lookups.discard()
        return _settled_elsewhere(inbound)
    except Exception as error:  # this message only: its savepoint is rolled back
        lookups.discard()
        logger.exception("processing inbound message %s failed", inbound.pk)
        return _failed(inbound, error)
    lookups.settle(inbound)
    return outcome_result(inbound.pk, outcome)


def _failed(inbound: InboundMessage, error: Exception) -> IngestResult:
    result = record_failure(inbound, error)
    inbound.refresh_from_db()
    return result


def _settled_elsewhere(inbound: InboundMessage) -> IngestResult:
    """Another process recorded the message first (a retry that found its claim expired)."""
    inbound.refresh_from_db()
    return IngestResult(
        status=inbound.status,
        ticket=inbound.ticket_id,
        article=inbound.article_id,
        reason=inbound.reason or None,
        inbound=inbound.pk,
        final=inbound.status != InboundStatus.PENDING,
    )


def _result_of(delivery: _Delivery) -> IngestResult:
    if delivery.first is not None:  # the same bytes twice in one batch: the second is a copy
        assert delivery.first.inbound is not None
        return already_received(delivery.first.inbound)
    if delivery.result is not None:
        return delivery.result
    inbound = delivery.inbound
    assert inbound is not None
    if inbound.status == InboundStatus.PENDING:  # stored before, left unprocessed
        return inbound_process(inbound_id=inbound.pk, raw=delivery.raw)
    return already_received(inbound)
