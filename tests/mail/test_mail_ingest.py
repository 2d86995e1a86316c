"""Mail intake end to end: stored first, threaded, deduplicated, never lost."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage

import pytest
from django.db import transaction
from tests.factories import make_admin, make_agent, make_requester, make_ticket

from expediter.core.errors import Conflict, NotPermitted
from expediter.mail import outbox
from expediter.mail.models import (
    FailingAddress,
    InboundMessage,
    InboundStatus,
    OutboundMessage,
)
from expediter.mail.services import (
    inbound_delete,
    inbound_release,
    inbound_retry_pending,
    mail_receive,
)
from expediter.mail.services import intake as intake_module
from expediter.tickets.models import Article, Status, Ticket, TicketLink
from expediter.tickets.services import ticket_set_status

pytestmark = pytest.mark.django_db


def message(
    *,
    sender: str = "Zoé Martin <zoe@corp.example>",
    subject: str = "VPN is down",
    body: str = "Hello, the VPN is down since this morning.",
    headers: dict[str, str] | None = None,
    to: str = "helpdesk@example.com",
) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = email.utils.make_msgid(domain="corp.example")
    for name, value in (headers or {}).items():
        del mail[name]
        mail[name] = value
    mail.set_content(body)
    return mail.as_bytes()


def receive(raw: bytes):
    return mail_receive(raw=raw, source="pipe")


def sent_to_ticket(ticket: Ticket) -> OutboundMessage:
    """A message the desk sent on the ticket (what a requester replies to)."""
    with transaction.atomic():
        return outbox.outbox_enqueue(
            kind="reply", to=[ticket.requester.email], subject="Re", text="x", ticket=ticket
        )


# --- creating and storing -------------------------------------------------------------


def test_a_new_message_creates_a_ticket_from_a_new_requester() -> None:
    raw = message(headers={"Cc": "Bob <bob@corp.example>, helpdesk@example.com"})
    result = receive(raw)
    assert result.status == "created" and result.reason is None
    ticket = Ticket.objects.get(pk=result.ticket)
    assert ticket.channel == "email" and ticket.subject == "VPN is down"
    assert ticket.requester.email == "zoe@corp.example"
    assert ticket.requester.name == "Zoé Martin"
    assert ticket.requester.role == "requester"
    assert [w.email for w in ticket.watchers.all()] == ["bob@corp.example"]
    article = Article.objects.get(pk=result.article)
    assert "VPN is down since" in article.body and article.channel == "email"
    inbound = InboundMessage.objects.get(pk=result.inbound)
    assert inbound.status == InboundStatus.CREATED and inbound.ticket_id == ticket.pk
    assert inbound.blob.size == len(raw)


def test_attachments_are_kept_byte_for_byte_beyond_the_upload_limit(settings) -> None:
    settings.ATTACHMENT_MAX_BYTES = 10
    mail = EmailMessage()
    mail["From"] = "zoe@corp.example"
    mail["Subject"] = "Logs"
    mail.set_content("See the log.")
    data = bytes(range(256)) * 4
    mail.add_attachment(data, maintype="application", subtype="octet-stream", filename="x.bin")
    result = receive(mail.as_bytes())
    article = Article.objects.get(pk=result.article)
    [attachment] = article.attachments.all()
    assert attachment.filename == "x.bin" and attachment.size == len(data)


def test_the_same_bytes_twice_make_one_article() -> None:
    raw = message()
    first = receive(raw)
    again = receive(raw)
    assert again.status == "ignored" and again.duplicate and again.ticket == first.ticket
    assert Article.objects.count() == 1 and InboundMessage.objects.count() == 1


def test_the_same_message_id_twice_is_stored_but_ignored() -> None:
    raw = message()
    first = receive(raw)
    relayed = b"Received: from relay.example by mx.example; Mon, 1 Jun 2026 10:00:00 +0000\n" + raw
    again = receive(relayed)
    assert again.status == "ignored" and "same Message-ID" in (again.reason or "")
    assert Ticket.objects.count() == 1 and Article.objects.count() == 1
    assert InboundMessage.objects.get(pk=again.inbound).duplicate_of_id == first.inbound
    assert first.inbound != again.inbound


def test_a_crash_between_storing_and_processing_loses_nothing(monkeypatch) -> None:
    raw = message()

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr("expediter.mail.services.ingest.process_parsed", crash)
    failed = receive(raw)
    assert failed.status == "quarantined" and not failed.final
    assert "will be retried" in (failed.reason or "")
    stored = InboundMessage.objects.get()
    assert stored.status == InboundStatus.PENDING and stored.attempts == 1
    assert Ticket.objects.count() == 0
    monkeypatch.undo()
    [retried] = inbound_retry_pending()
    assert retried.status == "created"
    assert inbound_retry_pending() == []
    assert Ticket.objects.count() == 1


def test_a_hard_crash_leaves_a_claimed_message_that_a_later_retry_takes(monkeypatch, at) -> None:
    import datetime as dt

    now = at(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(intake_module, "_act", killed)
    with pytest.raises(KeyboardInterrupt):
        receive(message())
    monkeypatch.undo()
    assert inbound_retry_pending() == []  # still claimed by the process that died
    at(now + dt.timedelta(minutes=11))
    [retried] = inbound_retry_pending()
    assert retried.status == "created"


def test_a_message_failing_every_time_ends_in_quarantine(monkeypatch) -> None:
    monkeypatch.setattr(
        "expediter.mail.services.ingest.process_parsed",
        lambda **kwargs: (_ for _ in ()).throw(ValueError("bad")),
    )
    receive(message())
    for _ in range(4):
        inbound_retry_pending()
    stored = InboundMessage.objects.get()
    assert stored.status == InboundStatus.QUARANTINED and "failed 5 times" in stored.reason


# --- quarantine -------------------------------------------------------------------------


def test_oversized_unparsable_and_senderless_mail_is_quarantined(settings) -> None:
    settings.MAIL_MAX_BYTES = 2000
    big = receive(message(body="x" * 5000))
    assert big.status == "quarantined" and "larger than" in (big.reason or "")
    binary = receive(b"PK\x03\x04" + bytes(100))
    assert binary.status == "quarantined" and "not an RFC 5322 message" in (binary.reason or "")
    nobody = receive(message(sender="undisclosed-recipients:;"))
    assert nobody.status == "quarantined" and "sender" in (nobody.reason or "")
    assert Ticket.objects.count() == 0
    assert InboundMessage.objects.filter(status=InboundStatus.QUARANTINED).count() == 3


def test_an_admin_releases_an_oversized_message_and_deletes_another(settings) -> None:
    settings.MAIL_MAX_BYTES = 2000
    admin = make_admin()
    big = receive(message(body="y" * 5000))
    with pytest.raises(NotPermitted):
        inbound_release(inbound_id=big.inbound, actor=make_agent())
    released = inbound_release(inbound_id=big.inbound, actor=admin)
    assert released.status == "created"
    with pytest.raises(Conflict):
        inbound_release(inbound_id=big.inbound, actor=admin)
    with pytest.raises(Conflict):
        inbound_delete(inbound_id=big.inbound, actor=admin)
    junk = receive(b"PK\x03\x04" + bytes(100))
    still = inbound_release(inbound_id=junk.inbound, actor=admin)
    assert still.status == "quarantined"
    inbound_delete(inbound_id=junk.inbound, actor=admin)
    assert not InboundMessage.objects.filter(pk=junk.inbound).exists()


# --- what is never a ticket -----------------------------------------------------------


def test_unthreaded_automatic_bulk_and_own_mail_is_ignored(settings) -> None:
    auto = receive(message(subject="Out of office", headers={"Auto-Submitted": "auto-replied"}))
    bulk = receive(message(subject="Newsletter", headers={"List-Id": "<news.corp.example>"}))
    own = receive(message(sender=f"Desk <{settings.MAIL_FROM}>"))
    looped = receive(message(headers={"X-Loop": settings.MAIL_FROM}))
    assert [r.status for r in (auto, bulk, own, looped)] == ["ignored"] * 4
    assert "automatic reply" in (auto.reason or "") and "bulk" in (bulk.reason or "")
    assert Ticket.objects.count() == 0 and OutboundMessage.objects.count() == 0


def test_an_admin_releases_ignored_mail_as_a_ticket_without_acknowledging_it() -> None:
    bulk = receive(message(subject="Newsletter", headers={"Precedence": "bulk"}))
    released = inbound_release(inbound_id=bulk.inbound, actor=make_admin())
    assert released.status == "created"
    assert not OutboundMessage.objects.filter(kind="ack").exists()


def test_our_own_message_coming_back_is_ignored() -> None:
    ticket = make_ticket()
    ours = sent_to_ticket(ticket)
    raw = message(headers={"Message-ID": ours.message_id})
    assert receive(raw).status == "ignored"
    assert ticket.articles.count() == 1


# --- threading --------------------------------------------------------------------------


def test_a_reply_by_headers_joins_and_makes_the_sender_a_watcher() -> None:
    ticket = make_ticket()
    ours = sent_to_ticket(ticket)
    raw = message(
        sender="Carol <carol@corp.example>",
        subject="Re: something else",
        headers={"In-Reply-To": ours.message_id, "Cc": "Dan <dan@corp.example>"},
    )
    result = receive(raw)
    assert result.status == "appended" and result.ticket == ticket.pk
    article = Article.objects.get(pk=result.article)
    assert not article.internal and article.author.email == "carol@corp.example"
    watchers = sorted(ticket.watchers.values_list("email", flat=True))
    assert watchers == ["carol@corp.example", "dan@corp.example"]


def test_references_to_a_received_message_join_its_ticket() -> None:
    first = receive(message())
    first_id = InboundMessage.objects.get(pk=first.inbound).message_id
    reply = receive(
        message(subject="Re: VPN", headers={"References": f"<other@x.example> <{first_id}>"})
    )
    assert reply.status == "appended" and reply.ticket == first.ticket


def test_the_subject_token_joins_for_the_requester() -> None:
    requester = make_requester(email="zoe@corp.example")
    ticket = make_ticket(requester=requester)
    result = receive(message(subject=f"Re: [#{ticket.number}] printer"))
    assert result.status == "appended" and result.ticket == ticket.pk
    assert not Article.objects.get(pk=result.article).internal


def test_a_stranger_with_the_token_only_writes_an_internal_note() -> None:
    ticket = make_ticket()
    raw = message(
        sender="Mallory <mallory@evil.example>",
        subject=f"[#{ticket.number}] hello",
        headers={"Cc": "eve@evil.example"},
    )
    result = receive(raw)
    article = Article.objects.get(pk=result.article)
    assert result.status == "appended"
    assert article.internal and article.kind == "unknown_sender" and article.author is None
    assert article.from_email == "mallory@evil.example"
    assert ticket.watchers.count() == 0
    assert not ticket.requester.__class__.objects.filter(email="mallory@evil.example").exists()


def test_an_agent_address_with_the_token_only_is_kept_internal() -> None:
    agent = make_agent(email="ann@desk.example")
    ticket = make_ticket()
    result = receive(message(sender=agent.email, subject=f"[#{ticket.number}] done"))
    article = Article.objects.get(pk=result.article)
    assert article.internal and article.author == agent and article.kind == "message"


def test_a_requester_reply_reopens_a_waiting_or_resolved_ticket() -> None:
    agent = make_agent()
    requester = make_requester(email="zoe@corp.example")
    ticket = make_ticket(requester=requester)
    ticket_set_status(ticket_id=ticket.pk, status=Status.WAITING_REQUESTER, actor=agent)
    receive(message(subject=f"Re: [#{ticket.number}]"))
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    ticket_set_status(ticket_id=ticket.pk, status=Status.RESOLVED, actor=agent)
    receive(message(subject=f"Re: [#{ticket.number}] still broken"))
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_a_reply_to_a_closed_ticket_opens_a_linked_follow_up() -> None:
    agent = make_agent()
    requester = make_requester(email="zoe@corp.example")
    ticket = make_ticket(requester=requester)
    ticket_set_status(ticket_id=ticket.pk, status=Status.RESOLVED, actor=agent)
    ticket_set_status(ticket_id=ticket.pk, status=Status.CLOSED, actor=agent)
    result = receive(message(subject=f"Re: [#{ticket.number}] it broke again"))
    assert result.status == "created" and result.ticket != ticket.pk
    assert TicketLink.objects.filter(source_id=result.ticket, target=ticket).exists()
    assert OutboundMessage.objects.filter(kind="ack", ticket_id=result.ticket).exists()


def test_an_out_of_office_reply_is_recorded_without_moving_the_ticket() -> None:
    agent = make_agent()
    requester = make_requester(email="zoe@corp.example")
    ticket = make_ticket(requester=requester)
    ticket_set_status(ticket_id=ticket.pk, status=Status.WAITING_REQUESTER, actor=agent)
    ours = sent_to_ticket(ticket)
    raw = message(
        subject="Automatic reply: away",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": ours.message_id},
    )
    result = receive(raw)
    article = Article.objects.get(pk=result.article)
    assert result.status == "appended" and article.kind == "auto_reply" and article.internal
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_REQUESTER
    assert OutboundMessage.objects.filter(kind="ack").count() == 0


def bounce_for(ours: OutboundMessage, recipient: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.corp.example>\n"
        "To: helpdesk@example.com\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "Message-ID: <bounce1@mx.corp.example>\n"
        "Auto-Submitted: auto-replied\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nThe mail could not be delivered.\n\n"
        "--B\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.corp.example\n\n"
        f"Final-Recipient: rfc822; {recipient}\nAction: failed\nStatus: 5.1.1\n\n"
        "--B\nContent-Type: text/rfc822-headers\n\n"
        f"From: helpdesk@example.com\nTo: {recipient}\nMessage-ID: {ours.message_id}\n"
        "Subject: Re\n\n--B--\n"
    ).encode()


def test_a_bounce_marks_the_address_failing_and_notes_it_on_the_ticket() -> None:
    requester = make_requester(email="gone@corp.example")
    ticket = make_ticket(requester=requester)
    ours = sent_to_ticket(ticket)
    result = receive(bounce_for(ours, "gone@corp.example"))
    assert result.status == "appended" and result.ticket == ticket.pk
    note = Article.objects.get(pk=result.article)
    assert note.internal and note.kind == "bounce" and "gone@corp.example" in note.body
    assert FailingAddress.objects.filter(address="gone@corp.example").exists()
    with transaction.atomic():
        stopped = outbox.outbox_enqueue(
            kind="status", to=["gone@corp.example"], subject="s", text="t", auto=True
        )
    assert stopped.status == "suppressed" and "bounced" in stopped.last_error
    # the person writing again shows the address works
    receive(message(sender="gone@corp.example", subject="new problem"))
    assert not FailingAddress.objects.filter(address="gone@corp.example").exists()


def test_a_bounce_about_nothing_we_know_is_ignored_but_still_marks_the_address() -> None:
    ghost = OutboundMessage(message_id="<never-sent@example.com>")
    result = receive(bounce_for(ghost, "ghost@corp.example"))
    assert result.status == "ignored"
    assert FailingAddress.objects.filter(address="ghost@corp.example").exists()


def test_quoted_text_is_split_for_display_and_the_full_text_kept() -> None:
    body = (
        "Thanks, it works now.\n\n"
        "On Mon, 1 Jun 2026, Desk <helpdesk@example.com> wrote:\n> Try again\n"
    )
    result = receive(message(body=body))
    article = Article.objects.get(pk=result.article)
    inbound = InboundMessage.objects.get(pk=result.inbound)
    assert "> Try again" in article.body
    assert inbound.reply_text == "Thanks, it works now."
    assert "wrote:" in inbound.quoted_text
