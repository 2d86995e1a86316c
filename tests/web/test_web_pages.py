"""Every page renders for the people it is meant for, with the navigation they need."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from tests.factories import make_admin, make_agent, make_lead, make_requester, make_ticket

from expediter.tickets.services import worklog_add
from expediter.tickets.services.catalogue import service_save

pytestmark = pytest.mark.django_db


def test_root_sends_each_person_where_their_work_is(client: Client, signed_in) -> None:
    assert client.get("/")["Location"] == reverse("web:login")
    assert signed_in(make_agent()).get("/")["Location"] == reverse("web:queue", args=["mine"])
    assert signed_in(make_requester()).get("/")["Location"] == reverse("web:portal")


def test_login_page_renders_for_visitors(client: Client) -> None:
    response = client.get(reverse("web:login"))
    assert response.status_code == 200
    assert b'name="email"' in response.content
    assert b'name="password"' in response.content


@pytest.mark.parametrize("make_person", [make_agent, make_lead, make_admin])
def test_workspace_pages_render_for_staff(make_person, signed_in) -> None:
    service_save(name="Printing", team="Service Desk")
    person = make_person()
    ticket = make_ticket(service="Printing")
    worklog_add(ticket_id=ticket.pk, agent=person, minutes=15, note="looked")
    client = signed_in(person)
    for name in ("mine", "team", "unassigned", "open"):
        page = client.get(reverse("web:queue", args=[name]))
        assert page.status_code == 200, name
    page = client.get(reverse("web:ticket", args=[ticket.pk]))
    assert page.status_code == 200
    assert ticket.subject in page.content.decode()
    assert client.get(reverse("web:worklog_report")).status_code == 200
    assert client.get(reverse("web:portal")).status_code == 200
    assert client.get(reverse("web:portal_new")).status_code == 200


def test_unknown_queue_is_404(signed_in) -> None:
    assert signed_in(make_agent()).get("/queues/elsewhere").status_code == 404


def test_portal_pages_render_for_requesters(signed_in) -> None:
    requester = make_requester()
    ticket = make_ticket(requester=requester)
    client = signed_in(requester)
    listing = client.get(reverse("web:portal"))
    assert listing.status_code == 200
    assert ticket.subject in listing.content.decode()
    assert client.get(reverse("web:portal_new")).status_code == 200
    detail = client.get(reverse("web:portal_ticket", args=[ticket.pk]))
    assert detail.status_code == 200
    assert "E13" in detail.content.decode()


def test_navigation_matches_the_role(signed_in) -> None:
    requester_page = signed_in(make_requester()).get(reverse("web:portal")).content.decode()
    agent_page = signed_in(make_agent()).get(reverse("web:portal")).content.decode()
    admin_page = signed_in(make_admin()).get(reverse("web:portal")).content.decode()
    queues, admin = reverse("web:queue", args=["mine"]), reverse("admin:index")
    assert queues not in requester_page and admin not in requester_page
    assert queues in agent_page and admin not in agent_page
    assert queues in admin_page and admin in admin_page


def test_requesters_are_kept_out_of_the_workspace(signed_in) -> None:
    requester = make_requester()
    own = make_ticket(requester=requester)
    client = signed_in(requester)
    assert client.get(reverse("web:queue", args=["open"])).status_code == 403
    assert client.get(reverse("web:ticket", args=[own.pk])).status_code == 403
    assert client.get(reverse("web:worklog_report")).status_code == 403


def test_agents_opening_a_portal_link_land_on_the_ticket_page(signed_in) -> None:
    ticket = make_ticket()
    response = signed_in(make_agent()).get(reverse("web:portal_ticket", args=[ticket.pk]))
    assert response["Location"] == reverse("web:ticket", args=[ticket.pk])


def test_pages_carry_the_csrf_header_for_htmx_and_no_inline_script(signed_in) -> None:
    page = signed_in(make_agent()).get(reverse("web:queue", args=["open"])).content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    assert "/static/web/htmx.min.js" in page
    assert "<script>" not in page  # CSP: script-src 'self' only


def test_signed_out_visitors_are_sent_to_login(client: Client) -> None:
    ticket = make_ticket()
    for url in (
        reverse("web:queue", args=["mine"]),
        reverse("web:ticket", args=[ticket.pk]),
        reverse("web:portal"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:login"))
