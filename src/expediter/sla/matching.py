"""Which SLA policy applies to a ticket: pure, so the rule is tested without a database.

The contract's order: a policy matching on the organisation outranks one
matching on the service, which outranks one on the type, which outranks one
on the priority; between policies whose strongest criterion is the same, the
one with more criteria wins, then the newest. A policy with no criterion is
the desk's catch-all and loses to every other match.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

# Strength of each criterion in the contract's order (higher outranks lower).
ORGANISATION, SERVICE, TYPE, PRIORITY = 4, 3, 2, 1


@dataclass(frozen=True)
class TicketFacts:
    """What policies look at on a ticket."""

    priority: int
    service_id: int | None
    organisation_id: int | None
    type: str


@dataclass(frozen=True)
class PolicyCriteria:
    """A policy's criteria; None matches anything."""

    policy_id: int
    created_at: dt.datetime
    priority: int | None = None
    service_id: int | None = None
    organisation_id: int | None = None
    type: str | None = None

    def matches(self, facts: TicketFacts) -> bool:
        return (
            (self.priority is None or self.priority == facts.priority)
            and (self.service_id is None or self.service_id == facts.service_id)
            and (self.organisation_id is None or self.organisation_id == facts.organisation_id)
            and (self.type is None or self.type == facts.type)
        )

    def strengths(self) -> list[int]:
        given = (
            (self.organisation_id, ORGANISATION),
            (self.service_id, SERVICE),
            (self.type, TYPE),
            (self.priority, PRIORITY),
        )
        return [strength for value, strength in given if value is not None]

    def rank(self) -> tuple[int, int, dt.datetime, int]:
        """Strongest criterion, then how many, then newest (ids break exact ties)."""
        strengths = self.strengths()
        return (max(strengths, default=0), len(strengths), self.created_at, self.policy_id)


def best_policy(policies: Iterable[PolicyCriteria], facts: TicketFacts) -> PolicyCriteria | None:
    """The most specific policy matching ``facts``, or None when none does."""
    matching = [policy for policy in policies if policy.matches(facts)]
    return max(matching, key=PolicyCriteria.rank, default=None)
