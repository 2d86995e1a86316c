"""The API: the ticket's ``sla`` object, calendars and policies, the report and its CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.factories import make_admin, make_agent, make_lead, make_requester, make_ticket

from expediter.staff.services import team_get_or_create

pytestmark = pytest.mark.django_db


def delete(client: Any, path: str) -> Any:
    """The shared API client speaks get/post/patch; DELETE goes through its test client."""
    return client.client.delete("/api/v1" + path, **client.headers)


CONTRACT_FIELDS = {
    "policy",
    "first_response_due",
    "resolution_due",
    "paused",
    "first_response_breached",
    "resolution_breached",
}


def test_the_ticket_carries_its_clocks_in_the_writes_answer_and_the_next_read(
    api, per_priority, monday
) -> None:
    requester, agent = make_requester(), make_agent()
    created = api(requester).post("/tickets", {"subject": "VPN down", "impact": 2, "urgency": 1})
    sla = created.json()["sla"]
    assert set(sla) >= CONTRACT_FIELDS
    assert sla["policy"] == "P1" and sla["paused"] is False
    assert sla["first_response_due"] == "2026-03-02T10:30:00+01:00"
    assert sla["resolution_due"] == "2026-03-02T14:00:00+01:00"
    assert sla["first_response_breached"] is sla["resolution_breached"] is False
    assert sla["first_response_remaining_seconds"] == 30 * 60
    ticket_id = created.json()["id"]
    monday(60)
    waiting = api(agent).patch(f"/tickets/{ticket_id}", {"status": "waiting_requester"})
    sla = waiting.json()["sla"]
    assert sla["paused"] is True and sla["resolution_due"] is None
    assert sla["resolution_remaining_seconds"] == 180 * 60
    assert sla["first_response_breached"] is True  # 30 minutes passed without an answer
    monday(90)
    resumed = api(agent).get(f"/tickets/{ticket_id}").json()["sla"]
    assert resumed["paused"] is True
    back = api(agent).patch(f"/tickets/{ticket_id}", {"status": "in_progress"}).json()["sla"]
    assert back["resolution_due"] == "2026-03-02T14:30:00+01:00"


def test_the_creation_s_answer_shows_the_clocks_without_reading_them_back(
    api, per_priority, monday
) -> None:
    requester = make_requester()
    with CaptureQueriesContext(connection) as queries:
        created = api(requester).post("/tickets", {"subject": "VPN down", "impact": 2})
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in reads if "sla_slaclock" in sql]
    read_back = api(requester).get(f"/tickets/{created.json()['id']}").json()["sla"]
    assert created.json()["sla"] == read_back and read_back["policy"] == "P3"


def test_a_priority_change_re_targets_in_the_answer(api, per_priority, monday) -> None:
    agent = make_agent()
    ticket = make_ticket()
    monday(10)
    answer = api(agent).patch(f"/tickets/{ticket.pk}", {"priority": 2}).json()["sla"]
    assert answer["policy"] == "P2"
    assert answer["first_response_due"] == "2026-03-02T12:00:00+01:00"


def test_no_policy_means_a_null_sla(api, monday) -> None:
    requester = make_requester()
    assert api(requester).post("/tickets", {"subject": "x"}).json()["sla"] is None


def test_a_page_of_tickets_gets_its_clocks_in_one_query(api, per_priority, monday) -> None:
    lead = make_lead()
    client = api(lead)
    make_ticket()
    client.get("/tickets")  # the first call of a token also records its use
    with CaptureQueriesContext(connection) as few:
        assert client.get("/tickets").status_code == 200
    for _ in range(6):
        make_ticket()
    with CaptureQueriesContext(connection) as many:
        page = client.get("/tickets").json()
    assert len(many.captured_queries) == len(few.captured_queries)
    assert all(item["sla"]["policy"] == "P3" for item in page["items"])


def test_only_admins_change_calendars_and_policies(api, monday) -> None:
    body = {"name": "Paris", "time_zone": "Europe/Paris", "hours": "mon-fri 09:00-17:00"}
    assert api(make_agent()).post("/sla/calendars", body).status_code == 403
    assert api(make_requester()).get("/sla/calendars").status_code == 403
    assert api(make_lead()).post("/sla/calendars", body).status_code == 403
    assert api(make_admin()).post("/sla/calendars", body).status_code == 201
    assert api(make_agent()).get("/sla/calendars").json()["items"][0]["name"] == "Paris"


def test_calendars_crud_with_field_errors(api, monday) -> None:
    client = api(make_admin())
    team_get_or_create(name="Night Ops")
    bad = client.post(
        "/sla/calendars", {"name": "X", "time_zone": "Nowhere/Land", "hours": "mon 09:00-10:00"}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "time_zone"
    inverted = client.post(
        "/sla/calendars", {"name": "X", "time_zone": "UTC", "hours": "mon 10:00-09:00"}
    )
    assert inverted.status_code == 422 and inverted.json()["field"] == "hours"
    created = client.post(
        "/sla/calendars",
        {
            "name": "Night",
            "time_zone": "UTC",
            "hours": "mon-fri 22:00-24:00; tue-sat 00:00-06:00",
            "country": "FR",
            "holidays": [{"date": "2026-12-24", "name": "Eve"}],
            "openings": [{"date": "2026-12-26", "hours": "10:00-12:00"}],
            "teams": ["Night Ops"],
        },
    ).json()
    assert created["teams"] == ["Night Ops"] and created["holidays"][0]["name"] == "Eve"
    assert created["openings"] == [{"date": "2026-12-26", "hours": "10:00-12:00", "name": ""}]
    patched = client.patch(f"/sla/calendars/{created['id']}", {"hours": "mon-sun 00:00-24:00"})
    assert patched.json()["hours"] == "mon-sun 00:00-24:00"
    assert patched.json()["teams"] == ["Night Ops"]  # untouched fields stay
    assert delete(client, f"/sla/calendars/{created['id']}").status_code == 204
    assert client.get(f"/sla/calendars/{created['id']}").status_code == 404


def test_policies_crud_and_a_calendar_in_use(api, always, monday) -> None:
    client = api(make_admin())
    senior = make_agent()
    created = client.post(
        "/sla/policies",
        {
            "name": "Gold",
            "calendar": "Always",
            "priority": 1,
            "first_response_minutes": 15,
            "resolution_minutes": 120,
            "pause_statuses": ["waiting_third_party"],
            "escalations": [
                {"trigger": "breach", "action": "assign", "assignee_id": senior.pk},
                {"trigger": "warning", "action": "notify", "clock": "resolution"},
            ],
        },
    )
    assert created.status_code == 201
    policy = created.json()
    assert policy["pause_statuses"] == ["waiting_third_party"]
    assert {rule["action"] for rule in policy["escalations"]} == {"assign", "notify"}
    patched = client.patch(f"/sla/policies/{policy['id']}", {"priority": None}).json()
    assert patched["priority"] is None and len(patched["escalations"]) == 2
    duplicate = client.post(
        "/sla/policies",
        {
            "name": "gold",
            "calendar": "Always",
            "first_response_minutes": 1,
            "resolution_minutes": 2,
        },
    )
    assert duplicate.status_code == 409
    in_use = delete(client, f"/sla/calendars/{always.pk}")
    assert in_use.status_code == 409
    assert delete(client, f"/sla/policies/{policy['id']}").status_code == 204
    assert client.get("/sla/policies").json()["items"] == []


def test_report_json_counts_met_and_breached_by_priority(api, per_priority, monday) -> None:
    agent = make_agent()
    answered = make_ticket()
    late = make_ticket(impact=1, urgency=1)
    api(agent).post(f"/tickets/{answered.pk}/articles", {"body": "Hello"})
    monday(45)
    report = api(make_lead()).get("/sla/report", group_by="priority").json()
    rows = {row["group"]: row for row in report["rows"]}
    assert rows["P3"]["first_response"] == {
        "met": 1,
        "breached": 0,
        "pending": 0,
        "attainment_percent": 100.0,
    }
    assert rows["P1"]["first_response"]["breached"] == 1
    assert report["total"]["tickets"] == 2
    assert [item["number"] for item in report["breached"]] == [late.number]
    assert api(make_requester()).get("/sla/report").status_code == 403


def test_report_csv_neutralises_spreadsheet_formulas(api, per_priority, monday) -> None:
    make_ticket(subject='=HYPERLINK("http://evil.example","click")', impact=1, urgency=1)
    make_ticket(subject="@SUM(A1:A2)", impact=1, urgency=1)
    monday(45)
    response = api(make_admin()).get("/sla/report/breached.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    subjects = {row[1] for row in rows[1:]}
    assert subjects == {'\'=HYPERLINK("http://evil.example","click")', "'@SUM(A1:A2)"}
    summary = list(
        csv.reader(io.StringIO(api(make_admin()).get("/sla/report.csv").content.decode()))
    )
    assert summary[0][0] == "group" and summary[-1][0] == "total"


def test_explain_is_for_staff_who_may_see_the_ticket(api, per_priority, monday) -> None:
    team_get_or_create(name="Finance")
    ticket = make_ticket(team="Finance")
    outsider = make_agent(team="Workplace")
    assert api(outsider).get(f"/sla/tickets/{ticket.pk}/explain").status_code == 404
    answer = api(make_lead()).get(f"/sla/tickets/{ticket.pk}/explain").json()
    assert answer["sla"]["policy"] == "P3"
    assert any("ticket created" in line for line in answer["lines"])
