"""Starting plans: the quick heuristics, local search to polish them, rounding of the LP
relaxation, and a plan encoded as a model's warm start."""

from __future__ import annotations

import logging
import time

import numpy as np

from .. import heuristics
from ..domain.plan import sequence
from ..domain.problem import Problem
from ..objectives import get
from ..model.assignment import Built
from ..reductions import aggregation as aggregated
from . import restriction
from .candidate import Candidate

log = logging.getLogger("allocator")

QUICK = {"lpt": 400_000, "earliest_finish": 100_000}   # task-device pairs each rule may take

REGRET = {"sum": 400_000, "bottleneck": 100_000}       # the regret rule, per kind of score

IMPROVE = 20_000            # task-device pairs for local search without a deadline

IMPROVE_DEADLINE = 10_000_000                           # and with one


def quick_plan(problem: Problem, objective: str, seed: int | None = 0,
               deadline: float | None = None, improve: bool = True,
               ) -> Candidate | None:
    """The best plan of the quick heuristics, or None if none is feasible.

    The constructive rules run where the size allows: LPT up to 400,000 task-device pairs,
    earliest-finish up to 100,000, regret up to 400,000 for cost and 100,000 for makespan.
    Above those sizes, for cost or with horizons, ``greedy_fit`` (allocator.solver.restriction: regret
    or LPT order, each task to its best device with room, in numpy); for makespan without
    horizons or deadlines, ``pool_lpt`` (longest first to the least-loaded pool, then LPT
    inside each pool). With ``improve``, local search then polishes the best (see
    :func:`polish`). No new rule starts after ``deadline`` (a ``time.perf_counter`` value).
    """
    score = get(objective).score
    if problem.sense != "min" or score is None:
        return None
    size = len(problem.tasks) * len(problem.devices)
    limits = {**QUICK, "regret": REGRET[score]}
    best = None
    for name, limit in limits.items():
        if size > limit or (deadline is not None and time.perf_counter() > deadline):
            continue
        plan = heuristics.run(problem, name, objective, seed)
        if plan.status.has_plan:
            found = Candidate(name, dict(plan.assignment), float(plan.objective))
            best = found if found.beats(best) else best
    if best is None and (score == "sum" or problem.has_horizon) and \
            (deadline is None or time.perf_counter() <= deadline):
        # Too large for the rules above, with capacity to respect (pool_lpt, below, ignores
        # it): one greedy pass in numpy (allocator.solver.restriction).
        best = restriction.greedy_fit(problem, objective)
    if best is None and score == "bottleneck" and get(objective).aggregable and \
            not problem.has_horizon and \
            not any(t.deadline is not None for t in problem.tasks):
        # Too large for the task-by-device rules: one pass over pools, then a packing.
        assignment = aggregated.pool_lpt(problem)
        schedule = sequence(problem, assignment)
        best = Candidate("pool_lpt", assignment, max(s.end for s in schedule))
    return polish(problem, objective, best, seed, deadline) if improve else best


def polish(problem: Problem, objective: str, start: Candidate | None, seed: int | None,
           deadline: float | None) -> Candidate | None:
    """Local search from ``start`` up to 20,000 task-device pairs, or 10,000,000 with a
    ``deadline``, where it stops; the start itself (or None) when it finds nothing better.
    The source becomes ``<start>+local_search``."""
    size = len(problem.tasks) * len(problem.devices)
    if start is None or size > (IMPROVE if deadline is None else IMPROVE_DEADLINE):
        return start
    assignment = heuristics.improve(problem, start.assignment, objective, seed=seed,
                                    deadline=deadline)
    value = heuristics.value(problem, assignment, objective)
    if value < start.value - 1e-9 * max(1.0, abs(start.value)):
        return Candidate(f"{start.source}+local_search", assignment, value)
    return start


def lp_rounding(problem: Problem, objective: str, whole: dict[int, int], seed: int | None,
                ) -> Candidate | None:
    """LP rounding: keep the tasks the LP relaxation places whole and place the split ones by
    the regret rule (source ``lp_rounding``); None if that gets stuck."""
    assignment, reason = heuristics.HEURISTICS["regret"](problem, objective, seed, fixed=whole)
    if reason is not None:
        return None
    return Candidate("lp_rounding", assignment, heuristics.value(problem, assignment, objective))


def encoded(built: Built, plan: Candidate | None) -> np.ndarray | None:
    """The model's vector for a candidate, or None where the model cannot express it (no
    encoder, or a plan off the restricted columns: it stays a plan, but not a start)."""
    if plan is None or built.encode is None:
        return None
    try:
        return built.encode(plan.assignment)
    except ValueError as exc:
        log.info("%s is not a start for this model: %s", plan.source, exc)
        return None
