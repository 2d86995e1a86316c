"""Raw inbound mail in the content-addressed blob store, synced to disk before it counts.

The same store as attachments (a raw message is a ``StoredBlob`` like any
attachment). A message from an MTA pipe, IMAP or SMTP is written and synced
on its own before we answer "stored", since the sender then forgets it. A
bulk import writes each batch of messages into one pack file, synced once:
creating a file costs more than parsing a short message on some file
systems, and the batch's rows are committed only after the sync, so a row
never points at bytes that a power cut could take back.
"""

from __future__ import annotations

from collections.abc import Sequence

from expediter.tickets.storage import Pack


def write_raw_pack(pack: Pack, messages: Sequence[bytes]) -> None:
    """Write a batch's messages into ``pack``, durable when this returns.

    The pack is written even when every message was stored before: which
    were is known only from the database, and the importing process
    discards a pack that no row points into.
    """
    pack.write(messages)
