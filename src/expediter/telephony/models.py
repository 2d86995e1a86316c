"""Phone calls: logged by agents or reported by the PBX, never forgotten."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from expediter.tickets.models import Ticket


class CallStatus(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    MISSED = "missed", _("Missed")
    VOICEMAIL = "voicemail", _("Voicemail")


class CallDirection(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class Call(models.Model):
    caller_number = models.CharField(_("caller"), max_length=40, db_index=True)
    called_number = models.CharField(_("called"), max_length=40, blank=True)
    direction = models.CharField(
        max_length=10, choices=CallDirection.choices, default=CallDirection.INBOUND
    )
    started_at = models.DateTimeField(_("started"))
    duration_seconds = models.PositiveIntegerField(_("duration"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=CallStatus.choices)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls_made",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls_taken",
    )
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    needs_callback = models.BooleanField(default=False, db_index=True)
    called_back_at = models.DateTimeField(null=True, blank=True)
    called_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="callbacks_made",
    )
    external_id = models.CharField(max_length=120, blank=True, db_index=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.caller_number} {self.status} {self.started_at:%Y-%m-%d %H:%M}"
