"""``expediter mail ingest|import|retry`` as an MTA and an administrator use them."""

from __future__ import annotations

import io
import json
import mailbox
import sys
from email.message import EmailMessage

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from expediter.mail.models import InboundMessage
from expediter.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def raw_message(n: int, **headers: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"User {n} <user{n}@corp.example>"
    mail["To"] = "helpdesk@example.com"
    mail["Subject"] = f"Problem {n}"
    mail["Message-ID"] = f"<p{n}@corp.example>"
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(f"Problem number {n}.")
    return mail.as_bytes()


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("mail", *args, stdout=out)
    return out.getvalue()


def test_ingest_reads_a_file_and_answers_json(tmp_path) -> None:
    path = tmp_path / "one.eml"
    path.write_bytes(raw_message(1))
    answer = json.loads(run("ingest", str(path)))
    ticket = Ticket.objects.get()
    assert answer == {
        "status": "created",
        "ticket": ticket.pk,
        "article": answer["article"],
        "reason": None,
    }
    again = json.loads(run("ingest", str(path)))
    assert again["status"] == "ignored" and again["ticket"] == ticket.pk


def test_ingest_reads_stdin_and_reports_quarantine(monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"%PDF-1.4 not mail")))
    answer = json.loads(run("ingest", "-"))
    assert answer["status"] == "quarantined" and "PDF" in answer["reason"]
    assert answer["ticket"] is None and answer["article"] is None


def test_ingest_exits_with_tempfail_when_it_cannot_store(monkeypatch, tmp_path) -> None:
    path = tmp_path / "one.eml"
    path.write_bytes(raw_message(1))

    def disk_full(data: bytes) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("expediter.mail.services.ingest.write_bytes", disk_full)
    with pytest.raises(CommandError) as failure:
        run("ingest", str(path))
    assert failure.value.returncode == 75
    assert InboundMessage.objects.count() == 0


def test_ingest_of_a_missing_file_fails_with_a_message() -> None:
    with pytest.raises(CommandError, match="cannot read"):
        run("ingest", "/nonexistent/message.eml")


def test_import_a_maildir_twice_imports_once(tmp_path) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for n in range(3):
        box.add(raw_message(n))
    box.add(raw_message(9, Auto_Submitted="auto-replied"))
    box.add(b"\x00" * 20)
    first = json.loads(run("import", str(tmp_path / "Maildir"), "--json"))
    assert first == {
        "messages": 5,
        "created": 3,
        "appended": 0,
        "ignored": 1,
        "quarantined": 1,
        "already_received": 0,
    }
    second = run("import", str(tmp_path / "Maildir"))
    assert (
        "5 messages: 0 created, 0 appended, 5 ignored, 0 quarantined (5 already received)" in second
    )
    assert Ticket.objects.count() == 3


def test_import_an_mbox(tmp_path) -> None:
    box = mailbox.mbox(tmp_path / "archive.mbox", create=True)
    box.add(raw_message(1))
    box.add(raw_message(2, In_Reply_To="<p1@corp.example>"))
    box.flush()
    summary = json.loads(run("import", str(tmp_path / "archive.mbox"), "--json"))
    assert summary["created"] == 1 and summary["appended"] == 1


def test_import_refuses_what_is_not_a_mail_store(tmp_path) -> None:
    with pytest.raises(CommandError, match="neither a Maildir nor an mbox"):
        run("import", str(tmp_path))


def test_retry_processes_what_a_crash_left(monkeypatch, tmp_path) -> None:
    path = tmp_path / "one.eml"
    path.write_bytes(raw_message(1))
    monkeypatch.setattr(
        "expediter.mail.services.ingest.process_parsed",
        lambda **kwargs: (_ for _ in ()).throw(RuntimeError("crash")),
    )
    assert json.loads(run("ingest", str(path)))["status"] == "quarantined"
    monkeypatch.undo()
    summary = json.loads(run("retry"))
    assert summary["messages"] == 1 and summary["created"] == 1
