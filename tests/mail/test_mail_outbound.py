"""What the desk writes back: acknowledgements, replies, status news, and loop safety."""

from __future__ import annotations

import email
import email.utils
from email import policy
from email.message import EmailMessage

import pytest
from django.core import mail
from tests.factories import make_agent, make_requester, make_ticket

from expediter.mail.models import MailedEvent, OutboundMessage, OutboundStatus
from expediter.mail.services import mail_receive
from expediter.mail.services.events import mail_for_event
from expediter.staff.services import requester_get_or_create
from expediter.tickets.models import Status, Ticket, TicketEvent
from expediter.tickets.services import article_add, ticket_add_watcher, ticket_set_status

pytestmark = pytest.mark.django_db


def message(
    *, sender: str = "Zoé Martin <zoe@corp.example>", subject: str = "VPN is down", **headers: str
) -> bytes:
    mail_ = EmailMessage()
    mail_["From"] = sender
    mail_["To"] = "helpdesk@example.com"
    mail_["Subject"] = subject
    mail_["Message-ID"] = email.utils.make_msgid(domain="corp.example")
    for name, value in headers.items():
        mail_[name.replace("_", "-")] = value
    mail_.set_content("Hello, the VPN is down.")
    return mail_.as_bytes()


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Receive a message and run what its commit sets off (tasks run inline in tests)."""

    def run(raw: bytes):
        with django_capture_on_commit_callbacks(execute=True):
            return mail_receive(raw=raw, source="pipe")

    return run


def sent(index: int = -1) -> email.message.EmailMessage:
    return email.message_from_bytes(mail.outbox[index].message().as_bytes(), policy=policy.default)


def test_a_new_request_is_acknowledged_with_number_link_and_loop_headers(deliver, settings) -> None:
    raw = message(References="<older@corp.example>")
    result = deliver(raw)
    ticket = Ticket.objects.get(pk=result.ticket)
    ack = sent()
    original = email.message_from_bytes(raw, policy=policy.default)
    assert ack["To"] == "zoe@corp.example"
    assert ack["Subject"] == f"[#{ticket.number}] Received: VPN is down"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["X-Loop"] == settings.MAIL_FROM
    assert ack["In-Reply-To"] == original["Message-ID"]
    assert ack["References"].split() == ["<older@corp.example>", original["Message-ID"]]
    assert ack["Message-ID"] == OutboundMessage.objects.get(kind="ack").message_id
    text = ack.get_body(("plain",)).get_content()
    html = ack.get_body(("html",)).get_content()
    assert f"#{ticket.number}" in text and "Hello Zoé Martin" in text
    assert f"{settings.BASE_URL}/magic/" in text and f"{settings.BASE_URL}/magic/" in html


def test_the_acknowledgement_speaks_french_to_a_french_requester(deliver) -> None:
    requester_get_or_create(email="zoe@corp.example", name="Zoé", language="fr")
    deliver(message())
    ack = sent()
    assert ack["Subject"].endswith("Reçu : VPN is down")
    assert "Bonjour Zoé" in ack.get_body(("plain",)).get_content()


def test_a_subject_cannot_inject_headers(deliver) -> None:
    raw = (
        b"From: zoe@corp.example\nTo: helpdesk@example.com\nMessage-ID: <inj@corp.example>\n"
        b"Subject: =?utf-8?q?Help=0D=0ABcc:_victim@example.org?=\n\nHello\n"
    )
    deliver(raw)
    ack = sent()
    assert ack["Bcc"] is None and "\n" not in ack["Subject"]


def test_an_agent_public_reply_is_mailed_to_requester_and_watchers_in_the_thread(
    deliver, django_capture_on_commit_callbacks
) -> None:
    agent = make_agent(name="Ann Agent")
    first = deliver(message(Cc="Bob <bob@corp.example>"))
    ticket = Ticket.objects.get(pk=first.ticket)
    ack_id = OutboundMessage.objects.get(kind="ack").message_id
    with django_capture_on_commit_callbacks(execute=True):
        article_add(ticket_id=ticket.pk, author=agent, actor=agent, body="Please restart it.")
    with django_capture_on_commit_callbacks(execute=True):
        article_add(ticket_id=ticket.pk, author=agent, actor=agent, body="secret", internal=True)
    reply = sent()
    assert reply["To"] == "zoe@corp.example" and reply["Cc"] == "bob@corp.example"
    assert reply["Subject"] == f"[#{ticket.number}] Re: VPN is down"
    assert reply["Auto-Submitted"] is None
    assert reply["In-Reply-To"] == ack_id
    assert reply["References"].split()[-1] == ack_id
    assert "Please restart it." in reply.get_body(("plain",)).get_content()
    assert not any("secret" in m.body for m in mail.outbox)
    # the requester answering that reply joins the ticket by its headers
    again = deliver(message(subject="Re: whatever", In_Reply_To=reply["Message-ID"]))
    assert again.status == "appended" and again.ticket == ticket.pk


def test_the_reply_listener_mails_an_event_once(django_capture_on_commit_callbacks) -> None:
    agent = make_agent()
    ticket = make_ticket()
    with django_capture_on_commit_callbacks(execute=True):
        article_add(ticket_id=ticket.pk, author=agent, actor=agent, body="Done.")
    event = TicketEvent.objects.filter(verb="article_added").get()
    assert MailedEvent.objects.filter(event=event).exists()
    assert mail_for_event(event_id=event.pk) == "already handled"
    assert OutboundMessage.objects.filter(kind="reply").count() == 1


def test_status_news_the_requester_cares_about(django_capture_on_commit_callbacks) -> None:
    agent = make_agent()
    ticket = make_ticket(requester=make_requester(language="fr"))
    with django_capture_on_commit_callbacks(execute=True):
        ticket_set_status(ticket_id=ticket.pk, status=Status.WAITING_REQUESTER, actor=agent)
    waiting = sent()
    assert "En attente de votre réponse" in waiting["Subject"]
    assert waiting["Auto-Submitted"] == "auto-replied"
    with django_capture_on_commit_callbacks(execute=True):
        ticket_set_status(ticket_id=ticket.pk, status=Status.IN_PROGRESS, actor=agent)
        ticket_set_status(ticket_id=ticket.pk, status=Status.RESOLVED, actor=agent)
    resolved = sent()
    assert "Résolue" in resolved["Subject"]
    assert "répondez à ce message pour la rouvrir" in resolved.get_body(("plain",)).get_content()
    assert len(mail.outbox) == 2
    assert resolved["In-Reply-To"] == waiting["Message-ID"]


def test_automatic_mail_is_never_answered(deliver) -> None:
    deliver(message(Auto_Submitted="auto-generated"))
    deliver(message(Precedence="junk"))
    deliver(message(sender="MAILER-DAEMON@mx.example", subject="Undeliverable: hi"))
    assert OutboundMessage.objects.count() == 0


def test_acknowledgements_are_rate_limited_per_address(deliver, settings) -> None:
    settings.MAIL_AUTO_REPLY_LIMIT = 3
    for n in range(5):
        deliver(message(subject=f"request {n}"))
    statuses = list(OutboundMessage.objects.order_by("id").values_list("status", "last_error"))
    assert [s for s, _ in statuses].count(OutboundStatus.SENT) == 3
    assert [s for s, _ in statuses][3:] == [OutboundStatus.SUPPRESSED] * 2
    assert "rate limit" in statuses[-1][1]
    assert len(mail.outbox) == 3


def naive_autoresponder(outgoing: email.message.EmailMessage, n: int) -> bytes:
    """A desk that answers everything, with none of the headers that tell machines apart."""
    reply = EmailMessage()
    reply["From"] = "robot@other-desk.example"
    reply["To"] = outgoing["From"]
    reply["Subject"] = f"Thank you for your message ({n})"
    reply["Message-ID"] = email.utils.make_msgid(domain="other-desk.example")
    reply.set_content("We received your message and will answer soon.")
    return reply.as_bytes()


def test_a_loop_with_a_naive_autoresponder_stops_by_itself(deliver) -> None:
    deliver(naive_autoresponder(_from_desk(), 0))
    rounds = 0
    while rounds < 50:
        waiting = [m for m in mail.outbox[rounds:] if "robot@other-desk.example" in m.to]
        if not waiting:
            break
        rounds = len(mail.outbox)
        for outgoing in waiting:
            deliver(
                naive_autoresponder(
                    email.message_from_bytes(outgoing.message().as_bytes(), policy=policy.default),
                    rounds,
                )
            )
    assert rounds < 50
    assert len(mail.outbox) == 5  # the per-address hourly limit
    assert OutboundMessage.objects.filter(status=OutboundStatus.SUPPRESSED).count() == 1


def test_two_desks_answering_each_other_stop_at_once(deliver, settings) -> None:
    """The other desk is like us: our acknowledgement is automatic to it, and its to us."""
    deliver(message(sender="Other desk <desk@other.example>"))
    ours = sent()
    theirs = EmailMessage()
    theirs["From"] = "desk@other.example"
    theirs["To"] = settings.MAIL_FROM
    theirs["Subject"] = f"[#77] Received: {ours['Subject']}"
    theirs["Message-ID"] = email.utils.make_msgid(domain="other.example")
    theirs["In-Reply-To"] = ours["Message-ID"]
    theirs["Auto-Submitted"] = "auto-replied"
    theirs["X-Loop"] = "desk@other.example"
    theirs.set_content("We have received your request.")
    result = deliver(theirs.as_bytes())
    assert result.status == "appended"
    assert len(mail.outbox) == 1


def _from_desk() -> EmailMessage:
    start = EmailMessage()
    start["From"] = "helpdesk@example.com"
    return start


def test_watchers_added_on_the_page_get_replies_too(django_capture_on_commit_callbacks) -> None:
    agent = make_agent()
    ticket = make_ticket()
    watcher = make_requester(email="watch@corp.example")
    ticket_add_watcher(ticket_id=ticket.pk, watcher=watcher, actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        article_add(ticket_id=ticket.pk, author=agent, actor=agent, body="Fixed.")
    assert sent()["Cc"] == "watch@corp.example"
