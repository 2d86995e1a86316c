"""The service catalogue and the priority matrix in the Django admin.

Tickets, their conversation and their history are shown read-only: every
change to them goes through the services, which record who did what.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from expediter.staff.admin import DeskAdminAccess, ReadOnlyAccess
from expediter.tickets.models import (
    Article,
    PriorityRule,
    Service,
    ServiceSkill,
    Ticket,
    TicketEvent,
    Worklog,
)


class ServiceSkillInline(DeskAdminAccess, admin.TabularInline):  # type: ignore[type-arg]
    model = ServiceSkill
    extra = 0
    verbose_name = _("required skill")
    verbose_name_plural = _("required skills")


@admin.register(Service)
class ServiceAdmin(DeskAdminAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "team", "is_active")
    list_filter = ("is_active", "team")
    list_select_related = ("team",)
    search_fields = ("name", "description")
    inlines = (ServiceSkillInline,)


@admin.register(PriorityRule)
class PriorityRuleAdmin(DeskAdminAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    """Cells that replace the default impact × urgency matrix."""

    list_display = ("impact", "urgency", "priority")
    list_editable = ("priority",)
    ordering = ("impact", "urgency")


class ReadOnlyModelAdmin(ReadOnlyAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    pass


@admin.register(Ticket)
class TicketAdmin(ReadOnlyModelAdmin):
    list_display = ("number", "subject", "status", "priority", "team", "assignee", "created_at")
    list_filter = ("status", "priority", "channel", "team")
    list_select_related = ("team", "assignee")
    search_fields = ("=number", "subject")
    date_hierarchy = "created_at"
    ordering = ("-id",)


@admin.register(Article)
class ArticleAdmin(ReadOnlyModelAdmin):
    list_display = ("ticket", "from_email", "internal", "channel", "kind", "created_at")
    list_filter = ("internal", "channel", "kind")
    list_select_related = ("ticket",)
    search_fields = ("=ticket__number", "from_email")


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyModelAdmin):
    list_display = ("ticket", "at", "actor", "verb", "reason")
    list_filter = ("verb",)
    list_select_related = ("ticket", "actor")
    search_fields = ("=ticket__number", "verb")


@admin.register(Worklog)
class WorklogAdmin(ReadOnlyModelAdmin):
    list_display = ("ticket", "agent", "minutes", "at")
    list_select_related = ("ticket", "agent")
    search_fields = ("=ticket__number", "agent__name")
