"""Ticket services: creation, workflow, assignment, conversation, history."""

from __future__ import annotations

import pytest
from tests.factories import make_agent, make_lead, make_requester, make_ticket

from expediter.core.errors import InvalidInput, InvalidTransition, NotFound, NotPermitted
from expediter.tickets import selectors
from expediter.tickets.models import Status, Ticket, TicketEvent
from expediter.tickets.services import (
    NewAttachment,
    TicketChanges,
    article_add,
    ticket_add_watcher,
    ticket_add_watchers,
    ticket_assign,
    ticket_create,
    ticket_link,
    ticket_merge,
    ticket_open,
    ticket_set_status,
    ticket_update,
    worklog_add,
)
from expediter.tickets.services.catalogue import service_save

pytestmark = pytest.mark.django_db


def verbs(ticket: Ticket) -> list[str]:
    return list(TicketEvent.objects.filter(ticket=ticket).values_list("verb", flat=True))


def test_create_numbers_prioritises_and_records_history() -> None:
    first = make_ticket(impact=1, urgency=2)
    second = make_ticket(impact=4, urgency=4)
    assert second.number == first.number + 1
    assert (first.priority, second.priority) == (1, 4)
    assert first.status == Status.NEW
    assert verbs(first) == ["created"]
    assert first.articles.count() == 1


def test_opening_gives_the_ticket_and_its_first_article() -> None:
    alice = make_requester()
    opened = ticket_open(requester=alice, actor=alice, subject="Printer", description="Jammed")
    assert list(opened.ticket.articles.all()) == [opened.article]
    assert (opened.article.ticket_id, opened.article.body) == (opened.ticket.pk, "Jammed")


def test_service_routes_to_its_team() -> None:
    service_save(name="Network", team="Network Ops", skills={"net": 3})
    ticket = make_ticket(service="Network")
    assert ticket.team is not None and ticket.team.name == "Network Ops"


def test_unknown_service_names_the_field() -> None:
    with pytest.raises(InvalidInput) as err:
        make_ticket(service="Nope")
    assert err.value.field == "service"


def test_requester_cannot_open_for_someone_else() -> None:
    alice, bob = make_requester(), make_requester()
    with pytest.raises(NotPermitted):
        ticket_create(requester=bob, actor=alice, subject="x", description="y")


def test_assign_on_new_makes_assigned_and_unassign_returns_to_new() -> None:
    agent = make_agent()
    ticket = make_ticket()
    ticket = ticket_assign(ticket_id=ticket.pk, assignee=agent, actor=agent)
    assert ticket.status == Status.ASSIGNED
    ticket = ticket_assign(ticket_id=ticket.pk, assignee=None, actor=agent)
    assert ticket.status == Status.NEW
    assert verbs(ticket)[-4:] == ["assigned", "status_changed", "unassigned", "status_changed"]


def test_assigning_a_ticket_without_team_puts_it_in_the_assignees_team() -> None:
    agent = make_agent(team="Workplace")
    ticket = ticket_assign(ticket_id=make_ticket().pk, assignee=agent, actor=agent)
    assert ticket.team is not None and ticket.team.name == "Workplace"


def test_assigned_without_assignee_is_refused() -> None:
    agent = make_agent()
    ticket = make_ticket()
    with pytest.raises(InvalidTransition):
        ticket_set_status(ticket_id=ticket.pk, status=Status.ASSIGNED, actor=agent)


def test_patch_applies_assignee_before_status() -> None:
    agent = make_agent()
    ticket = make_ticket()
    changes = TicketChanges(
        given=frozenset({"assignee_id", "status"}), assignee_id=agent.pk, status="in_progress"
    )
    ticket = ticket_update(ticket_id=ticket.pk, actor=agent, changes=changes)
    assert (ticket.status, ticket.assignee_id) == ("in_progress", agent.pk)


