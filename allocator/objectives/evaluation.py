"""``evaluate(problem, plan)``: a plan's metrics, recomputed from the problem alone.

A plan that places tasks is measured by :mod:`.metrics`; one that allots amounts by its
objective's own ``amounts_metrics`` (the registry says which).
"""

from __future__ import annotations

from ..domain.plan import Plan
from ..domain.problem import Problem
from . import get
from .metrics import Metrics, assignment_metrics


def evaluate(problem: Problem, plan: Plan) -> Metrics:
    """Makespan, cost, loads, utilization, headroom, ... of ``plan`` on ``problem``; for a plan
    of amounts, its objective's measures (shortfall, the seeds' utilization ratio)."""
    if plan.amounts:
        measure = get(plan.objective_name).amounts_metrics
        return measure(problem, plan) if measure is not None else Metrics()
    return assignment_metrics(problem, plan)
