"""Mail intake: store the raw message first, then process it, never losing either.

Every transport (MTA pipe, Maildir/mbox import, IMAP, the SMTP receiver) hands
raw bytes to :func:`mail_receive`. The bytes are written to the
content-addressed store and recorded as ``pending`` in their own transaction
before anything parses them; processing then runs in a second transaction
that records the outcome together with the ticket or article it made. A crash
between the two leaves a ``pending`` row that :func:`inbound_retry_pending`
(``expediter mail retry`` and the worker) picks up; a second delivery of the
same bytes finds the existing row instead of making a second article.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from expediter.core import clock
from expediter.core.errors import Conflict, NotPermitted
from expediter.mail.models import InboundMessage, InboundStatus
from expediter.mail.services.intake import Outcome, process_parsed
from expediter.staff.models import Role, User
from expediter.tickets.models import Attachment, StoredBlob
from expediter.tickets.storage import blob_erase, blob_read, write_bytes

logger = logging.getLogger("expediter.mail")

CLAIM = dt.timedelta(minutes=10)  # a processor that died lets go after this long
MAX_ATTEMPTS = 5  # then the message is quarantined for an administrator


@dataclass(frozen=True)
class IngestResult:
    """What became of one received message (the ``mail ingest`` JSON, plus the row id)."""

    status: str  # created, appended, ignored, quarantined
    ticket: int | None
    article: int | None
    reason: str | None
    inbound: int
    duplicate: bool = False
    final: bool = True  # False: stored, but processing failed and will be retried

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "ticket": self.ticket,
            "article": self.article,
            "reason": self.reason,
        }


def mail_receive(*, raw: bytes, source: str, source_detail: str = "") -> IngestResult:
    """Store ``raw`` and process it; the entry point of every transport.

    Bulk imports go through :func:`expediter.mail.services.imports.mail_import`,
    which keeps the same promises a batch at a time.
    """
    inbound, fresh = inbound_store(raw=raw, source=source, source_detail=source_detail)
    if fresh:
        return inbound_process(inbound_id=inbound.pk, claimed=True, raw=raw)
    if inbound.status == InboundStatus.PENDING:
        return inbound_process(inbound_id=inbound.pk)
    return already_received(inbound)


def inbound_store(
    *, raw: bytes, source: str, source_detail: str = ""
) -> tuple[InboundMessage, bool]:
    """Write the bytes to disk (synced), then record them; ``(row, created)``.

    A fresh row is claimed for the caller, so the worker's retry does not
    process it at the same time. Bytes the caller has already written are
    found in place, and not written or synced again.
    """
    digest = write_bytes(raw)
    now = clock.now()
    with transaction.atomic():
        blob, _ = StoredBlob.objects.get_or_create(sha256=digest, defaults={"size": len(raw)})
        try:
            with transaction.atomic():
                row = InboundMessage.objects.create(
                    blob=blob,
                    sha256=digest,
                    size=len(raw),
                    source=source,
                    source_detail=source_detail[:255],
                    received_at=now,
                    claimed_until=now + CLAIM,
                )
        except IntegrityError:  # the same bytes arrived before
            return InboundMessage.objects.get(sha256=digest), False
    return row, True


def already_received(inbound: InboundMessage) -> IngestResult:
    """A second delivery: nothing new is made (a message still pending is in other hands)."""
    return IngestResult(
        status=InboundStatus.IGNORED,
        ticket=inbound.ticket_id,
        article=None,
        reason=f"already received (inbound message {inbound.pk}, {inbound.status})",
        inbound=inbound.pk,
        duplicate=True,
        final=inbound.status != InboundStatus.PENDING,
    )


def _claim(inbound_id: int) -> bool:
    """Take a pending message for processing; only one processor wins it."""
    now = clock.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    return (
        InboundMessage.objects.filter(pk=inbound_id, status=InboundStatus.PENDING)
        .filter(free)
        .update(claimed_until=now + CLAIM)
        == 1
    )


def inbound_process(
    *, inbound_id: int, claimed: bool = False, release: bool = False, raw: bytes | None = None
) -> IngestResult:
    """Parse and act on a stored message; a failure leaves it pending for a retry.

    ``raw`` spares reading back the bytes the caller has just stored.
    """
    if not claimed and not _claim(inbound_id):
        return already_received(InboundMessage.objects.get(pk=inbound_id))
    # The reasons stored on the message read the same whoever released it.
    with translation.override(settings.LANGUAGE_CODE):
        try:
            if raw is None:
                stored = InboundMessage.objects.select_related("blob").get(pk=inbound_id)
                raw = blob_read(stored.blob)
            outcome = process_parsed(inbound_id=inbound_id, raw=raw, release=release)
        except Exception as error:  # recorded, retried, and finally quarantined: never lost
            logger.exception("processing inbound message %s failed", inbound_id)
            return record_failure(InboundMessage.objects.get(pk=inbound_id), error)
    return outcome_result(inbound_id, outcome)


def outcome_result(inbound_id: int, outcome: Outcome) -> IngestResult:
    return IngestResult(
        status=outcome.status,
        ticket=outcome.ticket_id,
        article=outcome.article_id,
        reason=outcome.reason,
        inbound=inbound_id,
    )


def record_failure(inbound: InboundMessage, error: Exception) -> IngestResult:
    attempts = inbound.attempts + 1
    detail = f"{type(error).__name__}: {error}"[:2000]
    final = attempts >= MAX_ATTEMPTS
    InboundMessage.objects.filter(pk=inbound.pk, status=InboundStatus.PENDING).update(
        attempts=attempts,
        last_error=detail,
        claimed_until=None,
        status=InboundStatus.QUARANTINED if final else InboundStatus.PENDING,
        reason=f"processing failed {attempts} times: {detail}" if final else "",
    )
    reason = (
        f"processing failed {attempts} times, kept for an administrator: {detail}"
        if final
        else f"stored; processing failed and will be retried: {detail}"
    )
    return IngestResult(
        status=InboundStatus.QUARANTINED,
        ticket=None,
        article=None,
        reason=reason,
        inbound=inbound.pk,
        final=final,
    )


def inbound_retry_pending(*, limit: int = 500) -> list[IngestResult]:
    """Process what is stored but unprocessed (after a crash or a failure)."""
    now = clock.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    ids = list(
        InboundMessage.objects.filter(status=InboundStatus.PENDING)
        .filter(free)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    return [inbound_process(inbound_id=pk) for pk in ids]


def _require_admin(actor: User, what: str) -> None:
    """``what`` is marked with ``gettext_noop`` by the caller and translated on refusal."""
    if actor.role != Role.ADMIN:
        raise NotPermitted(_("only administrators %(what)s") % {"what": _(what)})


def inbound_release(*, inbound_id: int, actor: User) -> IngestResult:
    """An administrator has the desk handle a quarantined or ignored message anyway.

    The size limit and the automatic-mail rules are lifted; a message that
    still cannot be understood (no sender, not mail at all) stays quarantined.
    """
    _require_admin(actor, gettext_noop("release mail"))
    releasable = [InboundStatus.QUARANTINED, InboundStatus.IGNORED]
    moved = InboundMessage.objects.filter(pk=inbound_id, status__in=releasable).update(
        status=InboundStatus.PENDING, attempts=0, last_error="", claimed_until=clock.now() + CLAIM
    )
    if not moved:
        raise Conflict(_("only quarantined or ignored mail can be released"))
    logger.info("inbound message %s released by %s", inbound_id, actor.email)
    return inbound_process(inbound_id=inbound_id, claimed=True, release=True)


def inbound_delete(*, inbound_id: int, actor: User) -> None:
    """An administrator deletes a message for good (its bytes too, unless shared)."""
    _require_admin(actor, gettext_noop("delete mail"))
    with transaction.atomic():
        inbound = InboundMessage.objects.filter(pk=inbound_id).first()
        if inbound is None:
            return
        if inbound.status in (InboundStatus.CREATED, InboundStatus.APPENDED):
            raise Conflict(_("mail that made a ticket or an article stays on record"))
        blob = inbound.blob
        inbound.delete()
        shared = (
            Attachment.objects.filter(blob=blob).exists()
            or InboundMessage.objects.filter(blob=blob).exists()
        )
        if not shared:
            blob.delete()
            transaction.on_commit(lambda: blob_erase(blob))
    logger.info("inbound message %s deleted by %s", inbound_id, actor.email)
