"""Parsing query parameters the contract defines (instants, bare dates)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

from expediter.core.errors import InvalidInput


def parse_instant(value: str | None, *, field: str) -> dt.datetime | None:
    """ISO 8601 instant; a bare date is midnight in the desk's zone; naive = desk's zone."""
    if value is None or value == "":
        return None
    zone = ZoneInfo(settings.DESK_TIME_ZONE)
    text = value.strip().replace(" ", "+") if "T" in value else value.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time(0), tzinfo=zone)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            _("'%(value)s' is not an ISO 8601 date or instant") % {"value": value}, field=field
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
