"""The demo desk's routing: on-call schedules, team settings, time off, a routed queue."""

from __future__ import annotations

import pytest

from expediter.core import clock
from expediter.demo.builder import build_demo
from expediter.routing.demo import build_demo_routing
from expediter.routing.models import QueuedTicket, TeamRoutingSettings
from expediter.schedules import selectors
from expediter.schedules.models import OnCallOverride, OnCallSchedule, TimeOff
from expediter.staff.models import Team
from expediter.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_the_demo_has_rotations_settings_time_off_and_a_routed_queue() -> None:
    build_demo(tickets=30)
    teams = Team.objects.count()
    assert OnCallSchedule.objects.count() == teams
    network = OnCallSchedule.objects.get(name="Network on call")
    assert [layer.name for layer in network.layers.all()] == ["Weekly", "Weekend days"]
    assert OnCallOverride.objects.filter(schedule=network).count() == 1
    answers = selectors.oncall_overview(at=clock.now())
    assert all(answer.user is not None for answer in answers)
    assert TeamRoutingSettings.objects.get(team__name="Service Desk").handover_when_off_duty
    assert sorted(TimeOff.objects.values_list("status", flat=True)) == ["approved", "requested"]
    waiting = Ticket.objects.filter(
        assignee__isnull=True, team__isnull=False, status__in=("new", "in_progress")
    )
    assert waiting.count() == QueuedTicket.objects.count()
    build_demo_routing()
    assert OnCallSchedule.objects.count() == teams and TimeOff.objects.count() == 2
