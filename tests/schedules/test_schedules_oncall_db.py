"""On-call schedules stored and read back: layers, restrictions, overrides, team lookup."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from tests.factories import make_agent, make_lead, make_requester

from expediter.core.errors import Conflict, InvalidInput, NotPermitted
from expediter.schedules import selectors
from expediter.schedules.services import (
    oncall_layer_add,
    oncall_override_add,
    oncall_schedule_create,
)
from expediter.staff.models import Team

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


@pytest.fixture
def crew():
    return [make_agent(team="Network", name=name) for name in ("Ann", "Bob", "Cyd")]


@pytest.fixture
def schedule(crew):
    ann, bob, cyd = crew
    schedule = oncall_schedule_create(
        name="Network on call", team=Team.objects.get(name="Network"), time_zone="Europe/Paris"
    )
    oncall_layer_add(
        schedule=schedule,
        name="Weekly",
        rotation_start=local(2026, 3, 23, 9, 0),
        turn_length=dt.timedelta(days=7),
        members=[ann, bob],
    )
    oncall_layer_add(
        schedule=schedule,
        name="Weekend days",
        rotation_start=local(2026, 3, 21, 8, 0),
        turn_length=dt.timedelta(days=1),
        members=[cyd],
        restrictions="sat-sun 08:00-20:00",
    )
    return schedule


def test_who_is_on_call_follows_layers_and_restrictions_across_dst(schedule, crew) -> None:
    ann, bob, cyd = crew
    team = Team.objects.get(name="Network")
    assert selectors.on_call_for_team(team_id=team.pk, at=local(2026, 3, 23, 8, 0)) is None
    monday = selectors.on_call_for_team(team_id=team.pk, at=local(2026, 3, 24, 3, 0))
    assert monday is not None and monday.user == ann and monday.source == "Weekly"
    assert monday.until == local(2026, 3, 28, 8, 0)  # the weekend layer takes over
    saturday = selectors.on_call_for_team(team_id=team.pk, at=local(2026, 3, 28, 9, 0))
    assert (
        saturday is not None
        and saturday.user == cyd
        and saturday.until == local(2026, 3, 28, 20, 0)
    )
    # Sunday 29 March is the spring change: the weekly handoff stays at 09:00 local
    handoff = selectors.on_call_for_team(team_id=team.pk, at=local(2026, 3, 30, 9, 0))
    assert handoff is not None and handoff.user == bob
    before = selectors.on_call_for_team(team_id=team.pk, at=local(2026, 3, 30, 8, 59))
    assert before is not None and before.user == ann


def test_an_override_sits_on_top_and_shows_in_the_final_schedule(schedule, crew) -> None:
    _ann, bob, _cyd = crew
    lead = make_lead(team="Network")
    oncall_override_add(
        schedule=schedule,
        user=bob,
        start=local(2026, 3, 25, 18, 0),
        end=local(2026, 3, 26, 8, 0),
        note="swap",
        actor=lead,
    )
    answer = selectors.oncall_overview(at=local(2026, 3, 25, 20, 0))[0]
    assert answer.user == bob and answer.source == "override"
    assert answer.until == local(2026, 3, 26, 8, 0)
    timeline = selectors.oncall_timelines(
        schedules=list(selectors.oncall_schedules()),
        start=local(2026, 3, 25, 0, 0),
        end=local(2026, 3, 27, 0, 0),
    )[schedule.pk]
    assert [(s.user.name, s.source) for s in timeline] == [
        ("Ann", "Weekly"),
        ("Bob", "override"),
        ("Ann", "Weekly"),
    ]


def test_the_overview_costs_the_same_queries_for_many_schedules(
    crew, django_assert_max_num_queries
) -> None:
    for n in range(6):
        schedule = oncall_schedule_create(name=f"Rota {n}")
        oncall_layer_add(
            schedule=schedule,
            name="Daily",
            rotation_start=local(2026, 3, 1, 9, 0),
            turn_length=dt.timedelta(days=1),
            members=crew,
        )
        oncall_override_add(
            schedule=schedule,
            user=crew[0],
            start=local(2026, 3, 2, 0, 0),
            end=local(2026, 3, 3, 0, 0),
        )
    with django_assert_max_num_queries(5):
        answers = selectors.oncall_overview(at=local(2026, 3, 2, 12, 0))
    assert len(answers) == 6 and {a.user for a in answers} == {crew[0]}


def test_schedules_refuse_bad_input(crew) -> None:
    schedule = oncall_schedule_create(name="Rota")
    with pytest.raises(Conflict):
        oncall_schedule_create(name="rota")
    with pytest.raises(InvalidInput, match="time zone"):
        oncall_schedule_create(name="Mars", time_zone="Mars/Olympus")
    with pytest.raises(NotPermitted):
        oncall_schedule_create(name="Mine", actor=crew[0])
    common = {"schedule": schedule, "name": "L", "rotation_start": local(2026, 3, 1, 9, 0)}
    with pytest.raises(InvalidInput, match="at least one hour"):
        oncall_layer_add(**common, turn_length=dt.timedelta(minutes=30), members=crew)
    with pytest.raises(InvalidInput, match="at least one member"):
        oncall_layer_add(**common, turn_length=dt.timedelta(days=1), members=[])
    with pytest.raises(InvalidInput, match="not an active agent"):
        oncall_layer_add(**common, turn_length=dt.timedelta(days=1), members=[make_requester()])
    with pytest.raises(InvalidInput) as error:
        oncall_layer_add(
            **common, turn_length=dt.timedelta(days=1), members=crew, restrictions="mon 9-10"
        )
    assert error.value.field == "restrictions"
    with pytest.raises(InvalidInput, match="end after"):
        oncall_override_add(
            schedule=schedule,
            user=crew[0],
            start=local(2026, 3, 2, 0, 0),
            end=local(2026, 3, 1, 0, 0),
        )


def test_layers_stack_in_the_order_they_are_added(crew) -> None:
    schedule = oncall_schedule_create(name="Rota")
    first = oncall_layer_add(
        schedule=schedule,
        name="",
        rotation_start=local(2026, 3, 1, 9, 0),
        turn_length=dt.timedelta(days=1),
        members=crew[:1],
    )
    second = oncall_layer_add(
        schedule=schedule,
        name="Top",
        rotation_start=local(2026, 3, 1, 9, 0),
        turn_length=dt.timedelta(days=1),
        members=crew[1:2],
    )
    assert (first.position, first.name, second.position) == (1, "Layer 1", 2)
    assert selectors.oncall_overview(at=local(2026, 3, 2, 12, 0))[0].user == crew[1]
    assert list(selectors.schedules_of(crew[0])) == [schedule]
