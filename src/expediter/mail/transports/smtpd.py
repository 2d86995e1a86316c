"""The built-in SMTP/LMTP receiver (``expediter smtpd``), on ``aiosmtpd``.

It accepts mail for the desk's domains only and answers ``250`` once the
intake has stored the message (whatever its outcome), ``451`` (try again
later) when it could not store it, so the sending server keeps it queued:
a message is never lost between the two. The intake is synchronous
Django code, so it runs on a worker thread, outside the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import close_old_connections

from expediter.mail.addresses import bare, desk_addresses
from expediter.mail.models import InboundSource
from expediter.mail.services import IngestResult, mail_receive

logger = logging.getLogger("expediter.mail")

Receive = Callable[[bytes, str], IngestResult]


def desk_domains() -> frozenset[str]:
    """Domains of the desk's own addresses: what the receiver accepts mail for."""
    return frozenset(address.rpartition("@")[2] for address in desk_addresses())


def _receive(raw: bytes, peer: str) -> IngestResult:
    close_old_connections()
    try:
        return mail_receive(raw=raw, source=InboundSource.SMTP, source_detail=peer)
    finally:
        close_old_connections()


class IntakeHandler:
    """aiosmtpd handler: accept recipients of our domains, hand DATA to the intake."""

    def __init__(self, *, domains: Iterable[str] = (), receive: Receive = _receive) -> None:
        self.domains = frozenset(d.lower() for d in domains)
        self.receive = receive

    def accepts(self, address: str) -> bool:
        domain = bare(address).rpartition("@")[2]
        return not self.domains or domain in self.domains

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if not self.accepts(address):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        peer = str(session.peer[0]) if session.peer else ""
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(None, self.receive, raw, peer)
        except Exception:
            logger.exception("could not store a message from %s", peer)
            reply = "451 4.3.0 could not store the message; try again later"
        else:
            reply = f"250 2.0.0 stored ({result.status})"
        if isinstance(server, LMTP):  # LMTP answers once per recipient
            return "\r\n".join([reply] * max(len(envelope.rcpt_tos), 1))
        return reply


class LmtpController(Controller):
    def factory(self) -> LMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


def receiver(
    *,
    host: str,
    port: int,
    lmtp: bool = False,
    domains: Iterable[str] | None = None,
    receive: Receive = _receive,
) -> Controller:
    """A receiver ready to ``start()``; messages up to twice the size limit are taken
    in (oversized ones are quarantined, not refused), larger ones refused with 552."""
    handler = IntakeHandler(domains=desk_domains() if domains is None else domains, receive=receive)
    kwargs: dict[str, Any] = {"data_size_limit": 2 * settings.MAIL_MAX_BYTES}
    kind = LmtpController if lmtp else Controller
    return kind(handler, hostname=host, port=port, **kwargs)
