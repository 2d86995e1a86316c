"""Background work of appointments: take no state, safe to run twice."""

from __future__ import annotations

from django_tasks import task

from expediter.appointments.services.reminders import appointment_reminders_send


@task()
def appointment_reminders() -> int:
    """Mail the reminders now due (each one once, however often this runs)."""
    return appointment_reminders_send()
