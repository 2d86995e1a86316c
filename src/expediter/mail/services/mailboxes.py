"""Writes about IMAP mailboxes: how each was last polled, its OAuth2 access token, its keys.

Microsoft 365 and Gmail access tokens live about an hour. A mailbox that has
a refresh token gets a new access token from the provider's token endpoint
shortly before the stored one expires, so an administrator configures the
OAuth2 client once. Providers may rotate the refresh token on each use, and a
rotated-away token is refused afterwards: the refresh therefore happens under
the mailbox's row lock, and a second worker reuses what the first obtained.
"""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import json
import logging
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from expediter.core import clock
from expediter.core.errors import DomainError, InvalidInput, NotFound
from expediter.core.secrets import UnreadableSecret
from expediter.mail.models import MAILBOX_SECRET_FIELDS, Mailbox

logger = logging.getLogger("expediter.mail")

REFRESH_MARGIN = dt.timedelta(minutes=5)
TOKEN_TIMEOUT_SECONDS = 20
# RFC 6749 only recommends ``expires_in``; without it, assume the usual hour
# (a token refused earlier is renewed by the transport's retry anyway).
DEFAULT_TOKEN_LIFETIME_SECONDS = 3600
MAX_ANSWER_BYTES = 64 * 1024
MAX_QUOTED_CHARS = 500


class OAuthRefreshFailed(DomainError):
    """The provider did not give a new access token; its own words are in the message."""

    status = 502
    title = "OAuth2 refresh failed"


def mailbox_record_poll(*, mailbox_id: int, error: str) -> None:
    """Remember the poll (its error for admins, or none)."""
    Mailbox.objects.filter(pk=mailbox_id).update(
        last_polled_at=clock.now(), last_error=error[:2000]
    )


def mailbox_access_token(*, mailbox_id: int) -> str:
    """The access token to sign in with, refreshed first when it expires within 5 minutes.

    The unlocked read keeps the common case (a valid token) free of any write
    lock; the check is repeated under the lock because another worker may have
    refreshed meanwhile.
    """
    stored = _mailbox(mailbox_id)
    if not _needs_refresh(stored):
        return stored.secret
    with transaction.atomic():
        mailbox = _locked(mailbox_id)
        if not _needs_refresh(mailbox):
            return mailbox.secret
        return _refresh(mailbox)


def mailbox_access_token_renew(*, mailbox_id: int, rejected_token: str) -> str | None:
    """A new access token after the server refused ``rejected_token``; None if none can be had.

    Providers may revoke a token before its announced expiry. When the stored
    token is no longer the rejected one, another worker has renewed it already
    and that one is returned without asking the provider again.
    """
    with transaction.atomic():
        mailbox = _locked(mailbox_id)
        if not mailbox.oauth_refresh_token:
            return None
        if mailbox.secret != rejected_token:
            return mailbox.secret
        return _refresh(mailbox)


@dataclass
class Reencrypted:
    mailboxes: int = 0
    unreadable: list[str] = field(default_factory=list)


def mailbox_secrets_reencrypt() -> Reencrypted:
    """Encrypt every mailbox's secrets again with the first key, after a new one was added.

    Each mailbox is rewritten under its row lock, so a token refresh running
    meanwhile is neither lost nor overwritten. Mailboxes that no configured
    key decrypts are named and left as they are: once none is left, the old
    key can be removed.
    """
    result = Reencrypted()
    for mailbox_id in Mailbox.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            mailbox = _locked(mailbox_id)
            if not _readable(mailbox):
                result.unreadable.append(mailbox.name)
                continue
            mailbox.save(update_fields=MAILBOX_SECRET_FIELDS)  # encrypts with the first key
            result.mailboxes += 1
    return result


def _readable(mailbox: Mailbox) -> bool:
    """Reading a secret decrypts it; one that no configured key decrypts raises."""
    try:
        return all(isinstance(getattr(mailbox, name), str) for name in MAILBOX_SECRET_FIELDS)
    except UnreadableSecret:
        return False


