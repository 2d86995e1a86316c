"""Business-time arithmetic over UTC instants, for SLA due dates.

A calendar is open at an instant when the wall clock of its time zone reads a
time inside one of that local day's ranges. Everything else follows from that
one rule, which is also what a person looking at the desk's clock would say:

- On a spring-forward day the skipped wall times are never read, so a range
  01:00-04:00 over a skipped 02:00-03:00 lasts two real hours, and a range
  lying wholly inside the gap lasts nothing.
- On a fall-back day the repeated wall times are read twice, so a range
  covering the repeated hour lasts one real hour more. A range that starts or
  ends inside the repeated hour is open during both readings of its part of
  that hour (two separate stretches of real time).
- ``24:00`` ends a range when the wall clock leaves that date, at the next
  local midnight, whatever the offset does in between.
- A day is closed when it is a custom holiday or a public holiday of the
  calendar's country (and subdivision); an exceptional opening replaces that
  day's hours, even on a holiday. Public holidays come from the ``holidays``
  package unless the calendar names another source (the desk keeps the
  package's answers in its database, see ``sla.services.public_holidays``).

Durations are real elapsed time inside open stretches, exact to the
microsecond (so to the second, as due times must be). Due dates are the
*earliest* instant at which the requested business time has elapsed: when the
last minute ends exactly at a closing time the due date is that closing time,
not the next opening. Asking for zero business time returns the start itself,
even when the calendar is closed then, because nothing has to elapse.

Open stretches are computed once per calendar for fixed spans of UTC time
(chunks) from the zone's runs of constant offset, and kept with running totals,
so a due date is two binary searches in the common case and no code steps
through minutes. Offsets are sampled every few hours to find the zone's
transitions: two transitions closer than that would be missed, which no zone
in the time zone database has.
"""

from __future__ import annotations

import bisect
import functools
import math
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from expediter.core.wording import Wording, gettext_noop, wording_of
from expediter.schedules.hours import Range, WeeklyHours, parse_hours

Openings = tuple[tuple[date, tuple[Range, ...]], ...]
Span = tuple[int, int]
# A year's public holidays of a country, or of one of its subdivisions.
PublicHolidays = Callable[[str, str | None, int], frozenset[date]]

