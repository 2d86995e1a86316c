"""Bulk intake (``mail import``): batches keep every promise of the one-message path."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from dataclasses import replace
from email.message import EmailMessage

import pytest
from django.core import mail as django_mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from tests.factories import make_admin, make_requester, make_ticket

from expediter.core import periodic
from expediter.mail import outbox, tasks
from expediter.mail.models import (
    AutoReplyRecord,
    FailingAddress,
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    OutboundStatus,
)
from expediter.mail.parsing import ParsedMessage
from expediter.mail.services import (
    IngestResult,
    inbound_delete,
    inbound_retry_pending,
    mail_import,
)
from expediter.mail.services import imports as imports_module
from expediter.mail.services import intake as intake_module
from expediter.mail.services import lookups as lookups_module
from expediter.tickets import storage
from expediter.tickets.models import Article, StoredBlob, Ticket
from expediter.tickets.storage import blob_read

pytestmark = pytest.mark.django_db


def message(
    n: int,
    *,
    sender: str | None = None,
    subject: str | None = None,
    message_id: str | None = None,
    **headers: str,
) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender or f"User {n} <user{n}@corp.example>"
    mail["To"] = "helpdesk@example.com"
    mail["Subject"] = subject or f"Problem {n}"
    mail["Message-ID"] = message_id or f"<m{n}@corp.example>"
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(f"Problem number {n}.")
    return mail.as_bytes()


def bounce(n: int, recipient: str) -> bytes:
    """A delivery report about mail we never sent (so it joins no ticket)."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.corp.example>\n"
        "To: helpdesk@example.com\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        f"Message-ID: <bounce{n}@mx.corp.example>\n"
        "Auto-Submitted: auto-replied\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nThe mail could not be delivered.\n\n"
        "--B\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.corp.example\n\n"
        f"Final-Recipient: rfc822; {recipient}\nAction: failed\nStatus: 5.1.1\n\n"
        "--B\nContent-Type: text/rfc822-headers\n\n"
        f"From: helpdesk@example.com\nTo: {recipient}\nMessage-ID: <gone{n}@example.com>\n"
        "Subject: Re\n\n--B--\n"
    ).encode()


def run_import(*raws: bytes) -> list[IngestResult]:
    return list(mail_import(messages=[(f"box:{i}", raw) for i, raw in enumerate(raws)]))


def fail_on(subject: str, error: BaseException):
    """A stand-in for ``_act`` that fails on one message and acts normally on the others."""
    act = intake_module._act

    def acting(inbound, parsed, lookups, *, release):
        if parsed.subject == subject:
            raise error
        return act(inbound, parsed, lookups, release=release)

    return acting


# --- the batch as a whole -------------------------------------------------------------------


def test_an_import_creates_threads_and_answers_in_order() -> None:
    results = run_import(
        message(1),
        message(2, sender="User 1 <user1@corp.example>", In_Reply_To="<m1@corp.example>"),
        message(3, Auto_Submitted="auto-replied"),
    )
    assert [r.status for r in results] == ["created", "appended", "ignored"]
    assert results[1].ticket == results[0].ticket
    assert Article.objects.filter(ticket_id=results[0].ticket).count() == 2
    assert not InboundMessage.objects.filter(status=InboundStatus.PENDING).exists()


def test_a_reply_threads_to_a_ticket_made_in_an_earlier_batch(monkeypatch) -> None:
    monkeypatch.setattr(imports_module, "BATCH_MESSAGES", 2)
    reply = message(5, sender="user1@corp.example", References="<x@y.example> <m1@corp.example>")
    results = run_import(message(1), message(2), message(3), message(4), reply)
    assert [r.status for r in results] == ["created"] * 4 + ["appended"]
    assert results[4].ticket == results[0].ticket


def test_the_same_bytes_twice_in_one_batch_are_one_message() -> None:
    first, again = run_import(message(1), message(1))
    assert first.status == "created" and not first.duplicate
    assert again.status == "ignored" and again.duplicate and again.ticket == first.ticket
    assert InboundMessage.objects.count() == 1 and Ticket.objects.count() == 1


