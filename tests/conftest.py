"""Shared fixtures: a frozen-clock helper and an API client with bearer tokens."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache.

    Tokens kept there (such as the SLA catalogue's) describe a database that
    the previous test rolled back.
    """
    from django.conf import settings

    if settings.configured:
        from django.core.cache import cache

        cache.clear()


@pytest.fixture
def at() -> Iterator[Any]:
    """``at(datetime)`` moves the clock; released after the test."""
    from expediter.core import clock

    def move(when: dt.datetime) -> dt.datetime:
        clock.set_now(when)
        return when

    yield move
    clock.set_now(None)


class ApiClient:
    """A test client speaking JSON to /api/v1 with a user's bearer token."""

    def __init__(self, user: Any | None) -> None:
        from django.test import Client

        from expediter.staff.services import token_create

        self.client = Client()
        self.headers = {}
        if user is not None:
            self.headers["HTTP_AUTHORIZATION"] = f"Bearer {token_create(user=user)}"

    def _call(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        url = "/api/v1" + path
        kwargs: dict[str, Any] = dict(self.headers)
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        elif query:
            kwargs["data"] = query
        return getattr(self.client, method)(url, **kwargs)

    def get(self, path: str, **query: Any) -> Any:
        return self._call("get", path, **query)

    def post(self, path: str, body: Any) -> Any:
        return self._call("post", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self._call("patch", path, body)


@pytest.fixture
def api() -> Any:
    return ApiClient
