"""The queue's durations read exactly as Django's ``timesince`` and ``timeuntil`` would."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timesince as django_timesince
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.web.durations import timesince, timeuntil

ZONES = [dt.UTC, zoneinfo.ZoneInfo("Europe/Paris"), zoneinfo.ZoneInfo("America/New_York")]
moments = st.datetimes(
    min_value=dt.datetime(2020, 1, 1),
    max_value=dt.datetime(2031, 12, 31),
    timezones=st.sampled_from(ZONES),
)
# Most durations on a desk are minutes to weeks; month and year edges need dates close together too.
nearby = st.timedeltas(min_value=-dt.timedelta(days=800), max_value=dt.timedelta(days=800))


@settings(max_examples=600, deadline=None)
@given(
    d=moments,
    gap=st.one_of(
        nearby, st.timedeltas(max_value=dt.timedelta(hours=2), min_value=-dt.timedelta(hours=2))
    ),
    depth=st.integers(min_value=1, max_value=6),
    language=st.sampled_from(["en", "fr"]),
    now_zone=st.sampled_from(ZONES),
)
def test_the_same_words_as_django(d, gap, depth, language, now_zone) -> None:
    now = (d + gap).astimezone(now_zone)
    with translation.override(language):
        assert timesince(d, now, depth=depth) == django_timesince.timesince(d, now, depth=depth)
        assert timeuntil(d, now, depth=depth) == django_timesince.timeuntil(d, now, depth=depth)
        explicit = timesince(d, now, depth=depth, language=language)
        assert explicit == django_timesince.timesince(d, now, depth=depth)


@pytest.mark.parametrize(
    ("d", "now", "words"),
    [
        (
            dt.datetime(2026, 1, 31, 12, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC),
            "1\xa0month",
        ),
        (
            dt.datetime(2024, 2, 29, tzinfo=dt.UTC),
            dt.datetime(2025, 2, 28, tzinfo=dt.UTC),
            "11\xa0months, 4\xa0weeks",
        ),
        (
            dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC),
            dt.datetime(2026, 6, 1, 10, 0, 59, tzinfo=dt.UTC),
            "0\xa0minutes",
        ),
        (
            dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC),
            dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC),
            "0\xa0minutes",
        ),
    ],
)
def test_calendar_edges(d, now, words) -> None:
    with translation.override("en"):
        assert timesince(d, now) == words == django_timesince.timesince(d, now)


def test_a_depth_below_one_is_refused_as_django_does() -> None:
    moment = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="depth"):
        timesince(moment, moment, depth=0)
