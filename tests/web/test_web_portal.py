"""The requester's portal: submitting, following and answering a request."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from tests.factories import make_agent, make_requester, make_ticket

from expediter.tickets.models import Article, Status, Ticket, TicketLink
from expediter.tickets.services import article_add, ticket_set_status
from expediter.tickets.services.catalogue import service_save

pytestmark = pytest.mark.django_db


def test_submitting_a_request_with_an_attachment(signed_in) -> None:
    service_save(name="Printing", team="Service Desk")
    requester = make_requester()
    response = signed_in(requester).post(
        reverse("web:portal_new"),
        {
            "service": "Printing",
            "impact": "2",
            "urgency": "1",
            "subject": "Printer on fire",
            "description": "Smoke from tray 2.",
            "attachments": SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff"),
        },
    )
    ticket = Ticket.objects.get(subject="Printer on fire")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:portal_ticket", args=[ticket.pk])
    assert ticket.requester == requester
    assert (ticket.impact, ticket.urgency, ticket.priority) == (2, 1, 1)
    assert ticket.service.name == "Printing" and ticket.team.name == "Service Desk"
    assert ticket.channel == "web"
    first = ticket.articles.get()
    assert [a.filename for a in first.attachments.all()] == ["photo.jpg"]


def test_an_incomplete_request_is_refused_in_place_with_htmx(signed_in) -> None:
    response = signed_in(make_requester()).post(
        reverse("web:portal_new"),
        {"impact": "3", "urgency": "3", "subject": "", "description": ""},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#request-form"
    assert "<html" not in response.content.decode()
    assert not Ticket.objects.exists()


def test_htmx_submission_navigates_to_the_new_request(signed_in) -> None:
    response = signed_in(make_requester()).post(
        reverse("web:portal_new"),
        {"impact": "3", "urgency": "3", "subject": "Mouse", "description": "Broken"},
        headers={"HX-Request": "true"},
    )
    ticket = Ticket.objects.get(subject="Mouse")
    assert response["HX-Redirect"] == reverse("web:portal_ticket", args=[ticket.pk])


def test_my_requests_lists_mine_only_with_their_status(signed_in) -> None:
    requester = make_requester()
    mine = make_ticket(requester=requester, subject="My laptop")
    make_ticket(subject="Someone else's phone")
    ticket_set_status(ticket_id=mine.pk, status=Status.RESOLVED, actor=make_agent())
    page = signed_in(requester).get(reverse("web:portal")).content.decode()
    assert "My laptop" in page and "Resolved" in page
    assert "Someone else" not in page


def test_reply_reopens_a_waiting_request(signed_in) -> None:
    requester = make_requester()
    ticket = make_ticket(requester=requester)
    ticket_set_status(ticket_id=ticket.pk, status=Status.WAITING_REQUESTER, actor=make_agent())
    response = signed_in(requester).post(
        reverse("web:portal_reply", args=[ticket.pk]),
        {"body": "Here is the screenshot", "attachments": SimpleUploadedFile("s.png", b"png")},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Here is the screenshot" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert Article.objects.get(body="Here is the screenshot").internal is False


def test_reply_to_a_closed_request_opens_a_linked_one(signed_in) -> None:
    requester = make_requester()
    agent = make_agent()
    ticket = make_ticket(requester=requester)
    ticket_set_status(ticket_id=ticket.pk, status=Status.RESOLVED, actor=agent)
    ticket_set_status(ticket_id=ticket.pk, status=Status.CLOSED, actor=agent)
    response = signed_in(requester).post(
        reverse("web:portal_reply", args=[ticket.pk]), {"body": "It broke again"}
    )
    follow_up = Ticket.objects.exclude(pk=ticket.pk).get()
    assert response["Location"] == reverse("web:portal_ticket", args=[follow_up.pk])
    assert TicketLink.objects.filter(source=follow_up, target=ticket).exists()


def test_the_requester_sees_public_answers(signed_in) -> None:
    requester = make_requester()
    ticket = make_ticket(requester=requester)
    agent = make_agent()
    article_add(ticket_id=ticket.pk, author=agent, actor=agent, body="Try restarting it.")
    page = signed_in(requester).get(reverse("web:portal_ticket", args=[ticket.pk]))
    assert "Try restarting it." in page.content.decode()
