"""The most specific policy wins: organisation, service, type, priority; then count; then age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.sla.matching import PolicyCriteria, TicketFacts, best_policy

DAY = datetime(2026, 1, 1, tzinfo=UTC)
TICKET = TicketFacts(priority=2, service_id=7, organisation_id=3, type="incident")


def policy(pk: int, age_days: int = 0, **criteria: object) -> PolicyCriteria:
    return PolicyCriteria(policy_id=pk, created_at=DAY - timedelta(days=age_days), **criteria)  # type: ignore[arg-type]


def chosen(*policies: PolicyCriteria, facts: TicketFacts = TICKET) -> int | None:
    best = best_policy(policies, facts)
    return None if best is None else best.policy_id


def test_no_match_no_policy() -> None:
    assert chosen(policy(1, priority=1), policy(2, service_id=8)) is None
    assert chosen() is None


def test_a_policy_without_criteria_catches_everything_but_loses_to_any_match() -> None:
    assert chosen(policy(1)) == 1
    assert chosen(policy(1), policy(2, priority=2)) == 2


def test_organisation_outranks_service_outranks_type_outranks_priority() -> None:
    org, service = policy(1, organisation_id=3), policy(2, service_id=7)
    kind, prio = policy(3, type="incident"), policy(4, priority=2)
    assert chosen(prio, kind, service, org) == 1
    assert chosen(prio, kind, service) == 2
    assert chosen(prio, kind) == 3


def test_a_stronger_criterion_beats_more_criteria() -> None:
    assert chosen(policy(1, service_id=7), policy(2, type="incident", priority=2)) == 1


def test_with_the_same_strongest_criterion_more_criteria_win() -> None:
    assert chosen(policy(1, service_id=7), policy(2, service_id=7, priority=2)) == 2
    assert chosen(policy(1, organisation_id=3, priority=2), policy(2, organisation_id=3)) == 1


def test_then_the_newest_wins() -> None:
    assert chosen(policy(1, age_days=0, priority=2), policy(2, age_days=5, priority=2)) == 1
    assert chosen(policy(1, age_days=5, priority=2), policy(2, age_days=0, priority=2)) == 2


def test_every_criterion_must_match() -> None:
    assert chosen(policy(1, service_id=7, priority=1), policy(2, priority=2)) == 2


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "priority": st.integers(1, 4),
                "service_id": st.integers(6, 8),
                "organisation_id": st.integers(2, 4),
                "type": st.sampled_from(["incident", "service_request"]),
            },
        ),
        max_size=8,
    )
)
def test_the_winner_matches_and_no_match_outranks_it(candidates: list[dict[str, object]]) -> None:
    policies = [policy(pk, age_days=pk % 3, **c) for pk, c in enumerate(candidates, 1)]
    best = best_policy(policies, TICKET)
    matching = [p for p in policies if p.matches(TICKET)]
    if best is None:
        assert matching == []
        return
    assert best.matches(TICKET)
    assert all(p.rank() <= best.rank() for p in matching)
