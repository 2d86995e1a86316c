"""iCalendar documents: invitations mailed to requesters and agents' subscribed feeds.

Both are built with ``icalendar`` so escaping and line folding follow RFC 5545,
and every piece of text is cleaned first: ``icalendar`` escapes line feeds but
lets a lone carriage return through, and a subject such as
``"x\\r\\nBEGIN:VEVENT"`` must never start a property or component of its own.

Shifts in a feed are expanded occurrences (one event per duty interval over
:func:`feed_window`), not RRULEs: a weekly rule in a zone with daylight saving
time needs a VTIMEZONE that every client reads alike, while expanded UTC
occurrences are correct in all of them, including on the days clocks change.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from expediter.appointments.availability import Interval
from expediter.core import clock

if TYPE_CHECKING:  # imported where used: 11 MB a web process need not carry until a feed
    from icalendar import Calendar, Event, vCalAddress

Method = Literal["REQUEST", "CANCEL"]
EventStatus = Literal["CONFIRMED", "TENTATIVE", "CANCELLED"]

PRODID = "-//Expediter//Expediter service desk//EN"
FEED_PAST = dt.timedelta(weeks=4)
FEED_AHEAD = dt.timedelta(weeks=12)
FEED_REFRESH = dt.timedelta(hours=1)

_EMAIL = re.compile(r"^[^\s@<>\"(),;:\\\[\]]+@[^\s@<>\"(),;:\\\[\]]+$")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85\x0b\x0c]")


def invitation_content_type(method: Method) -> str:
    """The MIME type of the calendar part; mail clients look for ``method`` here too."""
    return f'text/calendar; method={_method(method)}; charset="UTF-8"'


def appointment_uid(appointment_id: int, domain: str) -> str:
    """A UID that stays the same for every update of an appointment."""
    return f"appointment-{appointment_id}@{_single_line(domain)}"


def build_invitation(
    *,
    uid: str,
    sequence: int,
    method: Method,
    start: dt.datetime,
    end: dt.datetime,
    summary: str,
    description: str,
    location: str,
    organizer_email: str,
    organizer_name: str,
    attendee_email: str,
    attendee_name: str,
    stamp: dt.datetime,
) -> bytes:
    """An iTIP request (booking or change) or cancellation for one attendee.

    A change must reuse the ``uid`` with a higher ``sequence`` so calendar
    clients update the event instead of adding a second one.
    """
    if sequence < 0:
        raise ValueError("sequence must not be negative")
    method = _method(method)
    calendar = _calendar()
    calendar.add("method", method)
    event = _event(uid=uid, start=start, end=end, stamp=stamp, sequence=sequence)
    _add_texts(event, summary=summary, description=description, location=location)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(organizer_email, organizer_name))
    event.add("attendee", _attendee(attendee_email, attendee_name, rsvp=method == "REQUEST"))
    calendar.add_component(event)
    return bytes(calendar.to_ical())


@dataclass(frozen=True)
class FeedEvent:
    """One event of an agent's feed; ``busy=False`` marks it transparent (a shift)."""

    uid: str
    start: dt.datetime
    end: dt.datetime
    summary: str
    description: str = ""
    location: str = ""
    status: EventStatus = "CONFIRMED"
    sequence: int = 0
    busy: bool = True


def feed_window(now: dt.datetime) -> Interval:
    """The period a feed covers: enough history to look back, a quarter ahead."""
    return Interval(now - FEED_PAST, now + FEED_AHEAD)


def shift_events(
    *, agent_id: int, duty: Iterable[Interval], domain: str, summary: str = "On duty"
) -> list[FeedEvent]:
    """Feed events for duty intervals; the UID derives from the start so it stays stable."""
    return [
        FeedEvent(
            uid=f"shift-{agent_id}-{interval.start:%Y%m%dT%H%M%SZ}@{_single_line(domain)}",
            start=interval.start,
            end=interval.end,
            summary=summary,
            busy=False,
        )
        for interval in duty
    ]


def build_feed(
    *, name: str, events: Iterable[FeedEvent], stamp: dt.datetime | None = None
) -> bytes:
    """A calendar to subscribe to; ``stamp`` defaults to the business clock's now."""
    if stamp is None:
        stamp = clock.now()
    from icalendar import vDuration

    calendar = _calendar()
    calendar.add("method", "PUBLISH")
    calendar.add("name", _single_line(name))
    calendar.add("x-wr-calname", _single_line(name))
    calendar.add("refresh-interval", vDuration(FEED_REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(FEED_REFRESH))
    for item in sorted(events, key=lambda e: (e.start, e.uid)):
        calendar.add_component(_feed_event(item, stamp))
    return bytes(calendar.to_ical())


def _feed_event(item: FeedEvent, stamp: dt.datetime) -> Event:
    event = _event(
        uid=item.uid, start=item.start, end=item.end, stamp=stamp, sequence=item.sequence
    )
    _add_texts(event, summary=item.summary, description=item.description, location=item.location)
    event.add("status", item.status)
    event.add("transp", "OPAQUE" if item.busy else "TRANSPARENT")
    return event


def _calendar() -> Calendar:
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    return calendar


def _event(
    *, uid: str, start: dt.datetime, end: dt.datetime, stamp: dt.datetime, sequence: int
) -> Event:
    period = Interval(start, end)
    uid = _single_line(uid)
    if not uid:
        raise ValueError("uid must not be empty")
    from icalendar import Event

    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", _as_utc(stamp))
    event.add("dtstart", period.start)
    event.add("dtend", period.end)
    return event


def _add_texts(event: Event, *, summary: str, description: str, location: str) -> None:
    event.add("summary", _single_line(summary))
    if description.strip():
        event.add("description", _multi_line(description))
    if location.strip():
        event.add("location", _single_line(location))


def _address(email: str, name: str) -> vCalAddress:
    from icalendar import vCalAddress, vText

    address = vCalAddress(f"mailto:{_email(email)}")
    display = _single_line(name)
    if display:
        address.params["CN"] = vText(display)
    return address


def _attendee(email: str, name: str, *, rsvp: bool) -> vCalAddress:
    """The requester; a request asks for an answer so clients show accept/decline buttons."""
    attendee = _address(email, name)
    attendee.params["CUTYPE"] = "INDIVIDUAL"
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["PARTSTAT"] = "NEEDS-ACTION"
    attendee.params["RSVP"] = "TRUE" if rsvp else "FALSE"
    return attendee


def _method(method: str) -> Method:
    if method == "REQUEST":
        return "REQUEST"
    if method == "CANCEL":
        return "CANCEL"
    raise ValueError(f"method must be REQUEST or CANCEL, got {method!r}")


def _email(email: str) -> str:
    """An address that cannot smuggle a line break or a parameter into the property."""
    candidate = email.strip()
    if not _EMAIL.match(candidate) or _has_control(candidate):
        raise ValueError(f"{email!r} is not a usable email address")
    return candidate


def _as_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} must be an aware datetime")
    return moment.astimezone(dt.UTC)


def _multi_line(text: str) -> str:
    """Text with line feeds only (``icalendar`` escapes those) and no other controls."""
    lines = _LINE_BREAKS.sub("\n", text)
    return "".join(ch for ch in lines if ch in "\n\t" or not _is_control(ch)).strip()


def _single_line(text: str) -> str:
    """Text on one line: every run of whitespace or control characters becomes one space."""
    cleaned = "".join(" " if _is_control(ch) else ch for ch in text)
    return " ".join(cleaned.split())


def _has_control(text: str) -> bool:
    return any(_is_control(ch) for ch in text)


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")
