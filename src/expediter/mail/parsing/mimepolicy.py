"""The ``email`` policy used for parsing: ``policy.default``, memoised.

``policy.default`` re-parses a structured header every time it is read, and
the parser itself reads each part's ``Content-Type`` several times; on real
mail that dominates parsing time. Header objects are immutable, so a bounded
cache keyed on (name, value) returns the same objects the registry would build,
several times faster.
"""

from __future__ import annotations

from email import policy
from email.headerregistry import HeaderRegistry
from functools import lru_cache
from typing import Any

_CACHED_VALUE_LENGTH = 2000
_registry = HeaderRegistry()


@lru_cache(maxsize=4096)
def _cached_header(name: str, value: str) -> Any:
    return _registry(name, value)


def _header(name: str, value: str) -> Any:
    if len(value) > _CACHED_VALUE_LENGTH:
        return _registry(name, value)
    return _cached_header(name, value)


def clear_header_cache() -> None:
    """Forget cached header objects (benchmarks measure a cold parser)."""
    _cached_header.cache_clear()


PARSING_POLICY = policy.default.clone(header_factory=_header)

# Regenerates embedded messages without refolding their headers.
VERBATIM_POLICY = PARSING_POLICY.clone(refold_source="none", max_line_length=0, cte_type="8bit")
