"""The admin configures the desk; tickets and their history are only shown there."""

from __future__ import annotations

import pytest
from django.urls import reverse
from tests.factories import make_admin, make_lead, make_ticket

from expediter.staff.models import Team
from expediter.tickets.models import PriorityRule

pytestmark = pytest.mark.django_db


def test_admins_reach_the_configuration(signed_in) -> None:
    client = signed_in(make_admin())
    for name in (
        "staff_team",
        "staff_skill",
        "staff_organisation",
        "staff_site",
        "staff_user",
        "tickets_service",
        "tickets_priorityrule",
        "tickets_ticket",
        "tickets_article",
        "tickets_ticketevent",
    ):
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name
    assert client.get(reverse("admin:staff_team_add")).status_code == 200
    assert client.get(reverse("admin:tickets_service_add")).status_code == 200


def test_admins_can_configure_a_team_and_the_matrix(signed_in) -> None:
    client = signed_in(make_admin())
    response = client.post(
        reverse("admin:staff_team_add"),
        {"name": "Field", "assignment_policy": "round_robin", "email": ""},
    )
    assert response.status_code == 302
    assert Team.objects.get(name="Field").assignment_policy == "round_robin"
    seeded = PriorityRule.objects.filter(impact=4, urgency=4).first()
    url = (
        reverse("admin:tickets_priorityrule_change", args=[seeded.pk])
        if seeded
        else reverse("admin:tickets_priorityrule_add")
    )
    response = client.post(url, {"impact": 4, "urgency": 4, "priority": 3})
    assert response.status_code == 302
    assert PriorityRule.objects.get(impact=4, urgency=4).priority == 3


def test_user_page_has_team_and_skill_inlines(signed_in) -> None:
    admin = make_admin()
    page = signed_in(admin).get(reverse("admin:staff_user_change", args=[admin.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "memberships-TOTAL_FORMS" in html and "skill_levels-TOTAL_FORMS" in html


def test_tickets_are_read_only_in_the_admin(signed_in) -> None:
    ticket = make_ticket()
    client = signed_in(make_admin())
    assert client.get(reverse("admin:tickets_ticket_add")).status_code == 403
    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    assert page.status_code == 200
    assert b'name="subject"' not in page.content  # shown, not editable
    response = client.post(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]), {"subject": "changed"}
    )
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.subject != "changed"


def test_leads_do_not_enter_the_admin(signed_in) -> None:
    response = signed_in(make_lead()).get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
