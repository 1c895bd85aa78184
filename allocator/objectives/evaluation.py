"""``evaluate(problem, plan)``: a plan's metrics, recomputed from the problem alone.

An objective with its own ``plan_metrics`` (amounts allotted, a placement on nodes) measures
its plans; the others' plans are measured by :mod:`.metrics` (makespan, cost, loads, ...).
"""

from __future__ import annotations

from ..domain.plan import Plan
from ..domain.problem import Problem
from . import OBJECTIVES, get
from .metrics import Metrics, assignment_metrics


def evaluate(problem: Problem, plan: Plan) -> Metrics:
    """Makespan, cost, loads, utilization, headroom, ... of ``plan`` on ``problem``; for a plan
    of amounts, its objective's measures (shortfall, the seeds' utilization ratio)."""
    measure = get(plan.objective_name).plan_metrics if plan.objective_name in OBJECTIVES \
        else None
    if measure is not None:
        return measure(problem, plan)
    return Metrics() if plan.amounts else assignment_metrics(problem, plan)
