"""Duty in bulk (what routing reads) and a team's week (what the pages show)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from tests.factories import make_agent

from expediter.schedules import selectors
from expediter.schedules.services import (
    extra_shift_add,
    shift_add,
    timeoff_add,
    timeoff_request,
)
from expediter.staff.models import Team

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def _crew():
    early = make_agent(name="Early")
    shift_add(agent=early, hours="mon-fri 07:00-15:00", time_zone="Europe/Paris")
    late = make_agent(name="Late")
    shift_add(agent=late, hours="mon-fri 12:00-20:00", time_zone="Europe/Paris")
    night = make_agent(name="Night")
    shift_add(
        agent=night, hours="mon-sun 22:00-24:00; mon-sun 00:00-06:00", time_zone="Europe/Paris"
    )
    extra = make_agent(name="Extra")
    extra_shift_add(agent=extra, start=local(2026, 3, 3, 9, 0), end=local(2026, 3, 3, 13, 0))
    timeoff_add(agent=late, start=local(2026, 3, 3, 16, 0), end=local(2026, 3, 4, 0, 0))
    timeoff_add(agent=early, start=local(2026, 3, 2, 0, 0), end=local(2026, 3, 3, 0, 0))
    return early, late, night, extra


def test_bulk_duty_agrees_with_the_one_agent_readers() -> None:
    crew = _crew()
    ids = [a.pk for a in crew]
    for hour in range(0, 48, 1):
        moment = local(2026, 3, 2, 0, 30) + dt.timedelta(hours=hour)
        states = selectors.duty_states(agent_ids=ids, at=moment)
        for agent in crew:
            state = states[agent.pk]
            assert state.on_duty == selectors.on_duty(agent_id=agent.pk, at=moment)
            assert state.on_time_off == selectors.on_time_off(agent_id=agent.pk, at=moment)
            assert state.duty_ends_at == selectors.duty_ends_at(agent_id=agent.pk, at=moment)


def test_duty_ends_where_time_off_or_the_shift_ends() -> None:
    early, late, night, extra = _crew()
    at = local(2026, 3, 3, 12, 30)
    states = selectors.duty_states(agent_ids=[early.pk, late.pk, night.pk, extra.pk], at=at)
    assert states[early.pk].duty_ends_at == local(2026, 3, 3, 15, 0)
    assert states[late.pk].duty_ends_at == local(2026, 3, 3, 16, 0)  # time off starts then
    assert not states[night.pk].on_duty and states[night.pk].duty_ends_at is None
    assert states[extra.pk].on_duty and states[extra.pk].duty_ends_at == local(2026, 3, 3, 13, 0)
    midnight = selectors.duty_states(agent_ids=[night.pk], at=local(2026, 3, 3, 23, 0))
    assert midnight[night.pk].duty_ends_at == local(2026, 3, 4, 6, 0)  # across midnight
    assert [a.name for a in selectors.agents_on_duty(team_id=early.teams.get().pk, at=at)] == [
        "Early",
        "Extra",
        "Late",
    ]


def test_the_team_week_shows_duty_and_absences_day_by_day(django_assert_max_num_queries) -> None:
    _crew_early, _late, night, _extra = _crew()
    timeoff_request(
        agent=night, actor=night, start=local(2026, 3, 6, 0, 0), end=local(2026, 3, 7, 0, 0)
    )
    team = Team.objects.get(name="Service Desk")
    with django_assert_max_num_queries(5):
        weeks = selectors.team_week(team_id=team.pk, week_start=dt.date(2026, 3, 4), zone=PARIS)
    assert [w.agent.name for w in weeks] == ["Early", "Extra", "Late", "Night"]
    early_week = weeks[0]
    assert early_week.days[0].day == dt.date(2026, 3, 2)  # back to Monday
    assert early_week.days[0].duty == [] and early_week.days[0].absences[0].status == "approved"
    assert early_week.days[1].duty == [(local(2026, 3, 3, 7, 0), local(2026, 3, 3, 15, 0))]
    assert early_week.duty_minutes == 4 * 8 * 60
    night_friday = weeks[3].days[4]
    assert night_friday.absences[0].status == "requested"
    assert night_friday.duty == [
        (local(2026, 3, 6, 0, 0), local(2026, 3, 6, 6, 0)),
        (local(2026, 3, 6, 22, 0), local(2026, 3, 7, 0, 0)),
    ]  # requested time off does not count yet
    late_tuesday = weeks[2].days[1]
    assert late_tuesday.duty == [(local(2026, 3, 3, 12, 0), local(2026, 3, 3, 16, 0))]


def test_week_days_cross_the_spring_change() -> None:
    agent = make_agent()
    shift_add(agent=agent, hours="mon-sun 00:00-24:00", time_zone="Europe/Paris")
    (week,) = selectors.team_week(
        team_id=agent.teams.get().pk, week_start=dt.date(2026, 3, 23), zone=PARIS
    )
    assert [d.duty_minutes for d in week.days] == [1440] * 6 + [1380]
