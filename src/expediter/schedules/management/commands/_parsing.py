"""Turning command-line text into dates and instants, with one-line refusals."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.conf import settings

from expediter.core.errors import InvalidInput

_TURN = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_TURN_UNITS = {"h": dt.timedelta(hours=1), "d": dt.timedelta(days=1), "w": dt.timedelta(weeks=1)}


def parse_date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{option} must be a date like 2026-03-02, got '{text}'") from None


def parse_instant(text: str, option: str) -> dt.datetime:
    """ISO 8601; without an offset the time is read in the desk's zone."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{option} must be an ISO 8601 instant like 2026-03-02T09:00:00+01:00, got '{text}'"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(settings.DESK_TIME_ZONE))
    return moment


def parse_turn(text: str) -> dt.timedelta:
    """``12h``, ``1d``, ``1w``: the length of one turn of a rotation."""
    match = _TURN.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise InvalidInput(f"--turn must look like 12h, 1d or 1w, got '{text}'")
    return int(match.group(1)) * _TURN_UNITS[match.group(2)]


def iso(moment: dt.datetime | None) -> str | None:
    """Instants in answers: ISO 8601 with the desk's offset, to the second."""
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(settings.DESK_TIME_ZONE)).isoformat(timespec="seconds")
