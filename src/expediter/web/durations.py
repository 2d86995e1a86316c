"""How long ago, how long until: Django's ``timesince`` words, at the pace of a queue page.

A queue page words a hundred durations (each row's age, each SLA badge).
Django's ``timesince`` looks its words up in the translation catalogue on
every call, which costs more than the calendar arithmetic. Here the same
arithmetic gives the significant parts of a duration (``(("day", 3),
("hour", 4))``), and the words for those parts are worked out once per
language and kept. The output is Django's, character for character (a
property test compares them).
"""

from __future__ import annotations

import datetime as dt
import functools

from django.utils import translation
from django.utils.html import avoid_wrapping
from django.utils.timesince import TIME_STRINGS, TIME_STRINGS_KEYS
from django.utils.timezone import is_aware
from django.utils.translation import gettext

_TIME_CHUNKS = (60 * 60 * 24 * 7, 60 * 60 * 24, 60 * 60, 60)  # week, day, hour, minute
_MONTHS_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

Parts = tuple[tuple[str, int], ...]


def timesince(d: dt.datetime, now: dt.datetime, *, depth: int = 2, language: str = "") -> str:
    """As ``django.utils.timesince.timesince(d, now, depth=depth)``.

    ``language`` spares the look-up of the active language when the caller
    words many durations at once; it defaults to the active one.
    """
    return _worded(d, now, depth=depth, language=language, reverse=False)


def timeuntil(d: dt.datetime, now: dt.datetime, *, depth: int = 2, language: str = "") -> str:
    """As ``django.utils.timesince.timeuntil(d, now, depth=depth)``."""
    return _worded(d, now, depth=depth, language=language, reverse=True)


def _worded(d: dt.datetime, now: dt.datetime, *, depth: int, language: str, reverse: bool) -> str:
    if depth <= 0:
        raise ValueError("depth must be greater than 0.")
    if is_aware(now) and is_aware(d):
        now = now.astimezone(d.tzinfo)  # so both are read on one wall clock, as Django does
    if reverse:
        d, now = now, d
    return _words(_significant(_partials(d, now), depth), language or translation.get_language())


def _partials(d: dt.datetime, now: dt.datetime) -> tuple[int, ...] | None:
    """Years, months, weeks, days, hours, minutes from ``d`` to ``now``; None if not after.

    Django's arithmetic: whole calendar months first, from a pivot that
    keeps the day of the month where the month is long enough.
    """
    delta = now - d
    if delta.days * 24 * 60 * 60 + delta.seconds <= 0:
        return None
    total_months = (now.year - d.year) * 12 + (now.month - d.month)
    if d.day > now.day or (d.day == now.day and d.time() > now.time()):
        total_months -= 1
    years, months = divmod(total_months, 12)
    pivot = d
    if years or months:
        pivot_year, pivot_month = d.year + years, d.month + months
        if pivot_month > 12:
            pivot_month -= 12
            pivot_year += 1
        pivot = dt.datetime(
            pivot_year,
            pivot_month,
            min(_MONTHS_DAYS[pivot_month - 1], d.day),
            d.hour,
            d.minute,
            d.second,
            tzinfo=d.tzinfo,
        )
    remaining = (now - pivot).total_seconds()
    partials = [years, months]
    for chunk in _TIME_CHUNKS:
        count = int(remaining // chunk)
        partials.append(count)
        remaining -= chunk * count
    return tuple(partials)


def _significant(partials: tuple[int, ...] | None, depth: int) -> Parts:
    """The first non-zero part and those after it, up to ``depth`` and the next zero."""
    if partials is None:
        return ()
    first = next((i for i, value in enumerate(partials) if value != 0), None)
    if first is None:
        return ()
    parts: list[tuple[str, int]] = []
    for name, value in zip(TIME_STRINGS_KEYS[first:], partials[first:], strict=True):
        if value == 0 or len(parts) == depth:
            break
        parts.append((name, value))
    return tuple(parts)


@functools.lru_cache(maxsize=4096)
def _words(parts: Parts, language: str) -> str:
    with translation.override(language):
        if not parts:
            return avoid_wrapping(TIME_STRINGS["minute"] % {"num": 0})
        words = [avoid_wrapping(TIME_STRINGS[name] % {"num": value}) for name, value in parts]
        return gettext(", ").join(words)
