"""Routing settings in the Django admin; the waiting queue is only shown there."""

from __future__ import annotations

from django.contrib import admin

from expediter.routing.models import QueuedTicket, TeamRoutingSettings
from expediter.staff.admin import DeskAdminAccess, ReadOnlyAccess


@admin.register(TeamRoutingSettings)
class TeamRoutingSettingsAdmin(DeskAdminAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "team",
        "handover_when_off_duty",
        "answer_within_minutes",
        "service_level_target",
        "shrinkage",
    )
    list_select_related = ("team",)


@admin.register(QueuedTicket)
class QueuedTicketAdmin(ReadOnlyAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("ticket", "team", "priority", "due_at", "reason_key", "paged_at")
    list_filter = ("team", "priority", "reason_key")
    list_select_related = ("ticket", "team")
