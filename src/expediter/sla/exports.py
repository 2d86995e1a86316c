"""The attainment report as CSV, safe to open in a spreadsheet.

Every text cell that a spreadsheet would read as a formula (``= + - @``, a
tab or a carriage return first) is prefixed with an apostrophe: subjects,
team and service names come from people and mail, and must stay text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence

from django.utils import timezone

from expediter.sla.reports import AttainmentReport, AttainmentRow

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | None

SUMMARY_HEADER = [
    "group",
    "tickets",
    "first_response_met",
    "first_response_breached",
    "first_response_pending",
    "first_response_attainment_percent",
    "resolution_met",
    "resolution_breached",
    "resolution_pending",
    "resolution_attainment_percent",
]
BREACHED_HEADER = [
    "ticket",
    "subject",
    "priority",
    "team",
    "service",
    "assignee",
    "clock",
    "due",
    "stopped",
]


def neutralise(value: Cell) -> Cell:
    """A text cell that cannot run as a formula; numbers and empty cells unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def summary_csv(report: AttainmentReport) -> str:
    rows: list[Sequence[Cell]] = [_summary_cells(row) for row in report.rows]
    rows.append(_summary_cells(report.total))
    return _csv(SUMMARY_HEADER, rows)


def breached_csv(report: AttainmentReport) -> str:
    rows = [
        [
            item.number,
            item.subject,
            item.priority,
            item.team,
            item.service,
            item.assignee,
            item.clock,
            _instant(item.due_at),
            _instant(item.stopped_at),
        ]
        for item in report.breached
    ]
    return _csv(BREACHED_HEADER, rows)


def _summary_cells(row: AttainmentRow) -> list[Cell]:
    return [
        row.label,
        row.tickets,
        row.first_response.met,
        row.first_response.breached,
        row.first_response.pending,
        row.first_response.rate,
        row.resolution.met,
        row.resolution.breached,
        row.resolution.pending,
        row.resolution.rate,
    ]


def _csv(header: list[str], rows: Iterable[Sequence[Cell]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if cell is None else neutralise(cell) for cell in row])
    return buffer.getvalue()


def _instant(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value).replace(microsecond=0).isoformat()
