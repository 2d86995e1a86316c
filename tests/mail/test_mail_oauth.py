"""OAuth2 mailboxes keep signing in: the access token is refreshed at a real HTTP endpoint.

The token endpoint is a local ``ThreadingHTTPServer`` that checks the posted
form like a provider does (client, refresh token, grant type) and answers
with tokens, rotated refresh tokens or OAuth2 errors. The IMAP side is a fake
``IMAPClient`` that accepts only the tokens the endpoint issued, so the
transport's sign-in, retry and fetch are observed call by call.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from django.db.models import TextField
from django.db.models.functions import Cast
from django.test import Client
from django.urls import reverse
from imapclient.exceptions import LoginError
from tests.factories import mailbox_admin_form

from expediter.core import secrets
from expediter.core.errors import InvalidInput
from expediter.mail.models import InboundMessage, Mailbox
from expediter.mail.services.mailboxes import (
    OAuthRefreshFailed,
    check_token_url,
    mailbox_access_token,
    mailbox_access_token_renew,
)
from expediter.mail.transports import imap
from expediter.tickets.models import Ticket

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CLIENT_ID = "desk-client"
CLIENT_SECRET = "client-s3cret"
SCOPE = "https://outlook.office365.com/IMAP.AccessAsUser.All offline_access"
LIFETIME = 3599


@dataclass
class TokenEndpoint:
    """What a provider's token endpoint knows, and every form posted to it."""

    url: str = ""
    refresh_token: str = "rt-1"
    client_secret: str = CLIENT_SECRET
    rotate: bool = False
    refusal: tuple[int, str] | None = None  # (status, raw body) to answer instead
    forms: list[dict[str, str]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)

    def answer(self, content_type: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if content_type != "application/x-www-form-urlencoded":
            return 400, {"error": "invalid_request"}
        if form.get("client_id") != CLIENT_ID or form.get("client_secret", "") != (
            self.client_secret
        ):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "refresh_token" or set(form) - {
            "grant_type", "client_id", "client_secret", "refresh_token", "scope",
        }:  # fmt: skip
            return 400, {"error": "unsupported_grant_type"}
        if form.get("refresh_token") != self.refresh_token:
            return 400, {"error": "invalid_grant", "error_description": "unknown refresh token"}
        self.issued.append(f"at-{len(self.issued) + 1}")
        grant: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": self.issued[-1],
            "expires_in": LIFETIME,
            "scope": form.get("scope", ""),
        }
        if self.rotate:
            self.refresh_token = f"rt-{len(self.issued) + 1}"
            grant["refresh_token"] = self.refresh_token
        return 200, grant


