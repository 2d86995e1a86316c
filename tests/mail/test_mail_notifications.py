"""Agents hear about what concerns them, by email and in the app, as they chose."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage

import pytest
from django.test import Client
from tests.factories import make_agent, make_lead, make_requester, make_ticket

from expediter.mail.models import Notification, OutboundMessage
from expediter.mail.notify import notification_set_preference
from expediter.mail.services import mail_receive
from expediter.tickets.services import article_add, ticket_assign

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def notifications(user, kind: str) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=kind))


def mails(user, kind: str) -> int:
    return OutboundMessage.objects.filter(kind=f"notify_{kind}", to=[user.email]).count()


def test_an_agent_assigned_by_hand_is_notified_in_the_app_and_by_email(committed) -> None:
    lead = make_lead()
    agent = make_agent(language="fr")
    ticket = make_ticket()
    with committed():
        ticket_assign(ticket_id=ticket.pk, assignee=agent, actor=lead)
    [note] = notifications(agent, "assigned")
    assert note.ticket_id == ticket.pk and f"n°{ticket.number}" in note.text
    assert lead.name in note.text
    assert mails(agent, "assigned") == 1


def test_assigning_oneself_notifies_nobody(committed) -> None:
    agent = make_agent()
    ticket = make_ticket()
    with committed():
        ticket_assign(ticket_id=ticket.pk, assignee=agent, actor=agent)
    assert notifications(agent, "assigned") == []


def test_the_assignee_hears_when_the_requester_replies_by_mail(committed) -> None:
    agent = make_agent()
    requester = make_requester(email="zoe@corp.example")
    ticket = make_ticket(requester=requester)
    ticket_assign(ticket_id=ticket.pk, assignee=agent, actor=agent)
    reply = EmailMessage()
    reply["From"] = "zoe@corp.example"
    reply["Subject"] = f"Re: [#{ticket.number}]"
    reply["Message-ID"] = email.utils.make_msgid()
    reply.set_content("It works again.")
    with committed():
        mail_receive(raw=reply.as_bytes(), source="pipe")
    [note] = notifications(agent, "requester_replied")
    assert requester.name in note.text


def test_mentions_in_a_note_notify_by_name_or_address(committed) -> None:
    author = make_agent(name="Ann Author")
    bob = make_agent(name="Bob Builder")
    carol = make_agent(email="carol@desk.example")
    dave = make_agent(name="Dave")
    ticket = make_ticket()
    body = "@Bob Builder and @carol@desk.example, please look. (@Davey is someone else)"
    with committed():
        article_add(ticket_id=ticket.pk, author=author, actor=author, body=body, internal=True)
    assert len(notifications(bob, "mentioned")) == 1
    assert len(notifications(carol, "mentioned")) == 1
    assert notifications(dave, "mentioned") == []
    assert "Ann Author" in notifications(bob, "mentioned")[0].text


def test_a_mention_in_a_public_reply_is_not_a_notification(committed) -> None:
    author = make_agent()
    bob = make_agent(name="Bob")
    ticket = make_ticket()
    with committed():
        article_add(ticket_id=ticket.pk, author=author, actor=author, body="cc @Bob")
    assert notifications(bob, "mentioned") == []


def test_each_kind_can_be_turned_off_per_channel(committed) -> None:
    lead = make_lead()
    agent = make_agent()
    notification_set_preference(user=agent, kind="assigned", email=False, in_app=True)
    notification_set_preference(user=agent, kind="mentioned", email=True, in_app=False)
    ticket = make_ticket()
    with committed():
        ticket_assign(ticket_id=ticket.pk, assignee=agent, actor=lead)
        article_add(
            ticket_id=ticket.pk, author=lead, actor=lead, body=f"@{agent.email}", internal=True
        )
    assert len(notifications(agent, "assigned")) == 1 and mails(agent, "assigned") == 0
    assert notifications(agent, "mentioned") == [] and mails(agent, "mentioned") == 1


def test_preferences_page_and_notification_list() -> None:
    agent = make_agent()
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(agent)
    page = client.get("/notifications/preferences")
    assert page.status_code == 200 and b"A ticket is assigned to me" in page.content
    saved = client.post(
        "/notifications/preferences",
        {"email_assigned": "", "app_assigned": "on", "email_mentioned": "on"},
    )
    assert saved.status_code == 302
    rows = {p.kind: (p.email, p.in_app) for p in agent.notification_preferences.all()}
    assert rows["assigned"] == (False, True) and rows["mentioned"] == (True, False)
    Notification.objects.create(
        user=agent, kind="assigned", text="Look at #9", created_at="2026-06-01T09:00Z"
    )
    listing = client.get("/notifications")
    assert b"Look at #9" in listing.content
    client.post("/notifications/read")
    assert Notification.objects.get(user=agent).read_at is not None
