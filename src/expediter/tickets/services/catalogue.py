"""The service catalogue: categories, their team and required skills."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.utils.translation import gettext as _

from expediter.core.errors import InvalidInput
from expediter.staff.services import skill_get_or_create, team_get_or_create
from expediter.tickets.models import Service, ServiceSkill


@transaction.atomic
def service_save(
    *,
    name: str,
    team: str | None = None,
    skills: Mapping[str, int] | None = None,
    description: str = "",
) -> Service:
    """Create or update a service; the skills given replace its requirements."""
    name = name.strip()
    if not name:
        raise InvalidInput(_("a service needs a name"), field="name")
    service = Service.objects.filter(name__iexact=name).first() or Service(name=name)
    if team:
        service.team = team_get_or_create(name=team)
    if description:
        service.description = description
    service.save()
    if skills is not None:
        ServiceSkill.objects.filter(service=service).delete()
        for skill_name, level in skills.items():
            if not 1 <= level <= 5:
                raise InvalidInput(
                    _("minimum level of '%(skill)s' must be 1-5") % {"skill": skill_name},
                    field="skills",
                )
            ServiceSkill.objects.create(
                service=service, skill=skill_get_or_create(name=skill_name), min_level=level
            )
    return service
