"""Who a note mentions: ``@name`` or ``@email`` of a person, found in plain text.

Pure and linear: each candidate is looked for with ``str.find`` on the
lower-cased text, never with a pattern built from user input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    name: str
    email: str


def _ends_mention(text: str, end: int) -> bool:
    """A mention ends at the end of the text or before a character that is not part
    of a name (so ``@ann`` does not mention Anna)."""
    return end >= len(text) or not (text[end].isalnum() or text[end] in "_-@")


def _mentions(text: str, handle: str) -> bool:
    needle = "@" + handle.lower()
    start = text.find(needle)
    while start != -1:
        if _ends_mention(text, start + len(needle)):
            return True
        start = text.find(needle, start + 1)
    return False


def mentioned(text: str, people: Iterable[Person]) -> list[int]:
    """Ids of the people ``text`` mentions, by full name or email, in the given order."""
    lowered = text.lower()
    if "@" not in lowered:
        return []
    found = []
    for person in people:
        handles = [h for h in (person.email, person.name) if h.strip()]
        if any(_mentions(lowered, h.strip()) for h in handles):
            found.append(person.id)
    return found
