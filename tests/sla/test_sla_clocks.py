"""Clocks follow every ticket write in its transaction, replayed from the ticket's history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.factories import make_agent, make_requester, make_ticket
from tests.sla.conftest import after

from expediter.core import hooks
from expediter.core.errors import Conflict
from expediter.sla import timeline
from expediter.sla.demo import build_demo_sla
from expediter.sla.models import Calendar, SlaClock, SlaPolicy
from expediter.sla.selectors import ticket_sla_view
from expediter.sla.services import (
    CalendarSpec,
    Holiday,
    PolicySpec,
    calendar_assign,
    calendar_create,
    calendar_delete,
    on_ticket_event,
    policy_create,
    policy_delete,
    policy_update,
    sla_rebuild_all,
)
from expediter.staff.services import organisation_get_or_create
from expediter.tickets import models as ticket_models
from expediter.tickets.services import (
    TicketChanges,
    article_add,
    ticket_set_status,
    ticket_update,
)
from expediter.tickets.services.catalogue import service_save

pytestmark = pytest.mark.django_db


def due(ticket_id: int, kind: str) -> dt.datetime | None:
    view = ticket_sla_view(ticket_id)
    assert view is not None
    clock = view.clock(kind)
    assert clock is not None
    return clock.shown_due


def test_the_replay_knows_the_same_statuses_as_the_tickets() -> None:
    assert frozenset(ticket_models.OPEN_STATUSES) == timeline.OPEN_STATUSES
    assert frozenset(ticket_models.WAITING_STATUSES) == timeline.WAITING_STATUSES


def test_without_a_policy_a_ticket_has_no_clock(monday) -> None:
    ticket = make_ticket()
    assert ticket_sla_view(ticket.pk) is None
    assert not SlaClock.objects.exists()


def test_creating_a_ticket_starts_its_clocks_in_the_same_transaction(per_priority) -> None:
    ticket = make_ticket()  # impact 3 × urgency 3: P3, 4 h / 24 h
    view = ticket_sla_view(ticket.pk)
    assert view is not None and view.policy == "P3" and view.calendar == "Always"
    assert due(ticket.pk, "first_response") == after(240)
    assert due(ticket.pk, "resolution") == after(1440)
    assert view.clock("next_response") is None and not view.paused


def test_a_new_ticket_is_written_once_with_its_due_time(per_priority) -> None:
    requester = make_requester()
    # The desk's first ticket ever also reads the highest number, to start the counter
    # (the counter is gone after a test that empties the tables has run before this one).
    make_ticket(requester)
    with CaptureQueriesContext(connection) as queries:
        ticket = make_ticket(requester)
    ticket_writes = [
        q["sql"] for q in queries.captured_queries if '"tickets_ticket"' in q["sql"].split("(")[0]
    ]
    assert len(ticket_writes) == 1 and ticket_writes[0].startswith("INSERT")
    stored = ticket_models.Ticket.objects.values_list("sla_due_at", flat=True).get(pk=ticket.pk)
    assert stored == ticket.sla_due_at == after(240)


def test_a_new_tickets_clocks_are_worked_out_before_its_write_transaction(
    per_priority, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite every writer waits while a transaction is open: it holds no computing."""
    depth: dict[str, int] = {}

    def depth_at(topic: str) -> Callable[..., None]:
        def listener(**_: Any) -> None:
            depth[topic] = len(connection.atomic_blocks)

        return listener

    for topic in ("ticket.opening", "ticket.event"):
        listeners = [*hooks._in_transaction[topic], depth_at(topic)]
        monkeypatch.setitem(hooks._in_transaction, topic, listeners)
    outside = len(connection.atomic_blocks)
    ticket = make_ticket()
    assert depth == {"ticket.opening": outside, "ticket.event": outside + 1}
    assert ticket.sla_due_at == after(240)


def test_the_clocks_worked_out_at_opening_are_the_replay_of_the_history(per_priority) -> None:
    make_ticket(impact=1, urgency=2)
    fields = ("kind", "cycle", "status", "started_at", "due_at", "warn_at", "breach_at")
    at_opening = list(SlaClock.objects.order_by("kind").values_list(*fields))
    assert len(at_opening) == 2
    SlaClock.objects.all().delete()
    assert sla_rebuild_all() == 1
    assert list(SlaClock.objects.order_by("kind").values_list(*fields)) == at_opening


def test_a_created_event_without_the_opening_replays_the_history(per_priority) -> None:
    ticket = make_ticket()
    SlaClock.objects.all().delete()
    created = ticket_models.TicketEvent.objects.get(ticket=ticket, verb="created")
    fresh = ticket_models.Ticket.objects.get(pk=ticket.pk)
    on_ticket_event(ticket=fresh, event=created)
    assert due(ticket.pk, "first_response") == after(240)
    assert due(ticket.pk, "resolution") == after(1440)


