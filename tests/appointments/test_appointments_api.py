"""The appointments API: slots, booking, changes, lists, and agents' calendar feeds."""

from __future__ import annotations

import pytest
from icalendar import Calendar
from tests.appointments.conftest import MONDAY, paris
from tests.factories import make_admin, make_agent, make_lead, make_requester, make_ticket

from expediter.appointments.services import calendar_feed_key, calendar_feed_reset

pytestmark = pytest.mark.django_db

APPOINTMENT_KEYS = {"id", "ticket", "agent", "start", "end", "kind", "location", "site", "status"}


def slots_query(**overrides: str) -> dict[str, str]:
    query = {
        "duration": "60",
        "from": "2026-06-01T08:00:00+02:00",
        "to": "2026-06-01T11:00:00+02:00",
    }
    return query | overrides


def booking(start: str = "10:00", end: str = "11:00", **extra: object) -> dict[str, object]:
    return {
        "start": paris(MONDAY, start).isoformat(),
        "end": paris(MONDAY, end).isoformat(),
        **extra,
    }


def problem_of(response) -> dict:
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def test_slots_list_every_free_agent_on_the_half_hour(desk, api) -> None:
    response = api(desk.requester).get(f"/tickets/{desk.ticket.pk}/slots", **slots_query())

    assert response.status_code == 200
    items = response.json()["items"]
    assert set(response.json()) == {"items"}
    assert items[0] == {
        "start": "2026-06-01T09:00:00+02:00",
        "end": "2026-06-01T10:00:00+02:00",
        "agent": {"id": desk.alice.pk, "name": "Alice Tech"},
    }
    assert [(i["start"][11:16], i["agent"]["id"]) for i in items] == [
        (hhmm, agent.pk)
        for hhmm in ("09:00", "09:30", "10:00")
        for agent in sorted((desk.alice, desk.bruno), key=lambda a: a.pk)
    ]


def test_slots_are_refused_to_strangers_and_bad_queries_name_the_field(desk, api) -> None:
    path = f"/tickets/{desk.ticket.pk}/slots"
    assert problem_of(api(desk.stranger).get(path, **slots_query()))["status"] == 404
    response = api(desk.lead).get(path, **slots_query(kind="teleport"))
    assert response.status_code == 422 and problem_of(response)["field"] == "kind"
    response = api(desk.lead).get(path, **slots_query(to="2026-06-01T07:00:00+02:00"))
    assert response.status_code == 422 and problem_of(response)["field"] == "to"
    response = api(desk.lead).get(path, **{"from": "2026-06-01", "to": "2026-06-02"})
    assert response.status_code == 422 and "duration" in problem_of(response)["detail"]


def test_booking_answers_the_appointment(desk, api) -> None:
    response = api(desk.requester).post(f"/tickets/{desk.ticket.pk}/appointments", booking())

    assert response.status_code == 201
    appointment = response.json()
    assert set(appointment) == APPOINTMENT_KEYS
    assert appointment["ticket"] == desk.ticket.pk
    assert appointment["agent"] == {"id": desk.alice.pk, "name": "Alice Tech"}
    assert appointment["start"] == "2026-06-01T10:00:00+02:00"
    assert (appointment["kind"], appointment["status"]) == ("remote", "booked")
    events = api(desk.requester).get(f"/tickets/{desk.ticket.pk}/events").json()["items"]
    assert events[-1]["verb"] == "appointment_booked"


def test_booking_conflicts_are_409_and_bad_input_422_naming_the_field(desk, api) -> None:
    path = f"/tickets/{desk.ticket.pk}/appointments"
    client = api(desk.lead)
    client.post(path, booking(agent_id=desk.alice.pk))

    refused = client.post(path, booking("10:30", "11:30", agent_id=desk.alice.pk))
    assert refused.status_code == 409
    assert "overlaps appointment" in problem_of(refused)["detail"]
    refused = client.post(path, booking("18:00", "19:00", agent_id=desk.alice.pk))
    assert refused.status_code == 409 and "off duty" in problem_of(refused)["detail"]
    invalid = client.post(path, booking("11:00", "10:00"))
    assert invalid.status_code == 422 and problem_of(invalid)["field"] == "end"
    invalid = client.post(path, booking(kind="teleport"))
    assert invalid.status_code == 422 and "kind" in problem_of(invalid)["detail"]
    invalid = client.post(path, {"start": "tomorrow", "end": "later"})
    assert invalid.status_code == 422 and problem_of(invalid)["field"] == "start"


