"""The sweep records each warning and breach exactly once and runs the escalations."""

from __future__ import annotations

import pytest
from tests.factories import make_agent, make_lead, make_ticket
from tests.sla.conftest import after

from expediter.core import periodic
from expediter.mail.models import Notification
from expediter.sla.models import EscalationAction, EscalationTrigger, SlaClock, SlaPolicy
from expediter.sla.selectors import ticket_sla_view
from expediter.sla.services import (
    EscalationSpec,
    PolicySpec,
    SweepResult,
    policy_update,
    sla_escalate,
    sla_sweep,
)
from expediter.sla.services.sweep import _BREACH, _claim
from expediter.tickets.models import Ticket, TicketEvent
from expediter.tickets.services import (
    TicketChanges,
    article_add,
    ticket_assign,
    ticket_set_status,
    ticket_update,
)

pytestmark = pytest.mark.django_db


def events(ticket: Ticket, verb: str) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket=ticket, verb=verb).order_by("id"))


def notified(user_id: int, kind: str) -> int:
    return Notification.objects.filter(user_id=user_id, kind=kind).count()


def with_escalations(policy: SlaPolicy, *rules: EscalationSpec) -> None:
    policy_update(
        policy_id=policy.pk,
        spec=PolicySpec(
            name=policy.name,
            calendar=policy.calendar.name,
            priority=policy.priority,
            first_response_minutes=policy.first_response_minutes,
            resolution_minutes=policy.resolution_minutes,
            next_response_minutes=policy.next_response_minutes,
        ),
        escalations=rules,
    )


def test_the_warning_is_recorded_once_and_tells_the_assignee_and_the_lead(
    per_priority, monday
) -> None:
    agent, lead = make_agent(), make_lead()
    ticket = make_ticket(team="Service Desk")
    ticket_assign(ticket_id=ticket.pk, assignee=agent, actor=lead)
    monday(191)
    assert sla_sweep().warnings == 0  # 80 % of 240 minutes is 192
    monday(193)
    assert sla_sweep().warnings == 1
    assert sla_sweep().warnings == 0
    (warning,) = events(ticket, "sla_warning")
    assert warning.actor is None and warning.changes["clock"] == [None, "first_response"]
    assert notified(agent.pk, "sla_warning") == notified(lead.pk, "sla_warning") == 1


def test_a_breach_is_recorded_exactly_once_even_when_the_sweep_runs_twice(
    per_priority, monday
) -> None:
    agent = make_agent()
    ticket = make_ticket()
    ticket_assign(ticket_id=ticket.pk, assignee=agent, actor=agent)
    monday(240)
    assert sla_sweep().breaches == 0  # due at 240: not late yet
    monday(241)
    first, second = sla_sweep(), sla_sweep()
    assert (first.breaches, second.breaches) == (1, 0)
    assert len(events(ticket, "sla_breached")) == 1
    assert notified(agent.pk, "sla_breached") == 1
    view = ticket_sla_view(ticket.pk)
    assert view is not None and view.clock("first_response").breached  # type: ignore[union-attr]


def test_a_clock_found_past_both_thresholds_is_recorded_as_breached_only(
    per_priority, monday
) -> None:
    ticket = make_ticket()
    monday(241)
    assert sla_sweep() == SweepResult(warnings=0, breaches=1)
    assert sla_sweep() == SweepResult(warnings=0, breaches=0)
    assert not events(ticket, "sla_warning")


def test_the_conditional_update_lets_only_one_claim_win(per_priority, monday) -> None:
    first, second = make_ticket(), make_ticket()
    monday(300)
    ids = list(
        SlaClock.objects.filter(kind="first_response").order_by("pk").values_list("pk", flat=True)
    )
    now = after(300)
    assert _claim(_BREACH, ids[:1], now) == ids[:1]
    assert _claim(_BREACH, ids, now) == ids[1:]  # a second worker holding the same rows
    assert _claim(_BREACH, ids, now) == []
    assert sla_sweep() == SweepResult(warnings=0, breaches=0)  # claimed ones stay claimed
    assert not events(first, "sla_breached") and not events(second, "sla_breached")


def test_escalations_run_once_even_when_their_task_runs_twice(per_priority, monday) -> None:
    agent = make_agent()
    ticket = make_ticket()
    ticket_assign(ticket_id=ticket.pk, assignee=agent, actor=agent)
    monday(241)
    sla_sweep()
    row = SlaClock.objects.get(ticket=ticket, kind="first_response")
    assert row.breach_escalated_at is not None
    assert sla_escalate(clock_ids=[row.pk], trigger="breach") == 0
    assert notified(agent.pk, "sla_breached") == 1


