"""Appointments, on-site visits waiting to be planned, and agents' calendar feed keys.

Nothing here carries a rule: bookings, changes and plans go through
``appointments.services``, which record an event on the ticket for each.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from expediter.staff.models import Site
from expediter.tickets.models import Ticket


class AppointmentKind(models.TextChoices):
    REMOTE = "remote", _("Remote")
    ONSITE = "onsite", _("On site")


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No show")


# What still takes room in an agent's diary; a cancelled or missed slot is free again.
OCCUPYING_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.DONE)


class Appointment(models.Model):
    """A period an agent spends on a ticket with its requester, remotely or on site.

    ``sequence`` is the iCalendar SEQUENCE of the invitation last mailed, so
    each change reaches calendars as an update of the same event.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="appointments")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    kind = models.CharField(
        _("kind"), max_length=10, choices=AppointmentKind.choices, default=AppointmentKind.REMOTE
    )
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    location = models.CharField(_("location"), max_length=300, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.BOOKED,
    )
    sequence = models.PositiveIntegerField(default=0)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appointments_booked",
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["agent", "status", "start", "end"], name="appointment_diary_idx"),
            models.Index(fields=["status", "start"], name="appointment_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="appointment_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"appointment #{self.pk} on ticket {self.ticket_id}"


class VisitStatus(models.TextChoices):
    REQUESTED = "requested", _("Waiting to be planned")
    PLANNED = "planned", _("Planned")


class Visit(models.Model):
    """An on-site visit asked for on a date, within a local time window, not yet placed.

    Planning turns it into a booked on-site appointment (``appointment``).
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="visits")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="visits")
    date = models.DateField(_("date"))
    window_start = models.TimeField(_("earliest start"))
    window_end = models.TimeField(_("latest end"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"))
    status = models.CharField(
        _("status"), max_length=10, choices=VisitStatus.choices, default=VisitStatus.REQUESTED
    )
    appointment = models.OneToOneField(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="visit"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits_requested",
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["date", "window_start", "id"]
        indexes = [models.Index(fields=["date", "status"], name="visit_day_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_end__gt=models.F("window_start")),
                name="visit_window_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"visit #{self.pk} on ticket {self.ticket_id}"


class CalendarFeed(models.Model):
    """The random part of an agent's secret feed link; replacing it revokes old links.

    The link's key is an HMAC of this nonce under the desk's secret key, so
    the table alone does not give the links away.
    """

    agent = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    nonce = models.CharField(max_length=64)
    created_at = models.DateTimeField()
