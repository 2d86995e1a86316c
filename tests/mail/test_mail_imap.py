"""IMAP polling against a real Dovecot on loopback (Debian's ``dovecot-imapd``).

The server is started for this module in a throw-away directory and stopped
at the end; without Dovecot installed the module is skipped. It speaks plain
IMAP with STARTTLS on one port and implicit TLS on another, with a server
certificate for ``localhost`` and 127.0.0.1 issued by a CA made for the run.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from imapclient import IMAPClient

from expediter.mail.models import InboundMessage, Mailbox
from expediter.mail.transports import imap
from expediter.tickets.models import Ticket

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
if not os.path.exists(DOVECOT):
    pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)", allow_module_level=True)

PASSWORD = "s3cret-token"

CONFIG = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
first_valid_uid = 1
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={group} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1 127.0.0.2
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _users() -> dict[str, str]:
    """Dovecot refuses to log in as root: as root, use the package's own users."""
    if os.getuid() != 0:
        me = pwd.getpwuid(os.getuid()).pw_name
        return {"internal": me, "login": me, "mail_user": me, "group": me}
    return {"internal": "dovecot", "login": "dovenull", "mail_user": "dovecot", "group": "dovecot"}


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(100):
        if process.poll() is not None:
            raise RuntimeError("dovecot exited at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                if conn.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("dovecot did not start")


@dataclass(frozen=True)
class Authority:
    """A certificate authority made for the run, and the PEM of its certificate."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def make_authority(name: str) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    public = key.public_key()
    certificate = (
        _validity(x509.CertificateBuilder())
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(key=key, certificate=certificate)


def issue_server_certificate(authority: Authority, names: list[str]) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) for ``names``: host names and IP addresses."""
    key = ec.generate_private_key(ec.SECP256R1())
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    issuer_key = authority.key.public_key()
    certificate = (
        _validity(x509.CertificateBuilder())
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key), critical=False
        )
        .sign(authority.key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    # Real time, not the desk's clock: OpenSSL checks against the system's.
    now = dt.datetime.now(dt.UTC)
    return (
        builder.serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
    )


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True)
class Dovecot:
    port: int  # plain IMAP, STARTTLS offered
    imaps_port: int  # implicit TLS, on 127.0.0.1 and 127.0.0.2
    authority: Authority  # issued the server certificate (localhost, 127.0.0.1)
    ca_file: Path


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    # Not pytest's tmp_path: its parents are private to us, and as root the
    # server's own users must reach the files.
    root = Path(tempfile.mkdtemp(prefix="expediter-dovecot-"))
    users = _users()
    for folder in ("run", "state", "home"):
        (root / folder).mkdir()
    if os.getuid() == 0:
        shutil.chown(root / "home", user=users["mail_user"], group=users["group"])
        root.chmod(0o755)
    (root / "passwd").write_text(f"desk:{{PLAIN}}{PASSWORD}\n")
    authority = make_authority("Expediter test CA")
    certificate, key = issue_server_certificate(authority, ["localhost", "127.0.0.1"])
    (root / "server.pem").write_bytes(certificate)
    (root / "server.key").write_bytes(key)
    (root / "server.key").chmod(0o600)
    (root / "ca.pem").write_text(authority.pem)
    port, imaps_port = free_port(), free_port()
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, port=port, imaps_port=imaps_port, **users))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)])
    try:
        _wait_for(port, process)
        yield Dovecot(port, imaps_port, authority, root / "ca.pem")
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def client(port: int) -> IMAPClient:
    session = IMAPClient("127.0.0.1", port=port, ssl=False)
    session.login("desk", PASSWORD)
    return session


@pytest.fixture
def inbox(dovecot: Dovecot) -> Iterator[IMAPClient]:
    """A clean INBOX and Processed folder for each test."""
    session = client(dovecot.port)
    for folder in ("INBOX", "Processed"):
        if not session.folder_exists(folder):
            session.create_folder(folder)
        session.select_folder(folder)
        everything = session.search(["ALL"])
        if everything:
            session.delete_messages(everything)
            session.expunge()
    session.select_folder("INBOX")
    yield session
    session.logout()


