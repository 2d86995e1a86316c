"""How the timeline and badges word things (no database needed)."""

from __future__ import annotations

import re

from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.tickets.models import TicketEvent
from expediter.web.templatetags.desk import (
    change_rows,
    event_label,
    minutes,
    priority_badge,
    status_badge,
)


def _event(verb: str, changes: dict) -> TicketEvent:
    return TicketEvent(verb=verb, changes=changes)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=100_000))
def test_minutes_reads_back_to_the_same_total(total: int) -> None:
    with translation.override("en"):
        text = minutes(total)
    match = re.fullmatch(r"(?:(\d+) h (\d\d))|(?:(\d+) min)", text)
    assert match, text
    hours, rest, only = match.groups()
    assert (int(hours) * 60 + int(rest) if hours else int(only)) == total


def test_change_rows_word_people_statuses_and_tickets() -> None:
    with translation.override("en"):
        rows = change_rows(
            _event(
                "assigned",
                {
                    "assignee": [None, {"id": 3, "name": "Ana Ruiz"}],
                    "status": ["new", "assigned"],
                    "merged_into": [None, 42],
                    "article": [None, 7],
                },
            )
        )
    shown = {(row.field, row.before, row.after) for row in rows}
    assert shown == {
        ("assignee", "—", "Ana Ruiz"),
        ("status", "New", "Assigned"),
        ("merged into", "—", "#42"),
    }


def test_messages_are_labelled_by_kind_and_their_internals_hidden() -> None:
    note = _event("article_added", {"internal": [None, True], "from": [None, "agent"]})
    reply = _event("article_added", {"internal": [None, False], "from": [None, "requester"]})
    with translation.override("en"):
        assert event_label(note) == "added an internal note"
        assert event_label(reply) == "wrote"
        assert change_rows(note) == []


def test_badges_escape_and_translate() -> None:
    with translation.override("fr"):
        assert str(status_badge("waiting_requester")) == (
            '<span class="badge status status-waiting_requester">En attente du demandeur</span>'
        )
        assert "P1 Critique" in str(priority_badge(1))
    assert "&lt;x&gt;" in str(status_badge("<x>"))