def test_the_same_message_id_twice_in_one_batch_is_a_duplicate() -> None:
    relayed = b"Received: from relay.example by mx.example; Mon, 1 Jun 2026 10:00:00 +0000\n"
    first, again = run_import(message(1), relayed + message(1))
    assert again.status == "ignored" and "same Message-ID" in (again.reason or "")
    assert InboundMessage.objects.get(pk=again.inbound).duplicate_of_id == first.inbound
    assert Ticket.objects.count() == 1


def test_importing_again_finds_everything_already_received() -> None:
    raws = [message(1), message(2)]
    run_import(*raws)
    again = run_import(*raws)
    assert [(r.status, r.duplicate) for r in again] == [("ignored", True)] * 2
    assert Ticket.objects.count() == 2


def test_a_message_left_pending_before_is_processed_when_imported_again(monkeypatch) -> None:
    monkeypatch.setattr(intake_module, "_act", fail_on("Problem 1", ValueError("bad")))
    [failed] = run_import(message(1))
    assert failed.status == "quarantined" and not failed.final
    monkeypatch.undo()
    [retried] = run_import(message(1))
    assert retried.status == "created" and Ticket.objects.count() == 1


# --- failures stay with the message that failed ---------------------------------------------


def test_a_failing_message_keeps_its_batch_neighbours_work(monkeypatch) -> None:
    monkeypatch.setattr(intake_module, "_act", fail_on("Problem 2", RuntimeError("boom")))
    results = run_import(message(1), message(2), message(3))
    assert [r.status for r in results] == ["created", "quarantined", "created"]
    assert "will be retried" in (results[1].reason or "") and not results[1].final
    failed = InboundMessage.objects.get(pk=results[1].inbound)
    assert failed.status == InboundStatus.PENDING and failed.attempts == 1
    assert "boom" in failed.last_error and failed.ticket_id is None
    assert Ticket.objects.count() == 2
    monkeypatch.undo()
    [retried] = inbound_retry_pending()
    assert retried.status == "created" and Ticket.objects.count() == 3


def test_a_message_failing_after_acting_leaves_nothing_behind(monkeypatch) -> None:
    record = intake_module._record

    def recording(inbound, outcome):
        if inbound.subject == "Undelivered Mail Returned to Sender":
            raise RuntimeError("disk full")
        record(inbound, outcome)

    monkeypatch.setattr(intake_module, "_record", recording)
    results = run_import(bounce(1, "gone@corp.example"), message(2))
    assert [r.status for r in results] == ["quarantined", "created"]
    assert not FailingAddress.objects.exists()  # the failed message's bounce is undone too
    assert OutboundMessage.objects.filter(kind="ack").count() == 1


def test_a_parse_failure_is_recorded_and_retried(monkeypatch) -> None:
    monkeypatch.setattr(imports_module, "parse_stored", _failing_on(b"Problem 1", "parse_stored"))
    results = run_import(message(1), message(2))
    assert [r.status for r in results] == ["quarantined", "created"]
    assert InboundMessage.objects.get(pk=results[0].inbound).attempts == 1


