"""Configuration of people, teams, skills and places in the Django admin.

Access follows the desk's roles rather than Django's per-model permissions:
whoever has the ``admin`` role configures the desk. Leads and agents do
their work in the pages, not here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from expediter.staff.models import (
    AgentSkill,
    Organisation,
    Role,
    Site,
    Skill,
    Team,
    TeamMembership,
    User,
)


def is_desk_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(
        user.is_authenticated
        and user.is_active
        and (getattr(user, "role", None) == Role.ADMIN or user.is_superuser)
    )


class DeskAdminAccess:
    """Everything for the desk's administrators, nothing for anyone else."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_desk_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_desk_admin(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_desk_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_desk_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_desk_admin(request)


class ReadOnlyAccess(DeskAdminAccess):
    """Viewable only: changes to these carry rules that only the services apply."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TeamMembershipInline(DeskAdminAccess, admin.TabularInline):  # type: ignore[type-arg]
    model = TeamMembership
    extra = 0
    verbose_name = _("team membership")
    verbose_name_plural = _("team memberships")


class AgentSkillInline(DeskAdminAccess, admin.TabularInline):  # type: ignore[type-arg]
    model = AgentSkill
    extra = 0
    verbose_name = _("skill")
    verbose_name_plural = _("skills")


class DeskUserAddForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name", "role")

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].strip()
        if User.objects.with_email(email).exists():
            raise forms.ValidationError(_("A person with this email already exists."))
        return email


class DeskUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class DeskUserAdmin(DeskAdminAccess, UserAdmin):  # type: ignore[type-arg]
    form = DeskUserChangeForm
    add_form = DeskUserAddForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("Person"),
            {"fields": ("name", "phone", "language", "time_zone", "organisation", "site")},
        ),
        (_("Work"), {"fields": ("role", "capacity", "is_active")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "name", "role", "usable_password", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")
    list_display = ("email", "name", "role", "capacity", "is_active")
    list_filter = ("role", "is_active", "teams")
    search_fields = ("email", "name", "phone")
    ordering = ("name", "id")
    filter_horizontal = ()
    inlines = (TeamMembershipInline, AgentSkillInline)


@admin.register(Team)
class TeamAdmin(DeskAdminAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "assignment_policy", "email")
    list_filter = ("assignment_policy",)
    search_fields = ("name",)


@admin.register(Skill)
class SkillAdmin(DeskAdminAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name",)
    search_fields = ("name",)


@admin.register(Organisation)
class OrganisationAdmin(DeskAdminAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "members_see_all_tickets")
    list_filter = ("members_see_all_tickets",)
    search_fields = ("name",)


@admin.register(Site)
class SiteAdmin(DeskAdminAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "latitude", "longitude")
    search_fields = ("name", "address")
