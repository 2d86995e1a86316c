"""Object-level access: a ticket someone may not see looks exactly like a missing one."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from tests.factories import make_agent, make_requester, make_ticket

from expediter.tickets.models import Article, Attachment
from expediter.tickets.services import NewAttachment, article_add
from expediter.tickets.services.catalogue import service_save

pytestmark = pytest.mark.django_db


def _ticket_with_file(requester=None, **kwargs):
    return make_ticket(
        requester=requester,
        attachments=[NewAttachment(filename="invoice.pdf", data=b"%PDF-1.4 secret")],
        **kwargs,
    )


def test_requester_cannot_open_reply_to_or_download_from_someone_elses_ticket(signed_in) -> None:
    ticket = _ticket_with_file()
    attachment = Attachment.objects.get(article__ticket=ticket)
    stranger = signed_in(make_requester())

    assert stranger.get(reverse("web:portal_ticket", args=[ticket.pk])).status_code == 404
    reply = stranger.post(reverse("web:portal_reply", args=[ticket.pk]), {"body": "let me in"})
    assert reply.status_code == 404
    assert stranger.get(reverse("web:attachment", args=[attachment.pk])).status_code == 404
    assert not Article.objects.filter(body="let me in").exists()


def test_a_hidden_ticket_and_a_missing_one_answer_the_same(signed_in) -> None:
    hidden = make_ticket()
    client = signed_in(make_requester())
    hidden_page = client.get(reverse("web:portal_ticket", args=[hidden.pk]))
    missing_page = client.get(reverse("web:portal_ticket", args=[hidden.pk + 1000]))
    assert hidden_page.status_code == missing_page.status_code == 404
    assert hidden.subject not in hidden_page.content.decode()


def test_owner_downloads_their_attachment_as_a_download(signed_in) -> None:
    requester = make_requester()
    ticket = _ticket_with_file(requester=requester)
    attachment = Attachment.objects.get(article__ticket=ticket)
    response = signed_in(requester).get(reverse("web:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 secret"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_agent_cannot_see_another_teams_ticket(signed_in) -> None:
    service_save(name="Payroll", team="Finance")
    other_team = make_ticket(service="Payroll", subject="Salary slip missing")
    agent = signed_in(make_agent(team="Network"))

    assert agent.get(reverse("web:ticket", args=[other_team.pk])).status_code == 404
    for queue in ("open", "unassigned", "team"):
        listing = agent.get(reverse("web:queue", args=[queue]), {"q": "salary"})
        assert "Salary slip missing" not in listing.content.decode()
    note = agent.post(
        reverse("web:ticket_reply", args=[other_team.pk]), {"body": "peek", "internal": "on"}
    )
    assert note.status_code == 404
    assert not Article.objects.filter(body="peek").exists()


def test_agent_cannot_link_to_a_ticket_they_cannot_see(signed_in) -> None:
    service_save(name="Payroll", team="Finance")
    hidden = make_ticket(service="Payroll")
    mine = make_ticket()  # no team yet: the triage queue every agent sees
    agent = signed_in(make_agent(team="Network"))
    response = agent.post(
        reverse("web:ticket_link", args=[mine.pk]), {"kind": "related", "number": hidden.number}
    )
    assert response.status_code == 422
    assert f"No ticket #{hidden.number}." in response.content.decode()


def test_requesters_never_see_internal_notes_or_their_files(signed_in) -> None:
    requester = make_requester()
    ticket = make_ticket(requester=requester)
    agent = make_agent()
    note = article_add(
        ticket_id=ticket.pk,
        author=agent,
        actor=agent,
        body="Between us: the user broke it",
        internal=True,
        attachments=[NewAttachment(filename="notes.txt", data=b"private")],
    )
    client = signed_in(requester)
    page = client.get(reverse("web:portal_ticket", args=[ticket.pk])).content.decode()
    assert "Between us" not in page
    assert "notes.txt" not in page
    attachment = note.attachments.get()
    assert client.get(reverse("web:attachment", args=[attachment.pk])).status_code == 404


def test_requester_upload_cannot_mark_a_reply_internal(signed_in) -> None:
    requester = make_requester()
    ticket = make_ticket(requester=requester)
    client = signed_in(requester)
    client.post(
        reverse("web:portal_reply", args=[ticket.pk]),
        {
            "body": "my reply",
            "internal": "on",
            "attachments": SimpleUploadedFile("a.txt", b"x"),
        },
    )
    assert Article.objects.get(body="my reply").internal is False
