"""Background tasks of the mail channel: take ids, safe to run twice."""

from __future__ import annotations

from django_tasks import task

from expediter.mail import outbox


@task()
def outbox_send(message_pk: int) -> str:
    return outbox.outbox_send(message_pk=message_pk)


@task()
def outbox_send_many(message_pks: list[int]) -> int:
    """Send a batch's messages; each is claimed on its own, so a second run sends nothing."""
    return sum(outbox.outbox_send(message_pk=pk) == "sent" for pk in message_pks)


@task()
def outbox_flush() -> int:
    """Send everything due (retries, messages whose first enqueue was lost)."""
    ids = outbox.outbox_due_ids()
    for pk in ids:
        outbox.outbox_send(message_pk=pk)
    return len(ids)


@task()
def mail_for_event(event_id: int) -> str:
    from expediter.mail.services.events import mail_for_event as handle

    return handle(event_id=event_id)


@task()
def inbound_retry() -> int:
    """Process stored mail that a crash or a failure left unprocessed."""
    from expediter.mail.services import inbound_retry_pending

    return len(inbound_retry_pending())


@task()
def mailboxes_poll() -> int:
    """Poll every active IMAP mailbox that is due; returns how many were polled."""
    from expediter.mail.transports.imap import poll_due_mailboxes

    return poll_due_mailboxes()


@task()
def magic_links_purge() -> int:
    from expediter.mail.services.magic import magic_links_purge as purge

    return purge()


@task()
def orphan_packs_remove() -> int:
    """Remove the pack files of imports that died before committing their rows."""
    from expediter.tickets.storage import orphan_packs_remove as remove

    return remove()