def deliver(session: IMAPClient, n: int, subject: str | None = None) -> None:
    mail = EmailMessage()
    mail["From"] = f"Person {n} <person{n}@corp.example>"
    mail["To"] = "helpdesk@example.com"
    mail["Subject"] = subject or f"Request {n}"
    mail["Message-ID"] = f"<imap{n}@corp.example>"
    mail.set_content(f"Message {n}")
    session.append("INBOX", mail.as_bytes())


def mailbox_for(port: int, **fields: object) -> Mailbox:
    values: dict[str, object] = {
        "name": "support",
        "host": "127.0.0.1",
        "port": port,
        "security": "plain",
        "username": "desk",
        "secret": PASSWORD,
    }
    return Mailbox.objects.create(**(values | fields))


@pytest.mark.django_db
def test_new_mail_becomes_tickets_and_is_marked_read_after(
    inbox: IMAPClient, dovecot: Dovecot
) -> None:
    deliver(inbox, 1)
    deliver(inbox, 2)
    box = mailbox_for(dovecot.port)
    report = imap.mailbox_poll(box)
    assert report.fetched == 2 and report.done == 2 and report.statuses == {"created": 2}
    assert Ticket.objects.count() == 2
    inbox.select_folder("INBOX")
    assert inbox.search(["UNSEEN"]) == [] and len(inbox.search(["SEEN"])) == 2
    assert imap.mailbox_poll(box).fetched == 0
    box.refresh_from_db()
    assert box.last_polled_at is not None and box.last_error == ""


@pytest.mark.django_db
def test_processed_mail_can_be_moved_to_another_folder(inbox: IMAPClient, dovecot: Dovecot) -> None:
    deliver(inbox, 3)
    box = mailbox_for(dovecot.port, after="move", move_to="Processed")
    imap.mailbox_poll(box)
    inbox.select_folder("INBOX")
    assert inbox.search(["ALL"]) == []
    inbox.select_folder("Processed")
    assert len(inbox.search(["ALL"])) == 1


