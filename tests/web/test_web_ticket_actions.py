"""The agent's ticket page: each form reaches its service, with and without htmx."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from tests.factories import make_agent, make_lead, make_requester, make_ticket

from expediter.tickets.models import Article, Status, Ticket, TicketEvent, TicketLink, Worklog
from expediter.tickets.services import article_add, ticket_set_status
from expediter.tickets.services.catalogue import service_save

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _update_data(ticket: Ticket, **changes: Any) -> dict[str, Any]:
    """The properties form as the page sends it: every field, a few changed."""
    ticket.refresh_from_db()
    data = {
        "status": ticket.status,
        "impact": ticket.impact,
        "urgency": ticket.urgency,
        "priority": ticket.priority if ticket.priority_overridden else "",
        "assignee": ticket.assignee_id or "",
        "team": ticket.team.name if ticket.team else "",
        "service": ticket.service.name if ticket.service else "",
    }
    data.update(changes)
    return data


def test_reply_with_attachment_reaches_the_requester(signed_in) -> None:
    requester = make_requester()
    ticket = make_ticket(requester=requester)
    agent = signed_in(make_agent())
    response = agent.post(
        reverse("web:ticket_reply", args=[ticket.pk]),
        {
            "body": "Here is the fixed driver.",
            "attachments": SimpleUploadedFile("driver.zip", b"PK"),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:ticket", args=[ticket.pk])
    article = Article.objects.get(body="Here is the fixed driver.")
    assert article.internal is False
    assert [a.filename for a in article.attachments.all()] == ["driver.zip"]
    portal = signed_in(requester).get(reverse("web:portal_ticket", args=[ticket.pk]))
    assert "Here is the fixed driver." in portal.content.decode()
    assert "driver.zip" in portal.content.decode()


def test_reply_with_several_files_through_htmx_returns_the_panel(signed_in) -> None:
    ticket = make_ticket()
    agent = signed_in(make_agent())
    response = agent.post(
        reverse("web:ticket_reply", args=[ticket.pk]),
        {
            "body": "Two logs",
            "attachments": [
                SimpleUploadedFile("a.log", b"first"),
                SimpleUploadedFile("b.log", b"second"),
            ],
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="ticket-panel"' in html and "<html" not in html
    assert "a.log" in html and "b.log" in html
    assert 'hx-swap-oob="true"' in html  # the confirmation goes to the messages area


def test_internal_note_is_marked_and_shown_apart(signed_in) -> None:
    ticket = make_ticket()
    agent = signed_in(make_agent())
    agent.post(
        reverse("web:ticket_reply", args=[ticket.pk]),
        {"body": "Check the switch", "internal": "on"},
    )
    assert Article.objects.get(body="Check the switch").internal is True
    page = agent.get(reverse("web:ticket", args=[ticket.pk])).content.decode()
    assert "article-internal" in page


def test_empty_reply_is_refused_in_place(signed_in) -> None:
    ticket = make_ticket()
    response = signed_in(make_agent()).post(
        reverse("web:ticket_reply", args=[ticket.pk]), {"body": "  "}, headers=HTMX
    )
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#reply-form"
    assert "Write a message or attach a file." in response.content.decode()


def test_status_change_through_the_form_records_an_event(signed_in) -> None:
    ticket = make_ticket()
    agent = make_agent()
    response = signed_in(agent).post(
        reverse("web:ticket_update", args=[ticket.pk]),
        _update_data(ticket, status=Status.WAITING_THIRD_PARTY),
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_THIRD_PARTY
    event = TicketEvent.objects.filter(ticket=ticket, verb="status_changed").get()
    assert event.actor == agent
    assert event.changes == {"status": ["new", "waiting_third_party"]}
    page = signed_in(agent).get(reverse("web:ticket", args=[ticket.pk])).content.decode()
    assert "Waiting for third party" in page


def test_unchanged_fields_are_not_recorded_again(signed_in) -> None:
    ticket = make_ticket()
    before = TicketEvent.objects.filter(ticket=ticket).count()
    signed_in(make_agent()).post(
        reverse("web:ticket_update", args=[ticket.pk]), _update_data(ticket)
    )
    assert TicketEvent.objects.filter(ticket=ticket).count() == before


def test_assignee_priority_team_and_service_in_one_form(signed_in) -> None:
    service_save(name="Network", team="Network")
    ticket = make_ticket()
    lead = make_lead()
    colleague = make_agent(team="Network")
    signed_in(lead).post(
        reverse("web:ticket_update", args=[ticket.pk]),
        _update_data(ticket, impact=1, urgency=1, assignee=colleague.pk, service="Network"),
    )
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.assignee_id, ticket.status) == (1, colleague.pk, "assigned")
    assert ticket.service.name == "Network" and ticket.team.name == "Network"
    verbs = set(TicketEvent.objects.filter(ticket=ticket).values_list("verb", flat=True))
    assert {"priority_changed", "assigned", "service_changed", "team_changed"} <= verbs


def test_impossible_transition_is_a_form_error(signed_in) -> None:
    ticket = make_ticket()
    agent = make_agent()
    ticket_set_status(ticket_id=ticket.pk, status=Status.RESOLVED, actor=agent)
    response = signed_in(agent).post(
        reverse("web:ticket_update", args=[ticket.pk]),
        _update_data(ticket, status=Status.WAITING_REQUESTER),
        headers=HTMX,
    )
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#update-form"
    assert "cannot become" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_refused_form_without_javascript_renders_the_whole_page(signed_in) -> None:
    ticket = make_ticket()
    response = signed_in(make_agent()).post(
        reverse("web:ticket_worklog", args=[ticket.pk]), {"minutes": "0"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" in html and 'id="worklog-form"' in html


def test_link_by_number(signed_in) -> None:
    first, second = make_ticket(), make_ticket()
    agent = signed_in(make_agent())
    response = agent.post(
        reverse("web:ticket_link", args=[first.pk]), {"kind": "related", "number": second.number}
    )
    assert response.status_code == 302
    assert TicketLink.objects.filter(source=first, target=second, kind="related").exists()
    page = agent.get(reverse("web:ticket", args=[second.pk])).content.decode()
    assert f"#{first.number}" in page


def test_merge_moves_the_conversation_and_goes_to_the_survivor(signed_in) -> None:
    duplicate, survivor = make_ticket(subject="Dup"), make_ticket(subject="Keep")
    agent = signed_in(make_agent())
    response = agent.post(
        reverse("web:ticket_merge", args=[duplicate.pk]),
        {"number": survivor.number, "confirm": "on"},
        headers=HTMX,
    )
    assert response["HX-Redirect"] == reverse("web:ticket", args=[survivor.pk])
    duplicate.refresh_from_db()
    assert duplicate.status == Status.CLOSED and duplicate.merged_into_id == survivor.pk


def test_merge_needs_confirmation(signed_in) -> None:
    duplicate, survivor = make_ticket(), make_ticket()
    response = signed_in(make_agent()).post(
        reverse("web:ticket_merge", args=[duplicate.pk]), {"number": survivor.number}
    )
    assert response.status_code == 422
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id is None


def test_worklog_entry(signed_in) -> None:
    ticket = make_ticket()
    agent = make_agent()
    signed_in(agent).post(
        reverse("web:ticket_worklog", args=[ticket.pk]), {"minutes": "25", "note": "cabling"}
    )
    entry = Worklog.objects.get(ticket=ticket)
    assert (entry.agent_id, entry.minutes, entry.note) == (agent.pk, 25, "cabling")


def test_tags(signed_in) -> None:
    ticket = make_ticket()
    signed_in(make_agent()).post(
        reverse("web:ticket_tags", args=[ticket.pk]), {"tags": "vpn, Urgent ,"}
    )
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["urgent", "vpn"]


def test_timeline_shows_actor_change_and_reason(signed_in) -> None:
    ticket = make_ticket()
    agent = make_agent(name="Nadia Fontaine")
    ticket_set_status(
        ticket_id=ticket.pk, status=Status.IN_PROGRESS, actor=agent, reason="on it now"
    )
    page = signed_in(agent).get(reverse("web:ticket", args=[ticket.pk])).content.decode()
    assert "Nadia Fontaine" in page
    assert "<del>New</del> → <ins>In progress</ins>" in page
    assert "on it now" in page


def test_message_text_is_escaped_and_html_never_rendered(signed_in) -> None:
    requester = make_requester()
    ticket = make_ticket(requester=requester, description="<script>alert(1)</script>")
    article_add(
        ticket_id=ticket.pk,
        author=requester,
        actor=requester,
        body="plain words",
        html='<img src=x onerror="alert(2)">',
    )
    page = signed_in(make_agent()).get(reverse("web:ticket", args=[ticket.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "onerror" not in page
