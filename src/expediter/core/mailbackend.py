"""Django email backend configured by ``EXPEDITER_SMTP_URL``.

Without a URL nothing leaves the machine: the outbox keeps the message and the
send is logged, so a desk without a mail relay loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import EmailMessage

logger = logging.getLogger("expediter.mail")


class NoRelayConfigured(RuntimeError):
    """Raised when sending is attempted without ``EXPEDITER_SMTP_URL``."""


def smtp_options(url: str) -> dict[str, Any]:
    """Translate ``smtp://user:pw@host:port`` / ``smtps://`` into backend options."""
    parsed = urlparse(url)
    if parsed.scheme not in {"smtp", "smtps", "smtp+tls"}:
        raise ValueError(f"EXPEDITER_SMTP_URL: unsupported scheme {parsed.scheme!r}")
    secure = parsed.scheme == "smtps"
    return {
        "host": parsed.hostname or "localhost",
        "port": parsed.port or (465 if secure else 25),
        "username": unquote(parsed.username or ""),
        "password": unquote(parsed.password or ""),
        "use_ssl": secure,
        "use_tls": parsed.scheme == "smtp+tls",
        "timeout": 30,
    }


class SmtpUrlBackend(BaseEmailBackend):
    """Send through the relay named by the URL, or refuse loudly without one."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        url = settings.SMTP_URL
        if not url:
            for message in email_messages:
                logger.info("no EXPEDITER_SMTP_URL: kept in outbox: %s", message.subject)
            raise NoRelayConfigured("EXPEDITER_SMTP_URL is not set; message kept in the outbox")
        backend = SmtpBackend(fail_silently=False, **smtp_options(url))
        return backend.send_messages(email_messages) or 0
