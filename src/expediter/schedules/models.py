"""When people work: recurring shifts, one-off extra shifts, time off and on-call rotations.

Nothing here carries a rule: rows change through ``schedules.services`` and
are read through ``schedules.selectors`` (on-call answers come from the pure
``schedules.oncall``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from expediter.staff.models import Team


class Shift(models.Model):
    """A recurring weekly pattern (the contract's SPEC) in the agent's time zone."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shifts"
    )
    hours = models.CharField(_("hours"), max_length=500)
    time_zone = models.CharField(_("time zone"), max_length=64)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        ordering = ["agent_id", "id"]

    def __str__(self) -> str:
        return f"{self.agent_id}: {self.hours} ({self.time_zone})"


class ExtraShift(models.Model):
    """A one-off stretch of duty outside the recurring pattern."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="extra_shifts"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["agent", "start", "end"], name="extra_shift_idx")]


class TimeOffKind(models.TextChoices):
    VACATION = "vacation", _("Vacation")
    SICKNESS = "sickness", _("Sickness")
    TRAINING = "training", _("Training")
    OTHER = "other", _("Other")


class TimeOffStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class TimeOff(models.Model):
    """Absence; only approved time off takes an agent off duty."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_off"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    kind = models.CharField(
        _("kind"), max_length=12, choices=TimeOffKind.choices, default=TimeOffKind.VACATION
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=TimeOffStatus.choices, default=TimeOffStatus.APPROVED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="time_off_decisions",
    )
    requested_at = models.DateTimeField(_("requested"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["agent", "status", "start", "end"], name="time_off_idx")]


class OnCallSchedule(models.Model):
    """Who answers pages for a team out of hours: layers of rotations, overrides on top."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="oncall_schedules",
        verbose_name=_("team"),
    )
    time_zone = models.CharField(_("time zone"), max_length=64)
    description = models.CharField(_("description"), max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OnCallLayer(models.Model):
    """One rotation of a schedule; a higher ``position`` takes precedence.

    ``restrictions`` is a weekly SPEC in the schedule's zone (empty: all week).
    """

    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name="layers")
    position = models.PositiveSmallIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=120)
    rotation_start = models.DateTimeField(_("rotation start"))
    turn_length = models.DurationField(_("turn length"))
    restrictions = models.CharField(_("restrictions"), max_length=500, blank=True)
    starts_at = models.DateTimeField(_("in effect from"), null=True, blank=True)
    ends_at = models.DateTimeField(_("in effect until"), null=True, blank=True)

    class Meta:
        ordering = ["schedule_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "position"], name="unique_oncall_layer")
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id}/{self.position} {self.name}"


class OnCallLayerMember(models.Model):
    """A member of a rotation, in turn order."""

    layer = models.ForeignKey(OnCallLayer, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oncall_turns"
    )
    position = models.PositiveSmallIntegerField(_("position"))

    class Meta:
        ordering = ["layer_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["layer", "position"], name="unique_oncall_member")
        ]


class OnCallOverride(models.Model):
    """Someone on call in place of the rotation over ``[start, end)``."""

    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oncall_overrides"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["schedule", "start", "end"], name="oncall_override_idx"),
        ]
