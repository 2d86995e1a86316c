"""The day-before reminder: sent once per booking, whichever worker runs the job.

A reminder is due once the appointment starts within :data:`REMINDER_LEAD`.
One booked (or moved) inside that window gets none: its invitation has just
arrived. Each reminder is claimed with a conditional UPDATE of
``reminder_sent_at`` in the transaction that writes it to the outbox, so
running the job twice, or in two workers at once, mails nobody twice.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from expediter.appointments.models import Appointment, AppointmentStatus
from expediter.appointments.services.invitations import reminder_enqueue
from expediter.core import clock

REMINDER_LEAD = dt.timedelta(hours=24)


def appointment_reminders_send() -> int:
    """Mail every reminder now due; the number sent."""
    now = clock.now()
    due = (
        Appointment.objects.filter(
            status=AppointmentStatus.BOOKED,
            reminder_sent_at__isnull=True,
            start__gt=now,
            start__lte=now + REMINDER_LEAD,
        )
        .select_related("ticket__requester", "agent")
        .order_by("start", "id")
    )
    sent = 0
    for appointment in due:
        if appointment.updated_at > appointment.start - REMINDER_LEAD:
            continue
        with transaction.atomic():
            claimed = Appointment.objects.filter(
                pk=appointment.pk, status=AppointmentStatus.BOOKED, reminder_sent_at__isnull=True
            ).update(reminder_sent_at=now)
            if claimed:
                reminder_enqueue(appointment=appointment)
                sent += 1
    return sent