class _TokenHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        endpoint: TokenEndpoint = self.server.endpoint  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode("ascii")))
        endpoint.forms.append(form)
        if endpoint.refusal is not None:
            status, body = endpoint.refusal[0], endpoint.refusal[1].encode()
        else:
            status, grant = endpoint.answer(self.headers.get("Content-Type", ""), form)
            body = json.dumps(grant).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads ``endpoint.forms`` instead."""


@pytest.fixture
def endpoint() -> Iterator[TokenEndpoint]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenHandler)
    state = TokenEndpoint(url=f"http://127.0.0.1:{server.server_address[1]}/oauth2/v2.0/token")
    server.endpoint = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def now(at: Any) -> dt.datetime:
    return at(NOW)  # type: ignore[no-any-return]


def oauth_mailbox(endpoint: TokenEndpoint, **fields: Any) -> Mailbox:
    values: dict[str, Any] = {
        "name": "support",
        "host": "127.0.0.1",
        "port": 143,
        "security": "plain",
        "username": "desk@corp.example",
        "auth": "oauth2",
        "secret": "stored-token",
        "oauth_token_url": endpoint.url,
        "oauth_client_id": CLIENT_ID,
        "oauth_client_secret": CLIENT_SECRET,
        "oauth_refresh_token": "rt-1",
        "oauth_scope": SCOPE,
        "oauth_expires_at": NOW + dt.timedelta(minutes=30),
    }
    return Mailbox.objects.create(**(values | fields))


def assert_stored_encrypted(box: Mailbox, **plain: str) -> None:
    """What the token endpoint gave is stored encrypted, like what an admin typed."""
    stored = (
        Mailbox.objects.annotate(
            **{f"stored_{name}": Cast(name, output_field=TextField()) for name in plain}
        )
        .values(*(f"stored_{name}" for name in plain))
        .get(pk=box.pk)
    )
    for name, value in plain.items():
        column = stored[f"stored_{name}"]
        assert column != value and secrets.decrypt(column) == value


# --- the service -------------------------------------------------------------------


def test_a_valid_token_is_reused_without_asking_the_provider(
    endpoint: TokenEndpoint, now: dt.datetime
) -> None:
    box = oauth_mailbox(endpoint, oauth_expires_at=now + dt.timedelta(minutes=5, seconds=1))
    assert mailbox_access_token(mailbox_id=box.pk) == "stored-token"
    assert endpoint.forms == []


def test_a_token_expiring_within_five_minutes_is_refreshed_and_stored(
    endpoint: TokenEndpoint, now: dt.datetime
) -> None:
    box = oauth_mailbox(endpoint, oauth_expires_at=now + dt.timedelta(minutes=4, seconds=59))
    assert mailbox_access_token(mailbox_id=box.pk) == "at-1"
    assert endpoint.forms == [
        {
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": "rt-1",
            "scope": SCOPE,
        }
    ]
    box.refresh_from_db()
    assert box.secret == "at-1"
    assert box.oauth_expires_at == now + dt.timedelta(seconds=LIFETIME)
    assert box.oauth_refresh_token == "rt-1"  # not rotated by this provider
    assert_stored_encrypted(box, secret="at-1")


def test_an_unknown_expiry_is_refreshed(endpoint: TokenEndpoint, now: dt.datetime) -> None:
    box = oauth_mailbox(endpoint, secret="", oauth_expires_at=None)
    assert mailbox_access_token(mailbox_id=box.pk) == "at-1"
    assert len(endpoint.forms) == 1


def test_a_rotated_refresh_token_is_stored_and_used_next_time(
    endpoint: TokenEndpoint, now: dt.datetime, at: Any
) -> None:
    # A public client (no secret) without a scope: neither is posted.
    endpoint.rotate, endpoint.client_secret = True, ""
    box = oauth_mailbox(endpoint, oauth_client_secret="", oauth_scope="", oauth_expires_at=now)
    assert mailbox_access_token(mailbox_id=box.pk) == "at-1"
    box.refresh_from_db()
    assert box.oauth_refresh_token == "rt-2"
    assert set(endpoint.forms[0]) == {"grant_type", "client_id", "refresh_token"}
    at(now + dt.timedelta(hours=1))
    assert mailbox_access_token(mailbox_id=box.pk) == "at-2"
    assert [form["refresh_token"] for form in endpoint.forms] == ["rt-1", "rt-2"]
    box.refresh_from_db()
    assert box.oauth_refresh_token == "rt-3"
    assert_stored_encrypted(box, secret="at-2", oauth_refresh_token="rt-3")


def test_two_refreshes_in_a_row_ask_the_provider_once(
    endpoint: TokenEndpoint, now: dt.datetime
) -> None:
    box = oauth_mailbox(endpoint, oauth_expires_at=now - dt.timedelta(minutes=1))
    first = mailbox_access_token(mailbox_id=box.pk)
    second = mailbox_access_token(mailbox_id=box.pk)
    assert first == second == "at-1"
    assert len(endpoint.forms) == 1


def test_without_a_refresh_token_the_stored_token_is_used_as_is(
    endpoint: TokenEndpoint, now: dt.datetime
) -> None:
    box = oauth_mailbox(endpoint, oauth_refresh_token="", oauth_expires_at=now)
    assert mailbox_access_token(mailbox_id=box.pk) == "stored-token"
    assert mailbox_access_token_renew(mailbox_id=box.pk, rejected_token="stored-token") is None
    assert endpoint.forms == []


def test_a_token_another_worker_renewed_is_not_renewed_again(
    endpoint: TokenEndpoint, now: dt.datetime
) -> None:
    box = oauth_mailbox(endpoint, secret="renewed-meanwhile")
    renewed = mailbox_access_token_renew(mailbox_id=box.pk, rejected_token="stale-token")
    assert renewed == "renewed-meanwhile" and endpoint.forms == []
    assert mailbox_access_token_renew(mailbox_id=box.pk, rejected_token=renewed) == "at-1"


def test_the_providers_refusal_is_quoted(endpoint: TokenEndpoint, now: dt.datetime) -> None:
    endpoint.refusal = (
        400,
        json.dumps(
            {
                "error": "invalid_grant",
                "error_description": "AADSTS70008: expired\r\nTrace ID: 1f2e",
            }
        ),
    )
    box = oauth_mailbox(endpoint, oauth_expires_at=now)
    with pytest.raises(OAuthRefreshFailed) as refused:
        mailbox_access_token(mailbox_id=box.pk)
    assert str(refused.value) == (
        "the OAuth2 refresh was refused: invalid_grant (AADSTS70008: expired Trace ID: 1f2e)"
    )
    box.refresh_from_db()
    assert box.secret == "stored-token" and box.oauth_refresh_token == "rt-1"


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (200, '{"token_type": "Bearer"}', "answered without an access token"),
        (200, '{"error": "access_denied"}', "refused: access_denied"),
        (503, "<html>Service Unavailable</html>", "answered HTTP 503: <html>Service Unavailable"),
        (401, '{"error": "invalid_client"}', "refused: invalid_client"),
    ],
)
def test_answers_without_a_token_are_errors(
    endpoint: TokenEndpoint, now: dt.datetime, status: int, body: str, words: str
) -> None:
    endpoint.refusal = (status, body)
    box = oauth_mailbox(endpoint, oauth_expires_at=now)
    with pytest.raises(OAuthRefreshFailed, match=words):
        mailbox_access_token(mailbox_id=box.pk)


def test_a_refresh_token_the_provider_forgot_is_refused(
    endpoint: TokenEndpoint, now: dt.datetime
) -> None:
    box = oauth_mailbox(endpoint, oauth_refresh_token="rt-old", oauth_expires_at=now)
    with pytest.raises(OAuthRefreshFailed, match=r"invalid_grant \(unknown refresh token\)"):
        mailbox_access_token(mailbox_id=box.pk)


def test_token_urls_need_tls_beyond_this_machine() -> None:
    check_token_url("https://login.microsoftonline.com/contoso/oauth2/v2.0/token")
    check_token_url("http://127.0.0.1:8080/token")
    check_token_url("http://localhost/token")
    for url in ("http://login.example.com/token", "file:///etc/passwd", "https:///token"):
        with pytest.raises(InvalidInput, match="https"):
            check_token_url(url)


def test_a_plain_http_provider_is_never_sent_the_secrets(now: dt.datetime) -> None:
    box = oauth_mailbox(TokenEndpoint(url="http://login.example.com/token"), oauth_expires_at=now)
    with pytest.raises(OAuthRefreshFailed, match="must use https"):
        mailbox_access_token(mailbox_id=box.pk)


# --- the IMAP transport ------------------------------------------------------------


@dataclass
class FakeImap:
    """Records what the transport does; accepts only the tokens the endpoint issued."""

    accepted: list[str]
    messages: dict[int, bytes]
    logins: list[tuple[str, str]] = field(default_factory=list)
    fetched: list[int] = field(default_factory=list)
    closed: bool = False

    def oauth2_login(self, user: str, token: str) -> None:
        self.logins.append((user, token))
        if token not in self.accepted:
            raise LoginError("[AUTHENTICATIONFAILED] Authentication failed.")

    def login(self, user: str, password: str) -> None:
        raise AssertionError("an OAuth2 mailbox must not sign in with a password")

    def select_folder(self, folder: str, readonly: bool = False) -> None:
        return None

    def search(self, criteria: Any = None) -> list[int]:
        return sorted(self.messages)

    def fetch(self, messages: list[int], data: Any) -> dict[int, dict[bytes, Any]]:
        self.fetched += messages
        return {uid: {b"BODY[]": self.messages[uid]} for uid in messages}

    def add_flags(self, messages: Any, flags: Any) -> None:
        return None

    def move(self, messages: Any, folder: str) -> None:
        return None

    def logout(self) -> None:
        return None

    def shutdown(self) -> None:
        self.closed = True


@pytest.fixture
def server(endpoint: TokenEndpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakeImap]]:
    """Each IMAP connection the transport opens, in order."""
    connections: list[FakeImap] = []

    def open_connection(host: str, **options: Any) -> FakeImap:
        mail = EmailMessage()
        mail["From"] = "Person <person@corp.example>"
        mail["To"] = "helpdesk@example.com"
        mail["Subject"] = "Printer on fire"
        mail["Message-ID"] = "<oauth1@corp.example>"
        mail.set_content("Please come quickly.")
        connections.append(FakeImap(accepted=endpoint.issued, messages={7: mail.as_bytes()}))
        return connections[-1]

    monkeypatch.setattr(imap, "IMAPClient", open_connection)
    yield connections


def test_the_transport_signs_in_with_the_refreshed_token(
    endpoint: TokenEndpoint, server: list[FakeImap], now: dt.datetime
) -> None:
    box = oauth_mailbox(endpoint, oauth_expires_at=now + dt.timedelta(minutes=2))
    report = imap.mailbox_poll(box)
    assert server[0].logins == [("desk@corp.example", "at-1")]
    assert report.fetched == 1 and report.done == 1 and Ticket.objects.count() == 1
    box.refresh_from_db()
    assert box.last_error == "" and box.secret == "at-1"


def test_a_refused_stored_token_is_renewed_once_and_the_sign_in_retried(
    endpoint: TokenEndpoint, server: list[FakeImap], now: dt.datetime
) -> None:
    # Revoked before its announced expiry: the endpoint never issued it.
    box = oauth_mailbox(endpoint, secret="revoked-token")
    report = imap.mailbox_poll(box)
    assert len(server) == 1
    assert server[0].logins == [
        ("desk@corp.example", "revoked-token"),
        ("desk@corp.example", "at-1"),
    ]
    assert len(endpoint.forms) == 1 and report.done == 1
    box.refresh_from_db()
    assert box.secret == "at-1" and box.last_error == ""


def test_the_retry_happens_once(
    endpoint: TokenEndpoint, server: list[FakeImap], now: dt.datetime, monkeypatch: Any
) -> None:
    box = oauth_mailbox(endpoint, secret="revoked-token")
    monkeypatch.setattr(FakeImap, "oauth2_login", _refuse_every_token)
    with pytest.raises(LoginError):
        imap.mailbox_poll(box)
    assert len(endpoint.forms) == 1 and server[0].fetched == []
    assert server[0].closed  # the connection that never signed in is not left open
    box.refresh_from_db()
    assert "Authentication failed" in box.last_error


def test_a_token_refused_right_after_its_refresh_is_not_refreshed_again(
    endpoint: TokenEndpoint, server: list[FakeImap], now: dt.datetime, monkeypatch: Any
) -> None:
    box = oauth_mailbox(endpoint, oauth_expires_at=now)
    monkeypatch.setattr(FakeImap, "oauth2_login", _refuse_every_token)
    with pytest.raises(LoginError):
        imap.mailbox_poll(box)
    assert len(endpoint.forms) == 1


def _refuse_every_token(self: FakeImap, user: str, token: str) -> None:
    self.logins.append((user, token))
    raise LoginError("[AUTHENTICATIONFAILED] Authentication failed.")


def test_a_refused_refresh_is_shown_on_the_mailbox_and_nothing_is_fetched(
    endpoint: TokenEndpoint, server: list[FakeImap], now: dt.datetime
) -> None:
    endpoint.refusal = (
        400,
        json.dumps({"error": "invalid_grant", "error_description": "AADSTS70008: expired"}),
    )
    box = oauth_mailbox(endpoint, oauth_expires_at=now)
    with pytest.raises(OAuthRefreshFailed):
        imap.mailbox_poll(box)
    assert server == [] and InboundMessage.objects.count() == 0
    box.refresh_from_db()
    assert box.last_error == (
        "OAuthRefreshFailed: the OAuth2 refresh was refused: invalid_grant (AADSTS70008: expired)"
    )
    assert box.last_polled_at == now


def test_an_unreachable_provider_is_shown_on_the_mailbox_and_nothing_is_fetched(
    server: list[FakeImap], now: dt.datetime
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    box = oauth_mailbox(TokenEndpoint(url=f"http://127.0.0.1:{closed}/token"), oauth_expires_at=now)
    with pytest.raises(OAuthRefreshFailed, match="could not be reached"):
        imap.mailbox_poll(box)
    assert server == [] and InboundMessage.objects.count() == 0
    box.refresh_from_db()
    assert f"the OAuth2 token endpoint 127.0.0.1:{closed} could not be reached" in box.last_error
    assert box.secret == "stored-token"


def test_the_periodic_poll_goes_on_after_a_refused_refresh(
    endpoint: TokenEndpoint, server: list[FakeImap], now: dt.datetime
) -> None:
    oauth_mailbox(endpoint, name="broken", oauth_refresh_token="rt-old", oauth_expires_at=now)
    oauth_mailbox(endpoint, name="working", oauth_expires_at=now)
    assert imap.poll_due_mailboxes() == 2
    broken, working = Mailbox.objects.order_by("name")
    assert "invalid_grant" in broken.last_error and working.last_error == ""
    assert Ticket.objects.count() == 1


# --- the administration ------------------------------------------------------------


def test_the_admin_form_has_an_oauth2_fieldset_with_write_only_secrets(
    endpoint: TokenEndpoint, admin_client: Client
) -> None:
    box = oauth_mailbox(endpoint)
    url = reverse("admin:mail_mailbox_change", args=[box.pk])
    page = admin_client.get(url).content.decode()
    assert "<h2" in page and "OAuth2</h2>" in page
    for name in ("oauth_client_secret", "oauth_refresh_token", "secret"):
        assert f'type="password" name="{name}"' in page, name
    assert CLIENT_SECRET not in page and "rt-1" not in page and "stored-token" not in page
    kept = admin_client.post(url, mailbox_admin_form(box, oauth_scope="https://mail.google.com/"))
    assert kept.status_code == 302
    box.refresh_from_db()
    assert box.oauth_scope == "https://mail.google.com/"
    assert (box.secret, box.oauth_client_secret, box.oauth_refresh_token) == (
        "stored-token",
        CLIENT_SECRET,
        "rt-1",
    )
    changed = admin_client.post(
        url, mailbox_admin_form(box, oauth_refresh_token="rt-new", oauth_client_secret="new")
    )
    assert changed.status_code == 302
    box.refresh_from_db()
    assert (box.oauth_client_secret, box.oauth_refresh_token) == ("new", "rt-new")


def test_the_admin_form_refuses_an_unusable_refresh_setup(
    endpoint: TokenEndpoint, admin_client: Client
) -> None:
    box = oauth_mailbox(endpoint)
    url = reverse("admin:mail_mailbox_change", args=[box.pk])
    plain = admin_client.post(
        url, mailbox_admin_form(box, oauth_token_url="http://login.example.com/token")
    )
    assert plain.status_code == 200 and "must use https" in plain.content.decode()
    missing = admin_client.post(url, mailbox_admin_form(box, oauth_client_id=""))
    assert missing.status_code == 200 and "Needed to refresh" in missing.content.decode()
    box.refresh_from_db()
    assert box.oauth_token_url == endpoint.url and box.oauth_client_id == CLIENT_ID