@pytest.mark.django_db
def test_mail_that_failed_to_process_stays_unread_until_it_succeeds(
    inbox: IMAPClient, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(inbox, 4)
    box = mailbox_for(dovecot.port)
    monkeypatch.setattr(
        "expediter.mail.services.ingest.process_parsed",
        lambda **kwargs: (_ for _ in ()).throw(RuntimeError("database went away")),
    )
    report = imap.mailbox_poll(box)
    assert report.fetched == 1 and report.done == 0
    inbox.select_folder("INBOX")
    assert len(inbox.search(["UNSEEN"])) == 1
    monkeypatch.undo()
    assert imap.mailbox_poll(box).done == 1
    assert Ticket.objects.count() == 1 and InboundMessage.objects.count() == 1


@pytest.mark.django_db
def test_xoauth2_sign_in(inbox: IMAPClient, dovecot: Dovecot) -> None:
    deliver(inbox, 5)
    box = mailbox_for(dovecot.port, auth="oauth2")
    assert imap.mailbox_poll(box).done == 1
    wrong = mailbox_for(dovecot.port, name="wrong", auth="oauth2", secret="expired-token")
    with pytest.raises(Exception, match=r"AUTHENTICATIONFAILED|Authentication failed"):
        imap.mailbox_poll(wrong)
    wrong.refresh_from_db()
    assert "Authentication failed" in wrong.last_error


@pytest.mark.django_db
def test_the_periodic_poll_takes_due_mailboxes_only(inbox: IMAPClient, dovecot: Dovecot) -> None:
    deliver(inbox, 6)
    mailbox_for(dovecot.port, poll_every_seconds=3600)
    mailbox_for(dovecot.port, name="off", is_active=False)
    assert imap.poll_due_mailboxes() == 1
    assert imap.poll_due_mailboxes() == 0  # not due again for an hour
    assert Ticket.objects.count() == 1


def test_unencrypted_imap_is_refused_beyond_this_machine() -> None:
    box = Mailbox(name="far", host="imap.example.org", security="plain", username="u")
    with pytest.raises(ValueError, match="unencrypted"):
        imap.connect(box)


# --- TLS -------------------------------------------------------------------------


def tls_mailbox(dovecot: Dovecot, security: str, **fields: object) -> Mailbox:
    """Implicit TLS on the imaps port, STARTTLS on the plain one; trusting the test CA."""
    port = dovecot.imaps_port if security == "ssl" else dovecot.port
    values: dict[str, object] = {
        "security": security,
        "host": "localhost",
        "tls_ca_certificates": dovecot.authority.pem,
    }
    return mailbox_for(port, **(values | fields))


def recording_tls(versions: list[str | None]) -> Any:
    """``connect``, noting the TLS version each session was opened with (None: not TLS)."""

    def open_session(mailbox: Mailbox) -> imap.ImapSession:
        session = imap.connect(mailbox)
        sock = session.socket()  # type: ignore[attr-defined]
        versions.append(sock.version() if isinstance(sock, ssl.SSLSocket) else None)
        return session

    return open_session


@pytest.mark.django_db
@pytest.mark.parametrize(("security", "host"), [("ssl", "localhost"), ("starttls", "127.0.0.1")])
def test_mail_is_polled_over_tls_from_a_server_the_mailbox_ca_certified(
    inbox: IMAPClient, dovecot: Dovecot, security: str, host: str
) -> None:
    deliver(inbox, 11)
    box = tls_mailbox(dovecot, security, host=host)
    versions: list[str | None] = []
    report = imap.mailbox_poll(box, open_session=recording_tls(versions))
    assert report.done == 1 and Ticket.objects.count() == 1
    assert versions in (["TLSv1.2"], ["TLSv1.3"])
    inbox.select_folder("INBOX")
    assert inbox.search(["UNSEEN"]) == []
    box.refresh_from_db()
    assert box.last_error == ""


@pytest.mark.django_db
def test_ssl_cert_file_replaces_the_system_authorities_for_mailboxes_without_their_own(
    inbox: IMAPClient, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.ca_file))
    deliver(inbox, 12)
    box = tls_mailbox(dovecot, "ssl", tls_ca_certificates="")
    assert imap.mailbox_poll(box).done == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("security", "trusted"),
    [("ssl", "system"), ("starttls", "system"), ("ssl", "another CA")],
)
def test_an_untrusted_certificate_is_refused_and_the_mail_stays_on_the_server(
    inbox: IMAPClient, dovecot: Dovecot, security: str, trusted: str
) -> None:
    deliver(inbox, 13)
    pem = "" if trusted == "system" else make_authority("Another CA").pem
    box = tls_mailbox(dovecot, security, tls_ca_certificates=pem)
    with pytest.raises(imap.CertificateRefused):
        imap.mailbox_poll(box)
    box.refresh_from_db()
    assert box.last_error == (
        f"CertificateRefused: the TLS certificate of localhost:{box.port} was refused "
        "(unable to get local issuer certificate): if an internal certificate authority "
        "issued it, put that authority's certificate in the mailbox's trusted CA "
        "certificates; otherwise the server's certificate must be fixed"
    )
    assert InboundMessage.objects.count() == 0
    inbox.select_folder("INBOX")
    assert len(inbox.search(["UNSEEN"])) == 1
    # Trusting the authority that issued it lets the same message in.
    Mailbox.objects.filter(pk=box.pk).update(tls_ca_certificates=dovecot.authority.pem)
    box.refresh_from_db()
    assert imap.mailbox_poll(box).done == 1 and Ticket.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("host", "words"),
    [
        ("127.0.0.2", "IP address mismatch, certificate is not valid for '127.0.0.2'"),
        ("imap.other.test", "Hostname mismatch, certificate is not valid for 'imap.other.test'"),
    ],
)
def test_a_certificate_for_another_host_is_refused(
    inbox: IMAPClient, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch, host: str, words: str
) -> None:
    # The same server, certified for localhost and 127.0.0.1, reached under another name.
    real_connection = socket.create_connection

    def resolving_to_loopback(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        name, port = address
        return real_connection(
            ("127.0.0.1" if name == "imap.other.test" else name, port), *args, **kwargs
        )

    monkeypatch.setattr(socket, "create_connection", resolving_to_loopback)
    deliver(inbox, 14)
    box = tls_mailbox(dovecot, "ssl", host=host)
    with pytest.raises(imap.CertificateRefused, match=words):
        imap.mailbox_poll(box)
    box.refresh_from_db()
    assert box.last_error == (
        f"CertificateRefused: the TLS certificate of {host}:{dovecot.imaps_port} was refused "
        f"({words}): the mailbox's host must be a name the certificate is issued for; "
        "otherwise the server's certificate must be fixed"
    )
    assert InboundMessage.objects.count() == 0
