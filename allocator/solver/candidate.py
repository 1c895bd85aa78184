"""A candidate plan: an assignment, the rule or stage it came from, and its objective value.

The solver's stages hand these to one another (a heuristic start, a rounded relaxation, a
polished plan) and keep the best; only the last becomes a :class:`~allocator.Plan`.
"""

from __future__ import annotations

from typing import NamedTuple


class Candidate(NamedTuple):
    source: str                         # "lpt", "lp_rounding", "lpt+local_search", ...
    assignment: dict[str, str]          # task -> device
    value: float                        # the objective, in the user's units

    def beats(self, other: "Candidate | None") -> bool:
        """Strictly better than ``other`` (minimising), or ``other`` is missing."""
        return other is None or self.value < other.value
