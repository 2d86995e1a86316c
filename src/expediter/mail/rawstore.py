"""Raw inbound mail in the content-addressed blob store, synced to disk before it counts.

The same layout as :mod:`expediter.tickets.storage` (so a raw message is a
``StoredBlob`` like any attachment). A message from an MTA pipe, IMAP or SMTP
is synced on its own before we answer "stored", since the sender then forgets
it. A bulk import writes a whole batch, then syncs once: one ``sync`` costs
about what a dozen ``fsync`` calls do, and the batch's rows are committed only
after it, so a row never points at bytes that a power cut could take back.
"""

from __future__ import annotations

from collections.abc import Sequence

from expediter.tickets.storage import synced_at_end, write_bytes


def write_raw_batch(messages: Sequence[bytes]) -> list[str]:
    """Write every message at its address, then make them all durable at once.

    The sync runs even when every file was there already: one an interrupted
    earlier run wrote may still be only in the cache.
    """
    with synced_at_end(always=True):
        return [write_bytes(data) for data in messages]
