"""Weekly opening hours, parsed from the contract's SPEC notation.

``mon-fri 09:00-12:00,13:00-17:00; sat 09:00-12:00`` is shared by business
calendars, agents' shifts and the simulator's scenarios, so it is parsed in
exactly one place. Ranges are minutes after local midnight; ``24:00`` is a
valid end, and a night desk that crosses midnight is written as two ranges
(``mon 22:00-24:00; tue 00:00-06:00``).
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from expediter.core.wording import Wording, gettext_noop

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")

Range = tuple[int, int]


class HoursSpecError(ValueError):
    """A SPEC string that cannot be understood; the message says which part.

    The message is a :class:`~expediter.core.wording.Wording`, so the service
    that shows it can say it in the reader's language.
    """

    def __init__(self, template: str, **values: str) -> None:
        super().__init__(Wording(template, **values))


@dataclass(frozen=True)
class WeeklyHours:
    """Open ranges per weekday (index 0 = Monday), sorted and non-overlapping."""

    days: tuple[tuple[Range, ...], ...]

    def ranges_on(self, weekday: int) -> tuple[Range, ...]:
        """The open ranges of a weekday (``date.weekday()`` numbering)."""
        return self.days[weekday]

    @property
    def is_empty(self) -> bool:
        return not any(self.days)

    def minutes_per_week(self) -> int:
        return sum(end - start for day in self.days for start, end in day)

    def to_spec(self) -> str:
        """The canonical SPEC, one group per day that has hours."""
        groups = []
        for name, ranges in zip(DAY_NAMES, self.days, strict=True):
            if ranges:
                text = ",".join(f"{_fmt(s)}-{_fmt(e)}" for s, e in ranges)
                groups.append(f"{name} {text}")
        return "; ".join(groups)


def parse_hours(spec: str) -> WeeklyHours:
    """Parse a SPEC; raise :class:`HoursSpecError` naming the faulty part."""
    days: list[list[Range]] = [[] for _ in DAY_NAMES]
    groups = [g.strip() for g in (spec or "").split(";") if g.strip()]
    if not groups:
        raise HoursSpecError(gettext_noop("hours are empty: expected e.g. 'mon-fri 09:00-17:00'"))
    for group in groups:
        parts = group.split(None, 1)
        if len(parts) != 2:
            raise HoursSpecError(
                gettext_noop("'%(group)s': expected DAYS followed by HH:MM-HH:MM ranges"),
                group=group,
            )
        day_part, ranges_part = parts
        for weekday in _parse_days(day_part):
            for text in ranges_part.replace(" ", "").split(","):
                days[weekday].append(_parse_range(text))
    return WeeklyHours(days=tuple(_merge(d) for d in days))


def _parse_days(text: str) -> list[int]:
    text = text.lower()
    if "-" in text:
        first, last = text.split("-", 1)
        start, end = _day_index(first), _day_index(last)
        if end < start:
            raise HoursSpecError(
                gettext_noop("'%(text)s': a day span must run forward (e.g. mon-fri)"), text=text
            )
        return list(range(start, end + 1))
    return [_day_index(text)]


def _day_index(name: str) -> int:
    try:
        return DAY_NAMES.index(name[:3].lower())
    except ValueError:
        raise HoursSpecError(
            gettext_noop("'%(name)s' is not a day: use mon, tue, wed, thu, fri, sat, sun"),
            name=name,
        ) from None


def _parse_range(text: str) -> Range:
    if "-" not in text:
        raise HoursSpecError(gettext_noop("'%(text)s': expected a range HH:MM-HH:MM"), text=text)
    start_text, end_text = text.split("-", 1)
    start, end = _parse_time(start_text), _parse_time(end_text)
    if start >= MINUTES_PER_DAY:
        raise HoursSpecError(gettext_noop("'%(text)s': a range cannot start at 24:00"), text=text)
    if end <= start:
        raise HoursSpecError(
            gettext_noop(
                "'%(text)s': the range is empty or inverted; write a night that crosses "
                "midnight as two ranges (22:00-24:00 and 00:00-06:00 the next day)"
            ),
            text=text,
        )
    return (start, end)


def _parse_time(text: str) -> int:
    match = _TIME.match(text.strip())
    if not match:
        raise HoursSpecError(gettext_noop("'%(text)s' is not a time HH:MM"), text=text)
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise HoursSpecError(
            gettext_noop("'%(text)s' is not a time of day (00:00 to 24:00)"), text=text
        )
    return hours * 60 + minutes


def _merge(ranges: list[Range]) -> tuple[Range, ...]:
    merged: list[Range] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _fmt(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# --- from local wall-clock ranges to UTC intervals -------------------------

_UTC = _dt.UTC
_SCAN_STEP = _dt.timedelta(hours=3)


def _offset(zone: ZoneInfo, at_utc: _dt.datetime) -> _dt.timedelta:
    return at_utc.astimezone(zone).utcoffset() or _dt.timedelta(0)


def _transition(zone: ZoneInfo, lo: _dt.datetime, hi: _dt.datetime) -> _dt.datetime:
    """The first instant in ``(lo, hi]`` with ``hi``'s offset (to the second)."""
    target = _offset(zone, hi)
    while hi - lo > _dt.timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if mid <= lo:
            break
        if _offset(zone, mid) == target:
            hi = mid
        else:
            lo = mid
    return hi