def test_requesters_cannot_book_on_someone_elses_ticket(desk, api) -> None:
    response = api(desk.stranger).post(f"/tickets/{desk.ticket.pk}/appointments", booking())
    assert response.status_code == 404
    assert problem_of(response)["detail"] == f"ticket {desk.ticket.pk} not found"


def test_patch_moves_or_closes_an_appointment(desk, api) -> None:
    client = api(desk.lead)
    made = client.post(
        f"/tickets/{desk.ticket.pk}/appointments", booking(agent_id=desk.bruno.pk)
    ).json()
    client.post(
        f"/tickets/{desk.ticket.pk}/appointments", booking("13:00", "14:00", agent_id=desk.bruno.pk)
    )
    path = f"/appointments/{made['id']}"

    moved = client.patch(path, {"start": paris(MONDAY, "11:00").isoformat()})
    assert moved.status_code == 200
    assert (moved.json()["start"], moved.json()["end"]) == (
        "2026-06-01T11:00:00+02:00",
        "2026-06-01T12:00:00+02:00",
    )
    clash = client.patch(path, {"start": paris(MONDAY, "12:30").isoformat()})
    assert clash.status_code == 409 and "overlaps appointment" in problem_of(clash)["detail"]
    both = client.patch(path, {"start": paris(MONDAY, "15:00").isoformat(), "status": "done"})
    assert both.status_code == 422 and problem_of(both)["field"] == "status"
    assert api(desk.requester).patch(path, {"status": "no_show"}).status_code == 403
    assert api(desk.stranger).patch(path, {"status": "cancelled"}).status_code == 404
    cancelled = api(desk.requester).patch(path, {"status": "cancelled"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.patch(path, {"status": "cancelled"}).status_code == 409


def test_the_list_shows_only_appointments_on_visible_tickets(desk, api) -> None:
    other = make_ticket(desk.stranger, subject="Mine", service="Printing")
    lead = api(desk.lead)
    for ticket, start in ((desk.ticket, "10:00"), (other, "12:00"), (desk.ticket, "14:00")):
        end = f"{int(start[:2]) + 1}:00"
        lead.post(f"/tickets/{ticket.pk}/appointments", booking(start, end, agent_id=desk.alice.pk))
    outsider = make_agent(team="Network")

    everything = lead.get("/appointments", agent=str(desk.alice.pk), limit="2").json()
    assert len(everything["items"]) == 2 and everything["next_cursor"]
    rest = lead.get("/appointments", cursor=everything["next_cursor"], limit="2").json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    mine = api(desk.stranger).get("/appointments").json()["items"]
    assert [a["ticket"] for a in mine] == [other.pk]
    assert api(outsider).get("/appointments").json()["items"] == []
    window = lead.get(
        "/appointments", **{"from": "2026-06-01T11:00:00+02:00", "to": "2026-06-01T14:00:00+02:00"}
    ).json()["items"]
    assert [a["start"][11:16] for a in window] == ["12:00"]
    assert api(make_requester()).get(f"/appointments/{mine[0]['id']}").status_code == 404


def test_the_feed_opens_with_a_bearer_token_or_the_secret_key_and_404s_otherwise(
    desk, api, client
) -> None:
    made = (
        api(desk.lead)
        .post(f"/tickets/{desk.ticket.pk}/appointments", booking(agent_id=desk.alice.pk))
        .json()
    )
    path = f"/agents/{desk.alice.pk}/calendar.ics"

    for reader in (desk.alice, desk.lead, make_admin()):
        response = api(reader).get(path)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(api(desk.alice).get(path).content)
    uids = [str(event["UID"]) for event in calendar.walk("VEVENT")]
    assert any(uid.startswith(f"appointment-{made['id']}@") for uid in uids)
    assert any(uid.startswith(f"shift-{desk.alice.pk}-") for uid in uids)
    for outsider in (desk.bruno, desk.requester, make_lead(team="Network")):
        assert problem_of(api(outsider).get(path))["status"] == 404
    assert client.get("/api/v1" + path).status_code == 404

    key = calendar_feed_key(agent=desk.alice)
    assert client.get("/api/v1" + path, {"key": key}).status_code == 200
    assert client.get("/api/v1" + path, {"key": "0" * len(key)}).status_code == 404
    assert (
        client.get(f"/api/v1/agents/{desk.bruno.pk}/calendar.ics", {"key": key}).status_code == 404
    )
    calendar_feed_reset(agent=desk.alice)
    assert client.get("/api/v1" + path, {"key": key}).status_code == 404
