"""Objectives, one module per objective, behind a registry that everything else asks.

Each module defines ``OBJECTIVE`` (:class:`~allocator.objectives.base.Objective`): its model
(``build(problem) -> Built``: a :class:`~allocator.model.sparse.LinearModel` and a decoder back
to Plan fields; none imports a solver), its metric, what it needs from a problem, when a
problem can have no plan for it, and how the heuristics score it. Adding an objective is
adding a module here and listing it below.

>>> sorted(OBJECTIVES)  # doctest: +NORMALIZE_WHITESPACE
['cost', 'fragmentation', 'load_balance', 'makespan', 'node_makespan', 'packing',
 'utilization', 'weighted_shortfall']
>>> OBJECTIVES["makespan"].heuristics, OBJECTIVES["utilization"].places_tasks
(True, False)
"""

from __future__ import annotations

from ..domain.checks import InfeasibleError, require_supported
from ..domain.problem import Problem
from ..errors import ProblemError
from . import (cost, fragmentation, load_balance, makespan, node_makespan, packing,
               utilization, weighted_shortfall)
from .base import Objective

OBJECTIVES: dict[str, Objective] = {m.OBJECTIVE.name: m.OBJECTIVE for m in
                                    (makespan, cost, weighted_shortfall, utilization,
                                     load_balance, packing, fragmentation, node_makespan)}
NAMES = tuple(OBJECTIVES)
HEURISTIC = tuple(name for name, o in OBJECTIVES.items() if o.heuristics)


def get(name: str) -> Objective:
    """The objective called ``name``; a clear error lists the others."""
    if name not in OBJECTIVES:
        raise ProblemError(f"unknown objective {name!r}; choose one of {', '.join(NAMES)}")
    return OBJECTIVES[name]


def check_inputs(problem: Problem, name: str) -> None:
    """Raise :class:`ProblemError` if objective ``name`` lacks an input it needs."""
    objective = get(name)
    require_supported(problem, name, objective.on_nodes)
    if problem.sense != "min" and not objective.maximisable:
        raise ProblemError(f"sense {problem.sense!r} applies to the "
                           f"{' and '.join(o.name for o in OBJECTIVES.values() if o.maximisable)}"
                           f" objective only, not {name!r}", "sense")
    objective.check_inputs(problem)


def culprit(problem: Problem, name: str) -> tuple[str, str | None] | None:
    """A reason naming the culprit, and the field path it points at, if the problem plainly
    has no plan for objective ``name`` (necessary conditions only: the solver decides the
    rest)."""
    for check in get(name).culprits:
        found = check(problem)
        if found is not None:
            return found
    return None


def infeasibility(problem: Problem, name: str) -> str | None:
    """:func:`culprit`'s reason, or ``None``."""
    found = culprit(problem, name)
    return None if found is None else found[0]


def check_problem(problem: Problem, name: str) -> None:
    """Raise :class:`ProblemError` (or :class:`InfeasibleError`) for bad input."""
    check_inputs(problem, name)
    found = culprit(problem, name)
    if found is not None:
        raise InfeasibleError(*found)


__all__ = ["HEURISTIC", "NAMES", "OBJECTIVES", "Objective", "check_inputs", "check_problem",
           "culprit", "get", "infeasibility"]