def check_token_url(url: str) -> None:
    """The client secret and refresh token travel to this URL: TLS unless on this machine."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and _is_loopback_name(parts.hostname or ""):
        return
    raise InvalidInput(
        "the OAuth2 token URL must use https (plain http only on this machine)",
        field="oauth_token_url",
    )


def check_ca_certificates(pem: str) -> None:
    """The trusted CA certificates of a mailbox must load, or every poll would fail later."""
    if not pem.strip():
        return
    try:
        ssl.create_default_context(cadata=pem)
    except (ssl.SSLError, ValueError) as refused:
        raise InvalidInput(
            f"not PEM certificates: {refused}", field="tls_ca_certificates"
        ) from refused


def _is_loopback_name(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _mailbox(mailbox_id: int) -> Mailbox:
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None:
        raise NotFound(f"no mailbox {mailbox_id}")
    return mailbox


def _locked(mailbox_id: int) -> Mailbox:
    """The row, locked until the transaction ends (SQLite's write transaction is the lock)."""
    rows = Mailbox.objects.all()
    if connection.features.has_select_for_update:
        rows = rows.select_for_update()
    mailbox = rows.filter(pk=mailbox_id).first()
    if mailbox is None:
        raise NotFound(f"no mailbox {mailbox_id}")
    return mailbox


def _needs_refresh(mailbox: Mailbox) -> bool:
    """Without a refresh token the stored token is all there is; an unknown expiry is stale."""
    if not mailbox.oauth_refresh_token:
        return False
    expires_at = mailbox.oauth_expires_at
    return expires_at is None or expires_at - clock.now() < REFRESH_MARGIN


def _refresh(mailbox: Mailbox) -> str:
    grant = _token_grant(mailbox)
    mailbox.secret = grant["access_token"]
    mailbox.oauth_expires_at = clock.now() + dt.timedelta(seconds=_lifetime(grant))
    fields = ["secret", "oauth_expires_at"]
    rotated = grant.get("refresh_token")
    if isinstance(rotated, str) and rotated and rotated != mailbox.oauth_refresh_token:
        mailbox.oauth_refresh_token = rotated
        fields.append("oauth_refresh_token")
    mailbox.save(update_fields=fields)
    logger.info("refreshed the OAuth2 access token of mailbox %s", mailbox.name)
    return mailbox.secret


def _lifetime(grant: dict[str, Any]) -> int:
    try:
        seconds = int(grant.get("expires_in", DEFAULT_TOKEN_LIFETIME_SECONDS))
    except (TypeError, ValueError):
        return DEFAULT_TOKEN_LIFETIME_SECONDS
    return max(seconds, 0)


def _token_grant(mailbox: Mailbox) -> dict[str, Any]:
    """POST the refresh-token grant; any answer but a token raises the provider's words."""
    if not mailbox.oauth_token_url:
        raise OAuthRefreshFailed("the mailbox has a refresh token but no OAuth2 token URL")
    try:
        check_token_url(mailbox.oauth_token_url)
    except InvalidInput as refused:
        raise OAuthRefreshFailed(refused.detail) from refused
    status, body = _post_form(mailbox.oauth_token_url, _refresh_form(mailbox))
    answer = _json_object(body)
    token = answer.get("access_token")
    if status == 200 and isinstance(token, str) and token:
        return answer
    raise OAuthRefreshFailed(_refusal(status, answer, body))


def _refresh_form(mailbox: Mailbox) -> dict[str, str]:
    form = {
        "grant_type": "refresh_token",
        "client_id": mailbox.oauth_client_id,
        "refresh_token": mailbox.oauth_refresh_token,
    }
    if mailbox.oauth_client_secret:
        form["client_secret"] = mailbox.oauth_client_secret
    if mailbox.oauth_scope:
        form["scope"] = mailbox.oauth_scope
    return form


def _post_form(url: str, form: dict[str, str]) -> tuple[int, bytes]:
    """The HTTP status and body; an error status is an answer too, a dead network is not."""
    # The scheme was checked by check_token_url: https, or http on loopback.
    request = urllib.request.Request(  # noqa: S310
        url,
        data=urllib.parse.urlencode(form).encode("ascii"),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TOKEN_TIMEOUT_SECONDS) as answer:  # noqa: S310
            return answer.status, answer.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as refused:
        try:
            return refused.code, refused.read(MAX_ANSWER_BYTES)
        finally:
            refused.close()
    except (urllib.error.URLError, http.client.HTTPException, OSError) as unreachable:
        reason = getattr(unreachable, "reason", None) or unreachable
        host = urllib.parse.urlsplit(url).netloc
        raise OAuthRefreshFailed(
            f"the OAuth2 token endpoint {host} could not be reached: {reason}"
        ) from unreachable


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _refusal(status: int, answer: dict[str, Any], body: bytes) -> str:
    """E.g. ``the OAuth2 refresh was refused: invalid_grant (AADSTS70008: expired)``."""
    error = answer.get("error")
    if isinstance(error, str) and error:
        description = answer.get("error_description")
        words = f" ({_one_line(str(description))})" if description else ""
        return f"the OAuth2 refresh was refused: {_one_line(error)}{words}"
    if status == 200:
        return "the OAuth2 token endpoint answered without an access token"
    text = _one_line(body.decode("utf-8", "replace")) or "no body"
    return f"the OAuth2 token endpoint answered HTTP {status}: {text}"


def _one_line(text: str) -> str:
    """Provider descriptions span lines (trace ids, timestamps): one short line for admins."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_QUOTED_CHARS else flat[: MAX_QUOTED_CHARS - 1] + "…"
