"""Appointments and visits in the Django admin, read-only.

Booking, moving and planning carry rules (availability, invitations, the
ticket's history), so they only happen through the services and pages.
"""

from __future__ import annotations

from django.contrib import admin

from expediter.appointments.models import Appointment, Visit
from expediter.staff.admin import ReadOnlyAccess


class ReadOnlyModelAdmin(ReadOnlyAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    pass


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyModelAdmin):
    list_display = ("ticket", "agent", "start", "end", "kind", "status", "location")
    list_filter = ("status", "kind")
    list_select_related = ("ticket", "agent")
    search_fields = ("=ticket__number", "agent__name", "location")
    date_hierarchy = "start"
    ordering = ("-start",)


@admin.register(Visit)
class VisitAdmin(ReadOnlyModelAdmin):
    list_display = ("ticket", "site", "date", "window_start", "window_end", "status")
    list_filter = ("status",)
    list_select_related = ("ticket", "site")
    search_fields = ("=ticket__number", "site__name")
    date_hierarchy = "date"
