"""IMAP polling with ``imapclient``: fetch, hand the bytes over, then mark or move.

A message is marked read (or moved) only once the intake has committed what
it made of it; a message whose processing failed stays as it was, so the
next poll hands it over again (the intake recognises the stored bytes and
retries them). Authentication is a password or an OAuth2 bearer token
(SASL XOAUTH2, refreshed by the mailbox services before it expires);
connections use TLS unless the server is on this machine, and the server's
certificate is always verified (``tls_context``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import ssl
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from expediter.core import clock
from expediter.mail.models import InboundSource, Mailbox, MailboxAfter, MailboxAuth, MailboxSecurity
from expediter.mail.selectors import mailbox_list
from expediter.mail.services import IngestResult, mail_receive
from expediter.mail.services.mailboxes import (
    mailbox_access_token,
    mailbox_access_token_renew,
    mailbox_record_poll,
)

logger = logging.getLogger("expediter.mail")

BATCH = 25
SEEN = b"\\Seen"
# OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH.
NAME_MISMATCH = frozenset({62, 64})


class ImapSession(Protocol):
    """The part of ``IMAPClient`` the poller uses (tests pass a fake)."""

    def select_folder(self, folder: str, readonly: bool = ...) -> Any: ...
    def search(self, criteria: Any = ...) -> Sequence[int]: ...
    def fetch(self, messages: Any, data: Any) -> dict[int, dict[bytes, Any]]: ...
    def add_flags(self, messages: Any, flags: Any) -> Any: ...
    def move(self, messages: Any, folder: str) -> Any: ...
    def logout(self) -> Any: ...


@dataclass
class PollReport:
    mailbox: str
    fetched: int = 0
    done: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    def count(self, result: IngestResult) -> None:
        self.statuses[result.status] = self.statuses.get(result.status, 0) + 1


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False


class CertificateRefused(Exception):
    """The server's TLS certificate is not trusted or not valid for the configured host."""


def tls_context(mailbox: Mailbox) -> ssl.SSLContext:
    """Certificates and host names are always verified; against which authorities is the choice.

    By default, the system's authorities (which ``SSL_CERT_FILE`` replaces for
    the whole process, as for any OpenSSL program). A server certified by an
    internal authority gets that authority's certificate on its mailbox
    (``tls_ca_certificates``) instead: it is then trusted through that
    authority only, and nothing else the desk connects to (OAuth2 providers,
    the mail relay) has to trust the internal authority, nor lose the
    public ones, as a process-wide ``SSL_CERT_FILE`` would make it.
    """
    if mailbox.tls_ca_certificates.strip():
        return ssl.create_default_context(cadata=mailbox.tls_ca_certificates)
    return ssl.create_default_context()


def connect(mailbox: Mailbox) -> ImapSession:
    """Open and authenticate a session for ``mailbox``.

    The credential is read first (the OAuth2 access token refreshed if need
    be, a stored secret decrypted), so a refused refresh or an unreadable
    secret fetches nothing and says so without touching the server.
    """
    if mailbox.security == MailboxSecurity.PLAIN and not _is_loopback(mailbox.host):
        raise ValueError(f"{mailbox.name}: unencrypted IMAP is allowed on this machine only")
    oauth2 = mailbox.auth == MailboxAuth.OAUTH2
    credential = mailbox_access_token(mailbox_id=mailbox.pk) if oauth2 else mailbox.secret
    context = tls_context(mailbox)
    with _certificate_check(mailbox):
        client = IMAPClient(
            mailbox.host,
            port=mailbox.port,
            ssl=mailbox.security == MailboxSecurity.SSL,
            ssl_context=context,
            timeout=60,
        )
    try:
        if mailbox.security == MailboxSecurity.STARTTLS:
            with _certificate_check(mailbox):
                client.starttls(context)
        if oauth2:
            _oauth2_login(client, mailbox, credential)
        else:
            client.login(mailbox.username, credential)
    except BaseException:
        _close(client, mailbox)
        raise
    return client


@contextlib.contextmanager
def _certificate_check(mailbox: Mailbox) -> Iterator[None]:
    """A refused certificate, reworded for the mailbox's last error with what to do."""
    try:
        yield
    except ssl.SSLCertVerificationError as refused:
        reason = str(refused.verify_message or refused.reason or refused).rstrip(".")
        if refused.verify_code in NAME_MISMATCH:
            remedy = "the mailbox's host must be a name the certificate is issued for"
        else:
            remedy = (
                "if an internal certificate authority issued it, put that authority's "
                "certificate in the mailbox's trusted CA certificates"
            )
        raise CertificateRefused(
            f"the TLS certificate of {mailbox.host}:{mailbox.port} was refused ({reason}): "
            f"{remedy}; otherwise the server's certificate must be fixed"
        ) from refused


