"""Time off: requests, a lead's decision, and what approval does to duty."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from tests.factories import make_admin, make_agent, make_lead, make_requester

from expediter.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from expediter.schedules import selectors
from expediter.schedules.models import TimeOffStatus
from expediter.schedules.services import (
    shift_add,
    timeoff_cancel,
    timeoff_decide,
    timeoff_request,
)

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


@pytest.fixture
def agent():
    person = make_agent()
    shift_add(agent=person, hours="mon-fri 08:00-16:00", time_zone="Europe/Paris")
    return person


def _ask(agent, **kwargs):
    return timeoff_request(
        agent=agent,
        actor=kwargs.pop("actor", agent),
        start=local(2026, 3, 2, 0, 0),
        end=local(2026, 3, 4, 0, 0),
        kind=kwargs.pop("kind", "vacation"),
        reason="Ski trip",
    )


def test_a_request_counts_only_once_a_lead_approves_it(agent, at) -> None:
    at(local(2026, 2, 20, 9, 0))
    request = _ask(agent)
    monday = local(2026, 3, 2, 9, 0)
    assert request.status == TimeOffStatus.REQUESTED and request.requested_at is not None
    assert selectors.on_duty(agent_id=agent.pk, at=monday)
    assert list(selectors.time_off_pending()) == [request]
    lead = make_lead()
    decided = timeoff_decide(time_off_id=request.pk, approve=True, actor=lead, note="Enjoy")
    assert decided.status == TimeOffStatus.APPROVED and decided.decided_by == lead
    assert decided.decided_at == local(2026, 2, 20, 9, 0) and decided.decision_note == "Enjoy"
    assert selectors.on_time_off(agent_id=agent.pk, at=monday)
    assert not selectors.on_duty(agent_id=agent.pk, at=monday)
    assert list(selectors.time_off_pending()) == []


def test_a_rejected_request_leaves_duty_alone(agent) -> None:
    request = _ask(agent, kind="training")
    timeoff_decide(time_off_id=request.pk, approve=False, actor=make_lead())
    request.refresh_from_db()
    assert request.status == TimeOffStatus.REJECTED
    assert selectors.on_duty(agent_id=agent.pk, at=local(2026, 3, 2, 9, 0))


def test_only_leads_decide_once_and_never_on_their_own_time_off(agent) -> None:
    request = _ask(agent)
    with pytest.raises(NotPermitted):
        timeoff_decide(time_off_id=request.pk, approve=True, actor=make_agent())
    lead = make_lead()
    own = _ask(lead)
    with pytest.raises(NotPermitted, match="another lead"):
        timeoff_decide(time_off_id=own.pk, approve=True, actor=lead)
    timeoff_decide(time_off_id=own.pk, approve=True, actor=make_admin())
    timeoff_decide(time_off_id=request.pk, approve=True, actor=lead)
    with pytest.raises(Conflict, match="already approved"):
        timeoff_decide(time_off_id=request.pk, approve=False, actor=lead)
    with pytest.raises(NotFound):
        timeoff_decide(time_off_id=9999, approve=True, actor=lead)


def test_requests_are_for_oneself_unless_a_lead_asks(agent) -> None:
    with pytest.raises(NotPermitted):
        _ask(agent, actor=make_agent())
    by_lead = _ask(agent, actor=make_lead(), kind="sickness")
    assert by_lead.kind == "sickness" and by_lead.agent == agent
    with pytest.raises(InvalidInput):
        _ask(make_requester())
    with pytest.raises(InvalidInput, match="unknown kind"):
        _ask(agent, kind="party")


def test_an_agent_withdraws_an_undecided_request_only(agent) -> None:
    request = _ask(agent)
    other = _ask(agent)
    timeoff_cancel(time_off_id=request.pk, actor=agent)
    assert list(selectors.time_off_pending()) == [other]
    with pytest.raises(NotFound):
        timeoff_cancel(time_off_id=other.pk, actor=make_agent())
    timeoff_decide(time_off_id=other.pk, approve=True, actor=make_lead())
    with pytest.raises(Conflict):
        timeoff_cancel(time_off_id=other.pk, actor=agent)


def test_pending_requests_narrow_to_a_team(agent) -> None:
    network = make_agent(team="Network")
    mine = _ask(agent)
    _ask(network)
    team_id = agent.memberships.get().team_id
    assert list(selectors.time_off_pending(team_id=team_id)) == [mine]
