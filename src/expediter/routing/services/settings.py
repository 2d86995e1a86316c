"""A team's routing and staffing settings."""

from __future__ import annotations

from django.utils.translation import gettext as _

from expediter.core.errors import InvalidInput
from expediter.routing.models import TeamRoutingSettings
from expediter.staff.models import Team


def team_routing_settings_save(
    *,
    team: Team,
    handover_when_off_duty: bool | None = None,
    answer_within_minutes: int | None = None,
    service_level_target: float | None = None,
    shrinkage: float | None = None,
    default_handle_minutes: int | None = None,
    default_arrivals_per_hour: float | None = None,
) -> TeamRoutingSettings:
    """Change a team's routing settings; arguments left None keep their value."""
    found = TeamRoutingSettings.objects.filter(team=team).first()
    row = found or TeamRoutingSettings(team=team)
    if handover_when_off_duty is not None:
        row.handover_when_off_duty = handover_when_off_duty
    if answer_within_minutes is not None:
        _check(answer_within_minutes >= 1, "answer_within_minutes", _("at least one minute"))
        row.answer_within_minutes = answer_within_minutes
    if service_level_target is not None:
        _check(0 <= service_level_target <= 1, "service_level_target", _("between 0 and 1"))
        row.service_level_target = service_level_target
    if shrinkage is not None:
        _check(0 <= shrinkage < 1, "shrinkage", _("from 0 up to (not including) 1"))
        row.shrinkage = shrinkage
    if default_handle_minutes is not None:
        _check(default_handle_minutes >= 1, "default_handle_minutes", _("at least one minute"))
        row.default_handle_minutes = default_handle_minutes
    if default_arrivals_per_hour is not None:
        _check(default_arrivals_per_hour >= 0, "default_arrivals_per_hour", _("zero or more"))
        row.default_arrivals_per_hour = default_arrivals_per_hour
    row.save()
    return row


def _check(ok: bool, field_name: str, wanted: str) -> None:
    if not ok:
        message = _("%(field)s must be %(wanted)s") % {"field": field_name, "wanted": wanted}
        raise InvalidInput(message, field=field_name)
