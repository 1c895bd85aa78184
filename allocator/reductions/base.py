"""What a reduction is, in the manner of cvxpy's reductions: a way to solve a smaller thing than
the one asked and map its answer back.

- ``apply(source)`` returns ``(reduced, inverse)``: what to solve instead (a model, a list of
  sub-problems, a sub-model) and the data :meth:`invert` needs;
- ``invert(solution, inverse)`` returns the answer in the source's terms;
- problem reductions also say whether they apply at all: ``accepts(problem, objective)``.

A reduction never solves. The solver pipeline (:mod:`allocator.solver.pipeline`) chooses the
chain from the strategy, solves what the last reduction produced and inverts back through it:
``decomposed`` is :class:`~.decomposition.Decomposition` and then, in each part,
:class:`~.aggregation.Aggregation` or the full model; a MIP stopped at its limit is improved
through :class:`~.neighbourhoods.Neighbourhood` sub-models.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..domain.problem import Problem
from ..objectives import get


class Reduction(Protocol):
    name: str

    def apply(self, source: Any) -> tuple[Any, Any]:
        """``(reduced, inverse)``: what to solve instead and what :meth:`invert` needs."""

    def invert(self, solution: Any, inverse: Any) -> Any:
        """The reduced solution in the source's terms."""


class ProblemReduction(Reduction, Protocol):
    def accepts(self, problem: Problem, objective: str) -> bool:
        """Whether the reduction applies to ``problem`` under ``objective``."""


def makespan_without_deadlines(problem: Problem, objective: str) -> bool:
    """What the pool-level reductions (aggregation, decomposition) plan: an objective they
    model (makespan) and no task deadline, which pool-level rows cannot express."""
    return get(objective).aggregable and not any(t.deadline is not None for t in problem.tasks)
