"""Business calendars, SLA policies with their escalations, and the clocks of tickets.

Nothing here carries a rule: calendars and policies change through
``sla.services``, and clocks are only ever written by replaying a ticket's
history (``sla.timeline``) or by the sweep's guarded flags.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from expediter.staff.models import Organisation, Team
from expediter.tickets.models import Service, Ticket, TicketType


class Calendar(models.Model):
    """When the desk counts time: a zone, weekly hours, holidays and exceptional openings.

    ``holidays`` is a list of ``{"date", "name"}`` closing those local days;
    ``openings`` a list of ``{"date", "hours", "name"}`` replacing a day's
    hours (``hours`` as ``09:00-12:00,13:00-17:00``; empty closes the day).
    They live on the row so that one query gives everything a due time needs.
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64)
    hours = models.CharField(_("hours"), max_length=500)
    country = models.CharField(_("public holidays of"), max_length=16, blank=True)
    holidays = models.JSONField(_("holidays"), default=list, blank=True)
    openings = models.JSONField(_("exceptional openings"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PublicHolidayYear(models.Model):
    """A country's public holidays for a year, as one version of the ``holidays`` package says.

    Kept so that web processes read a few dates instead of loading the
    package (every country's rules, some 20 MB per process). A row of another
    version of the package is not used: after an upgrade each year is asked
    again, in case the law or the package's data changed.
    """

    country = models.CharField(max_length=8)
    subdivision = models.CharField(max_length=16, blank=True)
    year = models.PositiveSmallIntegerField()
    package_version = models.CharField(max_length=32)
    days = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["country", "subdivision", "year", "package_version"],
                name="sla_public_holiday_year_once",
            )
        ]

    def __str__(self) -> str:
        region = f"{self.country}-{self.subdivision}" if self.subdivision else self.country
        return f"{region} {self.year}"


class CalendarAssignment(models.Model):
    """A team's or an organisation's own calendar, used instead of the policy's."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="assignments")
    team = models.OneToOneField(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="sla_calendar"
    )
    organisation = models.OneToOneField(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_calendar",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(team__isnull=False, organisation__isnull=True)
                    | Q(team__isnull=True, organisation__isnull=False)
                ),
                name="sla_calendar_for_team_or_organisation",
            )
        ]


class SlaPolicy(models.Model):
    """Targets in business minutes for the tickets it matches (None matches anything)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    calendar = models.ForeignKey(
        Calendar, on_delete=models.PROTECT, related_name="policies", verbose_name=_("calendar")
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
    )
    service = models.ForeignKey(
        Service,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_policies",
        verbose_name=_("service"),
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_policies",
        verbose_name=_("organisation"),
    )
    ticket_type = models.CharField(_("type"), max_length=20, choices=TicketType.choices, blank=True)
    first_response_minutes = models.PositiveIntegerField(_("first response (minutes)"))
    next_response_minutes = models.PositiveIntegerField(
        _("next response (minutes)"), null=True, blank=True
    )
    resolution_minutes = models.PositiveIntegerField(_("resolution (minutes)"))
    warn_percent = models.PositiveSmallIntegerField(
        _("warn at (% elapsed)"),
        null=True,
        blank=True,
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    pause_when_waiting_requester = models.BooleanField(
        _("pause while waiting for the requester"), default=True
    )
    pause_when_waiting_third_party = models.BooleanField(
        _("pause while waiting for a third party"), default=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name


class EscalationTrigger(models.TextChoices):
    WARNING = "warning", _("Warning threshold reached")
    BREACH = "breach", _("Target breached")


class EscalationAction(models.TextChoices):
    NOTIFY = "notify", _("Notify the assignee and the team lead")
    UNASSIGN = "unassign", _("Return to the team queue")
    ASSIGN = "assign", _("Reassign to a person")
    RAISE_PRIORITY = "raise_priority", _("Raise the priority")


class ClockKindChoices(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")


class Escalation(models.Model):
    """What the sweep does when a clock of the policy warns or breaches."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="escalations")
    trigger = models.CharField(_("when"), max_length=10, choices=EscalationTrigger.choices)
    clock = models.CharField(
        _("clock"),
        max_length=20,
        choices=ClockKindChoices.choices,
        blank=True,
        help_text=_("Empty: any clock."),
    )
    action = models.CharField(_("action"), max_length=20, choices=EscalationAction.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("reassign to"),
    )
    priority = models.PositiveSmallIntegerField(
        _("raise to priority"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
    )

    class Meta:
        ordering = ["policy_id", "trigger", "id"]


class ClockStatusChoices(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    STOPPED = "stopped", _("Stopped")


class SlaClock(models.Model):
    """One clock of one ticket, as the replay of its history left it.

    The sweep finds what to warn about and what breached through two partial
    indexes (``warn_at`` and ``breach_at`` while not yet recorded), so its
    cost follows the number of clocks due, not the number of open tickets.
    ``*_recorded_at`` says the event was recorded, ``*_escalated_at`` that the
    policy's escalations ran; each is set once by a conditional UPDATE.
    """

    # Led by the (ticket, kind) unique index and the (ticket, status, due) one.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="sla_clocks", db_index=False
    )
    kind = models.CharField(max_length=20, choices=ClockKindChoices.choices)
    cycle = models.PositiveIntegerField(default=1)
    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="clocks")
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="clocks")
    status = models.CharField(max_length=10, choices=ClockStatusChoices.choices)
    target_seconds = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    running_since = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    remaining_seconds = models.BigIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    breach_at = models.DateTimeField(null=True, blank=True)
    warning_recorded_at = models.DateTimeField(null=True, blank=True)
    breach_recorded_at = models.DateTimeField(null=True, blank=True)
    warning_escalated_at = models.DateTimeField(null=True, blank=True)
    breach_escalated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["ticket_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind"], name="unique_sla_clock_kind")
        ]
        indexes = [
            models.Index(
                fields=["warn_at"],
                condition=Q(warning_recorded_at__isnull=True, warn_at__isnull=False),
                name="sla_clock_warn_due_idx",
            ),
            models.Index(
                fields=["breach_at"],
                condition=Q(breach_recorded_at__isnull=True, breach_at__isnull=False),
                name="sla_clock_breach_due_idx",
            ),
            models.Index(
                fields=["warning_recorded_at"],
                condition=Q(warning_recorded_at__isnull=False, warning_escalated_at__isnull=True),
                name="sla_clock_warn_stalled_idx",
            ),
            models.Index(
                fields=["breach_recorded_at"],
                condition=Q(breach_recorded_at__isnull=False, breach_escalated_at__isnull=True),
                name="sla_clock_breach_stalled_idx",
            ),
            models.Index(fields=["ticket", "status", "due_at"], name="sla_clock_ticket_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}:{self.kind}#{self.cycle} {self.status}"