def test_a_crash_mid_batch_loses_nothing_and_a_later_retry_takes_it_all(monkeypatch, at) -> None:
    now = at(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(intake_module, "_act", fail_on("Problem 2", KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        run_import(message(1), message(2), message(3))
    monkeypatch.undo()
    stored = InboundMessage.objects.all()
    assert stored.count() == 3 and {m.status for m in stored} == {InboundStatus.PENDING}
    assert Ticket.objects.count() == 0  # the batch's work was rolled back as a whole
    assert all(blob_read(m.blob) for m in stored)
    assert inbound_retry_pending() == []  # still claimed by the import that died
    at(now + dt.timedelta(minutes=11))
    assert [r.status for r in inbound_retry_pending()] == ["created"] * 3
    assert Ticket.objects.count() == 3


def test_a_message_recorded_by_someone_else_meanwhile_is_left_as_they_left_it(
    monkeypatch,
) -> None:
    process = imports_module._process_delivery

    def overtaken(delivery, lookups):
        if delivery.parsed.subject == "Problem 1":  # another processor finished it first
            InboundMessage.objects.filter(pk=delivery.inbound.pk).update(
                status=InboundStatus.IGNORED, reason="handled elsewhere"
            )
        return process(delivery, lookups)

    monkeypatch.setattr(imports_module, "_process_delivery", overtaken)
    first, second = run_import(message(1), message(2))
    assert (first.status, first.reason, first.ticket) == ("ignored", "handled elsewhere", None)
    assert second.status == "created" and Ticket.objects.count() == 1


def test_rows_are_stored_in_one_by_one_when_another_process_races_us(monkeypatch) -> None:
    def racing(batch, digests, pack, *, source):
        raise IntegrityError("UNIQUE constraint failed: mail_inboundmessage.sha256")

    monkeypatch.setattr(imports_module, "_record_rows", racing)
    results = run_import(message(1), message(1), message(2))
    assert [(r.status, r.duplicate) for r in results] == [
        ("created", False),
        ("ignored", True),
        ("created", False),
    ]


# --- storing ----------------------------------------------------------------------------------


def test_the_raw_bytes_are_synced_before_any_row_says_they_are_stored(monkeypatch) -> None:
    monkeypatch.setattr(imports_module, "BATCH_MESSAGES", 2)
    monkeypatch.setattr(imports_module.os, "cpu_count", lambda: 1)  # all in this process
    syncs: list[int] = []
    fsync = os.fsync

    def counted_fsync(fd: int) -> None:
        fsync(fd)
        syncs.append(InboundMessage.objects.count())
        assert all(blob_read(m.blob) for m in InboundMessage.objects.all())

    monkeypatch.setattr("expediter.tickets.storage.os.fsync", counted_fsync)
    run_import(message(1), message(2), message(3))
    assert syncs == [0, 0, 2, 2]  # each batch's pack and its folder, before its rows
    stored = InboundMessage.objects.select_related("blob")
    assert len({m.blob.pack for m in stored}) == 2
    assert blob_read(stored.get(source_detail="box:2").blob) == message(3)


def test_a_batch_of_bytes_stored_before_leaves_no_pack_behind(monkeypatch) -> None:
    monkeypatch.setattr(imports_module.os, "cpu_count", lambda: 1)
    written: list[str] = []
    write = storage.Pack.write

    def noted(pack, raws: list[bytes]) -> None:
        write(pack, raws)
        written.append(pack.name)

    monkeypatch.setattr(storage.Pack, "write", noted)
    run_import(message(1), message(2))
    again = run_import(message(2), message(1))
    assert [r.duplicate for r in again] == [True, True]
    assert {blob.pack for blob in StoredBlob.objects.all()} == {written[0]}
    assert [storage.pack_path(name).exists() for name in written] == [True, False]


def test_an_admin_deleting_imported_mail_erases_its_bytes_in_the_pack_and_only_those(
    django_capture_on_commit_callbacks,
) -> None:
    first, newsletter, last = message(1), message(2, Precedence="bulk"), message(3)
    results = run_import(first, newsletter, last)
    assert [r.status for r in results] == ["created", "ignored", "created"]
    stored = {row.pk: row.blob for row in InboundMessage.objects.select_related("blob")}
    pack = storage.pack_path(stored[results[1].inbound].pack)
    assert len({blob.pack for blob in stored.values()}) == 1  # one batch, one pack
    with django_capture_on_commit_callbacks(execute=True):
        inbound_delete(inbound_id=results[1].inbound, actor=make_admin())
    assert newsletter not in pack.read_bytes()
    assert pack.read_bytes() == first + bytes(len(newsletter)) + last
    assert [blob_read(stored[r.inbound]) for r in (results[0], results[2])] == [first, last]


def test_the_worker_removes_the_pack_of_an_import_that_died_and_keeps_the_others(
    settings, tmp_path
) -> None:
    settings.DATA_DIR = tmp_path
    [imported] = run_import(message(1))
    died = storage.Pack.plan([message(2)])
    died.write([message(2)])  # synced, and the import died before committing its rows
    two_hours_ago = time.time() - 2 * 3600
    for pack in (tmp_path / "blobs" / "packs").iterdir():
        os.utime(pack, (two_hours_ago, two_hours_ago))
    [job] = [job for job in periodic.registered() if job.name == "mail.orphan_packs_remove"]
    assert job.every == dt.timedelta(hours=1)

    assert tasks.orphan_packs_remove.call() == 1

    assert not storage.pack_path(died.name).exists()
    assert blob_read(InboundMessage.objects.get(pk=imported.inbound).blob) == message(1)


# --- what the batch remembers between its messages ------------------------------------------


def test_bounces_in_one_batch_are_counted_and_written_together() -> None:
    FailingAddress.objects.create(
        address="old@corp.example",
        first_failed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        last_failed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    results = run_import(
        bounce(1, "new@corp.example"),
        bounce(2, "new@corp.example"),
        bounce(3, "old@corp.example"),
    )
    assert [r.status for r in results] == ["ignored"] * 3
    new = FailingAddress.objects.get(address="new@corp.example")
    old = FailingAddress.objects.get(address="old@corp.example")
    assert new.bounces == 2 and new.last_inbound_id == results[1].inbound
    assert new.first_failed_at <= new.last_failed_at
    assert old.bounces == 2 and old.last_inbound_id == results[2].inbound


def test_an_address_that_bounced_and_then_writes_works_again_within_a_batch() -> None:
    FailingAddress.objects.create(
        address="back@corp.example",
        first_failed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        last_failed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    results = run_import(
        bounce(1, "new@corp.example"),
        message(2, sender="new@corp.example"),
        message(3, sender="back@corp.example"),
        bounce(4, "back@corp.example"),
    )
    assert [r.status for r in results] == ["ignored", "created", "created", "ignored"]
    assert not FailingAddress.objects.filter(address="new@corp.example").exists()
    again = FailingAddress.objects.get(address="back@corp.example")
    assert again.bounces == 1 and again.last_inbound_id == results[3].inbound
    acks = OutboundMessage.objects.filter(kind="ack")
    assert {a.status for a in acks} == {OutboundStatus.QUEUED} and acks.count() == 2


def test_the_auto_reply_rate_limit_counts_the_batch_itself(settings) -> None:
    settings.MAIL_AUTO_REPLY_LIMIT = 2
    sender = "Busy <busy@corp.example>"
    run_import(*(message(n, sender=sender) for n in range(3)))
    acks = OutboundMessage.objects.filter(kind="ack").order_by("id")
    assert [a.status for a in acks] == ["queued", "queued", "suppressed"]
    assert "rate limit" in acks[2].last_error
    assert AutoReplyRecord.objects.filter(address="busy@corp.example").count() == 2


def test_a_known_requester_is_not_created_twice_and_is_acknowledged() -> None:
    requester = make_requester(email="zoe@corp.example")
    [result] = run_import(message(1, sender="Zoé <zoe@corp.example>"))
    assert Ticket.objects.get(pk=result.ticket).requester == requester


def test_a_subject_token_joins_a_ticket_from_before_the_import() -> None:
    requester = make_requester(email="zoe@corp.example")
    ticket = make_ticket(requester=requester)
    [result] = run_import(message(1, sender="zoe@corp.example", subject=f"[#{ticket.number}]"))
    assert result.status == "appended" and result.ticket == ticket.pk


def test_one_task_sends_a_batchs_acknowledgements(
    monkeypatch, django_capture_on_commit_callbacks
) -> None:
    enqueued: list[tuple[int, ...]] = []
    monkeypatch.setattr(lookups_module, "enqueue_sends", enqueued.append)
    monkeypatch.setattr(outbox, "_enqueue_send", lambda pk: pytest.fail("a task per message"))
    with django_capture_on_commit_callbacks(execute=True):
        run_import(message(1), message(2), message(3, Auto_Submitted="auto-replied"))
    assert enqueued == [tuple(OutboundMessage.objects.order_by("id").values_list("pk", flat=True))]
    assert len(enqueued[0]) == 2


def test_the_send_task_sends_each_message_once() -> None:
    run_import(message(1), message(2))
    pks = list(OutboundMessage.objects.values_list("pk", flat=True))
    assert tasks.outbox_send_many.call(message_pks=pks) == 2
    assert tasks.outbox_send_many.call(message_pks=pks) == 0
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {OutboundStatus.SENT}
    assert len(django_mail.outbox) == 2


# --- what an import costs -------------------------------------------------------------------


def queries_to_import(raws: list[bytes]) -> int:
    with CaptureQueriesContext(connection) as captured:
        run_import(*raws)
    return len(captured.captured_queries)


MAKES_NO_TICKET = {
    "bulk": lambda n: message(n, Precedence="bulk"),
    "bounce": lambda n: bounce(n, f"gone{n}@corp.example"),  # marks its address failing
    "duplicate": lambda n: message(n, message_id="<same@corp.example>"),
}


@pytest.mark.parametrize("kind", sorted(MAKES_NO_TICKET))
def test_each_message_that_makes_no_ticket_costs_three_statements(kind: str) -> None:
    """Its savepoint, the update of its row and the savepoint's release: the rest is per batch."""
    run_import(message(0, message_id="<same@corp.example>"))  # what the duplicates copy
    make = MAKES_NO_TICKET[kind]
    ten = queries_to_import([make(n) for n in range(100, 110)])
    twenty = queries_to_import([make(n) for n in range(200, 220)])
    assert twenty - ten == 10 * 3


# --- parsing ahead in a second process --------------------------------------------------------


def _parsed_by_pid(monkeypatch, *, die_in_child: bool = False, child_seconds: float = 0.0) -> None:
    """Make every parse sign the subject with the pid of the process that parsed it."""
    parent = os.getpid()
    parse, parse_here = imports_module.parse_message, imports_module.parse_stored

    def signed(parsed: ParsedMessage) -> ParsedMessage:
        if die_in_child and os.getpid() != parent:
            os._exit(3)
        if os.getpid() != parent:
            time.sleep(child_seconds)
        return replace(parsed, subject=f"{parsed.subject} pid={os.getpid()}")

    monkeypatch.setattr(imports_module, "parse_message", lambda raw, **o: signed(parse(raw, **o)))
    monkeypatch.setattr(imports_module, "parse_stored", lambda raw: signed(parse_here(raw)))
    monkeypatch.setattr(imports_module.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(imports_module, "BATCH_MESSAGES", 2)


def _never_taken_over(monkeypatch) -> None:
    """Every chunk handed to the second process is parsed there, however busy the machine.

    Left alone, this process takes over the chunks the other has not started
    when it needs them (tested on its own below): on a loaded machine that
    may be any of them.
    """
    monkeypatch.setattr(imports_module._Parsing, "_taken", lambda self, index: False)


def _parsers_of(results: list[IngestResult]) -> list[int]:
    subjects = Ticket.objects.in_bulk([r.ticket for r in results if r.ticket])
    return [int(subjects[r.ticket].subject.rsplit("pid=", 1)[1]) for r in results if r.ticket]


def test_later_batches_are_parsed_in_a_second_process_with_the_same_outcome(monkeypatch) -> None:
    _parsed_by_pid(monkeypatch)
    _never_taken_over(monkeypatch)
    reply = message(6, sender="user1@corp.example", References="<m1@corp.example>")
    raws = [message(1), message(2), bounce(3, "gone@corp.example"), message(4), message(1)]
    results = run_import(*raws, reply, message(7))
    assert [(r.status, r.duplicate) for r in results] == [
        ("created", False),
        ("created", False),
        ("ignored", False),
        ("created", False),
        ("ignored", True),  # the same bytes as the first: a copy
        ("appended", False),
        ("created", False),
    ]
    assert results[4].ticket == results[0].ticket and results[5].ticket == results[0].ticket
    assert FailingAddress.objects.filter(address="gone@corp.example").exists()
    parsers = _parsers_of([results[0], results[1], results[3], results[6]])
    assert parsers[:2] == [os.getpid()] * 2  # the first batch, beside the second's parse
    assert os.getpid() not in parsers[2:]
    assert not InboundMessage.objects.filter(status=InboundStatus.PENDING).exists()


@pytest.mark.django_db(transaction=True)
def test_rows_are_committed_only_once_the_second_process_has_synced_their_bytes(
    monkeypatch, tmp_path
) -> None:
    _parsed_by_pid(monkeypatch)
    parent, writers = os.getpid(), tmp_path / "writers"
    write, record = storage.Pack.write, imports_module._record_rows

    def slow_and_signed(pack, raws: list[bytes]) -> None:
        if os.getpid() != parent:
            time.sleep(0.3)  # this process records the rows meanwhile
        write(pack, raws)
        with writers.open("a") as log:
            log.write(f"{os.getpid()}\n")

    committed: list[bool] = []

    def recorded(batch, digests, pack, *, source):
        packed = record(batch, digests, pack, source=source)
        on_disk = lambda: storage.pack_path(pack.name).exists()  # noqa: E731
        transaction.on_commit(lambda: committed.append(on_disk()))
        return packed

    monkeypatch.setattr(storage.Pack, "write", slow_and_signed)
    monkeypatch.setattr(imports_module, "_record_rows", recorded)
    results = run_import(*(message(n) for n in range(1, 6)))
    assert [r.status for r in results] == ["created"] * 5
    assert committed == [True, True, True]
    pids = [int(pid) for pid in writers.read_text().split()]
    # The first batch (one chunk) is written here, the later two there.
    assert sorted(pid == parent for pid in pids) == [False, False, True]


def test_the_second_process_works_out_the_addresses_of_the_bytes_it_writes(
    monkeypatch, tmp_path
) -> None:
    _parsed_by_pid(monkeypatch)
    monkeypatch.setattr(imports_module, "BATCH_MESSAGES", 2)
    hashers, address = tmp_path / "hashers", imports_module.content_address

    def signed(raw: bytes) -> str:
        with hashers.open("a") as log:
            log.write(f"{os.getpid()}\n")
        return address(raw)

    digests = imports_module._Writing.digests

    def once_written(writing) -> list[str]:
        if writing.future is not None:  # however busy the machine, the bytes are written
            writing.future.result()
        return digests(writing)

    monkeypatch.setattr(imports_module, "content_address", signed)
    monkeypatch.setattr(imports_module._Writing, "digests", once_written)
    results = run_import(*(message(n) for n in range(1, 7)))
    assert [r.status for r in results] == ["created"] * 6
    pids = [int(pid) for pid in hashers.read_text().split()]
    # The first batch is written and hashed here, the two later ones there.
    assert sorted(pid == os.getpid() for pid in pids) == [False] * 4 + [True] * 2
    for row in InboundMessage.objects.select_related("blob"):
        assert row.sha256 == row.blob.sha256 == storage.content_address(blob_read(row.blob))


def test_this_process_parses_the_chunks_the_slower_second_one_has_not_started(
    monkeypatch,
) -> None:
    _parsed_by_pid(monkeypatch, child_seconds=0.3)
    monkeypatch.setattr(imports_module, "BATCH_MESSAGES", 6)
    monkeypatch.setattr(imports_module, "PARSE_CHUNK", 1)
    # Nothing parsed while the bytes sync (the next test): as once they are synced.
    monkeypatch.setattr(imports_module._Parsing, "parse_while", lambda self, busy: None)
    wait = imports_module._Parsing.wait

    def once_the_first_chunk_started_there(parsing) -> None:
        # The pack is written in a blink: on a busy machine this process could come to
        # the first chunk before the other has even started it.
        deadline = time.monotonic() + 10
        first_slot = parsing.slots[0]
        while parsing.claims.states[first_slot] != imports_module._Claims.STARTED:
            assert time.monotonic() < deadline, "the second process never started"
            time.sleep(0.005)
        wait(parsing)

    monkeypatch.setattr(imports_module._Parsing, "wait", once_the_first_chunk_started_there)
    results = run_import(*(message(n) for n in range(1, 7)))
    assert [r.status for r in results] == ["created"] * 6
    parsers = _parsers_of(results)
    assert parsers[0] != os.getpid()  # the second process took the first chunk
    # and this one every other, rather than wait: the other had them all from the start,
    # and had started none but the first
    assert parsers[1:] == [os.getpid()] * 5


def test_this_process_parses_while_the_second_one_syncs_the_bytes(monkeypatch) -> None:
    _parsed_by_pid(monkeypatch)
    monkeypatch.setattr(imports_module, "BATCH_MESSAGES", 6)
    monkeypatch.setattr(imports_module, "PARSE_CHUNK", 1)
    parent, write = os.getpid(), storage.Pack.write

    def slow_to_sync(pack, raws: list[bytes]) -> None:
        if os.getpid() != parent:
            time.sleep(0.5)
        write(pack, raws)

    monkeypatch.setattr(storage.Pack, "write", slow_to_sync)
    results = run_import(*(message(n) for n in range(1, 7)))
    assert [r.status for r in results] == ["created"] * 6
    assert _parsers_of(results) == [parent] * 6  # rather than wait for the sync


def _failing_on(text: bytes, name: str):
    parse = getattr(imports_module, name)

    def failing(raw: bytes, **options):
        if text in raw:
            raise MemoryError("too big")
        return parse(raw, **options)

    return failing


def test_a_message_the_second_process_fails_on_is_parsed_and_recorded_here(
    monkeypatch,
) -> None:
    _parsed_by_pid(monkeypatch)
    _never_taken_over(monkeypatch)
    monkeypatch.setattr(imports_module, "PARSE_CHUNK", 1)
    for name in ("parse_message", "parse_stored"):  # there, and here
        monkeypatch.setattr(imports_module, name, _failing_on(b"Problem 3", name))
    results = run_import(*(message(n) for n in range(1, 7)))
    assert [r.status for r in results] == ["created"] * 2 + ["quarantined"] + ["created"] * 3
    assert InboundMessage.objects.get(pk=results[2].inbound).attempts == 1
    assert os.getpid() not in _parsers_of(results)[2:]  # the second process went on


def test_a_reply_parsed_in_the_second_process_is_split_for_display_there(monkeypatch) -> None:
    monkeypatch.setattr(imports_module.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(imports_module, "BATCH_MESSAGES", 1)
    split_here: list[str] = []
    split = intake_module.split_reply
    monkeypatch.setattr(
        intake_module,
        "split_reply",
        lambda text, **kw: split_here.append(text) or split(text, **kw),
    )
    quoting = EmailMessage()
    quoting["From"] = "User 2 <user2@corp.example>"
    quoting["To"] = "helpdesk@example.com"
    quoting["Subject"] = "Still broken"
    quoting["Message-ID"] = "<q2@corp.example>"
    quoting.set_content(
        "It is still broken.\n\nOn Mon, 1 Jun 2026, Desk <helpdesk@example.com> wrote:\n> Retry\n"
    )
    results = run_import(message(1), quoting.as_bytes())
    assert [r.status for r in results] == ["created", "created"]
    inbound = InboundMessage.objects.get(pk=results[1].inbound)
    assert inbound.reply_text == "It is still broken."
    assert "wrote:" in inbound.quoted_text
    assert len(split_here) == 1  # the first message's, parsed in this process


def test_a_parsing_process_that_dies_costs_only_time(monkeypatch, caplog) -> None:
    _parsed_by_pid(monkeypatch, die_in_child=True)
    results = run_import(*(message(n) for n in range(1, 7)))
    assert [r.status for r in results] == ["created"] * 6
    assert set(_parsers_of(results)) == {os.getpid()}
    assert "parsing in this process" in caplog.text


def test_no_second_process_is_forked_beside_another_thread(monkeypatch) -> None:
    _parsed_by_pid(monkeypatch)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        results = run_import(*(message(n) for n in range(1, 6)))
    finally:
        stop.set()
        other.join()
    assert set(_parsers_of(results)) == {os.getpid()}