def test_closed_is_final_and_resolved_only_reopens_to_in_progress() -> None:
    agent = make_agent()
    ticket = make_ticket()
    ticket_set_status(ticket_id=ticket.pk, status="resolved", actor=agent)
    with pytest.raises(InvalidTransition):
        ticket_set_status(ticket_id=ticket.pk, status="waiting_requester", actor=agent)
    ticket_set_status(ticket_id=ticket.pk, status="closed", actor=agent)
    with pytest.raises(InvalidTransition):
        ticket_set_status(ticket_id=ticket.pk, status="in_progress", actor=agent)


def test_requester_reply_reopens_waiting_ticket() -> None:
    agent = make_agent()
    ticket = make_ticket()
    ticket_assign(ticket_id=ticket.pk, assignee=agent, actor=agent)
    ticket_set_status(ticket_id=ticket.pk, status="waiting_requester", actor=agent)
    article_add(ticket_id=ticket.pk, author=ticket.requester, actor=ticket.requester, body="Done")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


def test_requester_reply_to_resolved_unassigned_ticket_returns_it_to_new() -> None:
    agent = make_agent()
    ticket = make_ticket()
    ticket_set_status(ticket_id=ticket.pk, status="resolved", actor=agent)
    article_add(ticket_id=ticket.pk, author=ticket.requester, actor=ticket.requester, body="No")
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_reply_to_closed_ticket_opens_a_linked_follow_up() -> None:
    agent = make_agent()
    ticket = make_ticket()
    ticket_set_status(ticket_id=ticket.pk, status="resolved", actor=agent)
    ticket_set_status(ticket_id=ticket.pk, status="closed", actor=agent)
    article = article_add(
        ticket_id=ticket.pk, author=ticket.requester, actor=ticket.requester, body="Again!"
    )
    assert article.ticket_id != ticket.pk
    assert article.ticket.links_out.get().target_id == ticket.pk


def test_first_public_agent_reply_is_the_first_response() -> None:
    agent = make_agent()
    ticket = make_ticket()
    article_add(ticket_id=ticket.pk, author=agent, actor=agent, body="note", internal=True)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None
    article_add(ticket_id=ticket.pk, author=agent, actor=agent, body="On it")
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None


def test_requesters_cannot_write_internal_notes_nor_see_them() -> None:
    agent = make_agent()
    ticket = make_ticket()
    with pytest.raises(NotPermitted):
        article_add(
            ticket_id=ticket.pk,
            author=ticket.requester,
            actor=ticket.requester,
            body="x",
            internal=True,
        )
    article_add(ticket_id=ticket.pk, author=agent, actor=agent, body="secret", internal=True)
    seen = selectors.article_list_visible(user=ticket.requester, ticket=ticket)
    assert [a.body for a in seen] == [ticket.description]


def test_attachments_are_content_addressed_and_size_limited(settings) -> None:
    settings.ATTACHMENT_MAX_BYTES = 10
    agent = make_agent()
    ticket = make_ticket()
    one = article_add(
        ticket_id=ticket.pk,
        author=agent,
        actor=agent,
        body="a",
        attachments=[NewAttachment(filename="../../etc/a.txt", data=b"same")],
    )
    two = article_add(
        ticket_id=ticket.pk,
        author=agent,
        actor=agent,
        body="b",
        attachments=[NewAttachment(filename="b.txt", data=b"same")],
    )
    a, b = one.attachments.get(), two.attachments.get()
    assert a.blob_id == b.blob_id and a.filename == "a.txt"
    with pytest.raises(InvalidInput):
        article_add(
            ticket_id=ticket.pk,
            author=agent,
            actor=agent,
            body="c",
            attachments=[NewAttachment(filename="big.bin", data=b"x" * 11)],
        )


def test_worklogs_are_staff_only_and_recorded() -> None:
    agent = make_agent()
    ticket = make_ticket()
    worklog = worklog_add(ticket_id=ticket.pk, agent=agent, minutes=25, note="diagnosis")
    assert worklog.minutes == 25 and verbs(ticket)[-1] == "worklog_added"
    with pytest.raises(NotPermitted):
        worklog_add(ticket_id=ticket.pk, agent=ticket.requester, minutes=5)
    with pytest.raises(InvalidInput):
        worklog_add(ticket_id=ticket.pk, agent=agent, minutes=0)


