"""Counting failures in Django's cache to slow down password guessing.

Keys are hashed so that addresses typed by strangers never become cache
keys verbatim (length, odd characters). The window is fixed: it starts at
the first failure and the count expires with it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class Limit:
    scope: str
    attempts: int
    window_seconds: int

    def _key(self, *parts: str) -> str:
        digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()
        return f"expediter:ratelimit:{self.scope}:{digest}"

    def exceeded(self, *parts: str) -> bool:
        return int(cache.get(self._key(*parts), 0)) >= self.attempts

    def hit(self, *parts: str) -> None:
        key = self._key(*parts)
        if not cache.add(key, 1, self.window_seconds):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, self.window_seconds)

    def reset(self, *parts: str) -> None:
        cache.delete(self._key(*parts))


LOGIN_PER_ACCOUNT = Limit("login", attempts=10, window_seconds=15 * 60)
LOGIN_PER_ADDRESS = Limit("login-ip", attempts=100, window_seconds=15 * 60)
RESET_PER_ACCOUNT = Limit("reset", attempts=3, window_seconds=15 * 60)
RESET_PER_ADDRESS = Limit("reset-ip", attempts=20, window_seconds=15 * 60)


def client_address(request: HttpRequest) -> str:
    """The peer address; forwarded headers are not trusted since anyone can send them."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")
