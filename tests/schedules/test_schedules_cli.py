"""``expediter shift add``, ``timeoff add`` and ``oncall``: JSON answers, one-line refusals."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from tests.factories import make_agent, make_requester

from expediter.schedules import selectors
from expediter.schedules.models import Shift, TimeOff

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def run(*args: str) -> dict:
    out = StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue())


def test_shift_add_stores_a_canonical_pattern_with_validity() -> None:
    agent = make_agent(email="nora@corp.example")
    answer = run(
        "shift",
        "add",
        "--email",
        "Nora@corp.example",
        "--hours",
        "mon-fri 09:00-12:00,13:00-17:00",
        "--time-zone",
        "America/New_York",
        "--from",
        "2026-03-01",
        "--until",
        "2026-06-30",
    )
    shift = Shift.objects.get(pk=answer["id"])
    assert answer == {
        "id": shift.pk,
        "agent": {"id": agent.pk, "email": "nora@corp.example"},
        "hours": "mon 09:00-12:00,13:00-17:00; tue 09:00-12:00,13:00-17:00; "
        "wed 09:00-12:00,13:00-17:00; thu 09:00-12:00,13:00-17:00; fri 09:00-12:00,13:00-17:00",
        "time_zone": "America/New_York",
        "valid_from": "2026-03-01",
        "valid_until": "2026-06-30",
    }
    at_ten_in_new_york = dt.datetime(2026, 3, 3, 15, 0, tzinfo=dt.UTC)
    assert selectors.on_duty(agent_id=agent.pk, at=at_ten_in_new_york)


def test_shift_add_defaults_to_the_desk_zone() -> None:
    make_agent(email="desk@corp.example")
    answer = run("shift", "add", "--email", "desk@corp.example", "--hours", "sat 10:00-14:00")
    assert answer["time_zone"] == "Europe/Paris" and answer["valid_from"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hours", "mon 10:00-09:00"], "10:00-09:00"),
        (["--hours", "mon 09:00-10:00", "--time-zone", "Mars/Olympus"], "unknown time zone"),
        (["--hours", "mon 09:00-10:00", "--from", "2026-13-01"], "--from must be a date"),
        (["--hours", "mon 09:00-10:00", "--from", "2026-03-02", "--until", "2026-03-01"], "before"),
    ],
)
def test_shift_add_refuses_bad_input(args: list[str], message: str) -> None:
    make_agent(email="nora@corp.example")
    with pytest.raises(CommandError, match=message):
        run("shift", "add", "--email", "nora@corp.example", *args)


def test_shift_add_needs_an_agent() -> None:
    make_requester(email="rita@corp.example")
    with pytest.raises(CommandError, match="no active agent"):
        run("shift", "add", "--email", "rita@corp.example", "--hours", "mon 09:00-10:00")


def test_timeoff_add_records_approved_time_off() -> None:
    agent = make_agent(email="nora@corp.example")
    answer = run(
        "timeoff",
        "add",
        "--email",
        "nora@corp.example",
        "--start",
        "2026-03-02T00:00:00+01:00",
        "--end",
        "2026-03-04T00:00",
        "--reason",
        "Dentist",
    )
    time_off = TimeOff.objects.get(pk=answer["id"])
    assert answer == {
        "id": time_off.pk,
        "agent": {"id": agent.pk, "email": "nora@corp.example"},
        "start": "2026-03-02T00:00:00+01:00",
        "end": "2026-03-04T00:00:00+01:00",
        "kind": "vacation",
        "reason": "Dentist",
        "status": "approved",
    }
    assert selectors.on_time_off(agent_id=agent.pk, at=dt.datetime(2026, 3, 3, tzinfo=PARIS))


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-03-04T00:00", "2026-03-02T00:00", "end after it starts"),
        ("yesterday", "2026-03-02T00:00", "--start must be an ISO 8601 instant"),
    ],
)
def test_timeoff_add_refuses_bad_input(start: str, end: str, message: str) -> None:
    make_agent(email="nora@corp.example")
    with pytest.raises(CommandError, match=message):
        run("timeoff", "add", "--email", "nora@corp.example", "--start", start, "--end", end)


def test_oncall_commands_build_a_rotation_and_answer_who_is_on_call(at) -> None:
    make_agent(team="Network", email="ann@corp.example", name="Ann")
    make_agent(team="Network", email="bob@corp.example", name="Bob")
    schedule = run("oncall", "schedule", "--name", "Nights", "--team", "Network")
    assert schedule["team"] == "Network" and schedule["time_zone"] == "Europe/Paris"
    layer = run(
        "oncall",
        "layer",
        "--schedule",
        "Nights",
        "--start",
        "2026-03-02T09:00",
        "--turn",
        "1w",
        "--members",
        "ann@corp.example,bob@corp.example",
        "--restrictions",
        "mon-sun 18:00-24:00",
    )
    assert layer["position"] == 1 and layer["turn_hours"] == 168
    run(
        "oncall",
        "override",
        "--schedule",
        "Nights",
        "--email",
        "bob@corp.example",
        "--start",
        "2026-03-03T18:00",
        "--end",
        "2026-03-04T00:00",
    )
    at(dt.datetime(2026, 3, 2, 20, 0, tzinfo=PARIS))
    (now,) = run("oncall", "now", "--team", "Network")["on_call"]
    assert now["user"]["name"] == "Ann" and now["until"] == "2026-03-03T00:00:00+01:00"
    at(dt.datetime(2026, 3, 3, 19, 0, tzinfo=PARIS))
    assert run("oncall", "now")["on_call"][0]["user"]["name"] == "Bob"
    at(dt.datetime(2026, 3, 3, 12, 0, tzinfo=PARIS))
    assert run("oncall", "now")["on_call"][0]["user"] is None
    with pytest.raises(CommandError, match="--turn must look like"):
        run(
            "oncall",
            "layer",
            "--schedule",
            "Nights",
            "--start",
            "2026-03-02T09:00",
            "--turn",
            "fortnight",
            "--members",
            "ann@corp.example",
        )
    with pytest.raises(CommandError, match="no on-call schedule"):
        run(
            "oncall",
            "override",
            "--schedule",
            "Days",
            "--email",
            "bob@corp.example",
            "--start",
            "2026-03-03T18:00",
            "--end",
            "2026-03-04T00:00",
        )
