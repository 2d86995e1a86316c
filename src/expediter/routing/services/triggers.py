"""Which ticket events call for routing, and whose capacity they free."""

from __future__ import annotations

from typing import Any

from expediter.tickets.models import ACTIVE_STATUSES

ROUTING_VERBS = frozenset(
    {
        "created",
        "reopened",
        "status_changed",
        "assigned",
        "unassigned",
        "team_changed",
        "service_changed",
        "priority_changed",
    }
)


def freed_agents(*, verb: str, changes: dict[str, Any], assignee_id: int | None) -> list[int]:
    """Agents whose capacity an event freed: a ticket left their active work, or them."""
    if verb in ("status_changed", "reopened") and assignee_id is not None:
        before, after = (changes.get("status") or [None, None])[:2]
        if before in ACTIVE_STATUSES and after not in ACTIVE_STATUSES:
            return [assignee_id]
    if verb in ("assigned", "unassigned"):
        before = (changes.get("assignee") or [None, None])[0]
        if isinstance(before, dict) and before.get("id") is not None:
            return [int(before["id"])]
    return []