def test_a_pause_is_subtracted_exactly(per_priority, monday) -> None:
    agent, ticket = make_agent(), make_ticket()
    monday(60)
    ticket_set_status(ticket_id=ticket.pk, status="waiting_requester", actor=agent)
    view = ticket_sla_view(ticket.pk)
    assert view is not None and view.paused
    assert due(ticket.pk, "resolution") is None  # no due time while paused
    assert view.clock("resolution").remaining_seconds == (1440 - 60) * 60  # type: ignore[union-attr]
    monday(60 + 37.5)
    ticket_set_status(ticket_id=ticket.pk, status="in_progress", actor=agent)
    assert due(ticket.pk, "resolution") == after(1440 + 37.5)
    assert due(ticket.pk, "first_response") == after(240)  # waiting does not pause it


def test_third_party_waits_pause_too_and_both_pauses_add_up(per_priority, monday) -> None:
    agent, ticket = make_agent(), make_ticket()
    for start, end, waiting in ((10, 20, "waiting_requester"), (30, 75, "waiting_third_party")):
        monday(start)
        ticket_set_status(ticket_id=ticket.pk, status=waiting, actor=agent)
        monday(end)
        ticket_set_status(ticket_id=ticket.pk, status="in_progress", actor=agent)
    assert due(ticket.pk, "resolution") == after(1440 + 10 + 45)


def test_raising_the_priority_re_targets_from_the_history(per_priority, monday) -> None:
    agent, ticket = make_agent(), make_ticket()
    monday(20)
    ticket_set_status(ticket_id=ticket.pk, status="waiting_third_party", actor=agent)
    monday(50)
    ticket_set_status(ticket_id=ticket.pk, status="in_progress", actor=agent)
    monday(60)
    ticket_update(
        ticket_id=ticket.pk,
        actor=agent,
        changes=TicketChanges(given=frozenset({"priority"}), priority=1),
    )
    view = ticket_sla_view(ticket.pk)
    assert view is not None and view.policy == "P1"
    assert due(ticket.pk, "first_response") == after(30)  # P1 from creation: already overdue
    assert due(ticket.pk, "resolution") == after(240 + 30)  # with the 30-minute pause
    assert view.clock("first_response").breached  # type: ignore[union-attr]
    rows = SlaClock.objects.filter(ticket=ticket)
    assert {row.policy_id for row in rows} == {per_priority[1].pk}


def test_changing_the_service_lets_a_service_policy_take_over(per_priority, always, monday) -> None:
    service_save(name="Network", team="Network Ops", skills={})
    policy_create(
        spec=PolicySpec(
            name="Network",
            calendar=always.name,
            service="Network",
            first_response_minutes=15,
            resolution_minutes=120,
        )
    )
    agent, ticket = make_agent(team="Network Ops"), make_ticket()
    monday(5)
    ticket_update(
        ticket_id=ticket.pk,
        actor=agent,
        changes=TicketChanges(given=frozenset({"service"}), service="Network"),
    )
    view = ticket_sla_view(ticket.pk)
    assert view is not None and view.policy == "Network"
    assert due(ticket.pk, "resolution") == after(120)


def test_reopening_resumes_resolution_with_the_time_already_used(per_priority, monday) -> None:
    agent, ticket = make_agent(), make_ticket()
    monday(100)
    ticket_set_status(ticket_id=ticket.pk, status="resolved", actor=agent)
    view = ticket_sla_view(ticket.pk)
    assert view is not None and view.clock("resolution").met  # type: ignore[union-attr]
    monday(300)
    ticket_set_status(ticket_id=ticket.pk, status="in_progress", actor=agent)
    assert due(ticket.pk, "resolution") == after(300 + 1440 - 100)
    assert due(ticket.pk, "first_response") == after(300 + 240 - 100)  # never answered


def test_the_first_public_agent_reply_meets_first_response(per_priority, monday) -> None:
    agent, ticket = make_agent(), make_ticket()
    monday(10)
    article_add(ticket_id=ticket.pk, author=agent, actor=agent, body="noted", internal=True)
    assert due(ticket.pk, "first_response") == after(240)
    monday(30)
    article_add(ticket_id=ticket.pk, author=agent, actor=agent, body="On it.")
    view = ticket_sla_view(ticket.pk)
    first = view.clock("first_response") if view else None
    assert first is not None and first.met and first.stopped_at == after(30)


