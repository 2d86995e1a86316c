"""Invitations and feeds are parsed back with icalendar, as a calendar client would."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Event

from expediter.appointments.availability import Interval
from expediter.appointments.ical import (
    FeedEvent,
    Method,
    appointment_uid,
    build_feed,
    build_invitation,
    feed_window,
    invitation_content_type,
    shift_events,
)
from expediter.core import clock

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
START = dt.datetime(2025, 6, 3, 8, 30, tzinfo=UTC)
STAMP = dt.datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def invitation(**changes: object) -> bytes:
    fields: dict[str, object] = {
        "uid": appointment_uid(42, "desk.example.com"),
        "sequence": 0,
        "method": "REQUEST",
        "start": START,
        "end": START + dt.timedelta(hours=1),
        "summary": "[#1017] Printer on floor 3 jams",
        "description": "The technician will check the fuser.\nBring your badge.",
        "location": "Alpha office, 3 rue de la Paix, Paris",
        "organizer_email": "helpdesk@example.com",
        "organizer_name": "Expediter help desk",
        "attendee_email": "camille@example.org",
        "attendee_name": "Camille Martin",
        "stamp": STAMP,
    }
    fields.update(changes)
    return build_invitation(**fields)  # type: ignore[arg-type]


def only_event(raw: bytes) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(raw)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def test_request_carries_what_calendar_clients_need() -> None:
    calendar, event = only_event(invitation())
    assert calendar["METHOD"] == "REQUEST"
    assert calendar["VERSION"] == "2.0"
    assert "PRODID" in calendar
    assert event["UID"] == "appointment-42@desk.example.com"
    assert event["SEQUENCE"] == 0
    assert event["STATUS"] == "CONFIRMED"
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTEND") == START + dt.timedelta(hours=1)
    assert event.decoded("DTSTAMP") == STAMP
    assert str(event["SUMMARY"]) == "[#1017] Printer on floor 3 jams"
    assert str(event["DESCRIPTION"]) == "The technician will check the fuser.\nBring your badge."
    assert str(event["LOCATION"]) == "Alpha office, 3 rue de la Paix, Paris"
    assert str(event["ORGANIZER"]) == "mailto:helpdesk@example.com"
    assert event["ORGANIZER"].params["CN"] == "Expediter help desk"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:camille@example.org"
    assert attendee.params["CN"] == "Camille Martin"
    assert attendee.params["RSVP"] == "TRUE"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"


def test_times_are_written_in_utc_whatever_zone_they_come_in() -> None:
    local_start = dt.datetime(2025, 6, 3, 10, 30, tzinfo=PARIS)
    raw = invitation(start=local_start, end=local_start + dt.timedelta(minutes=45))
    assert b"DTSTART:20250603T083000Z" in raw
    assert b"DTEND:20250603T091500Z" in raw


def test_a_change_keeps_the_uid_and_raises_the_sequence() -> None:
    _, first = only_event(invitation(sequence=0))
    moved = START + dt.timedelta(days=1)
    _, second = only_event(invitation(sequence=1, start=moved, end=moved + dt.timedelta(hours=1)))
    assert first["UID"] == second["UID"]
    assert second["SEQUENCE"] > first["SEQUENCE"]
    assert second.decoded("DTSTART") == moved


def test_cancellation_uses_method_cancel_and_status_cancelled() -> None:
    calendar, event = only_event(invitation(method="CANCEL", sequence=2))
    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 2
    assert str(event["ATTENDEE"]) == "mailto:camille@example.org"
    assert event["ATTENDEE"].params["RSVP"] == "FALSE"


def test_content_type_names_the_method() -> None:
    assert invitation_content_type("REQUEST") == 'text/calendar; method=REQUEST; charset="UTF-8"'
    assert invitation_content_type("CANCEL").startswith("text/calendar; method=CANCEL")


def test_line_breaks_in_input_never_start_a_property_or_component() -> None:
    evil = "Printer\r\nBEGIN:VEVENT\r\nSUMMARY:owned\rATTENDEE:mailto:x@evil.example\nEND:VEVENT"
    raw = invitation(
        summary=evil,
        description=evil,
        location=evil,
        attendee_name=evil,
        organizer_name=evil,
        uid="appointment-1@desk\r\nBEGIN:VEVENT",
    )
    lines = raw.split(b"\r\n")
    assert lines.count(b"BEGIN:VEVENT") == 1
    assert not any(line.startswith((b"SUMMARY:owned", b"ATTENDEE:mailto:x")) for line in lines)
    assert b"\r" not in raw.replace(b"\r\n", b"")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    _, event = only_event(raw)
    assert "\n" not in str(event["SUMMARY"])
    assert str(event["SUMMARY"]).startswith("Printer BEGIN:VEVENT SUMMARY:owned")
    assert str(event["DESCRIPTION"]).splitlines()[1] == "BEGIN:VEVENT"
    assert sum(line.startswith(b"ATTENDEE") for line in lines) == 1


@pytest.mark.parametrize(
    "address",
    ["camille@example.org\r\nATTENDEE:mailto:x@y", "not an address", "a@b;RSVP=TRUE", "", "@x"],
)
def test_addresses_that_could_smuggle_parameters_are_refused(address: str) -> None:
    with pytest.raises(ValueError, match="email"):
        invitation(attendee_email=address)


def test_invalid_method_sequence_or_times_are_refused() -> None:
    with pytest.raises(ValueError, match="method"):
        invitation(method="PUBLISH")
    with pytest.raises(ValueError, match="sequence"):
        invitation(sequence=-1)
    with pytest.raises(ValueError, match="aware"):
        invitation(stamp=dt.datetime(2025, 6, 1, 12, 0))
    with pytest.raises(ValueError):
        invitation(end=START)


def test_long_descriptions_are_folded_at_75_octets() -> None:
    raw = invitation(description="é" * 300)
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    _, event = only_event(raw)
    assert str(event["DESCRIPTION"]) == "é" * 300


texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=80) | st.sampled_from(
    ["x\r\nEND:VCALENDAR", "\rBEGIN:VALARM", "a\u2028b", "\x00\x0b\x1b"]
)


@settings(max_examples=150, deadline=None)
@given(summary=texts, description=texts, name=texts, method=st.sampled_from(["REQUEST", "CANCEL"]))
def test_any_text_yields_exactly_one_well_formed_event(
    summary: str, description: str, name: str, method: Method
) -> None:
    raw = invitation(summary=summary, description=description, attendee_name=name, method=method)
    lines = raw.split(b"\r\n")
    assert lines[0] == b"BEGIN:VCALENDAR"
    assert lines[-2:] == [b"END:VCALENDAR", b""]
    assert sum(line.startswith(b"BEGIN:") for line in lines) == 2
    assert b"\r" not in raw.replace(b"\r\n", b"")
    calendar, event = only_event(raw)
    assert calendar["METHOD"] == method
    assert "\n" not in str(event["SUMMARY"]) and "\r" not in str(event["SUMMARY"])


# --- feeds --------------------------------------------------------------------------------------


def paris_shift(day: dt.date) -> Interval:
    """08:00-16:00 on the wall clock, whatever the offset that day."""
    start = dt.datetime(day.year, day.month, day.day, 8, tzinfo=PARIS)
    return Interval(start, start.replace(hour=16))


def test_feed_holds_appointments_and_transparent_shift_occurrences_across_dst() -> None:
    days = [dt.date(2025, 3, 28), dt.date(2025, 3, 31)]  # either side of the clock change
    events = [
        FeedEvent(
            uid=appointment_uid(7, "desk.example.com"),
            start=START,
            end=START + dt.timedelta(hours=1),
            summary="[#1017] Printer\r\nBEGIN:VEVENT",
            location="Alpha office",
            sequence=3,
        ),
        *shift_events(agent_id=5, duty=[paris_shift(d) for d in days], domain="desk.example.com"),
    ]
    raw = build_feed(name="Camille's calendar", events=events, stamp=STAMP)
    calendar = Calendar.from_ical(raw)
    assert calendar["X-WR-CALNAME"] == "Camille's calendar"
    parsed = calendar.walk("VEVENT")
    assert len(parsed) == 3
    shifts = [e for e in parsed if str(e["UID"]).startswith("shift-5-")]
    assert [e.decoded("DTSTART").astimezone(PARIS).hour for e in shifts] == [8, 8]
    assert [e.decoded("DTSTART").hour for e in shifts] == [7, 6]
    assert all(e["TRANSP"] == "TRANSPARENT" for e in shifts)
    appointment = next(e for e in parsed if e["UID"] == "appointment-7@desk.example.com")
    assert appointment["TRANSP"] == "OPAQUE"
    assert appointment["SEQUENCE"] == 3
    assert raw.split(b"\r\n").count(b"BEGIN:VEVENT") == 3


def test_shift_uids_are_stable_between_builds() -> None:
    duty = [paris_shift(dt.date(2025, 6, 2))]
    first = shift_events(agent_id=5, duty=duty, domain="desk.example.com")
    again = shift_events(agent_id=5, duty=duty, domain="desk.example.com")
    assert first == again
    assert first[0].uid == "shift-5-20250602T060000Z@desk.example.com"


def test_feed_stamp_defaults_to_the_business_clock() -> None:
    with clock.frozen(STAMP):
        raw = build_feed(
            name="x", events=[FeedEvent("u@x", START, START + dt.timedelta(hours=1), "s")]
        )
    _, event = only_event(raw)
    assert event.decoded("DTSTAMP") == STAMP


def test_empty_feed_is_a_valid_calendar() -> None:
    calendar = Calendar.from_ical(build_feed(name="Nobody", events=[], stamp=STAMP))
    assert calendar.walk("VEVENT") == []
    assert calendar["METHOD"] == "PUBLISH"


def test_feed_window_runs_four_weeks_back_to_twelve_ahead() -> None:
    window = feed_window(STAMP)
    assert window.start == STAMP - dt.timedelta(weeks=4)
    assert window.end == STAMP + dt.timedelta(weeks=12)
