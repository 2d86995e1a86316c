"""``expediter calendar`` and ``expediter sla``: JSON answers, one-line refusals, explain."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from tests.factories import make_agent, make_ticket

from expediter.sla.explain import human_duration
from expediter.sla.models import Calendar, SlaPolicy
from expediter.tickets.services import (
    TicketChanges,
    article_add,
    ticket_set_status,
    ticket_update,
)
from expediter.tickets.services.catalogue import service_save

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def add_paris(*extra: str) -> dict[str, object]:
    return json.loads(  # type: ignore[no-any-return]
        run(
            "calendar",
            "add",
            "--name",
            "Paris",
            "--time-zone",
            "Europe/Paris",
            "--hours",
            "mon-fri 09:00-12:00,13:00-17:00",
            *extra,
        )
    )


def test_calendar_add_answers_json_with_holidays_and_country() -> None:
    answer = add_paris("--country", "FR", "--holiday", "2026-12-24", "--holiday", "2026-12-31")
    assert answer["name"] == "Paris" and answer["time_zone"] == "Europe/Paris"
    assert answer["hours"] == "mon-fri 09:00-12:00,13:00-17:00"
    assert answer["country"] == "FR"
    assert [h["date"] for h in answer["holidays"]] == ["2026-12-24", "2026-12-31"]  # type: ignore[index, union-attr]
    assert Calendar.objects.get(pk=answer["id"]).name == "Paris"


def test_a_subdivision_is_kept_with_its_country() -> None:
    assert add_paris("--country", "fr-57")["country"] == "FR-57"


@pytest.mark.parametrize(
    ("zone", "hours", "message"),
    [
        ("Mars/Olympus", "mon-fri 09:00-17:00", "not a known time zone"),
        ("Europe/Paris", "", "hours are empty"),
        ("Europe/Paris", "mon-fri 17:00-09:00", "empty or inverted"),
        ("Europe/Paris", "mon-fri 09:00-09:00", "empty or inverted"),
    ],
)
def test_calendar_add_refuses_bad_input_with_one_line(zone: str, hours: str, message: str) -> None:
    with pytest.raises(CommandError) as refused:
        run("calendar", "add", "--name", "X", "--time-zone", zone, "--hours", hours)
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert not Calendar.objects.exists()


def test_unknown_countries_and_bad_holidays_are_refused() -> None:
    with pytest.raises(CommandError, match="no public holidays"):
        add_paris("--country", "XX")
    with pytest.raises(CommandError, match="not a date"):
        add_paris("--holiday", "24/12/2026")


def test_add_business_time_prints_the_earliest_instant_with_the_calendars_offset() -> None:
    add_paris("--country", "FR", "--holiday", "2026-12-24")
    out = run(
        "calendar",
        "add-business-time",
        "--calendar",
        "Paris",
        "--start",
        "2026-12-23T16:30:00+01:00",
        "--minutes",
        "60",
    )
    # 30 minutes on the 23rd; the 24th (custom), 25th (public), weekend; 30 minutes on the 28th
    assert out.strip() == "2026-12-28T09:30:00+01:00"


def test_add_business_time_reads_other_offsets_and_ends_at_closing_time() -> None:
    add_paris()
    out = run(
        "calendar",
        "add-business-time",
        "--calendar",
        "paris",
        "--start",
        "2026-07-01T13:00:00Z",
        "--minutes",
        "60",
    )
    assert out.strip() == "2026-07-01T16:00:00+02:00"  # 15:00 local + 60 minutes
    with pytest.raises(CommandError, match="no calendar named"):
        run(
            "calendar",
            "add-business-time",
            "--calendar",
            "Nope",
            "--start",
            "2026-01-01T00:00Z",
            "--minutes",
            "1",
        )


def test_sla_policy_add_answers_json_and_refuses_unknown_references() -> None:
    add_paris()
    service_save(name="Network", team="Network Ops", skills={})
    answer = json.loads(
        run(
            "sla",
            "policy",
            "add",
            "--name",
            "Network P1",
            "--calendar",
            "Paris",
            "--priority",
            "1",
            "--service",
            "Network",
            "--organisation",
            "Acme",
            "--type",
            "incident",
            "--first-response",
            "30",
            "--resolution",
            "240",
            "--next-response",
            "60",
        )
    )
    assert answer["calendar"] == "Paris" and answer["priority"] == 1
    assert answer["service"] == "Network" and answer["organisation"] == "Acme"
    assert answer["type"] == "incident"
    assert (answer["first_response_minutes"], answer["resolution_minutes"]) == (30, 240)
    assert answer["next_response_minutes"] == 60
    assert answer["pause_statuses"] == ["waiting_requester", "waiting_third_party"]
    assert SlaPolicy.objects.get(pk=answer["id"]).name == "Network P1"
    with pytest.raises(CommandError, match="no calendar named"):
        run(
            "sla",
            "policy",
            "add",
            "--name",
            "X",
            "--calendar",
            "Ghost",
            "--first-response",
            "1",
            "--resolution",
            "2",
        )
    with pytest.raises(CommandError, match="no service named"):
        run(
            "sla",
            "policy",
            "add",
            "--name",
            "X",
            "--calendar",
            "Paris",
            "--service",
            "Ghost",
            "--first-response",
            "1",
            "--resolution",
            "2",
        )


def test_explain_prints_starts_pauses_resumptions_and_targets(monday) -> None:
    add_paris()
    run(
        "sla",
        "policy",
        "add",
        "--name",
        "Standard",
        "--calendar",
        "Paris",
        "--first-response",
        "60",
        "--resolution",
        "480",
    )
    agent, ticket = make_agent(), make_ticket()
    monday(30)
    article_add(ticket_id=ticket.pk, author=agent, actor=agent, body="Checking")
    monday(45)
    ticket_set_status(ticket_id=ticket.pk, status="waiting_requester", actor=agent)
    monday(105)
    ticket_set_status(ticket_id=ticket.pk, status="in_progress", actor=agent)
    out = run("sla", "explain", str(ticket.number))
    assert f'Ticket #{ticket.number}: policy "Standard" on calendar "Paris"' in out
    assert "Matched on: every ticket (no criterion)" in out
    assert "first response 1 h" in out and "resolution 8 h" in out
    assert (
        "2026-03-02 10:00:00 +01:00  ticket created: first response started; resolution started"
        in out
    )
    assert (
        "10:30:00 +01:00  first public reply by an agent: first response stopped after 30 min"
        in out
    )
    assert "10:45:00 +01:00  status waiting_requester: resolution paused after 45 min" in out
    assert "11:45:00 +01:00  status in_progress: resolution resumed (45 min used so far)" in out
    # 7 h 15 min left after 11:45 Monday: 4 h 15 that day, 3 h on Tuesday morning
    assert "resolution             running   target 8 h · due 2026-03-03 12:00:00 +01:00" in out


def test_explain_says_when_no_policy_applies_and_refuses_unknown_tickets(monday) -> None:
    ticket = make_ticket()
    assert "no SLA policy applies" in run("sla", "explain", str(ticket.number))
    with pytest.raises(CommandError, match="no ticket #999"):
        run("sla", "explain", "999")


def test_sweep_and_rebuild_answer_json(monday) -> None:
    assert json.loads(run("sla", "sweep")) == {"warnings": 0, "breaches": 0}
    make_ticket()
    assert json.loads(run("sla", "rebuild")) == {"tickets": 1}


def test_durations_read_as_business_hours_and_minutes() -> None:
    assert human_duration(4 * 3600) == "4 h"
    assert human_duration(3900) == "1 h 05 min"
    assert human_duration(26 * 3600) == "26 h"  # not "1 d 2 h": these are working hours
    assert human_duration(-90) == "-1 min 30 s"
    assert human_duration(0) == "0 s"


def test_explain_shows_recorded_breaches_and_re_targeting(monday) -> None:
    add_paris()
    for priority, first in ((3, "240"), (1, "30")):
        run(
            "sla",
            "policy",
            "add",
            "--name",
            f"P{priority}",
            "--calendar",
            "Paris",
            "--priority",
            str(priority),
            "--first-response",
            first,
            "--resolution",
            "960",
        )
    agent, ticket = make_agent(), make_ticket()
    monday(40)
    ticket_update(
        ticket_id=ticket.pk,
        actor=agent,
        changes=TicketChanges(given=frozenset({"priority"}), priority=1),
    )
    run("sla", "sweep")
    out = run("sla", "explain", str(ticket.number))
    assert 'policy "P1"' in out and "Matched on: priority 1" in out
    assert "priority 3 → 1: clocks re-targeted from the whole history" in out
    assert "sla_breached recorded: First response target of policy 'P1'" in out
    assert "first response         breached  target 30 min · due 2026-03-02 10:30:00" in out