def test_a_requester_reply_after_an_answer_starts_next_response(per_priority, monday) -> None:
    agent, ticket = make_agent(), make_ticket()
    monday(10)
    article_add(ticket_id=ticket.pk, author=agent, actor=agent, body="Can you restart it?")
    monday(40)
    article_add(ticket_id=ticket.pk, author=ticket.requester, actor=ticket.requester, body="Done")
    assert due(ticket.pk, "next_response") == after(100)
    monday(70)
    article_add(ticket_id=ticket.pk, author=agent, actor=agent, body="Thanks")
    view = ticket_sla_view(ticket.pk)
    assert view is not None and view.clock("next_response").met  # type: ignore[union-attr]


def test_an_organisation_calendar_outranks_a_team_calendar_and_the_policy_one(
    per_priority, paris, always, monday
) -> None:
    organisation_get_or_create(name="Acme")
    make_agent(team="Service Desk")
    calendar_assign(calendar_id=paris.pk, organisation="Acme")
    customer = make_requester(organisation="Acme")
    ticket = make_ticket(requester=customer)
    # 4 h of office time from Monday 10:00 Paris: 10-12 and 13-15
    assert due(ticket.pk, "first_response") == dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
    other = make_ticket(team="Service Desk")
    assert due(other.pk, "first_response") == after(240)
    calendar_assign(calendar_id=paris.pk, team="Service Desk")
    assert due(other.pk, "first_response") == dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
    calendar_assign(calendar_id=None, team="Service Desk")
    assert due(other.pk, "first_response") == after(240)


def test_a_policy_change_re_targets_open_tickets_only(per_priority, monday) -> None:
    agent = make_agent()
    open_ticket, finished = make_ticket(), make_ticket()
    ticket_set_status(ticket_id=finished.pk, status="resolved", actor=agent)
    before = due(finished.pk, "resolution")
    p3 = per_priority[3]
    policy_update(
        policy_id=p3.pk,
        spec=PolicySpec(
            name="P3",
            calendar="Always",
            priority=3,
            first_response_minutes=60,
            resolution_minutes=600,
        ),
    )
    assert due(open_ticket.pk, "resolution") == after(600)
    assert due(finished.pk, "resolution") == before


def test_deleting_a_policy_hands_its_tickets_to_the_next_best_or_to_none(
    per_priority, always, monday
) -> None:
    fallback = policy_create(
        spec=PolicySpec(
            name="Everything",
            calendar=always.name,
            first_response_minutes=999,
            resolution_minutes=9999,
        )
    )
    ticket = make_ticket()
    policy_delete(policy_id=per_priority[3].pk)
    assert due(ticket.pk, "first_response") == after(999)
    policy_delete(policy_id=fallback.pk)
    assert ticket_sla_view(ticket.pk) is None


def test_a_calendar_in_use_cannot_be_deleted(per_priority, always) -> None:
    with pytest.raises(Conflict):
        calendar_delete(calendar_id=always.pk)


def test_rebuilding_reproduces_what_the_listener_stored(per_priority, monday) -> None:
    agent, ticket = make_agent(), make_ticket(impact=1, urgency=1)
    monday(15)
    ticket_set_status(ticket_id=ticket.pk, status="waiting_requester", actor=agent)
    monday(40)
    article_add(ticket_id=ticket.pk, author=ticket.requester, actor=ticket.requester, body="here")
    fields = ("kind", "cycle", "status", "due_at", "warn_at", "breach_at", "remaining_seconds")
    stored = list(SlaClock.objects.order_by("kind").values_list(*fields))
    SlaClock.objects.all().delete()
    assert sla_rebuild_all() == 1
    assert list(SlaClock.objects.order_by("kind").values_list(*fields)) == stored


def test_tickets_older_than_the_policies_get_clocks_from_a_rebuild(always, monday) -> None:
    ticket = make_ticket()
    policy_create(
        spec=PolicySpec(
            name="Later", calendar=always.name, first_response_minutes=5, resolution_minutes=50
        )
    )
    assert due(ticket.pk, "resolution") == after(50)  # open tickets follow at once
    SlaClock.objects.all().delete()
    sla_rebuild_all()
    assert due(ticket.pk, "resolution") == after(50)


def test_a_calendar_that_never_opens_leaves_the_ticket_without_clocks(monday) -> None:
    mondays = tuple(
        Holiday(date=dt.date(2026, 3, 2) + dt.timedelta(weeks=week)) for week in range(0, 200)
    )
    closed = calendar_create(
        spec=CalendarSpec(name="Closed", time_zone="UTC", hours="mon 09:00-10:00", holidays=mondays)
    )
    policy_create(
        spec=PolicySpec(
            name="Any", calendar=closed.name, first_response_minutes=5, resolution_minutes=50
        )
    )
    ticket = make_ticket()  # the write goes through
    assert ticket_sla_view(ticket.pk) is None


