"""The outbox: stored first, sent by the worker, retried with back-off, never lost."""

from __future__ import annotations

import datetime as dt
import email
from email import policy

import pytest
from django.core import mail
from django.db import transaction
from tests.factories import make_ticket

from expediter.mail import outbox
from expediter.mail.models import OutboundMessage, OutboundStatus

pytestmark = pytest.mark.django_db


def enqueue(**kwargs):
    defaults = dict(kind="reply", to=["zoe@corp.example"], subject="Re: VPN", text="Hello")
    with transaction.atomic():
        return outbox.outbox_enqueue(**(defaults | kwargs))


def test_threading_and_loop_headers(settings) -> None:
    ticket = make_ticket()
    message = enqueue(
        ticket=ticket,
        subject="Your request\r\nBcc: evil@x.example",
        auto=True,
        in_reply_to="<abc@corp.example>",
        references=["<abc@corp.example>"],
    )
    assert outbox.outbox_send(message_pk=message.pk) == "sent"
    sent = email.message_from_bytes(mail.outbox[-1].message().as_bytes(), policy=policy.default)
    assert sent["Subject"] == f"[#{ticket.number}] Your request Bcc: evil@x.example"
    assert sent["Bcc"] is None
    assert sent["Message-ID"] == message.message_id
    assert sent["In-Reply-To"] == "<abc@corp.example>"
    assert sent["X-Loop"] == settings.MAIL_FROM
    assert sent["Auto-Submitted"] == "auto-replied"


def test_a_failed_send_is_retried_with_backoff_then_kept_as_failed(settings, at) -> None:
    settings.EMAIL_BACKEND = "expediter.core.mailbackend.SmtpUrlBackend"
    settings.SMTP_URL = "smtp://127.0.0.1:9"  # nothing listens on the discard port
    now = at(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    message = enqueue()
    assert outbox.outbox_send(message_pk=message.pk) == OutboundStatus.RETRYING
    message.refresh_from_db()
    assert message.attempts == 1 and message.next_attempt_at == now + dt.timedelta(minutes=1)
    assert "Error" in message.last_error
    assert outbox.outbox_send(message_pk=message.pk) == "not due"
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        now = at(now + dt.timedelta(hours=5))
        outbox.outbox_send(message_pk=message.pk)
    message.refresh_from_db()
    assert message.status == OutboundStatus.FAILED and message.attempts == outbox.MAX_ATTEMPTS
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    outbox.outbox_retry(message_pk=message.pk)
    assert outbox.outbox_send(message_pk=message.pk) == "sent"


def test_without_a_relay_messages_are_held_not_lost(settings) -> None:
    settings.EMAIL_BACKEND = "expediter.core.mailbackend.SmtpUrlBackend"
    settings.SMTP_URL = ""
    message = enqueue()
    assert outbox.outbox_send(message_pk=message.pk) == "held"
    assert OutboundMessage.objects.get(pk=message.pk).status == OutboundStatus.HELD
    assert outbox.outbox_release_held() == 1


def test_only_one_sender_wins_a_message() -> None:
    message = enqueue()
    assert outbox.outbox_send(message_pk=message.pk) == "sent"
    assert outbox.outbox_send(message_pk=message.pk) == "not due"
    assert len(mail.outbox) == 1


def test_notifications_respect_preferences() -> None:
    from tests.factories import make_agent

    from expediter.mail.models import Notification
    from expediter.mail.notify import notification_set_preference, notify_user

    agent = make_agent()
    ticket = make_ticket()
    with transaction.atomic():
        notify_user(user=agent, ticket=ticket, kind="assigned", text="Assigned to you")
    assert Notification.objects.filter(user=agent).count() == 1
    assert OutboundMessage.objects.filter(to=[agent.email]).count() == 1
    notification_set_preference(user=agent, kind="assigned", email=False, in_app=True)
    with transaction.atomic():
        notify_user(user=agent, ticket=ticket, kind="assigned", text="Again")
    assert Notification.objects.filter(user=agent).count() == 2
    assert OutboundMessage.objects.filter(to=[agent.email]).count() == 1
