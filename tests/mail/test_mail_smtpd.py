"""The built-in SMTP/LMTP receiver, spoken to with smtplib on a free local port."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from expediter.mail.models import InboundMessage
from expediter.mail.transports.smtpd import IntakeHandler, receiver
from expediter.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def message(subject: str = "Printer jam") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Zoe <zoe@corp.example>"
    mail["To"] = "helpdesk@example.com"
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{subject.replace(' ', '.')}@corp.example>"
    mail.set_content("The printer is jammed.")
    return mail


@pytest.fixture
def smtp_port() -> Iterator[int]:
    port = free_port()
    controller = receiver(host="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


def test_a_message_sent_over_smtp_becomes_a_ticket(smtp_port: int) -> None:
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
        refused = client.send_message(message())
    assert refused == {}
    ticket = Ticket.objects.get()
    assert ticket.subject == "Printer jam" and ticket.requester.email == "zoe@corp.example"
    assert InboundMessage.objects.get().source == "smtp"


def test_mail_for_other_domains_is_refused(smtp_port: int) -> None:
    with (
        smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused),
    ):
        client.sendmail("zoe@corp.example", ["someone@elsewhere.example"], b"Subject: x\n\nx")
    assert InboundMessage.objects.count() == 0


def test_a_failure_to_store_asks_the_sender_to_try_again_later() -> None:
    def broken(raw: bytes, peer: str):
        raise OSError("disk full")

    port = free_port()
    controller = receiver(host="127.0.0.1", port=port, domains=["example.com"], receive=broken)
    controller.start()
    try:
        with (
            smtplib.SMTP("127.0.0.1", port, timeout=30) as client,
            pytest.raises(smtplib.SMTPDataError) as refused,
        ):
            client.send_message(message())
        assert refused.value.smtp_code == 451
    finally:
        controller.stop()


def converse(port: int, commands: list[tuple[bytes, int]]) -> list[bytes]:
    """Speak LMTP by hand, reading the given number of final replies to each command:
    smtplib.LMTP reads one reply after DATA where RFC 2033 sends one per recipient."""
    replies = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        stream = conn.makefile("rwb")
        stream.readline()
        for line, expected in commands:
            stream.write(line + b"\r\n")
            stream.flush()
            while expected:
                reply = stream.readline()
                replies.append(reply.rstrip())
                expected -= reply[3:4] == b" "
    return replies


def test_lmtp_answers_once_per_recipient() -> None:
    port = free_port()
    controller = receiver(host="127.0.0.1", port=port, lmtp=True, domains=["example.com"])
    controller.start()
    try:
        body = message("Two queues").as_bytes().replace(b"\n", b"\r\n").rstrip(b"\r\n")
        replies = converse(
            port,
            [
                (b"LHLO client.example", 1),
                (b"MAIL FROM:<zoe@corp.example>", 1),
                (b"RCPT TO:<helpdesk@example.com>", 1),
                (b"RCPT TO:<support@example.com>", 1),
                (b"DATA", 1),
                (body + b"\r\n.", 2),
                (b"QUIT", 1),
            ],
        )
        assert replies.count(b"250 2.0.0 stored (created)") == 2
        assert Ticket.objects.count() == 1
    finally:
        controller.stop()


def test_the_handler_accepts_any_domain_when_none_is_configured() -> None:
    assert IntakeHandler(domains=()).accepts("anyone@anywhere.example")
    assert not IntakeHandler(domains=["example.com"]).accepts("x@example.org")
