"""The outbox: every outbound message is stored first, then sent by the worker.

A send that fails is retried with exponential back-off and, after the last
attempt, stays visible as ``failed`` (on the ticket and to admins), never
silently dropped. Without ``EXPEDITER_SMTP_URL`` messages are ``held``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q

from expediter.core import clock
from expediter.core.mailbackend import NoRelayConfigured
from expediter.mail.addresses import AutoMailChecks, auto_mail_block_reason, auto_reply_record
from expediter.mail.models import OutboundMessage, OutboundStatus
from expediter.tickets.models import Article, Ticket

logger = logging.getLogger("expediter.mail")

MAX_ATTEMPTS = 12  # about 34 hours of back-off in all
STALE_SENDING = dt.timedelta(minutes=10)


class OutboxContext(AutoMailChecks):
    """How :func:`outbox_enqueue` checks automatic mail and hands messages to the sender.

    By default each question is one query and each message gets its own send
    task once the transaction commits. A batch intake answers from memory and
    sends all its batch's messages with one task.
    """

    def send_after_commit(self, message_pk: int) -> None:
        transaction.on_commit(partial(_enqueue_send, message_pk))


DEFAULT_CONTEXT = OutboxContext()


def new_message_id() -> str:
    domain = settings.MAIL_FROM.rpartition("@")[2] or "expediter.invalid"
    return f"<{uuid.uuid4().hex}@{domain}>"


def one_line(text: str) -> str:
    """Header values never carry CR/LF (no header injection from subjects or names)."""
    return " ".join((text or "").split())


def subject_with_token(subject: str, number: int) -> str:
    token = f"[#{number}]"
    subject = one_line(subject)
    return subject if token in subject else f"{token} {subject}"


def outbox_enqueue(
    *,
    kind: str,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str = "",
    ticket: Ticket | None = None,
    article: Article | None = None,
    auto: bool = False,
    in_reply_to: str = "",
    references: Sequence[str] = (),
    cc: Sequence[str] = (),
    calendar: bytes | None = None,
    calendar_method: str = "",
    context: OutboxContext = DEFAULT_CONTEXT,
) -> OutboundMessage:
    """Store a message to send (call inside the caller's transaction); the worker sends it.

    Subjects of ticket mail carry ``[#number]``. The send is enqueued after
    commit, so a rolled-back change never mails anyone. An automatic message
    to a bouncing address, to the desk itself, or beyond the per-address
    rate limit is kept as ``suppressed`` with the reason, and never sent;
    ``context`` answers those questions (from memory, during a batch intake).
    """
    now = clock.now()
    if ticket is not None:
        subject = subject_with_token(subject, ticket.number)
    blocked = (
        auto_mail_block_reason(kind=kind, recipients=list(to), checks=context) if auto else None
    )
    message = OutboundMessage.objects.create(
        ticket=ticket,
        article=article,
        kind=kind,
        to=[one_line(a) for a in to],
        cc=[one_line(a) for a in cc],
        subject=one_line(subject)[:300],
        message_id=new_message_id(),
        in_reply_to=one_line(in_reply_to),
        references=" ".join(one_line(r) for r in references),
        body_text=text,
        body_html=html,
        auto=auto,
        calendar=calendar.decode("utf-8") if calendar else "",
        calendar_method=calendar_method,
        next_attempt_at=now,
        created_at=now,
        status=OutboundStatus.SUPPRESSED if blocked else OutboundStatus.QUEUED,
        last_error=blocked or "",
    )
    if blocked:
        logger.info("automatic %s mail to %s not sent: %s", kind, message.to, blocked)
        return message
    if auto:
        auto_reply_record(message=message, checks=context)
    context.send_after_commit(message.pk)
    return message


def _enqueue_send(message_pk: int) -> None:
    from expediter.mail.tasks import outbox_send

    outbox_send.enqueue(message_pk=message_pk)


def enqueue_sends(message_pks: Sequence[int]) -> None:
    """One task sends these messages (call after commit): what a batch intake queued."""
    from expediter.mail.tasks import outbox_send_many

    if message_pks:
        outbox_send_many.enqueue(message_pks=list(message_pks))


def _claim(message_pk: int) -> OutboundMessage | None:
    """Take a due message for sending; only one worker wins it."""
    now = clock.now()
    due = Q(status__in=[OutboundStatus.QUEUED, OutboundStatus.RETRYING], next_attempt_at__lte=now)
    stale = Q(status=OutboundStatus.SENDING, next_attempt_at__lte=now - STALE_SENDING)
    claimed = (
        OutboundMessage.objects.filter(pk=message_pk)
        .filter(due | stale)
        .update(status=OutboundStatus.SENDING, next_attempt_at=now)
    )
    return OutboundMessage.objects.get(pk=message_pk) if claimed else None


def build_email(message: OutboundMessage) -> EmailMultiAlternatives:
    headers = {
        "Message-ID": message.message_id,
        "X-Loop": settings.MAIL_FROM,
    }
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
    if message.references:
        headers["References"] = message.references
    if message.auto:
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.MAIL_FROM,
        to=list(message.to),
        cc=list(message.cc),
        headers=headers,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    if message.calendar:
        email.attach_alternative(
            message.calendar, f"text/calendar; method={message.calendar_method or 'REQUEST'}"
        )
    return email


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4 ... minutes, capped at four hours."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 240))


def outbox_send(*, message_pk: int) -> str:
    """Send one message if it is due; record success, a retry, or the final failure."""
    message = _claim(message_pk)
    if message is None:
        return "not due"
    now = clock.now()
    try:
        build_email(message).send(fail_silently=False)
    except NoRelayConfigured as exc:
        message.status = OutboundStatus.HELD
        message.last_error = str(exc)
        message.next_attempt_at = now + dt.timedelta(days=3650)
        message.save(update_fields=["status", "last_error", "next_attempt_at"])
        return "held"
    except Exception as exc:  # any transport failure is recorded and retried
        message.attempts += 1
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            message.status = OutboundStatus.FAILED
            logger.error("mail %s failed for good: %s", message.pk, message.last_error)
        else:
            message.status = OutboundStatus.RETRYING
            message.next_attempt_at = now + backoff(message.attempts)
        message.save(update_fields=["status", "attempts", "last_error", "next_attempt_at"])
        return message.status
    message.status = OutboundStatus.SENT
    message.attempts += 1
    message.sent_at = now
    message.last_error = ""
    message.save(update_fields=["status", "attempts", "sent_at", "last_error"])
    return "sent"


def outbox_due_ids(limit: int = 500) -> list[int]:
    now = clock.now()
    due = Q(status__in=[OutboundStatus.QUEUED, OutboundStatus.RETRYING], next_attempt_at__lte=now)
    stale = Q(status=OutboundStatus.SENDING, next_attempt_at__lte=now - STALE_SENDING)
    return list(
        OutboundMessage.objects.filter(due | stale)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def outbox_release_held() -> int:
    """Send held messages again (after a relay has been configured)."""
    return OutboundMessage.objects.filter(status=OutboundStatus.HELD).update(
        status=OutboundStatus.QUEUED, next_attempt_at=clock.now()
    )


def outbox_retry(*, message_pk: int) -> OutboundMessage:
    """An admin asks for a failed message to be tried again."""
    OutboundMessage.objects.filter(
        pk=message_pk, status__in=[OutboundStatus.FAILED, OutboundStatus.HELD]
    ).update(status=OutboundStatus.QUEUED, next_attempt_at=clock.now(), attempts=0)
    transaction.on_commit(lambda: _enqueue_send(message_pk))
    return OutboundMessage.objects.get(pk=message_pk)
