"""The demo desk's appointments: built through the services on the demo builder's desk."""

from __future__ import annotations

import random

import pytest

from expediter.appointments.demo import APPOINTMENTS, build_demo_appointments
from expediter.appointments.models import Appointment, Visit
from expediter.demo.builder import build_demo
from expediter.mail.models import OutboundMessage
from expediter.staff.models import Role, User

pytestmark = pytest.mark.django_db


def test_the_demo_desk_gets_sites_appointments_and_visits_to_plan() -> None:
    build_demo(tickets=30)  # calls build_demo_appointments at the end

    located = User.objects.filter(role=Role.REQUESTER, site__latitude__isnull=False)
    assert located.count() == User.objects.filter(role=Role.REQUESTER).count()
    first = Appointment.objects.count()
    assert 1 <= first <= APPOINTMENTS
    assert Visit.objects.filter(status="requested").exists()

    build_demo_appointments(random.Random(7))  # more of the same on a desk already in use

    appointments = list(Appointment.objects.select_related("ticket"))
    assert first < len(appointments) <= 2 * APPOINTMENTS
    assert all(a.status == "booked" and a.ticket.is_open for a in appointments)
    assert OutboundMessage.objects.filter(kind="invitation").count() == len(appointments)
