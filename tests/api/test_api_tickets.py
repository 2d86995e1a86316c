"""The /api/v1 contract: tickets, articles, events, worklogs, errors, pagination."""

from __future__ import annotations

import pytest
from tests.factories import make_admin, make_agent, make_lead, make_requester, make_ticket

from expediter.tickets.services import NewAttachment, article_add
from expediter.tickets.services.catalogue import service_save

pytestmark = pytest.mark.django_db


def test_requests_without_a_valid_token_are_401(api) -> None:
    response = api(None).get("/tickets")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    client = api(None)
    client.headers["HTTP_AUTHORIZATION"] = "Bearer nope"
    assert client.get("/tickets").status_code == 401


def test_openapi_document_is_public(client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/tickets" in response.json()["paths"]


def test_create_read_and_shape(api) -> None:
    requester = make_requester(name="Zoé Martin")
    response = api(requester).post(
        "/tickets", {"subject": "VPN down", "description": "Since 9:00", "impact": 2, "urgency": 1}
    )
    assert response.status_code == 201
    ticket = response.json()
    assert ticket["priority"] == 1 and ticket["status"] == "new"
    assert ticket["requester"] == {
        "id": requester.pk,
        "name": "Zoé Martin",
        "email": requester.email,
    }
    assert ticket["assignee"] is None and ticket["sla"] is None
    assert isinstance(ticket["number"], int)
    assert ticket["created_at"][-6] in "+-"
    again = api(requester).get(f"/tickets/{ticket['id']}").json()
    assert again["subject"] == "VPN down"


def test_validation_errors_name_the_field(api) -> None:
    requester = make_requester()
    response = api(requester).post("/tickets", {"subject": "x", "impact": 9})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert "impact" in response.json()["detail"]
    response = api(requester).post("/tickets", {"description": "no subject"})
    assert response.status_code == 422 and "subject" in response.json()["detail"]
    response = api(requester).post("/tickets", {"subject": "x", "service": "Ghost"})
    assert response.status_code == 422 and response.json()["field"] == "service"


def test_agents_open_tickets_for_requesters_and_requesters_cannot(api) -> None:
    agent = make_agent()
    response = api(agent).post(
        "/tickets",
        {"subject": "Phone call", "requester_email": "new.person@corp.example", "channel": "phone"},
    )
    assert response.status_code == 201
    assert response.json()["requester"]["email"] == "new.person@corp.example"
    assert response.json()["channel"] == "phone"
    requester = make_requester()
    response = api(requester).post(
        "/tickets", {"subject": "x", "requester_email": "someone@else.example"}
    )
    assert response.status_code == 403


def test_patch_status_assignee_and_conflicts(api) -> None:
    agent = make_agent()
    ticket = make_ticket()
    client = api(agent)
    body = client.patch(f"/tickets/{ticket.pk}", {"assignee_id": agent.pk}).json()
    assert body["status"] == "assigned" and body["assignee"]["id"] == agent.pk
    body = client.patch(f"/tickets/{ticket.pk}", {"assignee_id": None}).json()
    assert body["status"] == "new" and body["assignee"] is None
    response = client.patch(f"/tickets/{ticket.pk}", {"status": "assigned"})
    assert response.status_code == 409
    client.patch(f"/tickets/{ticket.pk}", {"status": "resolved"})
    client.patch(f"/tickets/{ticket.pk}", {"status": "closed"})
    response = client.patch(f"/tickets/{ticket.pk}", {"status": "in_progress"})
    assert response.status_code == 409
    assert response.json()["status"] == 409


def test_priority_override_and_team_service(api) -> None:
    service_save(name="Email", team="Messaging")
    lead = make_lead()
    ticket = make_ticket()
    client = api(lead)
    assert client.patch(f"/tickets/{ticket.pk}", {"priority": 1}).json()["priority"] == 1
    body = client.patch(f"/tickets/{ticket.pk}", {"urgency": 4}).json()
    assert body["priority"] == 4
    body = client.patch(f"/tickets/{ticket.pk}", {"service": "Email"}).json()
    assert (body["service"], body["team"]) == ("Email", "Messaging")
    assert client.patch(f"/tickets/{ticket.pk}", {"team": "Nowhere"}).status_code == 422


def test_requesters_may_only_reply(api) -> None:
    requester = make_requester()
    ticket = make_ticket(requester)
    client = api(requester)
    assert client.patch(f"/tickets/{ticket.pk}", {"status": "resolved"}).status_code == 403
    assert (
        client.post(f"/tickets/{ticket.pk}/articles", {"body": "hi", "internal": True}).status_code
        == 403
    )
    assert client.post(f"/tickets/{ticket.pk}/worklogs", {"minutes": 5}).status_code == 403
    response = client.post(f"/tickets/{ticket.pk}/articles", {"body": "more info"})
    assert response.status_code == 201
    assert response.json()["from"]["email"] == requester.email


def test_other_peoples_tickets_are_404_everywhere(api) -> None:
    owner, stranger = make_requester(), make_requester()
    agent = make_agent()
    ticket = make_ticket(owner)
    article = article_add(
        ticket_id=ticket.pk,
        author=agent,
        actor=agent,
        body="file",
        attachments=[NewAttachment(filename="log.txt", data=b"secret log")],
    )
    attachment = article.attachments.get()
    client = api(stranger)
    for path in (
        f"/tickets/{ticket.pk}",
        f"/tickets/{ticket.pk}/articles",
        f"/tickets/{ticket.pk}/events",
        f"/attachments/{attachment.pk}",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/problem+json"
    assert client.patch(f"/tickets/{ticket.pk}", {"status": "resolved"}).status_code == 404
    assert client.post(f"/tickets/{ticket.pk}/articles", {"body": "x"}).status_code == 404
    assert client.get("/tickets").json()["items"] == []
    assert client.get("/tickets", q="file").json()["items"] == []


def test_agents_see_their_teams_and_triage_but_not_other_teams(api) -> None:
    network = make_agent(team="Network")
    workplace = make_agent(team="Workplace")
    triage = make_ticket()
    theirs = make_ticket()
    api(workplace).patch(f"/tickets/{theirs.pk}", {"assignee_id": workplace.pk})
    assert api(network).get(f"/tickets/{triage.pk}").status_code == 200
    assert api(network).get(f"/tickets/{theirs.pk}").status_code == 404
    assert api(make_admin()).get(f"/tickets/{theirs.pk}").status_code == 200


def test_attachment_download_for_the_requester(api) -> None:
    requester = make_requester()
    agent = make_agent()
    ticket = make_ticket(requester)
    article_add(
        ticket_id=ticket.pk,
        author=agent,
        actor=agent,
        body="see file",
        attachments=[NewAttachment(filename="fix.html", data=b"<script>alert(1)</script>")],
    )
    articles = api(requester).get(f"/tickets/{ticket.pk}/articles").json()["items"]
    attachment = articles[-1]["attachments"][0]
    assert attachment["url"].startswith("http://desk.test/api/v1/attachments/")
    response = api(requester).get(f"/attachments/{attachment['id']}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_cursor_pagination_walks_every_ticket_once(api) -> None:
    agent = make_lead()
    created = {make_ticket().pk for _ in range(7)}
    seen: list[int] = []
    cursor = None
    while True:
        query = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = api(agent).get("/tickets", **query).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(created, reverse=True)
    assert api(agent).get("/tickets", limit=500).status_code == 422
    assert api(agent).get("/tickets", cursor="garbage").status_code == 422


def test_filters_and_full_text_search(api) -> None:
    lead = make_lead()
    printer = make_ticket(subject="Printer jam on floor 2")
    make_ticket(subject="Laptop battery", description="swollen battery")
    article_add(ticket_id=printer.pk, author=lead, actor=lead, body="Replaced the fuser unit")
    client = api(lead)
    assert [t["id"] for t in client.get("/tickets", q="fuser").json()["items"]] == [printer.pk]
    assert [t["id"] for t in client.get("/tickets", q="print").json()["items"]] == [printer.pk]
    assert len(client.get("/tickets", q="battery").json()["items"]) == 1
    assert client.get("/tickets", q='"; DROP TABLE').status_code == 200
    assert len(client.get("/tickets", status="new").json()["items"]) == 2


def test_events_and_worklogs(api) -> None:
    agent = make_agent()
    ticket = make_ticket()
    client = api(agent)
    client.patch(f"/tickets/{ticket.pk}", {"assignee_id": agent.pk, "status": "in_progress"})
    assert (
        client.post(
            f"/tickets/{ticket.pk}/worklogs", {"minutes": 30, "note": "cabling"}
        ).status_code
        == 201
    )
    events = client.get(f"/tickets/{ticket.pk}/events").json()["items"]
    assert [e["verb"] for e in events] == [
        "created",
        "team_changed",
        "assigned",
        "status_changed",
        "worklog_added",
    ]
    assigned = events[2]
    assert assigned["actor"] == {"id": agent.pk, "name": agent.name}
    assert assigned["changes"]["assignee"] == [None, {"id": agent.pk, "name": agent.name}]
    logs = client.get("/worklogs", agent=agent.pk, **{"from": "2000-01-01"}).json()["items"]
    assert [(w["minutes"], w["agent"]["id"], w["ticket"]) for w in logs] == [
        (30, agent.pk, ticket.pk)
    ]
    assert client.get("/worklogs", **{"from": "2999-01-01"}).json()["items"] == []
    assert client.get("/worklogs", to="not-a-date").status_code == 422


def test_a_listed_ticket_shows_the_same_as_the_ticket_itself_in_the_same_queries(
    api, django_assert_max_num_queries
) -> None:
    service_save(name="Network", team="Service Desk")
    lead, agent = make_lead(), make_agent()
    tickets = [make_ticket(service="Network", subject=f"Link {i}") for i in range(6)]
    client = api(lead)
    client.patch(f"/tickets/{tickets[0].pk}", {"assignee_id": agent.pk})
    one = client.get(f"/tickets/{tickets[0].pk}").json()
    with django_assert_max_num_queries(5):  # token, teams, page, clocks: not one per row
        listed = client.get("/tickets").json()["items"]
    assert next(item for item in listed if item["id"] == one["id"]) == one
    assert len(listed) == 6
