"""Who may do what, by role. Object visibility lives in the tickets selectors."""

from __future__ import annotations

from expediter.staff.models import Role, User


def is_agent(user: User) -> bool:
    """Agents, leads and admins may work tickets."""
    return user.is_authenticated and user.is_active and user.role != Role.REQUESTER


def sees_everything(user: User) -> bool:
    return user.is_authenticated and user.role in (Role.LEAD, Role.ADMIN)


def may_write_internal(user: User) -> bool:
    """Internal notes, worklogs and ticket changes are for staff only."""
    return is_agent(user)


def may_manage_schedules(user: User) -> bool:
    return sees_everything(user)
