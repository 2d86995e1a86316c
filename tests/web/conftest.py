"""Fixtures for the page tests: a clean cache (rate limits) and signed-in clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from django.test import Client

from expediter.staff.models import User


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Rate-limit counters live in the cache: no test inherits another's failures."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def signed_in() -> Callable[[User], Client]:
    """``signed_in(user)``: a test client with that person's session, in English."""

    def make(user: User) -> Client:
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(user)
        return client

    return make