def _close(client: IMAPClient, mailbox: Mailbox) -> None:
    """Drop a connection that never signed in (no LOGOUT: there is no session to end)."""
    try:
        client.shutdown()
    except Exception:  # already closed by the failure itself
        logger.debug("closing the IMAP connection to %s failed", mailbox.name, exc_info=True)


def _oauth2_login(client: IMAPClient, mailbox: Mailbox, token: str) -> None:
    """Sign in with XOAUTH2; a refused token we had stored is renewed once and retried.

    Providers revoke tokens before their announced expiry (password change,
    admin action). A token the provider has only just issued is not retried:
    another one would be refused for the same reason.
    """
    try:
        client.oauth2_login(mailbox.username, token)
    except LoginError:
        if token != mailbox.secret:
            raise
        renewed = mailbox_access_token_renew(mailbox_id=mailbox.pk, rejected_token=token)
        if renewed is None:
            raise
        logger.info("XOAUTH2 refused the stored token of %s; retrying once", mailbox.name)
        client.oauth2_login(mailbox.username, renewed)


def _criteria(mailbox: Mailbox) -> list[str]:
    """Moved mail leaves the folder, so everything left in it is new; otherwise unread."""
    return ["NOT", "DELETED"] if mailbox.after == MailboxAfter.MOVE else ["UNSEEN"]


def _batches(uids: Sequence[int]) -> list[list[int]]:
    ordered = sorted(uids)
    return [ordered[i : i + BATCH] for i in range(0, len(ordered), BATCH)]


def _raw(data: dict[bytes, Any]) -> bytes | None:
    body = data.get(b"BODY[]")
    return bytes(body) if body is not None else None


def _settle(session: ImapSession, mailbox: Mailbox, uids: list[int]) -> None:
    if not uids:
        return
    if mailbox.after == MailboxAfter.MOVE and mailbox.move_to:
        session.move(uids, mailbox.move_to)
    else:
        session.add_flags(uids, [SEEN])


def poll_session(session: ImapSession, mailbox: Mailbox) -> PollReport:
    """Fetch new mail from an open session and hand each message to the intake."""
    report = PollReport(mailbox=mailbox.name)
    session.select_folder(mailbox.folder)
    for batch in _batches(session.search(_criteria(mailbox))):
        fetched = session.fetch(batch, ["BODY.PEEK[]"])
        settled = []
        for uid in batch:
            raw = _raw(fetched.get(uid, {}))
            if raw is None:
                continue
            report.fetched += 1
            result = mail_receive(raw=raw, source=InboundSource.IMAP, source_detail=mailbox.name)
            report.count(result)
            if result.final:
                settled.append(uid)
        _settle(session, mailbox, settled)
        report.done += len(settled)
    return report


def mailbox_poll(
    mailbox: Mailbox, *, open_session: Callable[[Mailbox], ImapSession] = connect
) -> PollReport:
    """Poll one mailbox; a failure is recorded on it (and shown to admins), then raised."""
    try:
        session = open_session(mailbox)
        try:
            report = poll_session(session, mailbox)
        finally:
            try:
                session.logout()
            except Exception:  # the server may already have dropped us
                logger.debug("IMAP logout from %s failed", mailbox.name, exc_info=True)
    except Exception as error:
        mailbox_record_poll(mailbox_id=mailbox.pk, error=f"{type(error).__name__}: {error}")
        raise
    mailbox_record_poll(mailbox_id=mailbox.pk, error="")
    return report


def _due(mailbox: Mailbox) -> bool:
    if mailbox.last_polled_at is None:
        return True
    return (clock.now() - mailbox.last_polled_at).total_seconds() >= mailbox.poll_every_seconds


def poll_due_mailboxes(
    *, open_session: Callable[[Mailbox], ImapSession] = connect, force: bool = False
) -> int:
    """Poll every active mailbox that is due; one failing server does not stop the rest."""
    polled = 0
    for mailbox in mailbox_list(active_only=True):
        if not force and not _due(mailbox):
            continue
        try:
            report = mailbox_poll(mailbox, open_session=open_session)
            logger.info("polled %s: %s", mailbox.name, report.statuses)
        except Exception:
            logger.exception("polling mailbox %s failed", mailbox.name)
        polled += 1
    return polled
