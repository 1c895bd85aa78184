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
from ..reductions import aggregation as aggregated
from ..reductions.decomposition import TASKS_PER_PART, join, split
from .relaxation import relaxation
from .strategy import FULL_PAIRS

BOUND_SHARE = 0.2           # of the time limit, kept for the bound of the whole problem


def solve_decomposed(problem: Problem, engine, solver, options: SolveOptions, *,
                     parts: int | None, seed: int | None, lp_bound: bool, common: dict,
                     solve: Callable[..., Plan]) -> Plan:
    """Solve ``problem`` in parts, each by ``solve`` (:func:`allocator.solve`), and join."""
    k = parts or max(2, round(len(problem.tasks) / TASKS_PER_PART))
    start = time.perf_counter()
    pieces = split(problem, k, seed)
    workers = min(len(pieces), options.threads or os.cpu_count() or 1)
    # The parts run in waves of `workers`; together they get the time limit less a share for
    # the bound of the whole problem, each wave an equal part of it.
    waves = -(-len(pieces) // workers)
    limit = options.time_limit
    per_part = None if limit is None else (1 - BOUND_SHARE) * limit / waves

    def one(piece):
        sub, _ = piece
        return solve(sub, objective="makespan", backend=engine.name, solver=solver,
                     time_limit=per_part, mip_gap=options.mip_gap, threads=1,
                     lp_bound=False, seed=seed, strategy="auto" if len(sub.tasks) * len(
                         sub.devices) <= FULL_PAIRS else "aggregated")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        plans = list(pool.map(one, pieces))
    seconds = time.perf_counter() - start
    failed = [p for p in plans if not p.status.has_plan]
    if failed:
        return Plan(status=failed[0].status, reason=f"sub-problem {failed[0].problem}: "
                    f"{failed[0].reason}", solve_seconds=seconds, **common)
    assignment = join(pieces, [p.assignment for p in plans])
    schedule = sequence(problem, assignment)
    makespan = max(s.end for s in schedule)
    bound = None
    if lp_bound:
        built = aggregated.build(problem)
        left = None if limit is None else \
            max(BOUND_SHARE * limit, limit - (time.perf_counter() - start))
        raw = relaxation(built, engine, solver, replace(options, warm_start=None, progress=None,
                                                        time_limit=left),
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
