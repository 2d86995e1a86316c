"""Writes about IMAP mailboxes: when each was last polled, and how that went."""

from __future__ import annotations

from expediter.core import clock
from expediter.mail.models import Mailbox


def mailbox_record_poll(*, mailbox_id: int, error: str) -> None:
    """Remember the poll (its error for admins, or none)."""
    Mailbox.objects.filter(pk=mailbox_id).update(
        last_polled_at=clock.now(), last_error=error[:2000]
    )
