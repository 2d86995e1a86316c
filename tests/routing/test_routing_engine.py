"""The assignment engine: hard rules, policies, tie-breaks and the reasons it gives."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.routing.engine import (
    POLICIES,
    AgentFacts,
    Candidate,
    TicketFacts,
    assignment_reason,
    check_manual_assignment,
    choose_agent,
    could_take,
    eligibility,
    handover_reason,
    manual_assignment_reason,
    pull_reason,
    skills_score,
    someone_on_duty_could_take,
    wait_causes,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TEAM = 7
AUTOMATIC = ("skills", "least_loaded", "round_robin")


def agent(agent_id: int = 1, **changes: object) -> AgentFacts:
    facts = AgentFacts(
        id=agent_id,
        name=f"A{agent_id}",
        team_ids=frozenset({TEAM}),
        on_duty=True,
        on_time_off=False,
        duty_ends_at=NOW.replace(hour=18),
        skills={"net": 3},
        active=0,
        capacity=3,
        last_assigned_at=None,
    )
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


def ticket(**changes: object) -> TicketFacts:
    facts = TicketFacts(
        id=100,
        team_id=TEAM,
        priority=3,
        required_skills={"net": 3},
        due_at=NOW + timedelta(hours=8),
        created_at=NOW - timedelta(minutes=5),
    )
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


# Hard rules ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"team_ids": frozenset({TEAM + 1})}, "not in team"),
        ({"on_duty": False}, "off duty"),
        ({"on_time_off": True}, "on time off"),
        ({"on_time_off": True, "on_duty": False}, "on time off"),
        ({"skills": {"net": 2}}, "net 2/3 required"),
        ({"skills": {"win": 5}}, "lacks net (3 required)"),
        ({"active": 3}, "at capacity 3/3"),
        ({"active": 4}, "at capacity 4/3"),
        ({"capacity": 0}, "at capacity 0/0"),
    ],
)
def test_each_hard_rule_keeps_the_agent_out(changes: dict[str, object], why: str) -> None:
    # Given an agent breaking exactly one hard rule
    candidate = agent(1, **changes)

    # Then eligibility names the rule and no automatic policy picks them
    assert eligibility(candidate, ticket()) == why
    for policy in AUTOMATIC:
        assert choose_agent(ticket(), [candidate], policy=policy, now=NOW).agent_id is None


def test_an_agent_meeting_every_rule_is_eligible_and_picked() -> None:
    ready = agent(skills={"net": 3, "win": 1}, active=2)
    assert eligibility(ready, ticket()) is None
    for policy in AUTOMATIC:
        assert choose_agent(ticket(), [ready], policy=policy, now=NOW).agent_id == 1


def test_every_required_skill_must_reach_its_minimum() -> None:
    needs_two = ticket(required_skills={"net": 3, "win": 2})
    assert eligibility(agent(skills={"net": 5}), needs_two) == "lacks win (2 required)"
    assert (
        eligibility(agent(skills={"net": 2, "win": 1}), needs_two)
        == "net 2/3 required, win 1/2 required"
    )
    assert eligibility(agent(skills={"net": 3, "win": 2}), needs_two) is None


def test_a_ticket_without_required_skills_accepts_any_team_member() -> None:
    assert eligibility(agent(skills={}), ticket(required_skills={})) is None


def test_a_ticket_without_team_waits_for_triage() -> None:
    loose = ticket(team_id=None)
    assert eligibility(agent(), loose) == "ticket has no team"
    decision = choose_agent(loose, [agent()], policy="skills", now=NOW)
    assert decision.agent_id is None
    assert decision.reason == "ticket has no team: it waits for triage"


def test_agents_in_several_teams_serve_each_of_them() -> None:
    both = agent(team_ids=frozenset({TEAM, 99}))
    assert eligibility(both, ticket(team_id=99)) is None
    assert eligibility(both, ticket(team_id=TEAM)) is None


agents_strategy = st.lists(
    st.builds(
        AgentFacts,
        id=st.integers(1, 10_000),
        name=st.sampled_from(["A", "B", "C"]),
        team_ids=st.frozensets(st.integers(1, 3), max_size=2),
        on_duty=st.booleans(),
        on_time_off=st.booleans(),
        duty_ends_at=st.none() | st.just(NOW + timedelta(hours=3)),
        skills=st.dictionaries(st.sampled_from(["net", "win", "app"]), st.integers(1, 5)),
        active=st.integers(0, 5),
        capacity=st.integers(0, 5),
        last_assigned_at=st.none() | st.integers(0, 600).map(lambda m: NOW - timedelta(minutes=m)),
    ),
    max_size=12,
    unique_by=lambda agent: agent.id,  # people of a desk have an id each
)
tickets_strategy = st.builds(
    TicketFacts,
    id=st.integers(1, 100),
    team_id=st.none() | st.integers(1, 3),
    priority=st.integers(1, 4),
    required_skills=st.dictionaries(
        st.sampled_from(["net", "win", "app"]), st.integers(1, 5), max_size=2
    ),
    due_at=st.none() | st.integers(-120, 600).map(lambda m: NOW + timedelta(minutes=m)),
    created_at=st.just(NOW - timedelta(hours=1)),
)


@settings(max_examples=100, deadline=None)
@given(agents=agents_strategy, facts=tickets_strategy, policy=st.sampled_from(POLICIES))
def test_no_policy_ever_breaks_a_hard_rule(
    agents: list[AgentFacts], facts: TicketFacts, policy: str
) -> None:
    decision = choose_agent(facts, agents, policy=policy, now=NOW)
    qualified = [a for a in agents if eligibility(a, facts) is None]
    if decision.agent_id is not None:
        chosen = next(a for a in agents if a.id == decision.agent_id)
        assert eligibility(chosen, facts) is None
        assert check_manual_assignment(facts, chosen) == []
    # Someone qualified is always picked, except under manual, which never picks.
    assert (decision.agent_id is None) == (policy == "manual" or not qualified)
    assert sorted(c.agent_id for c in decision.candidates) == sorted(a.id for a in qualified)


# Policies and tie-breaks --------------------------------------------------


def test_skills_prefers_the_higher_level_at_equal_load() -> None:
    agents = [agent(1, skills={"net": 3}), agent(2, skills={"net": 5})]
    assert choose_agent(ticket(), agents, policy="skills", now=NOW).agent_id == 2


def test_skills_prefers_the_lighter_load_at_equal_level() -> None:
    agents = [agent(1, active=2), agent(2, active=1)]
    assert choose_agent(ticket(), agents, policy="skills", now=NOW).agent_id == 2


def test_skills_load_counts_relative_to_capacity() -> None:
    agents = [agent(1, active=2, capacity=3), agent(2, active=3, capacity=8)]
    assert choose_agent(ticket(), agents, policy="skills", now=NOW).agent_id == 2


def test_urgency_tips_skills_towards_the_expert() -> None:
    # Given an expert already busy and a free colleague just at the minimum level
    expert = agent(1, skills={"net": 4}, active=1)
    colleague = agent(2, skills={"net": 3}, active=0)
    relaxed = ticket(due_at=NOW + timedelta(days=2))
    pressing = ticket(due_at=NOW + timedelta(minutes=5), priority=1)

    # Then routine work keeps the load even, and the pressing ticket goes to the expert
    assert choose_agent(relaxed, [expert, colleague], policy="skills", now=NOW).agent_id == 2
    assert choose_agent(pressing, [expert, colleague], policy="skills", now=NOW).agent_id == 1
    assert skills_score(expert, pressing, now=NOW) > skills_score(expert, relaxed, now=NOW)


def test_skills_ties_go_to_the_least_recently_assigned_then_the_lowest_id() -> None:
    earlier, later = NOW - timedelta(hours=2), NOW - timedelta(hours=1)
    agents = [agent(3, last_assigned_at=later), agent(2, last_assigned_at=earlier)]
    assert choose_agent(ticket(), agents, policy="skills", now=NOW).agent_id == 2
    twins = [agent(5, last_assigned_at=earlier), agent(4, last_assigned_at=earlier)]
    assert choose_agent(ticket(), twins, policy="skills", now=NOW).agent_id == 4


def test_least_loaded_picks_the_smallest_share_of_capacity() -> None:
    agents = [agent(1, active=1, capacity=3), agent(2, active=2, capacity=8)]
    assert choose_agent(ticket(), agents, policy="least_loaded", now=NOW).agent_id == 2


def test_least_loaded_ignores_skill_level() -> None:
    agents = [agent(1, skills={"net": 5}, active=1), agent(2, skills={"net": 3}, active=0)]
    assert choose_agent(ticket(), agents, policy="least_loaded", now=NOW).agent_id == 2


def test_least_loaded_ties_go_to_fewer_tickets_then_rotation_then_id() -> None:
    same_share = [agent(1, active=2, capacity=4), agent(2, active=1, capacity=2)]
    assert choose_agent(ticket(), same_share, policy="least_loaded", now=NOW).agent_id == 2
    recent = [agent(1, last_assigned_at=NOW), agent(2, last_assigned_at=NOW - timedelta(hours=1))]
    assert choose_agent(ticket(), recent, policy="least_loaded", now=NOW).agent_id == 2
    assert (
        choose_agent(ticket(), [agent(9), agent(8)], policy="least_loaded", now=NOW).agent_id == 8
    )


def test_round_robin_rotates_by_last_assignment_then_id() -> None:
    # Given three agents never assigned
    team = [agent(3), agent(1), agent(2)]
    picked = []
    moment = NOW
    for _ in range(6):
        # When each pick stamps the chosen agent as just assigned
        chosen = choose_agent(ticket(), team, policy="round_robin", now=moment).agent_id
        picked.append(chosen)
        team = [
            dataclasses.replace(a, last_assigned_at=moment) if a.id == chosen else a for a in team
        ]
        moment += timedelta(minutes=1)
    # Then the never-assigned go first by id, and the rotation repeats
    assert picked == [1, 2, 3, 1, 2, 3]


def test_round_robin_ignores_load_and_skill() -> None:
    agents = [
        agent(1, skills={"net": 5}, active=0, last_assigned_at=NOW),
        agent(2, active=2, last_assigned_at=NOW - timedelta(hours=3)),
    ]
    assert choose_agent(ticket(), agents, policy="round_robin", now=NOW).agent_id == 2


def test_manual_never_picks_but_lists_who_qualifies() -> None:
    agents = [agent(1), agent(2, on_duty=False), agent(3, skills={"net": 5})]
    decision = choose_agent(ticket(), agents, policy="manual", now=NOW)
    assert decision.agent_id is None
    assert decision.reason == "team policy is manual: waits for a person to assign it (2 qualify)"
    assert [c.agent_id for c in decision.candidates] == [3, 1]


def test_candidates_are_the_qualified_agents_best_first() -> None:
    agents = [agent(1, active=2), agent(2, on_duty=False), agent(3)]
    skills = choose_agent(ticket(), agents, policy="skills", now=NOW)
    assert [c.agent_id for c in skills.candidates] == [3, 1]
    assert all(isinstance(c, Candidate) and c.score is not None for c in skills.candidates)
    rotation = choose_agent(ticket(), agents, policy="round_robin", now=NOW)
    assert [(c.agent_id, c.score) for c in rotation.candidates] == [(1, None), (3, None)]


def test_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown policy 'fastest'"):
        choose_agent(ticket(), [agent()], policy="fastest", now=NOW)


def test_no_agents_at_all() -> None:
    decision = choose_agent(ticket(), [], policy="skills", now=NOW)
    assert decision.agent_id is None
    assert decision.reason == "no eligible agent, waits in the team queue: nobody in the team"
    assert decision.candidates == ()


# Reasons ------------------------------------------------------------------


def test_reason_reads_like_the_lead_expects() -> None:
    expert = agent(1, skills={"net": 5}, active=1)
    absent = agent(2, on_duty=False)
    decision = choose_agent(ticket(), [expert, absent], policy="skills", now=NOW)
    assert decision.reason == (
        "A1: net 5/3 required, 1 of 3 active, on duty until 18:00; A2 skipped: off duty"
    )


def test_reason_shows_duty_end_in_the_agents_zone_with_the_day_when_not_today() -> None:
    paris = agent(1, time_zone=ZoneInfo("Europe/Paris"), duty_ends_at=NOW.replace(hour=17))
    assert "on duty until 18:00" in choose_agent(ticket(), [paris], policy="skills", now=NOW).reason
    overnight = agent(1, duty_ends_at=NOW + timedelta(hours=17))
    assert (
        "on duty until Tue 02:00"
        in choose_agent(ticket(), [overnight], policy="skills", now=NOW).reason
    )
    open_ended = agent(1, duty_ends_at=None)
    assert choose_agent(ticket(), [open_ended], policy="skills", now=NOW).reason.endswith(
        "0 of 3 active, on duty"
    )


def test_reason_explains_each_policys_runner_up() -> None:
    first, second = agent(1), agent(2, active=1, last_assigned_at=NOW - timedelta(minutes=30))
    by_policy = {
        policy: choose_agent(ticket(), [first, second], policy=policy, now=NOW).reason
        for policy in AUTOMATIC
    }
    assert by_policy["skills"].endswith("A2 ranked lower: net 3/3 required, 1 of 3 active")
    assert by_policy["least_loaded"].endswith("A2 ranked lower: 1 of 3 active")
    rotation = choose_agent(ticket(), [second, first], policy="round_robin", now=NOW).reason
    assert rotation.endswith("A2 ranked lower: assigned more recently (08:30)")


def test_reason_when_nobody_qualifies_lists_each_rule_broken() -> None:
    agents = [
        agent(1, on_duty=False),
        agent(2, active=3),
        agent(3, skills={"net": 1}),
        agent(4, on_time_off=True),
    ]
    decision = choose_agent(ticket(), agents, policy="least_loaded", now=NOW)
    assert decision.reason == (
        "no eligible agent, waits in the team queue: A1 skipped: off duty; "
        "A2 skipped: at capacity 3/3; A3 skipped: net 1/3 required; A4 skipped: on time off"
    )


def test_reason_never_mentions_other_teams() -> None:
    outsider = agent(9, team_ids=frozenset({TEAM + 1}), skills={"net": 5})
    decision = choose_agent(ticket(), [agent(1), outsider], policy="skills", now=NOW)
    assert "A9" not in decision.reason
    alone = choose_agent(ticket(), [outsider], policy="skills", now=NOW)
    assert alone.reason == "no eligible agent, waits in the team queue: nobody in the team"


def test_reason_stays_short_on_a_big_team() -> None:
    # Given a team of 40 where 30 are off duty and 10 qualify
    team = [agent(n, on_duty=n > 30) for n in range(1, 41)]
    decision = choose_agent(ticket(), team, policy="skills", now=NOW)

    # Then five others are named and the rest counted by cause
    assert decision.agent_id == 31
    named = decision.reason.split("; ")
    assert len(named) == 1 + 5 + 1
    assert named[-1] == "34 more: 4 ranked lower, 30 off duty"


def test_members_left_out_are_counted_by_rule_in_the_order_rules_are_checked() -> None:
    # Given a team where the caller lists three members and only counts the others
    listed = [agent(1), agent(2, skills={"net": 4}), agent(3, on_duty=False)]
    unlisted = {"lacking a skill": 4, "on time off": 2, "off duty": 0}

    decision = choose_agent(ticket(), listed, policy="skills", now=NOW, unlisted=unlisted)

    # Then the choice is made among the listed, and the counts close the reason
    assert decision.agent_id == 2
    assert decision.reason.endswith(
        "A1 ranked lower: net 3/3 required, 0 of 3 active; A3 skipped: off duty; "
        "6 more: 2 on time off, 4 lacking a skill"
    )
    assert wait_causes(ticket(), [], unlisted=unlisted) == ("lacking a skill", "on time off")


def test_a_team_only_counted_is_not_an_empty_team() -> None:
    decision = choose_agent(ticket(), [], policy="skills", now=NOW, unlisted={"off duty": 3})
    assert decision.reason == "no eligible agent, waits in the team queue: 3 more: 3 off duty"
    assert wait_causes(ticket(), [], unlisted={"off duty": 3}) == ("off duty",)
    assert wait_causes(ticket(), []) == ("nobody in the team",)


# Manual assignments -------------------------------------------------------


def test_manual_assignment_lists_every_rule_it_breaks() -> None:
    tired = agent(
        1,
        team_ids=frozenset({TEAM + 1}),
        on_duty=False,
        skills={"net": 2},
        active=3,
    )
    assert check_manual_assignment(ticket(), tired) == [
        "not in team",
        "off duty",
        "net 2/3 required",
        "at capacity 3/3",
    ]
    assert manual_assignment_reason(ticket(), tired) == (
        "assigned by hand although A1 is not in team, off duty, net 2/3 required, at capacity 3/3"
    )


def test_manual_assignment_within_the_rules_needs_no_warning() -> None:
    assert check_manual_assignment(ticket(), agent()) == []
    assert manual_assignment_reason(ticket(), agent()) is None


def test_manual_assignment_of_a_teamless_ticket_breaks_no_team_rule() -> None:
    assert check_manual_assignment(ticket(team_id=None), agent()) == []


def test_manual_assignment_reports_time_off_rather_than_off_duty() -> None:
    away = agent(on_duty=False, on_time_off=True)
    assert check_manual_assignment(ticket(), away) == ["on time off"]


# What the live desk asks of the engine ------------------------------------------------------------


def test_wait_causes_name_the_kind_of_obstacle_not_the_counts() -> None:
    busy = agent(1, active=3)
    home = agent(2, on_duty=False)
    assert wait_causes(ticket(), [busy, home]) == ("at capacity", "off duty")
    assert wait_causes(ticket(), [agent(1, active=3, capacity=5)]) == ()  # someone qualifies
    assert wait_causes(ticket(), [agent(1, team_ids=frozenset({99}))]) == ("nobody in the team",)
    assert wait_causes(ticket(), [agent(1, skills={"net": 1})]) == ("lacking a skill",)


def test_could_take_ignores_only_capacity() -> None:
    assert could_take(agent(active=3), ticket())
    assert not could_take(agent(on_duty=False), ticket())
    assert not could_take(agent(skills={"net": 2}), ticket())
    assert someone_on_duty_could_take(ticket(), [agent(1, on_duty=False), agent(2, active=3)])
    assert not someone_on_duty_could_take(ticket(), [agent(1, on_time_off=True)])


def test_reasons_for_automatic_pulled_and_handed_over_assignments() -> None:
    decision = choose_agent(
        ticket(), [agent(1), agent(2, on_duty=False)], policy="round_robin", now=NOW
    )
    assert assignment_reason("round_robin", decision) == (
        "Assigned automatically (round-robin policy). A1: net 3/3 required, 0 of 3 active, "
        "on duty until 18:00; A2 skipped: off duty"
    )
    pulled = pull_reason(
        agent(1, active=1), ticket(priority=2), policy="skills", now=NOW, trigger="freed capacity"
    )
    assert pulled == (
        "Pulled from the team queue: A1 freed capacity and took the most urgent waiting ticket "
        "they may take (P2, due 17:00). A1: net 3/3 required, 1 of 3 active, on duty until 18:00"
    )
    oldest = pull_reason(agent(1), ticket(due_at=None), policy="least_loaded", now=NOW, trigger="t")
    assert "took the oldest waiting ticket they may take (P3)." in oldest
    gone = handover_reason(agent(3, on_time_off=True), decision, policy="round_robin")
    assert gone.startswith("Handed over: A3 is on time off and the team hands tickets over. ")
