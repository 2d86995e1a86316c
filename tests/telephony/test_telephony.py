"""Phone: calls logged in two clicks, PBX webhook, callbacks never forgotten."""

from __future__ import annotations

import pytest
from tests.factories import make_agent, make_requester, make_ticket

from expediter.telephony.models import Call
from expediter.telephony.selectors import calls_awaiting_callback
from expediter.telephony.services import call_log, call_mark_called_back
from expediter.tickets.models import Article

pytestmark = pytest.mark.django_db


def test_agent_logs_a_call_as_a_new_phone_ticket_for_the_known_caller() -> None:
    agent = make_agent()
    caller = make_requester(phone="+33 1 40 00 00 42")
    call = call_log(
        agent=agent,
        caller_number="+33140000042",
        summary="Printer jammed\nfloor 2",
        duration_seconds=180,
    )
    assert call.caller == caller and call.ticket is not None
    assert call.ticket.channel == "phone" and call.ticket.requester == caller
    assert call.ticket.subject == "Printer jammed"


def test_agent_logs_a_call_as_a_note_on_an_existing_ticket() -> None:
    agent = make_agent()
    ticket = make_ticket()
    call_log(
        agent=agent,
        caller_number="0612345678",
        summary="Called about it",
        duration_seconds=60,
        ticket_id=ticket.pk,
    )
    note = Article.objects.filter(ticket=ticket, kind="call").get()
    assert note.internal and note.channel == "phone"


def test_missed_call_webhook_becomes_a_callback_on_the_open_ticket(api) -> None:
    integration = make_agent(team=None)
    caller = make_requester(phone="+33140000099")
    ticket = make_ticket(caller)
    body = {
        "caller": "+33 1 40 00 00 99",
        "called": "+33140000000",
        "started_at": "2026-12-04T09:15:00+01:00",
        "duration": 0,
        "status": "missed",
        "id": "pbx-1",
    }
    response = api(integration).post("/telephony/calls", body)
    assert response.status_code == 201
    assert response.json()["ticket"] == ticket.pk and response.json()["needs_callback"]
    assert api(integration).post("/telephony/calls", body).json()["id"] == response.json()["id"]
    lead = make_agent()
    waiting = list(calls_awaiting_callback(user=lead))
    assert [c.pk for c in waiting] == [response.json()["id"]]
    call_mark_called_back(call_id=waiting[0].pk, agent=lead, note="sorted")
    assert list(calls_awaiting_callback(user=lead)) == []
    assert ticket.events.filter(verb="called_back").exists()


def test_voicemail_from_an_unknown_number_opens_a_callback_ticket(api) -> None:
    integration = make_agent()
    response = api(integration).post(
        "/telephony/calls",
        {
            "caller": "+4930123456",
            "started_at": "2026-12-04T08:00:00Z",
            "duration": 35,
            "status": "voicemail",
            "recording_url": "https://pbx.example/rec/1.wav",
        },
    )
    call = Call.objects.get(pk=response.json()["id"])
    assert call.ticket is not None and "Call back" in call.ticket.subject
    assert "rec/1.wav" in call.ticket.description


def test_webhook_validation_and_permissions(api) -> None:
    requester = make_requester()
    body = {"caller": "+33140000001", "started_at": "2026-12-04T08:00:00Z", "status": "busy"}
    response = api(make_agent()).post("/telephony/calls", body)
    assert response.status_code == 422 and "status" in response.json()["detail"]
    body["status"] = "missed"
    assert api(requester).post("/telephony/calls", body).status_code == 403
    assert api(None).post("/telephony/calls", body).status_code == 401
