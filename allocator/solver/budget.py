"""One time budget for every stage of a solve.

``solve(time_limit=T)`` starts one clock; the heuristics, the LP relaxation, the solver, the
neighbourhood search and the whole problem's bound each draw on it, by share, and never get
less than a tenth of ``T`` (so that the solver always has a chance). Without a limit, the
stages that must stop somewhere (the heuristics) get a few seconds instead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

FLOOR = 0.1                 # of the limit: the least any stage is given


@dataclass(frozen=True)
class Budget:
    """``limit`` seconds (``None``: no limit) counted from ``started`` (``time.perf_counter``)."""

    limit: float | None
    started: float = field(default_factory=time.perf_counter)

    @property
    def end(self) -> float | None:
        """When the limit runs out, as a ``time.perf_counter`` value."""
        return None if self.limit is None else self.started + self.limit

    def spent(self) -> float:
        return time.perf_counter() - self.started

    def left(self, floor: float = FLOOR) -> float | None:
        """Seconds left (at least ``floor`` of the limit), or ``None`` without a limit."""
        if self.limit is None:
            return None
        return max(floor * self.limit, self.limit - self.spent())

    def share_end(self, share: float, without_limit: float) -> float:
        """When a stage given ``share`` of the limit from the start must stop (or
        ``without_limit`` seconds from now when there is none)."""
        if self.limit is None:
            return time.perf_counter() + without_limit
        return self.started + share * self.limit

    def end_or(self, without_limit: float) -> float:
        """:attr:`end`, or ``without_limit`` seconds from now when there is no limit."""
        return self.end if self.end is not None else time.perf_counter() + without_limit