def test_the_demo_sla_is_a_paris_calendar_and_one_policy_per_priority(monday) -> None:
    build_demo_sla()
    build_demo_sla()  # a second call changes nothing
    calendar = Calendar.objects.get()
    assert (calendar.time_zone, calendar.hours, calendar.country) == (
        "Europe/Paris",
        "mon-fri 08:00-18:00",
        "FR",
    )
    targets = {
        p.priority: (p.first_response_minutes, p.resolution_minutes)
        for p in SlaPolicy.objects.all()
    }
    assert targets == {1: (30, 240), 2: (120, 480), 3: (240, 1440), 4: (480, 2400)}
    ticket = make_ticket(impact=1, urgency=1)
    view = ticket_sla_view(ticket.pk)
    assert view is not None and view.policy == "P1 standard"
    assert due(ticket.pk, "first_response") == after(30)


def stored_due(ticket_id: int) -> dt.datetime | None:
    return ticket_models.Ticket.objects.values_list("sla_due_at", flat=True).get(pk=ticket_id)


def test_the_ticket_carries_its_earliest_running_due_time_for_the_queues(
    per_priority, monday
) -> None:
    agent, ticket = make_agent(), make_ticket()  # P3: first response 4 h, resolution 24 h
    assert ticket.sla_due_at == stored_due(ticket.pk) == after(240)
    article_add(ticket_id=ticket.pk, author=agent, actor=agent, body="On it")
    assert stored_due(ticket.pk) == after(1440)  # first response met: resolution leads
    monday(60)
    ticket_set_status(ticket_id=ticket.pk, status="waiting_requester", actor=agent)
    assert stored_due(ticket.pk) is None  # paused: nothing runs, the ticket sorts last
    monday(90)
    ticket_set_status(ticket_id=ticket.pk, status="in_progress", actor=agent)
    assert stored_due(ticket.pk) == after(1440 + 30)
    ticket_set_status(ticket_id=ticket.pk, status="resolved", actor=agent)
    assert stored_due(ticket.pk) is None


def test_deleting_the_policy_clears_the_due_time_and_rebuilds_set_it_back(
    per_priority, monday
) -> None:
    ticket = make_ticket()
    policy_delete(policy_id=per_priority[3].pk)
    assert stored_due(ticket.pk) is None
    ticket_models.Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=after(-999))
    policy_create(
        spec=PolicySpec(
            name="Back", calendar="Always", first_response_minutes=30, resolution_minutes=60
        )
    )
    assert stored_due(ticket.pk) == after(30)  # replayed from the creation, not from now


def test_the_catalogue_is_read_once_until_a_policy_or_calendar_changes(
    per_priority, monday, django_assert_num_queries
) -> None:
    from expediter.sla.services.clocks import _CATALOGUE, policy_catalogue

    _CATALOGUE.confirm()  # what the commit of the fixtures' writes does outside a test
    first = policy_catalogue()
    with django_assert_num_queries(0):
        assert policy_catalogue() is first
    policy_update(
        policy_id=per_priority[4].pk,
        spec=PolicySpec(
            name="P4",
            calendar="Always",
            priority=4,
            first_response_minutes=5,
            resolution_minutes=10,
        ),
    )
    changed = policy_catalogue()
    assert changed is not first
    assert changed.policies[per_priority[4].pk].first_response_minutes == 5
    _CATALOGUE.confirm()
    assert policy_catalogue() is not changed  # read again once the change is committed
    confirmed = policy_catalogue()
    assert policy_catalogue() is confirmed


def test_a_new_ticket_s_clocks_are_in_hand_until_they_are_replayed(
    per_priority, monday, django_assert_num_queries
) -> None:
    from expediter.sla.selectors import ticket_sla_of
    from expediter.sla.services.clocks import _CATALOGUE, sla_recompute

    _CATALOGUE.confirm()  # what the commit of the fixtures' writes does outside a test
    ticket = make_ticket(requester=make_requester(), impact=2, urgency=3)
    with django_assert_num_queries(0):
        in_hand = ticket_sla_of(ticket)
    assert in_hand == ticket_sla_view(ticket.pk) and in_hand is not None
    assert in_hand.policy == "P3"
    ticket_models.Ticket.objects.filter(pk=ticket.pk).update(priority=1)
    ticket.priority = 1
    sla_recompute(ticket=ticket)
    replayed = ticket_sla_of(ticket)
    assert replayed is not None and replayed.policy == "P1"
