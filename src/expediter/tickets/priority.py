"""Impact × urgency → priority, the ITIL way (1 = highest)."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_MATRIX: dict[tuple[int, int], int] = {
    (1, 1): 1, (1, 2): 1, (1, 3): 2, (1, 4): 3,
    (2, 1): 1, (2, 2): 2, (2, 3): 3, (2, 4): 3,
    (3, 1): 2, (3, 2): 3, (3, 3): 3, (3, 4): 4,
    (4, 1): 3, (4, 2): 3, (4, 3): 4, (4, 4): 4,
}  # fmt: skip


def priority_for(
    impact: int, urgency: int, overrides: Mapping[tuple[int, int], int] | None = None
) -> int:
    """The matrix cell, with configured cells replacing the default ones."""
    if not (1 <= impact <= 4 and 1 <= urgency <= 4):
        raise ValueError("impact and urgency must be between 1 and 4")
    if overrides and (impact, urgency) in overrides:
        return overrides[(impact, urgency)]
    return DEFAULT_MATRIX[(impact, urgency)]