_US = 1_000_000
_MINUTE_US = 60 * _US
_DAY_US = 86_400 * _US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_CHUNK_DAYS = 56
_CHUNK_US = _CHUNK_DAYS * _DAY_US
_GIVE_UP_DAYS = 3 * 366
_GIVE_UP_CHUNKS = math.ceil(_GIVE_UP_DAYS / _CHUNK_DAYS)
_OFFSET_SAMPLE_US = 3 * 3600 * _US
_FIRST_US = (datetime(2, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_LAST_US = (datetime(9998, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)


@functools.lru_cache(maxsize=1024)
def package_public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """A year's public holidays from the ``holidays`` package, asking for its neighbours too.

    A day observed in place of a holiday can cross the year boundary (New Year
    on a Saturday observed on 31 December); asking for the surrounding years
    keeps it whichever year the package files it under.

    The package is imported here, on first use: loading it and then one
    country loads every country's module, some 20 MB in each process, which a
    web process asking the database instead never needs.
    """
    import holidays as holidays_lib

    found = holidays_lib.country_holidays(
        country, subdiv=subdivision, years=range(max(year - 1, 1), year + 2)
    )
    return frozenset(day for day in found if day.year == year)


@dataclass(frozen=True)
class BusinessCalendar:
    """When a desk is open; hashable so its computed timeline can be cached.

    ``openings`` pairs a local date with the ranges that replace its usual
    hours (an empty tuple closes the day); a tuple rather than a mapping so
    that the calendar stays hashable. It is kept sorted by date.
    ``public_holidays`` gives the country's holidays for a year; by default
    the ``holidays`` package, asked in this process.
    """

    zone: ZoneInfo
    hours: WeeklyHours
    holidays: frozenset[date] = frozenset()
    country: str | None = None
    subdivision: str | None = None
    openings: Openings = ()
    public_holidays: PublicHolidays = package_public_holidays
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Normalised so that calendars built from the same facts compare and hash equal.
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "openings", tuple(sorted(self.openings)))
        facts = (self.zone, self.hours, self.holidays, self.country, self.subdivision)
        object.__setattr__(self, "_hash", hash((*facts, self.openings, self.public_holidays)))

    def __hash__(self) -> int:
        """Hashed once, since every computation looks the calendar's timeline up by it."""
        return self._hash


def calendar_from_spec(
    *,
    time_zone: str,
    hours: str,
    country: str | None = None,
    holidays: Iterable[date | str] = (),
    openings: Mapping[date | str, str | Iterable[Range]] | None = None,
) -> BusinessCalendar:
    """Build a calendar from the notation people type, refusing bad input early.

    ``country`` is ``CC`` or ``CC-SUBDIV`` as the command line takes it
    (``FR``, ``US-NY``, ``FR-57``); ``holidays`` are dates or ISO strings;
    ``openings`` maps a date to ranges as ``"09:00-12:00,13:00-17:00"`` or as
    minute pairs. Every refusal is a :class:`ValueError` naming the bad part.
    """
    country_code, subdivision = _parse_country(country)
    return BusinessCalendar(
        zone=_parse_zone(time_zone),
        hours=parse_hours(hours),
        holidays=frozenset(_parse_date(value, "holiday") for value in holidays),
        country=country_code,
        subdivision=subdivision,
        openings=_parse_openings(openings or {}),
    )


def is_open(cal: BusinessCalendar, at: datetime) -> bool:
    """Whether the desk's wall clock reads an open time at that instant."""
    instant = _to_us(at)
    chunk = _timeline(cal)[instant // _CHUNK_US]
    index = bisect.bisect_right(chunk.starts, instant) - 1
    return index >= 0 and instant < chunk.ends[index]


def add_business_seconds(cal: BusinessCalendar, start: datetime, seconds: int) -> datetime:
    """The earliest UTC instant by which ``seconds`` of business time have elapsed.

    The clock starts at ``start`` if the desk is open then, else at its next
    opening. Zero returns ``start`` itself (in UTC), open or not. Negative
    amounts are refused rather than guessed at; a calendar with no open time
    in the ~3 years ahead raises :class:`ValueError` instead of searching on.
    """
    amount = operator.index(seconds)
    if amount < 0:
        raise ValueError(f"business time to add must not be negative (got {amount} s)")
    if amount == 0:
        return _from_us(_to_us(start))
    return _from_us(_advance(_timeline(cal), _to_us(start), amount * _US))


def add_business_minutes(cal: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    """:func:`add_business_seconds` for SLA targets, which are set in minutes."""
    return add_business_seconds(cal, start, operator.index(minutes) * 60)


def add_business_time(cal: BusinessCalendar, start: datetime, amount: timedelta) -> datetime:
    """:func:`add_business_seconds` exact to the microsecond.

    SLA clocks chain pauses and resumptions at instants that carry
    microseconds; whole seconds at each step would drift by up to a second
    per pause, so they work in exact business time and round only to show.
    """
    elapsed = amount // timedelta(microseconds=1)
    if elapsed < 0:
        raise ValueError(f"business time to add must not be negative (got {amount})")
    if elapsed == 0:
        return _from_us(_to_us(start))
    return _from_us(_advance(_timeline(cal), _to_us(start), elapsed))


def business_time_between(cal: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time in ``[start, end)`` exact to the microsecond; antisymmetric."""
    first, last = _to_us(start), _to_us(end)
    if last < first:
        return -business_time_between(cal, end, start)
    return timedelta(microseconds=_business_us(_timeline(cal), first, last))


def business_seconds_between(cal: BusinessCalendar, start: datetime, end: datetime) -> int:
    """Whole seconds of business time in ``[start, end)`` (a fraction is dropped).

    Antisymmetric, so that elapsed and remaining time can be subtracted
    freely: negative when ``end`` precedes ``start``, zero when equal.
    """
    first, last = _to_us(start), _to_us(end)
    if last < first:
        return -business_seconds_between(cal, end, start)
    return _business_us(_timeline(cal), first, last) // _US


def next_opening(cal: BusinessCalendar, at: datetime) -> datetime | None:
    """The first open instant at or after ``at`` (``at`` itself when open), in UTC.

    None when the desk does not open within ~3 years: it is taken as never
    opening rather than searched for ever.
    """
    instant = _to_us(at)
    timeline = _timeline(cal)
    index = instant // _CHUNK_US
    for _ in range(_GIVE_UP_CHUNKS + 1):
        found = timeline[index].opening_from(instant)
        if found is not None:
            return _from_us(found)
        index += 1
    return None


def open_intervals(
    cal: BusinessCalendar, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The open stretches overlapping ``[start, end)``, clipped to it, in UTC.

    Stretches that touch (a night desk's 24:00 and 00:00) come out as one.
    """
    first, last = _to_us(start), _to_us(end)
    pending: Span | None = None
    for span in _spans_between(_timeline(cal), first, last):
        if pending is not None and pending[1] == span[0]:
            pending = (pending[0], span[1])
            continue
        if pending is not None:
            yield _from_us(pending[0]), _from_us(pending[1])
        pending = span
    if pending is not None:
        yield _from_us(pending[0]), _from_us(pending[1])


# --- the per-calendar timeline ------------------------------------------------


class _Chunk:
    """Open stretches within one span of UTC time, with running totals.

    ``done[i]`` is the business time elapsed in this chunk at the end of
    stretch ``i``, which turns "where does the Nth second fall" into a search.
    """

    __slots__ = ("done", "ends", "starts", "total")

    def __init__(self, spans: list[Span]) -> None:
        self.starts = [first for first, _ in spans]
        self.ends = [last for _, last in spans]
        self.done = []
        elapsed = 0
        for first, last in spans:
            elapsed += last - first
            self.done.append(elapsed)
        self.total = elapsed

    def done_before(self, instant: int) -> int:
        index = bisect.bisect_right(self.starts, instant) - 1
        if index < 0:
            return 0
        stretch_start = self.starts[index]
        already = self.done[index] - (self.ends[index] - stretch_start)
        return already + min(instant, self.ends[index]) - stretch_start

    def instant_at(self, elapsed: int) -> int:
        """Where ``elapsed`` (0 < elapsed <= total) of business time is reached."""
        index = bisect.bisect_left(self.done, elapsed)
        return self.ends[index] - (self.done[index] - elapsed)

    def opening_from(self, instant: int) -> int | None:
        index = bisect.bisect_right(self.ends, instant)
        if index == len(self.ends):
            return None
        return max(instant, self.starts[index])


class _Timeline(dict[int, _Chunk]):
    """A calendar's chunks by index, each built on first use and kept."""

    def __init__(self, cal: BusinessCalendar) -> None:
        super().__init__()
        self.cal = cal

    def __missing__(self, index: int) -> _Chunk:
        built = self[index] = _build_chunk(self.cal, index)
        return built


@functools.lru_cache(maxsize=128)
def _timeline(cal: BusinessCalendar) -> _Timeline:
    return _Timeline(cal)


def _advance(timeline: _Timeline, instant: int, amount: int) -> int:
    index = instant // _CHUNK_US
    chunk = timeline[index]
    target = chunk.done_before(instant) + amount
    closed_since = index
    while target > chunk.total:
        target -= chunk.total
        if chunk.total:
            closed_since = index + 1
        elif index - closed_since >= _GIVE_UP_CHUNKS:
            raise ValueError(
                f"the calendar stays closed for more than {_GIVE_UP_DAYS} days after "
                f"{_from_us(max(instant, closed_since * _CHUNK_US)).date()}: it never opens"
            )
        index += 1
        chunk = timeline[index]
    return chunk.instant_at(target)


def _business_us(timeline: _Timeline, first: int, last: int) -> int:
    first_index, last_index = first // _CHUNK_US, last // _CHUNK_US
    head = timeline[first_index]
    if first_index == last_index:
        return head.done_before(last) - head.done_before(first)
    middle = sum(timeline[i].total for i in range(first_index + 1, last_index))
    tail = timeline[last_index].done_before(last)
    return head.total - head.done_before(first) + middle + tail


def _spans_between(timeline: _Timeline, first: int, last: int) -> Iterator[Span]:
    for index in range(first // _CHUNK_US, (last - 1) // _CHUNK_US + 1):
        chunk = timeline[index]
        for span_start, span_end in zip(chunk.starts, chunk.ends, strict=True):
            clipped = (max(span_start, first), min(span_end, last))
            if clipped[0] < clipped[1]:
                yield clipped


# --- building a chunk from wall-clock ranges ----------------------------------


def _build_chunk(cal: BusinessCalendar, index: int) -> _Chunk:
    low, high = index * _CHUNK_US, (index + 1) * _CHUNK_US
    if low < _FIRST_US or high > _LAST_US:
        raise ValueError("business time is only computed between the years 2 and 9997")
    runs = _chunk_offset_runs(cal.zone, index)
    openings = dict(cal.openings)
    spans: list[Span] = []
    for day in _local_days_touching(low, high):
        for first, last in openings.get(day, _usual_ranges(cal, day)):
            wall_from, wall_to = _wall_us(day, first), _wall_us(day, last)
            for span_start, span_end in _instants_reading(runs, wall_from, wall_to):
                if span_start < span_end:
                    spans.append((span_start, span_end))
    return _Chunk(_merge(spans))


def _usual_ranges(cal: BusinessCalendar, day: date) -> tuple[Range, ...]:
    if day in cal.holidays:
        return ()
    if cal.country and day in cal.public_holidays(cal.country, cal.subdivision, day.year):
        return ()
    return cal.hours.days[day.weekday()]


def _local_days_touching(low: int, high: int) -> Iterator[date]:
    """Every local date whose wall times can fall in ``[low, high)`` (offsets < 24 h)."""
    first = _EPOCH_ORDINAL + low // _DAY_US - 1
    last = _EPOCH_ORDINAL + (high - 1) // _DAY_US + 1
    for ordinal in range(first, last + 1):
        yield date.fromordinal(ordinal)


def _wall_us(day: date, minute: int) -> int:
    """A wall-clock reading as microseconds, as if the zone were UTC."""
    return (day.toordinal() - _EPOCH_ORDINAL) * _DAY_US + minute * _MINUTE_US


def _instants_reading(
    runs: list[tuple[int, int, int]], wall_from: int, wall_to: int
) -> Iterator[Span]:
    """Instants whose wall reading lies in ``[wall_from, wall_to)``, clipped to the runs.

    Within a run of constant offset the reading is the instant plus the
    offset, so each run contributes at most one stretch; a skipped hour thus
    shortens a range and a repeated hour lengthens (or splits) it.
    """
    for run_start, run_end, offset in runs:
        yield max(run_start, wall_from - offset), min(run_end, wall_to - offset)


@functools.lru_cache(maxsize=1024)
def _chunk_offset_runs(zone: ZoneInfo, index: int) -> list[tuple[int, int, int]]:
    """Shared by every calendar of a zone: finding the transitions is the slow part."""
    return _offset_runs(zone, index * _CHUNK_US, (index + 1) * _CHUNK_US)


def _offset_runs(zone: ZoneInfo, low: int, high: int) -> list[tuple[int, int, int]]:
    """``(start, end, offset)`` runs of constant UTC offset covering ``[low, high)``."""
    runs = []
    run_start, run_offset = low, _offset_at(zone, low)
    probe = low
    while probe < high:
        following = min(probe + _OFFSET_SAMPLE_US, high)
        if _offset_at(zone, following) != run_offset:
            change = _first_change(zone, probe, following, run_offset)
            runs.append((run_start, change, run_offset))
            run_start, run_offset = change, _offset_at(zone, change)
        probe = following
    runs.append((run_start, high, run_offset))
    return runs


def _first_change(zone: ZoneInfo, before: int, after: int, offset: int) -> int:
    """The first whole second in ``(before, after]`` whose offset is not ``offset``."""
    low, high = before // _US, after // _US
    while high - low > 1:
        middle = (low + high) // 2
        if _offset_at(zone, middle * _US) == offset:
            low = middle
        else:
            high = middle
    return high * _US


def _offset_at(zone: ZoneInfo, instant: int) -> int:
    offset = _from_us(instant).astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset
    return offset // timedelta(microseconds=1)


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for span_start, span_end in sorted(spans):
        if merged and span_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], span_end))
        else:
            merged.append((span_start, span_end))
    return merged


# --- conversions and parsing --------------------------------------------------


def _to_us(at: datetime) -> int:
    try:
        delta = at - _EPOCH
    except TypeError:
        raise ValueError(
            f"{at.isoformat()} has no time zone: business time needs an instant"
        ) from None
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


def _from_us(instant: int) -> datetime:
    seconds, micro = divmod(instant, _US)
    return _EPOCH + timedelta(0, seconds, micro)


def _parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{name}' is not a known time zone (e.g. Europe/Paris)") from None


def split_country(text: str | None) -> tuple[str | None, str | None]:
    """``FR-57`` as ``("FR", "57")`` without checking either part (a stored calendar's were)."""
    if not text:
        return None, None
    code, _, subdivision = text.strip().partition("-")
    return code.upper(), subdivision or None


def _parse_country(text: str | None) -> tuple[str | None, str | None]:
    code, subdivision = split_country(text)
    if code is None:
        return None, None
    import holidays as holidays_lib  # see package_public_holidays

    supported = holidays_lib.list_supported_countries()
    if code not in supported:
        raise ValueError(
            Wording(
                gettext_noop("'%(text)s': no public holidays are known for country '%(code)s'"),
                text=text,
                code=code,
            )
        )
    if not subdivision:
        return code, None
    by_lower = {known.lower(): known for known in supported[code]}
    if subdivision.lower() not in by_lower:
        raise ValueError(
            Wording(
                gettext_noop(
                    "'%(text)s': '%(subdivision)s' is not a subdivision of %(code)s "
                    "(known: %(known)s)"
                ),
                text=text,
                subdivision=subdivision,
                code=code,
                known=", ".join(supported[code]) or Wording(gettext_noop("none")),
            )
        )
    return code, by_lower[subdivision.lower()]


def _parse_date(value: date | str, what: str) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"{what} {value.isoformat()}: expected a date, not an instant")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{what} '{value}' is not a date YYYY-MM-DD") from None


def _parse_openings(openings: Mapping[date | str, str | Iterable[Range]]) -> Openings:
    parsed = {}
    for key, ranges in openings.items():
        day = _parse_date(key, "opening")
        if day in parsed:
            raise ValueError(f"opening {day} is given twice")
        parsed[day] = _parse_opening_ranges(day, ranges)
    return tuple(sorted(parsed.items()))


def _parse_opening_ranges(day: date, ranges: str | Iterable[Range]) -> tuple[Range, ...]:
    """Read an opening's ranges with the weekly-hours parser, for the same checks."""
    text = ranges if isinstance(ranges, str) else ",".join(_range_text(r) for r in ranges)
    if not text.strip():
        return ()
    try:
        return parse_hours(f"mon {text}").days[0]
    except ValueError as error:
        raise ValueError(
            Wording(gettext_noop("opening %(day)s: %(error)s"), day=day, error=wording_of(error))
        ) from None


def _range_text(pair: Range) -> str:
    first, last = (operator.index(minute) for minute in pair)
    return f"{first // 60:02d}:{first % 60:02d}-{last // 60:02d}:{last % 60:02d}"
