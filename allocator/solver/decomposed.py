"""Solve the largest makespan problems by POP-style decomposition
(:mod:`allocator.reductions.decomposition`): the parts in parallel threads (HiGHS releases the
GIL), in waves that share the time limit. The plan joins the sub-plans; its bound is the LP
relaxation of the aggregated model of the whole problem, which holds for every plan, so the
gap reported is against the undecomposed problem, not against the parts.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Callable

from ..backends import SolveOptions, Termination
from ..domain.plan import Plan, Status, sequence
from ..domain.problem import Problem
from ..reductions.aggregation import Aggregation
from ..reductions.decomposition import Decomposition
from .budget import Budget
from .relaxation import relaxation
from .strategy import FULL_PAIRS

BOUND_SHARE = 0.2           # of the time limit, kept for the bound of the whole problem


def solve_decomposed(problem: Problem, engine, solver, options: SolveOptions, budget: Budget,
                     *, parts: int | None, seed: int | None, lp_bound: bool, common: dict,
                     solve: Callable[..., Plan]) -> Plan:
    """Solve ``problem`` in parts, each by ``solve`` (:func:`allocator.solve`), and join."""
    reduction = Decomposition(Decomposition.parts_for(problem, parts), seed)
    start = time.perf_counter()
    subs, pieces = reduction.apply(problem)
    workers = min(len(subs), options.threads or os.cpu_count() or 1)
    # The parts run in waves of `workers`; together they get what is left of the time limit
    # less a share for the bound of the whole problem, each wave an equal part of it.
    waves = -(-len(subs) // workers)
    left = budget.left()
    per_part = None if left is None else (1 - BOUND_SHARE) * left / waves

    def one(sub: Problem) -> Plan:
        return solve(sub, objective="makespan", backend=engine.name, solver=solver,
                     time_limit=per_part, mip_gap=options.mip_gap, threads=1,
                     lp_bound=False, seed=seed, strategy="auto" if len(sub.tasks) * len(
                         sub.devices) <= FULL_PAIRS else "aggregated")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        plans = list(pool.map(one, subs))
    seconds = time.perf_counter() - start
    failed = [p for p in plans if not p.status.has_plan]
    if failed:
        return Plan(status=failed[0].status, reason=f"sub-problem {failed[0].problem}: "
                    f"{failed[0].reason}", solve_seconds=seconds, **common)
    assignment = reduction.invert([p.assignment for p in plans], pieces)
    schedule = sequence(problem, assignment)
    makespan = max(s.end for s in schedule)
    bound = None
    if lp_bound:
        built, _ = Aggregation().apply(problem)
        raw = relaxation(built, engine, solver,
                         replace(options, warm_start=None, progress=None,
                                 time_limit=budget.left(floor=BOUND_SHARE)),
                         built.encode(assignment))
        seconds = time.perf_counter() - start
        if raw.termination is Termination.OPTIMAL:
            bound = min(float(raw.objective), makespan)
    optimal = all(p.status is Status.OPTIMAL for p in plans)
    status = Status.OPTIMAL if optimal and bound is not None and \
        makespan - bound <= options.mip_gap * makespan else Status.FEASIBLE
    return Plan(status=status, objective=makespan, bound=bound, lp_bound=bound,
                assignment=assignment, schedule=schedule, solve_seconds=seconds,
                solver=plans[0].solver, **common)
