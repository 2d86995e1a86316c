"""Periodic jobs are claimed once per due time, whoever ticks."""

from __future__ import annotations

import datetime as dt

import pytest

from expediter.core import periodic

pytestmark = pytest.mark.django_db


def test_a_due_job_is_enqueued_once_until_its_next_time(at) -> None:
    runs: list[str] = []
    periodic.register("test-job", every_seconds=30, enqueue=lambda: runs.append("x"))
    try:
        start = at(dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC))
        assert "test-job" in periodic.tick()
        assert "test-job" not in periodic.tick()  # a second worker ticking at once
        at(start + dt.timedelta(seconds=29))
        assert "test-job" not in periodic.tick()
        at(start + dt.timedelta(seconds=31))
        assert "test-job" in periodic.tick()
        assert runs == ["x", "x"]
    finally:
        periodic._jobs.pop("test-job")
