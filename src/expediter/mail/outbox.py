"""The outbox: every outbound message is stored first, then sent by the worker.

A send that fails is retried with exponential back-off and, after the last
attempt, stays visible as ``failed`` (on the ticket and to admins), never
silently dropped. Without ``EXPEDITER_SMTP_URL`` messages are ``held``.

A message about an article carries that article's files, read from the
content-addressed store when the message is built (:func:`build_email`), so
the outbox never holds a second copy of their bytes.
"""

from __future__ import annotations

import datetime as dt
import html as html_text
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from email import encoders
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from functools import partial
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import translation

from expediter.core import clock
from expediter.core.mailbackend import NoRelayConfigured
from expediter.core.rows import insert
from expediter.mail.addresses import AutoMailChecks, auto_mail_block_reason, auto_reply_record
from expediter.mail.models import OutboundMessage, OutboundStatus
from expediter.staff.models import User
from expediter.tickets.models import Article, Attachment, Ticket
from expediter.tickets.storage import blob_read

logger = logging.getLogger("expediter.mail")

MAX_ATTEMPTS = 12  # about 34 hours of back-off in all
SIGNATURE_DELIMITER = "\n-- \n"  # RFC 3676: what follows is the signature
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
    message = OutboundMessage(
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
    insert(message)
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


# --- the article's files -----------------------------------------------------------

_CID_REFERENCE = re.compile(r"""cid:([^\s"'<>)]+)""", re.IGNORECASE)
_MIME_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*")
_CONTENT_ID = re.compile(r"[^\s<>\"]{1,250}")


@dataclass(frozen=True)
class FilesPlan:
    """What a message does with its article's files: attach, name as too large, or as missing."""

    attached: tuple[tuple[Attachment, bytes], ...] = ()
    too_large: tuple[Attachment, ...] = ()
    missing: tuple[Attachment, ...] = ()

    @property
    def left_out(self) -> bool:
        return bool(self.too_large or self.missing)


def files_within(
    files: Sequence[Attachment], limit: int
) -> tuple[list[Attachment], list[Attachment]]:
    """``(fitting, too_large)``: in the article's order, each file that still fits goes.

    Only the recorded sizes count, so the same files and limit always give
    the same split, on every attempt, without touching the disk. A file
    that would pass the limit stays out and a smaller one after it may go.
    """
    fitting: list[Attachment] = []
    too_large: list[Attachment] = []
    total = 0
    for item in files:
        if total + item.size <= limit:
            fitting.append(item)
            total += item.size
        else:
            too_large.append(item)
    return fitting, too_large


def _article_files(message: OutboundMessage) -> list[Attachment]:
    """The files of the message's article; an internal note's never leave the desk."""
    if message.article_id is None:
        return []
    files = Attachment.objects.filter(article_id=message.article_id, article__internal=False)
    return list(files.select_related("blob").order_by("id"))


def files_plan(message: OutboundMessage) -> FilesPlan:
    """Read the files that fit; a file gone from the store is named, not fatal.

    A missing file never comes back, so retrying would only hold the
    agent's answer back for nothing: the message goes without it and says
    so. Any other read error (a disk that is not mounted yet) may pass, so
    it propagates and the outbox retries the message as for a relay failure.
    """
    limit = settings.MAIL_OUTBOUND_ATTACHMENTS_MAX_BYTES
    fitting, too_large = files_within(_article_files(message), limit)
    attached: list[tuple[Attachment, bytes]] = []
    missing: list[Attachment] = []
    for item in fitting:
        try:
            attached.append((item, blob_read(item.blob)))
        except FileNotFoundError:
            missing.append(item)
    return FilesPlan(attached=tuple(attached), too_large=tuple(too_large), missing=tuple(missing))


def referenced_content_ids(html: str) -> set[str]:
    """The Content-IDs that ``html`` shows as ``cid:`` images or links."""
    return {unquote(html_text.unescape(found)) for found in _CID_REFERENCE.findall(html)}


def _mime_type(attachment: Attachment) -> tuple[str, str]:
    declared = attachment.content_type.split(";", 1)[0].strip().lower()
    if not _MIME_TYPE.fullmatch(declared):
        declared = "application/octet-stream"
    main, _slash, sub = declared.partition("/")
    return main, sub


def file_part(attachment: Attachment, data: bytes, *, inline: bool) -> MIMEBase:
    """The file as stored, byte for byte (base64 even for text), under its own name.

    A non-ASCII name becomes an RFC 2231 parameter (``filename*=utf-8''...``).
    """
    part = MIMEBase(*_mime_type(attachment))
    part.set_payload(data)
    encoders.encode_base64(part)
    name = one_line(attachment.filename) or "attachment"
    charset = None if name.isascii() else "utf-8"
    part.set_param("name", name, charset=charset)
    disposition = "inline" if inline else "attachment"
    part.add_header(
        "Content-Disposition", disposition, filename=(charset, "", name) if charset else name
    )
    if inline:
        part["Content-ID"] = f"<{attachment.content_id}>"
    return part


def _shown_inline(attachment: Attachment, shown: set[str]) -> bool:
    content_id = attachment.content_id
    return bool(content_id) and content_id in shown and bool(_CONTENT_ID.fullmatch(content_id))


def _file_parts(plan: FilesPlan, *, shown: set[str]) -> tuple[list[MIMEBase], list[MIMEBase]]:
    """``(related, attached)``: images the HTML shows go beside it, the rest as files.

    Only an image the HTML really shows goes inline: some clients hide an
    inline part that nothing shows, and the reader would never see it.
    """
    related: list[MIMEBase] = []
    attached: list[MIMEBase] = []
    for item, data in plan.attached:
        inline = _shown_inline(item, shown)
        (related if inline else attached).append(file_part(item, data, inline=inline))
    return related, attached


def _reader_language(message: OutboundMessage) -> str:
    """The language the message was written in: its first addressee's."""
    from expediter.mail.services.replies import language_of  # replies write through the outbox

    reader = User.objects.by_email(message.to[0]) if message.to else None
    return language_of(reader) if reader is not None else settings.LANGUAGE_CODE


def _with_notice(message: OutboundMessage, plan: FilesPlan) -> tuple[str, str]:
    """The bodies, with the names of the files left out and where to find them."""
    context: dict[str, Any] = {
        "too_large": [{"name": f.filename, "size": f.size} for f in plan.too_large],
        "missing": [f.filename for f in plan.missing],
        "limit": settings.MAIL_OUTBOUND_ATTACHMENTS_MAX_BYTES,
    }
    with translation.override(_reader_language(message)):
        text = render_to_string("mail/files_left_out.txt", context)
        html = render_to_string("mail/files_left_out.html", context)
    return _appended(message.body_text, text), _inserted(message.body_html, html)


def _appended(body: str, notice: str) -> str:
    """The notice after the words and before the signature, which mail clients fold away."""
    words, delimiter, signature = body.rpartition(SIGNATURE_DELIMITER)
    if not delimiter:
        return f"{body.rstrip()}\n\n{notice.strip()}\n"
    return f"{words.rstrip()}\n\n{notice.strip()}\n{delimiter}{signature}"


def _inserted(body: str, notice: str) -> str:
    """The notice at the end of the HTML document, inside its ``body``."""
    if not body:
        return ""
    end = body.lower().rfind("</body>")
    return f"{body}{notice}" if end < 0 else f"{body[:end]}{notice}{body[end:]}"


class OutboundEmail(EmailMultiAlternatives):
    """An email whose HTML travels with the images it shows, and that knows what it lacks.

    Django 5.2 puts every attachment beside the alternatives. An image the
    HTML shows by ``cid:`` belongs with the HTML in ``multipart/related``,
    where mail clients show it in place and not again as a file.
    """

    def __init__(
        self, *, related: Sequence[MIMEBase] = (), missing: Sequence[str] = (), **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.related = list(related)
        self.missing_files = list(missing)

    def message(self) -> Any:
        msg = super().message()
        if self.related:
            self._relate_html(msg)
        return msg

    def _relate_html(self, container: Message) -> bool:
        """Put the HTML alternative and its images together; True once done."""
        parts = container.get_payload()
        if not isinstance(parts, list):
            return False
        alternatives = container.get_content_type() == "multipart/alternative"
        for index, part in enumerate(parts):
            if not isinstance(part, Message):
                continue
            if alternatives and part.get_content_type() == "text/html":
                parts[index] = self._related(part)
                return True
            if part.is_multipart() and self._relate_html(part):
                return True
        return False

    def _related(self, html: Message) -> MIMEMultipart:
        related = SafeMIMEMultipart(
            _subtype="related", encoding=self.encoding or settings.DEFAULT_CHARSET
        )
        for member in (html, *self.related):
            related.attach(member)
        return related


def _headers(message: OutboundMessage) -> dict[str, str]:
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
    return headers


def build_email(message: OutboundMessage) -> OutboundEmail:
    """The email to send now, with the files of the message's article.

    What goes with the message is decided here, when it is sent, and not
    when it is queued: the file bytes are read now (the outbox keeps no
    copy), the words naming the files left out are written from the same
    facts as the parts, so the text can never disagree with what is
    attached, and a file lost after queueing is noticed. The decision uses
    only the recorded sizes, in the article's order, and
    ``MAIL_OUTBOUND_ATTACHMENTS_MAX_BYTES``, so every attempt of a retried
    message carries the same files.
    """
    plan = files_plan(message)
    text, html = message.body_text, message.body_html
    if plan.left_out:
        text, html = _with_notice(message, plan)
    related, attached = _file_parts(plan, shown=referenced_content_ids(html))
    email = OutboundEmail(
        subject=message.subject,
        body=text,
        from_email=settings.MAIL_FROM,
        to=list(message.to),
        cc=list(message.cc),
        headers=_headers(message),
        attachments=attached,
        related=related,
        missing=[f.filename for f in plan.missing],
    )
    if html:
        email.attach_alternative(html, "text/html")
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
        email = build_email(message)
        email.send(fail_silently=False)
    except NoRelayConfigured as exc:
        message.status = OutboundStatus.HELD
        message.last_error = str(exc)
        message.next_attempt_at = now + dt.timedelta(days=3650)
        message.save(update_fields=["status", "last_error", "next_attempt_at"])
        return "held"
    except Exception as exc:  # any relay or file-store failure is recorded and retried
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
    message.last_error = _sent_without(message, email.missing_files)
    message.save(update_fields=["status", "attempts", "sent_at", "last_error"])
    return "sent"


def _sent_without(message: OutboundMessage, missing: Sequence[str]) -> str:
    """What a message sent without a lost file keeps as its error, for the desk to see."""
    if not missing:
        return ""
    error = f"sent without {', '.join(missing)}: missing from the file store"[:2000]
    logger.error("mail %s %s", message.pk, error)
    return error


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
