"""Schedules and routing settings in the admin: reachable, and checked like the services."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from tests.factories import make_admin, make_agent, make_lead

from expediter.schedules.models import OnCallLayer, OnCallSchedule, Shift

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    cache.clear()
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(make_admin())
    return client


def test_admins_reach_schedules_and_routing(admin_client: Client) -> None:
    for name in (
        "schedules_shift",
        "schedules_extrashift",
        "schedules_timeoff",
        "schedules_oncallschedule",
        "schedules_oncalllayer",
        "routing_teamroutingsettings",
        "routing_queuedticket",
    ):
        assert admin_client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name
    assert admin_client.get(reverse("admin:schedules_timeoff_add")).status_code == 403


def test_leads_do_not_reach_the_admin() -> None:
    client = Client()
    client.force_login(make_lead())
    assert client.get(reverse("admin:schedules_shift_changelist")).status_code == 302


def test_a_shift_is_checked_and_stored_canonically(admin_client: Client) -> None:
    agent = make_agent()
    url = reverse("admin:schedules_shift_add")
    bad = admin_client.post(
        url, {"agent": agent.pk, "hours": "mon 10-9", "time_zone": "Europe/Paris"}
    )
    assert bad.status_code == 200 and not Shift.objects.exists()
    zone = admin_client.post(
        url, {"agent": agent.pk, "hours": "mon 09:00-10:00", "time_zone": "Nowhere"}
    )
    assert "unknown time zone" in zone.content.decode()
    good = admin_client.post(
        url, {"agent": agent.pk, "hours": "Mon-Tue 09:00-10:00", "time_zone": "UTC"}
    )
    assert good.status_code == 302
    assert Shift.objects.get().hours == "mon 09:00-10:00; tue 09:00-10:00"


def test_a_layer_with_members_is_built_in_the_admin(admin_client: Client) -> None:
    agent = make_agent()
    schedule = OnCallSchedule.objects.create(name="Nights", time_zone="Europe/Paris")
    form = {
        "schedule": schedule.pk,
        "position": 1,
        "name": "Weekly",
        "rotation_start_0": "2026-03-02",
        "rotation_start_1": "09:00:00",
        "turn_length": "7 00:00:00",
        "restrictions": "mon-sun 18:00-24:00",
        "members-TOTAL_FORMS": 1,
        "members-INITIAL_FORMS": 0,
        "members-0-position": 0,
        "members-0-user": agent.pk,
    }
    response = admin_client.post(reverse("admin:schedules_oncalllayer_add"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    layer = OnCallLayer.objects.get()
    assert layer.restrictions == "; ".join(
        f"{day} 18:00-24:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    )
    assert list(layer.members.values_list("user_id", flat=True)) == [agent.pk]
