"""Working time and on-call rotations in the Django admin.

Shifts, extra shifts, on-call schedules, layers and overrides are
configuration: admins edit them here, with the same checks as the services
(a SPEC that parses, a known time zone). Time off is shown read-only: a
request becomes time off through a lead's decision on the schedule pages.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from expediter.core.errors import InvalidInput
from expediter.schedules.models import (
    ExtraShift,
    OnCallLayer,
    OnCallLayerMember,
    OnCallOverride,
    OnCallSchedule,
    Shift,
    TimeOff,
)
from expediter.schedules.services import canonical_hours, check_zone
from expediter.staff.admin import DeskAdminAccess, ReadOnlyAccess


def _checked(value: str, check: Any, field: str) -> str:
    try:
        return str(check(value, field=field))
    except InvalidInput as error:
        raise forms.ValidationError(error.detail) from None


class ShiftForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Shift
        fields = ("agent", "hours", "time_zone", "valid_from", "valid_until")

    def clean_hours(self) -> str:
        return _checked(self.cleaned_data["hours"], canonical_hours, "hours")

    def clean_time_zone(self) -> str:
        return _checked(self.cleaned_data["time_zone"], check_zone, "time_zone")


@admin.register(Shift)
class ShiftAdmin(DeskAdminAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    form = ShiftForm
    list_display = ("agent", "hours", "time_zone", "valid_from", "valid_until")
    list_select_related = ("agent",)
    search_fields = ("agent__name", "agent__email")


@admin.register(ExtraShift)
class ExtraShiftAdmin(DeskAdminAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("agent", "start", "end", "note")
    list_select_related = ("agent",)
    date_hierarchy = "start"


@admin.register(TimeOff)
class TimeOffAdmin(ReadOnlyAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("agent", "kind", "status", "start", "end", "decided_by")
    list_filter = ("status", "kind")
    list_select_related = ("agent", "decided_by")
    date_hierarchy = "start"


class OnCallScheduleForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = OnCallSchedule
        fields = ("name", "team", "time_zone", "description")

    def clean_time_zone(self) -> str:
        return _checked(self.cleaned_data["time_zone"], check_zone, "time_zone")


class OnCallOverrideInline(DeskAdminAccess, admin.TabularInline):  # type: ignore[type-arg]
    model = OnCallOverride
    fk_name = "schedule"
    fields = ("user", "start", "end", "note")
    extra = 0


@admin.register(OnCallSchedule)
class OnCallScheduleAdmin(DeskAdminAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    form = OnCallScheduleForm
    list_display = ("name", "team", "time_zone")
    list_select_related = ("team",)
    inlines = (OnCallOverrideInline,)


class OnCallLayerForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = OnCallLayer
        fields = (
            "schedule",
            "position",
            "name",
            "rotation_start",
            "turn_length",
            "restrictions",
            "starts_at",
            "ends_at",
        )
        help_texts = {
            "position": _("Higher layers take precedence over lower ones."),
            "turn_length": _("Whole days hand over at the same local time; e.g. 7 00:00:00."),
            "restrictions": _("Weekly windows, e.g. 'mon-fri 18:00-24:00'; empty: all week."),
        }

    def clean_restrictions(self) -> str:
        spec = self.cleaned_data["restrictions"].strip()
        return _checked(spec, canonical_hours, "restrictions") if spec else ""


class OnCallLayerMemberInline(DeskAdminAccess, admin.TabularInline):  # type: ignore[type-arg]
    model = OnCallLayerMember
    fields = ("position", "user")
    extra = 0
    verbose_name = _("member (in turn order)")
    verbose_name_plural = _("members (in turn order)")


@admin.register(OnCallLayer)
class OnCallLayerAdmin(DeskAdminAccess, admin.ModelAdmin):  # type: ignore[type-arg]
    form = OnCallLayerForm
    list_display = ("schedule", "position", "name", "rotation_start", "turn_length")
    list_select_related = ("schedule",)
    inlines = (OnCallLayerMemberInline,)
