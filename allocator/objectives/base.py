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
from ..domain.units import format_quantity as fq

if TYPE_CHECKING:
    from ..domain.plan import Plan
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
    metric: Callable[[str | None], str]              # the Metrics field of its value, per measure
    describe: Callable[[float, str | None], str]     # a value in words, per measure
    check_inputs: Callable[[Problem], None]          # raise ProblemError naming what it lacks
    places_tasks: bool                               # an assignment and a schedule, not amounts
    # Its own metrics of a plan (an amounts plan, a placement on nodes); default: metrics.py.
    plan_metrics: Callable[[Problem, "Plan"], "Metrics"] | None = None
    # Why a problem can have no plan for it: checks run in order, the first culprit found
    # wins (reason, field path); domain.checks has the shared ones.
    culprits: tuple[Callable[[Problem], tuple[str, str | None] | None], ...] = ()
    limits: tuple[str, ...] = ()                     # what it must respect: horizon, deadlines
    score: str | None = None                         # for the heuristics (SCORES); None: none
    coefficient: Callable[[Problem], np.ndarray] | None = None   # task x pool, for ``score``
    maximisable: bool = False                        # ``sense: max`` applies to it
    measures: tuple[str, ...] = ()                   # the measures it offers (load_balance)
    aggregable: bool = False                         # the aggregated and decomposed strategies
                                                     # plan it (without deadlines)
    on_nodes: bool = False                           # it places tasks on cluster nodes
                                                     # ('nodes:'), not on devices ('pools:')
    # A second aim on nodes: node_cost(problem) gives cost(group, free, gpu_free) of one node's
    # state after a plan (free: cores, memory, ...; gpu_free: each GPU's free fraction),
    # minimised among placements of the same tasks (the configurations strategy plans it).
    node_cost: Callable[[Problem], Callable[[int, np.ndarray, np.ndarray], float]] | None = None
    timed: bool = False                              # it schedules over time (solver.timed)

    @property
    def heuristics(self) -> bool:
        """The heuristic baselines plan it (and so ``compare`` covers it)."""
        return self.score is not None

    def value(self, metrics: "Metrics", measure: str | None = None) -> float | None:
        """Its value for a plan, from the plan's metrics."""
        return getattr(metrics, self.metric(measure))


def seconds(value: float) -> str:
    """A duration in words: ``6 s``, ``2.5 h (9000 s)``."""
    text = fq(value, "time")
    return text if text.endswith(" s") else f"{text} ({value:.6g} s)"
