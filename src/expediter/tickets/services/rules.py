"""Rules a hand-made assignment may break; the event records them as a warning."""

from __future__ import annotations

from expediter.core import clock
from expediter.schedules import selectors as schedules
from expediter.staff.models import AgentSkill, User
from expediter.tickets.models import ACTIVE_STATUSES, ServiceSkill, Ticket


def missing_skills(*, agent: User, ticket: Ticket) -> list[str]:
    """``["net 2/3 required"]`` for each skill the agent lacks at the service's minimum."""
    if ticket.service_id is None:
        return []
    required = ServiceSkill.objects.filter(service_id=ticket.service_id).select_related("skill")
    levels = dict(AgentSkill.objects.filter(agent=agent).values_list("skill__name", "level"))
    return [
        f"{req.skill.name} {levels.get(req.skill.name, 0)}/{req.min_level} required"
        for req in required
        if levels.get(req.skill.name, 0) < req.min_level
    ]


def manual_assignment_warnings(*, ticket: Ticket, agent: User) -> list[str]:
    """What the automatic engine would have refused, in words a lead understands."""
    now = clock.now()
    warnings = []
    if schedules.on_time_off(agent_id=agent.pk, at=now):
        warnings.append("on time off")
    elif not schedules.on_duty(agent_id=agent.pk, at=now):
        warnings.append("off duty")
    warnings.extend(missing_skills(agent=agent, ticket=ticket))
    active = (
        Ticket.objects.filter(assignee=agent, status__in=ACTIVE_STATUSES)
        .exclude(pk=ticket.pk)
        .count()
    )
    if active >= agent.capacity:
        warnings.append(f"at capacity {active}/{agent.capacity}")
    if ticket.team_id and not agent.memberships.filter(team_id=ticket.team_id).exists():
        warnings.append("not in the ticket's team")
    return warnings
