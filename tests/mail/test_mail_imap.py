"""IMAP polling against a real Dovecot on loopback (Debian's ``dovecot-imapd``).

The server is started for this module in a throw-away directory and stopped
at the end; without Dovecot installed the module is skipped.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
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
ssl = no
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
    port = 0
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


@pytest.fixture(scope="module")
def dovecot() -> Iterator[int]:
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
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, port=port, **users))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)])
    try:
        _wait_for(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def client(port: int) -> IMAPClient:
    session = IMAPClient("127.0.0.1", port=port, ssl=False)
    session.login("desk", PASSWORD)
    return session


@pytest.fixture
def inbox(dovecot: int) -> Iterator[IMAPClient]:
    """A clean INBOX and Processed folder for each test."""
    session = client(dovecot)
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
def test_new_mail_becomes_tickets_and_is_marked_read_after(inbox: IMAPClient, dovecot: int) -> None:
    deliver(inbox, 1)
    deliver(inbox, 2)
    box = mailbox_for(dovecot)
    report = imap.mailbox_poll(box)
    assert report.fetched == 2 and report.done == 2 and report.statuses == {"created": 2}
    assert Ticket.objects.count() == 2
    inbox.select_folder("INBOX")
    assert inbox.search(["UNSEEN"]) == [] and len(inbox.search(["SEEN"])) == 2
    assert imap.mailbox_poll(box).fetched == 0
    box.refresh_from_db()
    assert box.last_polled_at is not None and box.last_error == ""


@pytest.mark.django_db
def test_processed_mail_can_be_moved_to_another_folder(inbox: IMAPClient, dovecot: int) -> None:
    deliver(inbox, 3)
    box = mailbox_for(dovecot, after="move", move_to="Processed")
    imap.mailbox_poll(box)
    inbox.select_folder("INBOX")
    assert inbox.search(["ALL"]) == []
    inbox.select_folder("Processed")
    assert len(inbox.search(["ALL"])) == 1


@pytest.mark.django_db
def test_mail_that_failed_to_process_stays_unread_until_it_succeeds(
    inbox: IMAPClient, dovecot: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(inbox, 4)
    box = mailbox_for(dovecot)
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
def test_xoauth2_sign_in(inbox: IMAPClient, dovecot: int) -> None:
    deliver(inbox, 5)
    box = mailbox_for(dovecot, auth="oauth2")
    assert imap.mailbox_poll(box).done == 1
    wrong = mailbox_for(dovecot, name="wrong", auth="oauth2", secret="expired-token")
    with pytest.raises(Exception, match=r"AUTHENTICATIONFAILED|Authentication failed"):
        imap.mailbox_poll(wrong)
    wrong.refresh_from_db()
    assert "Authentication failed" in wrong.last_error


@pytest.mark.django_db
def test_the_periodic_poll_takes_due_mailboxes_only(inbox: IMAPClient, dovecot: int) -> None:
    deliver(inbox, 6)
    mailbox_for(dovecot, poll_every_seconds=3600)
    mailbox_for(dovecot, name="off", is_active=False)
    assert imap.poll_due_mailboxes() == 1
    assert imap.poll_due_mailboxes() == 0  # not due again for an hour
    assert Ticket.objects.count() == 1


def test_unencrypted_imap_is_refused_beyond_this_machine() -> None:
    box = Mailbox(name="far", host="imap.example.org", security="plain", username="u")
    with pytest.raises(ValueError, match="unencrypted"):
        imap.connect(box)
