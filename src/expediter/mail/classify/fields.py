"""Header lookup for classification rules, indexed once per message."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from expediter.mail.parsing import ParsedMessage


@dataclass(frozen=True, slots=True)
class Fields:
    """Header values by lower-cased name, in message order."""

    values: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, message: ParsedMessage) -> Fields:
        return cls.from_pairs(message.headers)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Fields:
        grouped: dict[str, list[str]] = {}
        for name, value in pairs:
            grouped.setdefault(name.lower(), []).append(value)
        return cls({name: tuple(values) for name, values in grouped.items()})

    def __contains__(self, name: object) -> bool:
        return name in self.values

    def first(self, name: str) -> str:
        """The first value of ``name``, or an empty string when absent."""
        found = self.values.get(name)
        return found[0] if found else ""

    def all(self, name: str) -> tuple[str, ...]:
        return self.values.get(name, ())