def _constant_offset_pieces(
    zone: ZoneInfo, start: _dt.datetime, end: _dt.datetime
) -> list[tuple[_dt.datetime, _dt.datetime, _dt.timedelta]]:
    """Split ``[start, end)`` (UTC) where the zone's offset changes."""
    pieces = []
    piece_start = start
    cursor = start
    current = _offset(zone, start)
    while cursor < end:
        step_end = min(cursor + _SCAN_STEP, end)
        if _offset(zone, step_end) != current and step_end != cursor:
            change = _transition(zone, cursor, step_end)
            pieces.append((piece_start, change, current))
            piece_start, current = change, _offset(zone, change)
        cursor = step_end
    pieces.append((piece_start, end, current))
    return pieces


@lru_cache(maxsize=65536)
def wall_ranges_utc(
    day: _dt.date, ranges: tuple[Range, ...], zone_key: str
) -> tuple[tuple[_dt.datetime, _dt.datetime], ...]:
    """UTC intervals during which the local wall clock of ``day`` is inside ``ranges``.

    The definition is wall-clock membership, so it holds on DST days: a local
    time that does not exist (spring forward) is never covered, a repeated
    local hour (fall back) is covered twice, and ``24:00`` is the next local
    midnight. Cached, since schedules ask about the same days over and over.
    """
    if not ranges:
        return ()
    zone = ZoneInfo(zone_key)
    naive_midnight = _dt.datetime.combine(day, _dt.time(0), tzinfo=_UTC)
    window_start = naive_midnight - _dt.timedelta(hours=26)
    window_end = naive_midnight + _dt.timedelta(hours=50)
    found: list[tuple[_dt.datetime, _dt.datetime]] = []
    for piece_start, piece_end, offset in _constant_offset_pieces(zone, window_start, window_end):
        local_midnight_utc = naive_midnight - offset
        for start_min, end_min in ranges:
            lo = max(local_midnight_utc + _dt.timedelta(minutes=start_min), piece_start)
            hi = min(local_midnight_utc + _dt.timedelta(minutes=end_min), piece_end)
            if lo < hi:
                found.append((lo, hi))
    found.sort()
    merged: list[tuple[_dt.datetime, _dt.datetime]] = []
    for lo, hi in found:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def weekly_intervals_utc(
    hours: WeeklyHours, zone_key: str, start: _dt.datetime, end: _dt.datetime
) -> list[tuple[_dt.datetime, _dt.datetime]]:
    """Every UTC interval of ``hours`` (in ``zone_key``) overlapping ``[start, end)``, clipped."""
    zone = ZoneInfo(zone_key)
    day = start.astimezone(zone).date() - _dt.timedelta(days=1)
    last = end.astimezone(zone).date() + _dt.timedelta(days=1)
    out: list[tuple[_dt.datetime, _dt.datetime]] = []
    while day <= last:
        for lo, hi in wall_ranges_utc(day, hours.days[day.weekday()], zone_key):
            lo, hi = max(lo, start), min(hi, end)
            if lo < hi:
                if out and lo <= out[-1][1]:
                    out[-1] = (out[-1][0], max(out[-1][1], hi))
                else:
                    out.append((lo, hi))
        day += _dt.timedelta(days=1)
    return out
