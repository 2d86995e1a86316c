"""Maildir folders and mbox files, read message by message for a bulk import.

Only fetching lives here: each message's raw bytes go to the intake service
like any other delivery, so an import run twice imports nothing twice.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path


class NotAMailStore(ValueError):
    """The path is neither a Maildir nor an mbox file."""


def _is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


MailStore = mailbox.Maildir | mailbox.mbox


def open_store(path: Path) -> MailStore:
    """A Maildir (a folder with ``cur`` and ``new``) or an mbox file, read-only use."""
    if _is_maildir(path):
        return mailbox.Maildir(path, factory=None, create=False)
    if path.is_file():
        return mailbox.mbox(path, factory=None, create=False)
    raise NotAMailStore(f"{path} is neither a Maildir nor an mbox file")


def store_size(store: MailStore) -> int:
    return len(store)


def raw_messages(store: MailStore) -> Iterator[tuple[str, bytes]]:
    """``(key, raw bytes)`` of every message, in the store's order (sorted for Maildir)."""
    keys = sorted(store.keys(), key=str) if isinstance(store, mailbox.Maildir) else store.keys()
    for key in keys:
        yield str(key), store.get_bytes(key)
