"""Routing state: team settings, who was assigned when, and the waiting queue.

Nothing here decides anything: ``routing.services`` writes these rows under
the locks described there, and ``routing.engine`` makes the decisions.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from expediter.staff.models import Team
from expediter.tickets.models import Service, Ticket


class TeamRoutingSettings(models.Model):
    """A team's routing and staffing settings; a team without a row uses the defaults."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="routing_settings")
    handover_when_off_duty = models.BooleanField(
        _("hand tickets over when their assignee goes off duty"), default=False
    )
    answer_within_minutes = models.PositiveIntegerField(
        _("answer within (minutes)"), default=30, validators=[MinValueValidator(1)]
    )
    service_level_target = models.FloatField(
        _("share answered in time"),
        default=0.8,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
    )
    shrinkage = models.FloatField(
        _("shrinkage"), default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(0.95)]
    )
    default_handle_minutes = models.PositiveIntegerField(
        _("handle time when no work is logged (minutes)"),
        default=30,
        validators=[MinValueValidator(1)],
    )
    default_arrivals_per_hour = models.FloatField(
        _("arrivals per hour when the team has no history"),
        default=0.0,
        validators=[MinValueValidator(0.0)],
    )

    class Meta:
        verbose_name = _("team routing settings")
        verbose_name_plural = _("team routing settings")

    def __str__(self) -> str:
        return f"routing of {self.team_id}"


class AgentRoutingState(models.Model):
    """When the engine last gave the agent a ticket (round robin and tie-breaks)."""

    agent = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="routing_state",
    )
    last_assigned_at = models.DateTimeField(null=True, blank=True)


class QueuedTicket(models.Model):
    """A ticket waiting in its team's queue, with why it waits.

    The ticket row stays the truth (unassigned, open, in a team); this row is
    how free agents find the most urgent waiting ticket fast, and remembers
    what was already said on the ticket's timeline (``reason_key``) and
    whether the on-call person was paged.
    """

    ticket = models.OneToOneField(
        Ticket, primary_key=True, on_delete=models.CASCADE, related_name="queue_entry"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    priority = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    created_at = models.DateTimeField()
    queued_at = models.DateTimeField()
    reason = models.TextField()
    reason_key = models.CharField(max_length=120)
    paged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "created_at", "ticket_id"]
        indexes = [
            models.Index(
                fields=["team", "service", "priority", "due_at", "created_at"],
                name="queue_urgency_idx",
            ),
            models.Index(fields=["team", "service", "created_at"], name="queue_age_idx"),
            models.Index(fields=["team", "priority", "due_at"], name="queue_due_idx"),
        ]
