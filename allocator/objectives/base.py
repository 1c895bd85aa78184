"""What an objective is, in one record that the rest of the code asks instead of testing
names: its model, its metric, what it needs from a problem, when a problem can have no plan
for it, and how the heuristics score it.

Each objective is one module of this package that defines ``OBJECTIVE``; the registry
(:data:`allocator.objectives.OBJECTIVES`) collects them. A module imports its model code
(SciPy) only when it builds a model, so that loading and checking a problem stays light.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..domain.problem import Problem

if TYPE_CHECKING:
    from ..model.assignment import Built
    from .metrics import Metrics

# How the heuristics score an objective: ``bottleneck`` minimises the busiest device's load
# (list scheduling, moves that lower the larger of two loads); ``sum`` minimises a sum of
# per-placement prices (regret order, moves that lower the total).
SCORES = ("bottleneck", "sum")


@dataclass(frozen=True)
class Objective:
    name: str
    summary: str                                     # one line, for help and docs
    build: Callable[..., "Built"]                    # the model: build(problem, ...) -> Built
    value: Callable[["Metrics", str | None], float | None]   # its metric: (metrics, measure)
    check_inputs: Callable[[Problem], None]          # raise ProblemError naming what it lacks
    culprit: Callable[[Problem], tuple[str, str | None] | None]   # why no plan can exist
    places_tasks: bool                               # an assignment and a schedule, not amounts
    limits: tuple[str, ...] = ()                     # what can make it infeasible, in words
    score: str | None = None                         # for the heuristics (SCORES); None: none
    coefficient: Callable[[Problem], np.ndarray] | None = None   # task x pool, for ``score``
    maximisable: bool = False                        # ``sense: max`` applies to it

    @property
    def heuristics(self) -> bool:
        """The heuristic baselines plan it (and so ``compare`` covers it)."""
        return self.score is not None
