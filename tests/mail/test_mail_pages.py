"""Administrators' mail pages and API: quarantine, ignored mail, outbox."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.template import Context, Template
from django.test import Client
from tests.factories import make_admin, make_agent

from expediter.mail import outbox
from expediter.mail.models import InboundMessage, InboundStatus, OutboundMessage, OutboundStatus
from expediter.mail.selectors import reply_splits
from expediter.mail.services import mail_receive
from expediter.tickets.models import Ticket

pytestmark = pytest.mark.django_db

SPAM = (
    b"From: news@shop.example\nTo: helpdesk@example.com\nSubject: Big sale\n"
    b"Message-ID: <sale@shop.example>\nPrecedence: bulk\n\nBuy now\n"
)
BROKEN = b"\x00" * 50 + b"not mail at all"


def signed_in(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def test_quarantine_page_lists_releases_and_deletes(settings) -> None:
    settings.MAIL_MAX_BYTES = 100
    big = mail_receive(raw=SPAM.replace(b"Precedence: bulk\n", b"") + b"x" * 200, source="pipe")
    broken = mail_receive(raw=BROKEN, source="pipe")
    client = signed_in(make_admin())
    page = client.get("/mail/quarantine")
    assert page.status_code == 200
    assert b"larger than the 100-byte limit" in page.content and b"binary data" in page.content
    raw = client.get(f"/mail/inbound/{broken.inbound}/raw")
    assert raw["Content-Disposition"].startswith("attachment") and raw.content == BROKEN
    client.post(f"/mail/inbound/{big.inbound}/release", {"back": "/mail/quarantine"})
    assert InboundMessage.objects.get(pk=big.inbound).status == InboundStatus.CREATED
    client.post(f"/mail/inbound/{broken.inbound}/delete")
    assert not InboundMessage.objects.filter(pk=broken.inbound).exists()


def test_ignored_page_and_release_as_a_ticket() -> None:
    spam = mail_receive(raw=SPAM, source="pipe")
    client = signed_in(make_admin())
    page = client.get("/mail/ignored")
    assert b"Big sale" in page.content and b"bulk or list mail" in page.content
    client.post(f"/mail/inbound/{spam.inbound}/release", {"back": "/mail/ignored"})
    assert Ticket.objects.filter(subject="Big sale").exists()


def test_mail_pages_are_for_administrators_only() -> None:
    client = signed_in(make_agent())
    for path in ("/mail/quarantine", "/mail/ignored", "/mail/outbox"):
        assert client.get(path).status_code == 403
    assert Client().get("/mail/quarantine").status_code == 302


def test_outbox_page_shows_failures_and_sends_again(settings, at) -> None:
    at(dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC))
    with transaction.atomic():
        message = outbox.outbox_enqueue(kind="reply", to=["a@corp.example"], subject="Hi", text="x")
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=OutboundStatus.FAILED, last_error="SMTPRecipientsRefused"
    )
    client = signed_in(make_admin())
    page = client.get("/mail/outbox")
    assert b"SMTPRecipientsRefused" in page.content
    client.post(f"/mail/outbox/{message.pk}/retry")
    assert OutboundMessage.objects.get(pk=message.pk).status in ("queued", "sent")


def test_the_api_lists_releases_and_deletes(api) -> None:
    admin = make_admin()
    spam = mail_receive(raw=SPAM, source="pipe")
    broken = mail_receive(raw=BROKEN, source="pipe")
    listed = api(admin).get("/mail/inbound", status="ignored").json()
    assert [item["id"] for item in listed["items"]] == [spam.inbound]
    assert listed["items"][0]["reason"].startswith("bulk")
    assert api(admin).get("/mail/inbound").json()["items"][0]["id"] == broken.inbound
    assert api(make_agent()).get("/mail/inbound").status_code == 403
    released = api(admin).post(f"/mail/inbound/{spam.inbound}/release", {})
    assert released.status_code == 200 and released.json()["status"] == "created"
    deleted = api(admin).client.delete(
        f"/api/v1/mail/inbound/{broken.inbound}", **api(admin).headers
    )
    assert deleted.status_code == 204
    assert api(admin).get(f"/mail/inbound/{broken.inbound}").status_code == 404
    assert api(admin).get("/mail/outbox").json()["items"] == []  # released bulk: no reply
    personal = SPAM.replace(b"Precedence: bulk\n", b"").replace(b"<sale@", b"<hello@")
    mail_receive(raw=personal, source="pipe")
    [ack] = api(admin).get("/mail/outbox").json()["items"]
    assert ack["kind"] == "ack" and ack["to"] == ["news@shop.example"] and ack["auto"]


def test_the_api_lists_my_notifications(api) -> None:
    agent = make_agent()
    agent.notifications.create(
        kind="assigned", text="#1 is yours", created_at=dt.datetime.now(dt.UTC)
    )
    mine = api(agent).get("/notifications").json()
    assert [n["text"] for n in mine["items"]] == ["#1 is yours"]
    assert api(agent).post("/notifications/read", {}).json() == {"marked": 1}


def test_the_ticket_page_partials_collapse_quotes_and_show_mail_trouble() -> None:
    body = "Works now.\n\nOn Mon, 1 Jun 2026, Desk <helpdesk@example.com> wrote:\n> Try again\n"
    raw = (
        b"From: zoe@corp.example\nTo: helpdesk@example.com\nSubject: Thanks\n"
        b"Message-ID: <q1@corp.example>\n\n" + body.encode()
    )
    result = mail_receive(raw=raw, source="pipe")
    ticket = Ticket.objects.get(pk=result.ticket)
    article = ticket.articles.get()
    OutboundMessage.objects.filter(ticket=ticket).update(
        status=OutboundStatus.SUPPRESSED, last_error="mail to zoe@corp.example bounced"
    )
    page = Template(
        "{% load mail_display %}{% collapsed_body article %}{% mail_trouble ticket %}"
    ).render(Context({"article": article, "ticket": ticket}))
    assert "<details" in page and "Works now." in page and "&gt; Try again" in page
    assert "bounced" in page
    splits = reply_splits(articles=[article])
    assert splits[article.pk].new_text == "Works now."