def test_priority_override_is_cleared_by_impact_change() -> None:
    agent = make_agent()
    ticket = make_ticket(impact=3, urgency=3)
    ticket = ticket_update(
        ticket_id=ticket.pk,
        actor=agent,
        changes=TicketChanges(given=frozenset({"priority"}), priority=1),
    )
    assert (ticket.priority, ticket.priority_overridden) == (1, True)
    ticket = ticket_update(
        ticket_id=ticket.pk,
        actor=agent,
        changes=TicketChanges(given=frozenset({"impact"}), impact=4),
    )
    assert (ticket.priority, ticket.priority_overridden) == (4, False)


def test_manual_assignment_records_broken_rules() -> None:
    service_save(name="Network", team="Service Desk", skills={"net": 3})
    lead = make_lead()
    agent = make_agent(skills={"net": 1}, capacity=0)
    ticket = make_ticket(service="Network")
    ticket_assign(ticket_id=ticket.pk, assignee=agent, actor=lead)
    event = TicketEvent.objects.filter(ticket=ticket, verb="assigned").get()
    assert "off duty" in event.reason
    assert "net 1/3 required" in event.reason
    assert "at capacity 0/0" in event.reason


def test_links_and_merge() -> None:
    agent = make_agent()
    a, b = make_ticket(), make_ticket()
    ticket_link(ticket_id=a.pk, target_id=b.pk, kind="related", actor=agent)
    merged = ticket_merge(ticket_id=a.pk, into_id=b.pk, actor=agent)
    a.refresh_from_db()
    assert a.status == Status.CLOSED and a.merged_into_id == b.pk
    assert merged.articles.count() == 2
    assert a.requester in merged.watchers.all()


def test_watchers_are_added_once_each_with_an_event_each() -> None:
    ticket = make_ticket()
    carol = make_requester(email="carol@corp.example")
    dan = make_requester(email="dan@corp.example")
    ticket_add_watcher(ticket_id=ticket.pk, watcher=carol, actor=None)
    ticket_add_watchers(
        ticket_id=ticket.pk,
        watchers=[carol, dan, dan, ticket.requester],
        actor=None,
        reason="copied on the email",
    )
    assert sorted(ticket.watchers.values_list("email", flat=True)) == [
        "carol@corp.example",
        "dan@corp.example",
    ]
    added = TicketEvent.objects.filter(ticket=ticket, verb="watcher_added").order_by("id")
    assert [(e.changes["watchers"][1]["id"], e.reason) for e in added] == [
        (carol.pk, None),
        (dan.pk, "copied on the email"),
    ]


def test_invisible_ticket_is_not_found_for_services() -> None:
    agent = make_agent(team="Network")
    other = make_agent(team="Workplace")
    ticket = make_ticket()
    ticket_assign(ticket_id=ticket.pk, assignee=other, actor=other)
    with pytest.raises(NotFound):
        ticket_set_status(ticket_id=ticket.pk, status="in_progress", actor=agent)


def test_events_are_append_only() -> None:
    ticket = make_ticket()
    event = TicketEvent.objects.filter(ticket=ticket).first()
    assert event is not None
    with pytest.raises(RuntimeError):
        event.save()


def test_the_kept_priority_matrix_follows_every_change_to_a_rule() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from expediter.tickets.models import PriorityRule
    from expediter.tickets.services.tickets import PRIORITY_MATRIX, matrix_priority

    PRIORITY_MATRIX.confirm()  # what the commit of earlier changes does
    default = matrix_priority(4, 4)
    with CaptureQueriesContext(connection) as queries:
        assert matrix_priority(4, 4) == default
    assert len(queries) == 0  # kept
    rule, _ = PriorityRule.objects.update_or_create(
        impact=4, urgency=4, defaults={"priority": 1 if default != 1 else 2}
    )
    assert matrix_priority(4, 4) == rule.priority
    assert make_ticket(impact=4, urgency=4).priority == rule.priority
    rule.delete()
    assert matrix_priority(4, 4) == default
