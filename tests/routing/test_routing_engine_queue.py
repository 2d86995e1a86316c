"""Which waiting ticket goes first: the urgency key, next_ticket_for and TicketQueue."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.routing.engine import (
    AgentFacts,
    TicketFacts,
    TicketQueue,
    next_ticket_for,
    urgency_key,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TEAM = 7


def agent(**changes: object) -> AgentFacts:
    facts = AgentFacts(
        id=1,
        name="A1",
        team_ids=frozenset({TEAM}),
        on_duty=True,
        on_time_off=False,
        duty_ends_at=None,
        skills={"net": 3, "win": 3},
        active=0,
        capacity=3,
        last_assigned_at=None,
    )
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


def ticket(
    ticket_id: int, *, due_in: float | None = 60, age: float = 10, **changes: object
) -> TicketFacts:
    facts = TicketFacts(
        id=ticket_id,
        team_id=TEAM,
        priority=3,
        required_skills={"net": 3},
        due_at=None if due_in is None else NOW + timedelta(minutes=due_in),
        created_at=NOW - timedelta(minutes=age),
    )
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


# The urgency key ------------------------------------------------------------


def test_priority_weighs_on_time_left() -> None:
    critical = ticket(1, due_in=80, priority=1)
    minor = ticket(2, due_in=20, priority=4)
    assert urgency_key(critical, now=NOW) < urgency_key(minor, now=NOW)


def test_at_equal_priority_the_earlier_deadline_goes_first() -> None:
    assert urgency_key(ticket(1, due_in=30), now=NOW) < urgency_key(ticket(2, due_in=31), now=NOW)


def test_breached_tickets_go_first_weightiest_ahead() -> None:
    fresh_critical = ticket(1, due_in=1, priority=1)
    breached_minor = ticket(2, due_in=-10, priority=4)
    breached_critical = ticket(3, due_in=-10, priority=1)
    keys = [urgency_key(t, now=NOW) for t in (breached_critical, breached_minor, fresh_critical)]
    assert keys == sorted(keys)
    assert len(set(keys)) == 3


def test_tickets_without_deadline_go_last() -> None:
    assert urgency_key(ticket(1, due_in=None, priority=1), now=NOW) > urgency_key(
        ticket(2, due_in=100_000, priority=4), now=NOW
    )


@settings(max_examples=100, deadline=None)
@given(
    priority=st.integers(1, 4),
    due_a=st.integers(-3000, 3000),
    due_b=st.integers(-3000, 3000),
    minutes_later=st.integers(0, 5000),
)
def test_for_one_priority_the_order_follows_due_time_whenever_it_is_read(
    priority: int, due_a: int, due_b: int, minutes_later: int
) -> None:
    # This is what lets TicketQueue keep one heap per priority without re-sorting.
    first = ticket(1, due_in=min(due_a, due_b), priority=priority)
    second = ticket(2, due_in=max(due_a, due_b), priority=priority)
    later = NOW + timedelta(minutes=minutes_later)
    assert urgency_key(first, now=later) <= urgency_key(second, now=later)


# next_ticket_for -------------------------------------------------------------


def test_skills_policy_pulls_the_most_urgent() -> None:
    waiting = [ticket(1, due_in=400, age=300), ticket(2, due_in=20, age=1, priority=2)]
    assert next_ticket_for(agent(), waiting, policy="skills", now=NOW) == waiting[1]


@pytest.mark.parametrize("policy", ["least_loaded", "round_robin"])
def test_other_policies_pull_the_oldest(policy: str) -> None:
    waiting = [ticket(1, due_in=20, age=1, priority=1), ticket(2, due_in=400, age=300)]
    assert next_ticket_for(agent(), waiting, policy=policy, now=NOW) == waiting[1]


def test_ties_go_to_the_oldest_then_lowest_id() -> None:
    same_due = [ticket(5, age=3), ticket(4, age=9), ticket(3, age=9)]
    assert next_ticket_for(agent(), same_due, policy="skills", now=NOW) == same_due[2]
    same_age = [ticket(8), ticket(6)]
    assert next_ticket_for(agent(), same_age, policy="round_robin", now=NOW) == same_age[1]


def test_a_free_agent_only_pulls_what_the_hard_rules_allow() -> None:
    waiting = [
        ticket(1, due_in=1, team_id=TEAM + 1),
        ticket(2, due_in=2, required_skills={"net": 4}),
        ticket(3, due_in=3, required_skills={"app": 1}),
        ticket(4, due_in=4, team_id=None),
        ticket(5, due_in=500),
    ]
    assert next_ticket_for(agent(), waiting, policy="skills", now=NOW) == waiting[4]
    assert next_ticket_for(agent(), waiting[:4], policy="skills", now=NOW) is None


@pytest.mark.parametrize(
    "changes",
    [{"on_duty": False}, {"on_time_off": True}, {"active": 3}, {"capacity": 0}],
)
def test_an_agent_without_room_pulls_nothing(changes: dict[str, object]) -> None:
    assert next_ticket_for(agent(**changes), [ticket(1)], policy="skills", now=NOW) is None


def test_manual_pulls_nothing() -> None:
    assert next_ticket_for(agent(), [ticket(1)], policy="manual", now=NOW) is None


def test_an_agent_leans_towards_work_they_do_faster_when_deadlines_are_close() -> None:
    # Given two priority 3 tickets due 10 minutes apart: the later one needs a skill
    # the agent masters (three levels above the minimum), the other one barely
    expert = agent(skills={"net": 3, "win": 5})
    waiting = [
        ticket(1, due_in=300, required_skills={"net": 3}),
        ticket(2, due_in=310, required_skills={"win": 2}),
    ]
    # Then the agent takes the one they work faster (the cμ rule's μ)
    assert next_ticket_for(expert, waiting, policy="skills", now=NOW) == waiting[1]
    # But not when the other is much closer to breach
    waiting[0] = ticket(1, due_in=100, required_skills={"net": 3})
    assert next_ticket_for(expert, waiting, policy="skills", now=NOW) == waiting[0]


# TicketQueue ----------------------------------------------------------------


def test_queue_pop_removes_and_peek_does_not() -> None:
    queue = TicketQueue("skills")
    queue.push(ticket(1, due_in=50))
    queue.push(ticket(2, due_in=40))
    assert len(queue) == 2
    assert queue.next_for(agent(), now=NOW) == ticket(2, due_in=40)
    assert len(queue) == 2
    assert queue.pop_for(agent(), now=NOW) == ticket(2, due_in=40)
    assert 2 not in queue and 1 in queue
    assert queue.pop_for(agent(), now=NOW) == ticket(1, due_in=50)
    assert queue.pop_for(agent(), now=NOW) is None
    assert len(queue) == 0


def test_queue_forgets_discarded_tickets() -> None:
    queue = TicketQueue("skills")
    queue.push(ticket(1, due_in=10))
    queue.push(ticket(2, due_in=20))
    queue.discard(1)
    queue.discard(99)
    assert queue.pop_for(agent(), now=NOW) == ticket(2, due_in=20)
    assert queue.pop_for(agent(), now=NOW) is None


def test_pushing_a_ticket_again_replaces_its_facts() -> None:
    queue = TicketQueue("skills")
    queue.push(ticket(1, due_in=10))
    queue.push(ticket(2, due_in=20))
    queue.push(ticket(1, due_in=30))
    assert len(queue) == 2
    assert queue.pop_for(agent(), now=NOW) == ticket(2, due_in=20)
    assert queue.pop_for(agent(), now=NOW) == ticket(1, due_in=30)
    assert queue.pop_for(agent(), now=NOW) is None


def test_queue_for_manual_never_hands_out_and_unknown_policy_is_refused() -> None:
    queue = TicketQueue("manual")
    queue.push(ticket(1))
    assert queue.next_for(agent(), now=NOW) is None
    with pytest.raises(ValueError, match="unknown policy"):
        TicketQueue("random")


def test_queue_serves_every_team_the_agent_belongs_to() -> None:
    queue = TicketQueue("round_robin")
    queue.push(ticket(1, team_id=3, age=50))
    queue.push(ticket(2, age=10))
    both = agent(team_ids=frozenset({TEAM, 3}))
    assert queue.pop_for(both, now=NOW) == ticket(1, team_id=3, age=50)
    assert queue.pop_for(agent(), now=NOW) == ticket(2, age=10)


tickets_strategy = st.lists(
    st.builds(
        TicketFacts,
        id=st.integers(1, 10_000),
        team_id=st.none() | st.integers(1, 3),
        priority=st.integers(1, 4),
        required_skills=st.dictionaries(
            st.sampled_from(["net", "win", "app"]), st.integers(1, 5), max_size=2
        ),
        due_at=st.none() | st.integers(-600, 3000).map(lambda m: NOW + timedelta(minutes=m)),
        created_at=st.integers(0, 3000).map(lambda m: NOW - timedelta(minutes=m)),
    ),
    max_size=30,
    unique_by=lambda t: t.id,
)
agents_strategy = st.lists(
    st.builds(
        AgentFacts,
        id=st.integers(1, 50),
        name=st.just("A"),
        team_ids=st.frozensets(st.integers(1, 3), min_size=1, max_size=2),
        on_duty=st.just(True),
        on_time_off=st.just(False),
        duty_ends_at=st.none(),
        skills=st.dictionaries(st.sampled_from(["net", "win", "app"]), st.integers(1, 5)),
        active=st.just(0),
        capacity=st.just(3),
        last_assigned_at=st.none(),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=100, deadline=None)
@given(
    tickets=tickets_strategy,
    agents=agents_strategy,
    policy=st.sampled_from(["skills", "least_loaded", "round_robin"]),
    minutes_later=st.integers(0, 2000),
)
def test_queue_hands_out_exactly_what_a_full_scan_would(
    tickets: list[TicketFacts], agents: list[AgentFacts], policy: str, minutes_later: int
) -> None:
    # Given the same waiting tickets in a TicketQueue and in a plain list
    queue = TicketQueue(policy)
    for facts in tickets:
        queue.push(facts)
    remaining = list(tickets)
    now = NOW + timedelta(minutes=minutes_later)

    # When agents take turns pulling until nobody can
    for turn in range(len(tickets) + len(agents)):
        puller = agents[turn % len(agents)]
        expected = next_ticket_for(puller, remaining, policy=policy, now=now)
        # Then the queue gives the ticket a full scan would choose
        assert queue.pop_for(puller, now=now) == expected
        if expected is not None:
            remaining.remove(expected)
    assert len(queue) == len(remaining)