def test_a_lost_escalation_is_enqueued_again_by_a_later_sweep(per_priority, monday) -> None:
    agent = make_agent()
    ticket = make_ticket()
    ticket_assign(ticket_id=ticket.pk, assignee=agent, actor=agent)
    monday(241)
    sla_sweep()
    SlaClock.objects.filter(ticket=ticket).update(breach_escalated_at=None)  # its task vanished
    Notification.objects.all().delete()
    monday(245)
    sla_sweep()
    assert notified(agent.pk, "sla_breached") == 0  # not yet taken for lost
    monday(260)
    sla_sweep()
    assert notified(agent.pk, "sla_breached") == 1


def test_a_paused_clock_neither_warns_nor_breaches(per_priority, monday) -> None:
    agent, ticket = make_agent(), make_ticket()
    article_add(ticket_id=ticket.pk, author=agent, actor=agent, body="Looking")
    ticket_set_status(ticket_id=ticket.pk, status="waiting_requester", actor=agent)
    monday(5000)
    assert sla_sweep() == SweepResult(warnings=0, breaches=0)


def test_a_breach_seen_after_the_clock_stopped_is_recorded_without_escalating(
    per_priority, monday
) -> None:
    agent = make_agent()
    ticket = make_ticket()
    ticket_assign(ticket_id=ticket.pk, assignee=agent, actor=agent)
    monday(250)
    article_add(ticket_id=ticket.pk, author=agent, actor=agent, body="Sorry for the wait")
    assert sla_sweep().breaches == 1
    (breach,) = events(ticket, "sla_breached")
    assert breach.at == after(240)  # the history says when it happened
    assert "after the clock stopped" in (breach.reason or "")
    assert notified(agent.pk, "sla_breached") == 0


def test_a_breach_can_send_the_ticket_back_to_its_team_queue(per_priority, monday) -> None:
    with_escalations(
        per_priority[3], EscalationSpec(EscalationTrigger.BREACH, EscalationAction.UNASSIGN)
    )
    agent = make_agent()
    ticket = make_ticket(team="Service Desk")
    ticket_assign(ticket_id=ticket.pk, assignee=agent, actor=agent)
    monday(241)
    sla_sweep()
    ticket.refresh_from_db()
    assert ticket.assignee_id is None and ticket.status == "new"
    (unassigned,) = events(ticket, "unassigned")
    assert unassigned.actor is None and "SLA breach" in (unassigned.reason or "")
    sla_sweep()
    assert len(events(ticket, "unassigned")) == 1


def test_a_breach_can_hand_the_ticket_to_a_named_person(per_priority, monday) -> None:
    senior = make_agent(name="Senior Sam")
    with_escalations(
        per_priority[3],
        EscalationSpec(EscalationTrigger.BREACH, EscalationAction.ASSIGN, assignee_id=senior.pk),
    )
    ticket = make_ticket()
    monday(241)
    sla_sweep()
    ticket.refresh_from_db()
    assert ticket.assignee_id == senior.pk
    assert "escalated to Senior Sam" in (events(ticket, "assigned")[-1].reason or "")


def test_raising_the_priority_on_breach_re_targets_without_a_second_breach(
    per_priority, monday
) -> None:
    with_escalations(
        per_priority[3],
        EscalationSpec(EscalationTrigger.BREACH, EscalationAction.RAISE_PRIORITY, priority=1),
    )
    ticket = make_ticket()
    monday(241)
    first = sla_sweep()
    ticket.refresh_from_db()
    assert ticket.priority == 1 and ticket.priority_overridden
    view = ticket_sla_view(ticket.pk)
    assert view is not None and view.policy == "P1"
    # P1's resolution target (4 h) has passed too: that is a breach of its own clock
    assert first.breaches + sla_sweep().breaches == 2
    assert sorted(e.changes["clock"][1] for e in events(ticket, "sla_breached")) == [
        "first_response",
        "resolution",
    ]
    assert sla_sweep().breaches == 0


def test_lowering_the_priority_clears_a_breach_that_is_no_longer_one(per_priority, monday) -> None:
    agent = make_agent()
    ticket = make_ticket(impact=1, urgency=1)  # P1: first response in 30 minutes
    monday(31)
    assert sla_sweep().breaches == 1
    ticket_update(
        ticket_id=ticket.pk,
        actor=agent,
        changes=TicketChanges(given=frozenset({"priority"}), priority=4),
    )
    row = SlaClock.objects.get(ticket=ticket, kind="first_response")
    assert row.breach_recorded_at is None and row.breach_at == after(480)
    view = ticket_sla_view(ticket.pk)
    assert view is not None and not view.clock("first_response").breached  # type: ignore[union-attr]


def test_the_worker_schedules_the_sweep_every_fifteen_seconds(per_priority, monday) -> None:
    job = next(job for job in periodic.registered() if job.name == "sla.sweep")
    assert job.every.total_seconds() == 15
    ticket = make_ticket()
    monday(241)
    assert "sla.sweep" in periodic.tick()  # the test backend runs the task at once
    assert len(events(ticket, "sla_breached")) == 1
