"""Bounds a plan can be trusted with: the whole problem's bound for a plan of a restricted
model, and a check that no solver's bound lies on the wrong side of its own plan."""

from __future__ import annotations

import logging
from dataclasses import replace

from ..domain.plan import Plan, Status
from ..domain.problem import Problem
from ..objectives import get
from . import restriction

log = logging.getLogger("allocator")


def whole_problem_bound(problem: Problem, objective: str, plan: Plan, mip_gap: float,
                        deadline: float) -> Plan:
    """A plan of a restricted model, with a bound that holds for the whole problem in place
    of the restriction's own (allocator.candidates): optimal only if that bound proves it."""
    if not plan.status.has_plan and plan.status is not Status.NO_SOLUTION:
        return plan
    if plan.objective is None or get(objective).score != "sum" or problem.sense != "min":
        bound = restriction.relaxed_bound(problem, objective)
    else:           # its first step, with no multipliers, is the relaxed bound
        bound = restriction.lagrangian_bound(problem, plan.objective, deadline,
                                             objective=objective)
    if plan.objective is None:
        return replace(plan, bound=bound, lp_bound=None)
    gap = (plan.objective - bound) / max(abs(plan.objective), 1e-12)
    status = Status.OPTIMAL if gap <= mip_gap + 1e-12 else Status.FEASIBLE
    return replace(plan, status=status, bound=bound, lp_bound=None)



def honest_bound(plan: Plan, rel: float = 1e-6) -> Plan:
    """A plan whose proven bound is on the wrong side of its objective (above it when
    minimising, below when maximising) is a solver error, not a gap below zero: the plan is
    kept, but its status says ``error`` with both numbers, so no one trusts the proof."""
    if plan.objective is None or plan.bound is None or not plan.status.has_plan:
        return plan
    slack = rel * max(1.0, abs(plan.objective))
    wrong = (plan.bound > plan.objective + slack if plan.sense == "min"
             else plan.bound < plan.objective - slack)
    if not wrong:
        return plan
    side = "above" if plan.sense == "min" else "below"
    log.error("%s reported bound %r %s objective %r", plan.solver, plan.bound, side,
              plan.objective)
    return replace(plan, status=Status.ERROR,
                   reason=f"solver error: {plan.solver or plan.backend} reported a bound of "
                          f"{plan.bound:.9g}, {side} the objective {plan.objective:.9g} of its "
                          f"own plan; neither can be trusted (try another backend)")
