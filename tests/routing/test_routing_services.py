"""Automatic assignment on the live desk: every trigger, the queue, reasons and paging."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from tests.factories import make_agent, make_lead, make_requester, make_ticket

from expediter.mail.models import Notification
from expediter.routing import services
from expediter.routing.models import QueuedTicket
from expediter.schedules.services import (
    oncall_layer_add,
    oncall_schedule_create,
    shift_add,
    timeoff_add,
)
from expediter.staff.models import Team, User
from expediter.staff.services import team_set_policy
from expediter.tickets.models import Ticket, TicketEvent
from expediter.tickets.services import (
    ArticleOrigin,
    TicketChanges,
    article_add,
    ticket_assign,
    ticket_set_status,
    ticket_update,
)
from expediter.tickets.services.catalogue import service_save

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
DAY = "mon-fri 08:00-18:00"


def paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


MONDAY_10 = paris(2026, 3, 2, 10, 0)


@pytest.fixture
def network(at):
    """A Network service needing net 3, at 10:00 on a Monday."""
    at(MONDAY_10)
    service_save(name="Network", team="Network", skills={"net": 3})
    service_save(name="Desk", team="Service Desk", skills={})
    return Team.objects.get(name="Network")


def tech(name: str, *, net: int = 4, capacity: int = 3, hours: str | None = DAY, **kw) -> User:
    agent = make_agent(
        team=kw.pop("team", "Network"), name=name, skills={"net": net}, capacity=capacity, **kw
    )
    if hours:
        shift_add(agent=agent, hours=hours, time_zone="Europe/Paris")
    return agent


def events(ticket: Ticket, verb: str) -> list[TicketEvent]:
    return list(ticket.events.filter(verb=verb).order_by("id"))


def created(capture, **kwargs) -> Ticket:
    """A ticket created the way the desk does it: routing runs once the write commits."""
    kwargs.setdefault("service", "Network")
    with capture(execute=True):
        ticket = make_ticket(**kwargs)
    ticket.refresh_from_db()
    return ticket


# Triggers ---------------------------------------------------------------------------------------


def test_created_ticket_goes_to_the_best_eligible_agent_with_the_reason(
    network, django_capture_on_commit_callbacks
) -> None:
    best = tech("Ann", net=5)
    tech("Bob", net=3)
    tech("Cyd", net=5, hours="mon-fri 19:00-23:00")
    tech("Dee", net=2)
    ticket = created(django_capture_on_commit_callbacks)
    assert ticket.assignee_id == best.pk and ticket.status == "assigned"
    (event,) = events(ticket, "assigned")
    assert event.actor is None
    assert event.reason.startswith("Assigned automatically (skills policy")
    assert "Ann: net 5/3 required, 0 of 3 active, on duty until 18:00" in event.reason
    assert "Bob ranked lower: net 3/3 required" in event.reason
    assert "Cyd skipped: off duty" in event.reason
    assert "Dee skipped: net 2/3 required" in event.reason
    assert Notification.objects.filter(user=best, ticket=ticket, kind="assigned").exists()
    assert not QueuedTicket.objects.exists()


def test_the_chosen_agent_is_told_in_their_own_language(
    network, django_capture_on_commit_callbacks
) -> None:
    ann = tech("Ann", language="fr")
    ticket = created(django_capture_on_commit_callbacks)
    note = Notification.objects.get(user=ann, ticket=ticket, kind="assigned")
    assert note.text == f"#{ticket.number} {ticket.subject} vous est attribué"


def test_nobody_eligible_waits_in_the_queue_and_says_so_once_per_cause(
    network, at, django_capture_on_commit_callbacks
) -> None:
    busy = tech("Ann", capacity=1, hours="mon-fri 12:00-18:00")
    ticket = created(django_capture_on_commit_callbacks)
    assert ticket.assignee_id is None and ticket.status == "new"
    entry = QueuedTicket.objects.get(ticket=ticket)
    assert entry.reason_key == "off duty" and "Ann skipped: off duty" in entry.reason
    for _ in range(3):
        assert services.ticket_route(ticket_id=ticket.pk).action == services.QUEUED
    assert len(events(ticket, "queued")) == 1
    at(paris(2026, 3, 2, 13, 0))
    other = make_ticket(service="Network")
    ticket_assign(ticket_id=other.pk, assignee=busy, actor=None)
    assert services.ticket_route(ticket_id=ticket.pk).action == services.QUEUED
    queued = events(ticket, "queued")
    assert len(queued) == 2 and "Ann skipped: at capacity 1/1" in queued[1].reason
    assert QueuedTicket.objects.get(ticket=ticket).reason_key == "at capacity"


def test_an_agent_who_frees_capacity_pulls_the_most_urgent_ticket(
    network, at, django_capture_on_commit_callbacks
) -> None:
    ann = tech("Ann", capacity=1)
    first = created(django_capture_on_commit_callbacks)
    assert first.assignee_id == ann.pk
    at(paris(2026, 3, 2, 10, 5))
    older_p3 = created(django_capture_on_commit_callbacks)
    at(paris(2026, 3, 2, 10, 10))
    newer_p1 = created(django_capture_on_commit_callbacks, impact=1, urgency=1)
    assert older_p3.assignee_id is None and newer_p1.assignee_id is None
    at(paris(2026, 3, 2, 10, 30))
    with django_capture_on_commit_callbacks(execute=True):
        ticket_set_status(ticket_id=first.pk, status="resolved", actor=ann)
    newer_p1.refresh_from_db()
    older_p3.refresh_from_db()
    assert newer_p1.assignee_id == ann.pk and older_p3.assignee_id is None
    (event,) = events(newer_p1, "assigned")
    assert event.reason.startswith("Pulled from the team queue: Ann freed capacity")
    assert "the most urgent waiting ticket they may take (P1, due 10:40)" in event.reason
    assert list(QueuedTicket.objects.values_list("ticket_id", flat=True)) == [older_p3.pk]


def test_an_agent_who_comes_on_duty_pulls_on_the_next_sweep(network, at) -> None:
    at(paris(2026, 3, 2, 7, 30))
    ann = tech("Ann", capacity=2, hours="mon-fri 08:00-16:00")
    tickets = [make_ticket(service="Network", subject=f"Down {n}") for n in range(3)]
    for ticket in tickets:
        assert services.ticket_route(ticket_id=ticket.pk).action == services.QUEUED
    assert services.routing_sweep().pulled == []
    at(paris(2026, 3, 2, 8, 0, 20))
    report = services.routing_sweep()
    assert report.pulled == [tickets[0].pk, tickets[1].pk]  # oldest first at equal priority
    assert Ticket.objects.filter(assignee=ann).count() == 2
    reason = events(Ticket.objects.get(pk=tickets[0].pk), "assigned")[0].reason
    assert "Ann is on duty with spare capacity" in reason


def test_a_reopened_ticket_without_owner_is_routed_again(
    network, at, django_capture_on_commit_callbacks
) -> None:
    lead = make_lead(team="Network")
    requester = make_requester()
    at(paris(2026, 3, 1, 10, 0))  # a Sunday: nobody on duty
    ann = tech("Ann")
    ticket = created(django_capture_on_commit_callbacks, requester=requester)
    ticket_set_status(ticket_id=ticket.pk, status="resolved", actor=lead)
    at(MONDAY_10)
    with django_capture_on_commit_callbacks(execute=True):
        article_add(
            ticket_id=ticket.pk,
            author=requester,
            actor=requester,
            body="Still broken",
            origin=ArticleOrigin(channel="web"),
        )
    ticket.refresh_from_db()
    assert ticket.assignee_id == ann.pk
    assert events(ticket, "reopened") and events(ticket, "assigned")


def test_a_ticket_moved_to_another_team_is_routed_there(
    network, django_capture_on_commit_callbacks
) -> None:
    ann = tech("Ann")
    lead = make_lead(team="Service Desk")
    ticket = created(django_capture_on_commit_callbacks, service="Desk")
    assert ticket.team.name == "Service Desk" and ticket.assignee_id is None
    assert QueuedTicket.objects.get(ticket=ticket).reason_key == "off duty"
    with django_capture_on_commit_callbacks(execute=True):
        ticket_update(
            ticket_id=ticket.pk,
            actor=lead,
            changes=TicketChanges(given=frozenset({"team"}), team="Network"),
        )
    ticket.refresh_from_db()
    assert ticket.assignee_id == ann.pk
    assert not QueuedTicket.objects.exists()


def test_off_duty_handover_moves_active_tickets_only_when_the_team_asks(network, at) -> None:
    ann = tech("Ann", hours="mon-fri 08:00-18:00")
    bob = tech("Bob", hours="mon-fri 12:00-20:00")
    ticket = make_ticket(service="Network")
    ticket_assign(ticket_id=ticket.pk, assignee=ann, actor=None)
    at(paris(2026, 3, 2, 18, 5))
    assert services.routing_sweep().handed_over == []
    assert services.ticket_route(ticket_id=ticket.pk).action == services.UNTOUCHED
    services.team_routing_settings_save(team=network, handover_when_off_duty=True)
    assert services.routing_sweep().handed_over == [ticket.pk]
    ticket.refresh_from_db()
    assert ticket.assignee_id == bob.pk and ticket.status == "assigned"
    reason = events(ticket, "assigned")[-1].reason
    assert reason.startswith("Handed over: Ann is off duty and the team hands tickets over.")
    assert "Bob: net 4/3 required, 0 of 3 active, on duty until 20:00" in reason


def test_handover_keeps_the_ticket_when_nobody_on_duty_may_take_it(network, at) -> None:
    ann = tech("Ann")
    services.team_routing_settings_save(team=network, handover_when_off_duty=True)
    ticket = make_ticket(service="Network")
    ticket_assign(ticket_id=ticket.pk, assignee=ann, actor=None)
    timeoff_add(agent=ann, start=paris(2026, 3, 2, 11, 0), end=paris(2026, 3, 3, 0, 0))
    at(paris(2026, 3, 2, 11, 30))
    assert services.routing_sweep().handed_over == []
    ticket.refresh_from_db()
    assert ticket.assignee_id == ann.pk
    bob = tech("Bob")
    assert services.routing_sweep().handed_over == [ticket.pk]
    ticket.refresh_from_db()
    assert ticket.assignee_id == bob.pk
    assert "Ann is on time off" in events(ticket, "assigned")[-1].reason


# Policies ---------------------------------------------------------------------------------------


def test_round_robin_takes_turns_through_the_database(
    network, at, django_capture_on_commit_callbacks
) -> None:
    team_set_policy(team_name="Network", policy="round_robin")
    crew = [tech(name, capacity=5) for name in ("Ann", "Bob", "Cyd")]
    owners = []
    for minute in range(6):
        at(paris(2026, 3, 2, 10, minute))
        owners.append(created(django_capture_on_commit_callbacks).assignee_id)
    assert owners == [a.pk for a in crew] * 2
    reason = events(Ticket.objects.filter(assignee=crew[0]).order_by("id").last(), "assigned")[0]
    assert "round-robin policy" in reason.reason and "assigned more recently" in reason.reason


def test_least_loaded_counts_capacity_in_use_through_the_database(
    network, django_capture_on_commit_callbacks
) -> None:
    team_set_policy(team_name="Network", policy="least_loaded")
    ann = tech("Ann", capacity=2)
    bob = tech("Bob", capacity=8)
    for owner in (ann, bob, bob):
        ticket_assign(ticket_id=make_ticket(service="Network").pk, assignee=owner, actor=None)
    ticket = created(django_capture_on_commit_callbacks)
    assert ticket.assignee_id == bob.pk  # 2 of 8 in use beats 1 of 2
    assert "Ann ranked lower: 1 of 2 active" in events(ticket, "assigned")[0].reason


def test_manual_teams_queue_without_assigning_or_pulling(
    network, at, django_capture_on_commit_callbacks
) -> None:
    team_set_policy(team_name="Network", policy="manual")
    tech("Ann")
    ticket = created(django_capture_on_commit_callbacks)
    assert ticket.assignee_id is None
    assert QueuedTicket.objects.get(ticket=ticket).reason_key == "manual"
    assert "team policy is manual" in events(ticket, "queued")[0].reason
    assert services.routing_sweep().pulled == []


# Paging -----------------------------------------------------------------------------------------


def _on_call(team: Team, *people: User) -> None:
    schedule = oncall_schedule_create(name=f"{team.name} on call", team=team)
    oncall_layer_add(
        schedule=schedule,
        name="Weekly",
        rotation_start=paris(2026, 3, 2, 9, 0),
        turn_length=dt.timedelta(days=7),
        members=list(people),
    )


def test_a_p1_with_nobody_on_duty_pages_the_on_call_person_once(
    network, at, django_capture_on_commit_callbacks
) -> None:
    at(paris(2026, 3, 2, 22, 0))
    tech("Ann")
    lee = tech("Lee", hours=None)
    _on_call(network, lee, tech("Max", hours=None))
    p3 = created(django_capture_on_commit_callbacks)
    p1 = created(django_capture_on_commit_callbacks, impact=1, urgency=1)
    assert not events(p3, "paged")
    (paged,) = events(p1, "paged")
    assert paged.changes == {"paged": [None, {"id": lee.pk, "name": "Lee"}]}
    assert paged.reason == (
        "P1 and nobody on duty in Network can take it: paged Lee, "
        "on call for Network on call until Mon 09:00"
    )
    assert Notification.objects.filter(user=lee, ticket=p1, kind="paged").count() == 1
    services.ticket_route(ticket_id=p1.pk)
    assert len(events(p1, "paged")) == 1


def test_a_waiting_p1_pages_once_the_last_agent_goes_off_duty(
    network, at, django_capture_on_commit_callbacks
) -> None:
    at(paris(2026, 3, 2, 17, 50))
    ann = tech("Ann", capacity=1)
    lee = tech("Lee", hours=None)
    _on_call(network, lee, tech("Max", hours=None))
    ticket_assign(ticket_id=make_ticket(service="Network").pk, assignee=ann, actor=None)
    p1 = created(django_capture_on_commit_callbacks, impact=1, urgency=1)
    assert not events(p1, "paged") and services.routing_sweep().paged == []
    at(paris(2026, 3, 2, 18, 0, 10))
    assert services.routing_sweep().paged == [p1.pk]
    assert events(p1, "paged")[0].changes["paged"][1]["id"] == lee.pk
    assert services.routing_sweep().paged == []


def test_a_p1_waiting_only_for_capacity_pages_nobody(
    network, django_capture_on_commit_callbacks
) -> None:
    ann = tech("Ann", capacity=1)
    _on_call(network, tech("Lee", hours=None))
    ticket_assign(ticket_id=make_ticket(service="Network").pk, assignee=ann, actor=None)
    p1 = created(django_capture_on_commit_callbacks, impact=1, urgency=1)
    assert p1.assignee_id is None and not events(p1, "paged")


# Plumbing ---------------------------------------------------------------------------------------


def test_freed_agents_reads_the_events() -> None:
    ref = {"id": 7, "name": "Ann"}
    assert services.freed_agents(
        verb="status_changed", changes={"status": ["in_progress", "resolved"]}, assignee_id=7
    ) == [7]
    assert (
        services.freed_agents(
            verb="status_changed", changes={"status": ["new", "assigned"]}, assignee_id=7
        )
        == []
    )
    assert services.freed_agents(
        verb="unassigned", changes={"assignee": [ref, None]}, assignee_id=None
    ) == [7]
    assert services.freed_agents(
        verb="assigned", changes={"assignee": [ref, {"id": 8, "name": "Bob"}]}, assignee_id=8
    ) == [7]
    assert services.freed_agents(verb="created", changes={}, assignee_id=None) == []


def test_the_periodic_job_is_registered_and_runs_the_sweep(network, at) -> None:
    from expediter.core import periodic

    assert "routing.pull" in [job.name for job in periodic.registered()]
    at(paris(2026, 3, 2, 7, 0))
    tech("Ann")
    ticket = make_ticket(service="Network")
    services.ticket_route(ticket_id=ticket.pk)
    at(paris(2026, 3, 2, 8, 1))
    assert "routing.pull" in periodic.tick()
    ticket.refresh_from_db()
    assert ticket.assignee is not None


def test_the_queue_races_against_the_sla_due_time_when_a_policy_applies(
    network, at, django_capture_on_commit_callbacks
) -> None:
    from expediter.sla.services import CalendarSpec, PolicySpec, calendar_create, policy_create

    calendar_create(
        spec=CalendarSpec(name="Office", time_zone="Europe/Paris", hours="mon-fri 09:00-17:00")
    )
    policy_create(
        spec=PolicySpec(
            name="Network",
            calendar="Office",
            first_response_minutes=90,
            resolution_minutes=600,
            service="Network",
        )
    )
    at(paris(2026, 3, 2, 16, 30))
    covered = created(django_capture_on_commit_callbacks)
    plain = created(django_capture_on_commit_callbacks, service="Desk")
    # 30 business minutes today, the other 60 from 09:00 tomorrow
    assert QueuedTicket.objects.get(ticket=covered).due_at == paris(2026, 3, 3, 10, 0)
    # no policy: created_at + the P3 target of 8 hours
    assert QueuedTicket.objects.get(ticket=plain).due_at == paris(2026, 3, 3, 0, 30)


def test_a_new_ticket_for_triage_enqueues_no_routing(network, monkeypatch) -> None:
    from expediter.routing import tasks

    enqueued: list[int] = []

    class Recorder:
        def enqueue(self, ticket_id: int) -> None:
            enqueued.append(ticket_id)

    monkeypatch.setattr(tasks, "route_ticket_task", Recorder())
    triage = make_ticket()  # no service, no team: it waits for a person to triage it
    assert triage.team_id is None
    event = triage.events.get(verb="created")
    tasks.on_ticket_event(ticket=triage, event=event)
    assert enqueued == []
    routed = make_ticket(service="Network")
    tasks.on_ticket_event(ticket=routed, event=routed.events.get(verb="created"))
    assert enqueued == [routed.pk]
