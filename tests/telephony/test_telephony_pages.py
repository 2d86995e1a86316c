"""The phone pages: log a call, look up a caller, return missed calls."""

from __future__ import annotations

import pytest
from django.test import Client
from tests.factories import make_agent, make_requester, make_ticket

from expediter.telephony.models import Call
from expediter.telephony.services import call_record_from_pbx

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_log_a_call_on_an_open_ticket_found_by_the_callers_number() -> None:
    agent = make_agent()
    caller = make_requester(phone="+33140000077", name="Zoé Caller")
    ticket = make_ticket(caller)
    client = signed_in(agent)
    lookup = client.get("/calls/lookup", {"caller_number": "+33 1 40 00 00 77"})
    assert (
        "Zoé Caller" in lookup.content.decode() and f"#{ticket.number}" in lookup.content.decode()
    )
    response = client.post(
        "/calls/log",
        {
            "caller_number": "+33140000077",
            "summary": "Still broken",
            "minutes": 4,
            "ticket_number": ticket.number,
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/tickets/{ticket.pk}"
    assert Call.objects.get().ticket == ticket


def test_unknown_ticket_number_is_a_form_error_not_a_crash() -> None:
    client = signed_in(make_agent())
    response = client.post(
        "/calls/log",
        {"caller_number": "+33140000077", "summary": "x", "minutes": 1, "ticket_number": 999999},
    )
    assert response.status_code == 422


def test_callbacks_list_and_mark_called_back(settings) -> None:
    import datetime as dt

    agent = make_agent()
    call = call_record_from_pbx(
        caller_number="+33140000011",
        called_number="",
        started_at=dt.datetime(2026, 12, 4, 8, tzinfo=dt.UTC),
        duration_seconds=0,
        status="missed",
    )
    client = signed_in(agent)
    page = client.get("/calls")
    assert "+33140000011" in page.content.decode()
    client.post(f"/calls/{call.pk}/called-back")
    assert "+33140000011" not in client.get("/calls").content.decode()


def test_requesters_cannot_use_the_phone_pages() -> None:
    assert signed_in(make_requester()).get("/calls").status_code == 403
