"""Heuristic baselines: plain functions ``Problem -> Plan`` behind a registry.

The greedy ones are an ordering (which task next) times a placement (where it goes), in the
manner of networkx's greedy colouring strategies. Reach them with
``allocator.solve(problem, method=NAME)``; ``HEURISTICS`` lists the names.

>>> sorted(HEURISTICS)[:4]
['earliest_finish', 'fcfs', 'first_fit_decreasing', 'least_loaded']
"""

from __future__ import annotations

import time
from typing import Callable

from ..errors import AllocatorError
from ..domain.plan import Plan, Status, sequence
from ..domain.problem import Problem
from ..objectives import HEURISTIC, get
from . import greedy as g
from .greedy import value
from .local_search import improve
from .placement import PLACEMENT_HEURISTICS, place
from .regret import regret
from .timed import TIMED_HEURISTICS, timed_schedule

GREEDY: dict[str, tuple[g.Ordering, g.Placement]] = {
    "fcfs": (g.order_fcfs, g.place_earliest_available),
    "sjf": (g.order_sjf, g.place_earliest_available),
    "priority": (g.order_priority, g.place_earliest_available),
    "round_robin": (g.order_fcfs, g.place_round_robin),
    "least_loaded": (g.order_fcfs, g.place_least_loaded),
    "weighted_round_robin": (g.order_fcfs, g.place_weighted_round_robin),
    "first_fit_decreasing": (g.order_memory_decreasing, g.place_first_fit),
    "lpt": (g.order_lpt, g.place_earliest_finish),
}


def _greedy(name: str) -> Callable[..., tuple[dict, str | None]]:
    ordering, placement = GREEDY[name]

    def run(problem: Problem, objective: str, seed: int | None = None):
        return g.greedy(problem, ordering, placement)
    run.__name__ = name
    return run


def _earliest_finish(problem: Problem, objective: str, seed: int | None = None):
    return g.min_min(problem)


def _local_search(problem: Problem, objective: str, seed: int | None = 0):
    start = None
    for name in list(GREEDY) + ["earliest_finish", "regret"]:
        assignment, reason = HEURISTICS[name](problem, objective)
        if reason is None:
            v = value(problem, assignment, objective)
            if start is None or v < start[0]:
                start = (v, assignment)
    if start is None:
        return {}, "no greedy heuristic found a feasible start for local search"
    return improve(problem, start[1], objective, seed=seed), None


HEURISTICS: dict[str, Callable] = {name: _greedy(name) for name in GREEDY}
HEURISTICS["earliest_finish"] = _earliest_finish
HEURISTICS["regret"] = regret
HEURISTICS["local_search"] = _local_search


def run(problem: Problem, method: str, objective: str, seed: int | None = 0) -> Plan:
    """Run heuristic ``method`` and return its plan under ``objective`` (makespan or cost;
    on a cluster of nodes, packing, fragmentation or, over time, node_makespan)."""
    if get(objective).on_nodes:
        return _on_nodes(problem, method, objective)
    if method not in HEURISTICS:
        raise AllocatorError(f"unknown method {method!r}; choose 'optimal' or one of "
                             f"{', '.join(sorted(HEURISTICS))}")
    if objective not in HEURISTIC:
        raise AllocatorError(f"heuristics plan the {' and '.join(HEURISTIC)} objectives, not "
                             f"{objective!r}")
    if problem.sense != "min":
        raise AllocatorError("heuristics minimise; this problem maximises (sense: max)")
    start = time.perf_counter()
    assignment, reason = HEURISTICS[method](problem, objective, seed)
    seconds = time.perf_counter() - start
    common = dict(problem=problem.name, objective_name=objective, method=method,
                  solve_seconds=seconds)
    if reason is not None:
        return Plan(status=Status.INFEASIBLE, reason=f"{method}: {reason}", **common)
    return Plan(status=Status.FEASIBLE, assignment=assignment,
                schedule=sequence(problem, assignment),
                objective=value(problem, assignment, objective), **common)


def _on_nodes(problem: Problem, method: str, objective: str) -> Plan:
    """A placement heuristic's plan on a cluster of nodes (:mod:`.placement`), or over time
    a list schedule's (:mod:`.timed`)."""
    from ..objectives.node_makespan import plan_fields
    from ..objectives.packing import placement_fields
    timed = get(objective).timed
    known = TIMED_HEURISTICS if timed else PLACEMENT_HEURISTICS
    if method not in known:
        what = "schedule tasks over time" if timed else "place tasks on nodes"
        raise AllocatorError(f"method {method!r} does not {what}; for the {objective} "
                             f"objective choose 'optimal' or one of {', '.join(known)}")
    start = time.perf_counter()
    fields = (plan_fields(problem, *timed_schedule(problem, method)) if timed
              else placement_fields(problem, place(problem, method)))
    return Plan(status=Status.FEASIBLE, problem=problem.name, objective_name=objective,
                method=method, sense="min" if timed else "max",
                solve_seconds=time.perf_counter() - start, **fields)
