"""Solve a large placement on a cluster by configurations (:mod:`allocator.model.configurations`):
identical tasks become types (:class:`~allocator.reductions.task_types.TaskTypes`), identical
nodes are already groups, and the model counts how many nodes of each group hold each pattern.

1. **Start**: the patterns of quick heuristic placements (first fit, largest first, and
   Kubernetes' LeastAllocated).
2. **Price** (within 3/4 of the time limit): solve the LP over the patterns known, and for its
   duals find each group's best pattern (a small MIP per group); add those that improve the
   LP. Each round also gives a Lagrangian bound on every placement; the best is kept (once
   no pattern improves, it is the LP's value).
3. **Integer**: the model over the patterns found, with integer counts, started from the
   last LP's counts rounded down or a starting placement, whichever places more (so the
   plan is never worse than those heuristics).
4. **Invert**: each group's nodes take the patterns in turn, each slot the next task of its
   type; tasks still out that fit somewhere are then added (as the packing objective does).

The plan's bound is the best bound found: the Lagrangian bounds of the pricing rounds, and
a quick relaxation over the groups' totals (:func:`~allocator.model.configurations.aggregate`),
so its gap is honest whether or not the pricing converged within the limit.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np

from ..backends import SolveOptions, Termination
from ..domain.plan import Placement, Plan, Status
from ..domain.problem import Problem
from ..errors import AllocatorError
from ..heuristics.placement import place
from ..model.configurations import Pattern, Types, aggregate, master, pricing
from ..objectives.packing import completed, placement_fields, worth
from ..reductions.task_types import TaskTypes
from .budget import Budget

log = logging.getLogger("allocator")

PRICE_SHARE = 0.75          # of the time limit, for the pricing rounds
PRICE_SECONDS = 2.0         # at most, for one group's pricing MIP
INVERT_SHARE = 0.05         # of the time limit, kept for turning the counts into placements
TOL = 1e-6
START_HEURISTICS = ("first_fit_decreasing", "least_allocated")


def solve_configurations(problem: Problem, engine, options: SolveOptions, budget: Budget,
                         common: dict, progress=None) -> Plan:
    """Place ``problem`` by configurations; ``progress(seconds, None, bound)`` hears of each
    pricing round's best bound."""
    if not engine.CAPABILITIES.duals:
        raise AllocatorError(f"the configurations strategy needs an LP's duals, which the "
                             f"{engine.name} backend does not give; use backend='highs'")
    kinds = TaskTypes.apply(problem)
    types = Types.of(problem, kinds.first, kinds.count, worth(problem)[kinds.first])
    patterns, starts = _start(problem, kinds)
    quick = engine.solve(aggregate(types), replace(options, time_limit=None, warm_start=None))
    first = -quick.objective if quick.termination is Termination.OPTIMAL else None
    log.info("configurations: %d task types, %d node groups, %d starting patterns",
             types.count.size, types.nodes.size, len(patterns))
    bound, rounds, lp_floor = _price(types, patterns, engine, options, budget, progress)
    if first is not None:
        bound = first if bound is None else min(bound, first)
    start, source = _best_start(types, patterns, lp_floor, starts)
    raw = engine.solve(master(types, patterns, integer=True),
                       replace(options, time_limit=_integer_seconds(budget), warm_start=start))
    if raw.x is None:
        return Plan(status=Status.NO_SOLUTION, reason="the time limit passed before the "
                    "configuration model had an integer plan", solve_seconds=budget.spent(),
                    bound=bound, sense="max", **common)
    fields = placement_fields(problem, completed(problem, _invert(problem, kinds, patterns,
                                                                    raw.x)))
    value = fields.pop("objective")
    status = Status.OPTIMAL if bound is not None and \
        bound - value <= options.mip_gap * max(abs(value), 1e-12) else Status.FEASIBLE
    log.info("configurations: %d rounds, %d patterns, value %.6g, bound %s", rounds,
             len(patterns), value, bound)
    return Plan(status=status, objective=value, bound=bound, solve_seconds=budget.spent(),
                sense="max", solver=raw.solver, warm_start=source if raw.warm_started else None,
                **common, **fields)


def _integer_seconds(budget: Budget) -> float | None:
    """What is left for the integer model, less a share kept for inverting its answer."""
    left = budget.left()
    return None if left is None else max(0.05 * budget.limit, left - INVERT_SHARE * budget.limit)


def _start(problem: Problem, kinds: TaskTypes) -> tuple[list[Pattern], dict[str, dict]]:
    """The distinct node contents of quick heuristic placements (first fit, largest first:
    dense nodes; Kubernetes' LeastAllocated: varied ones), and each placement as pattern
    counts ({pattern index: nodes})."""
    patterns: list[Pattern] = []
    index: dict[tuple, int] = {}
    starts: dict[str, dict] = {}
    for method in START_HEURISTICS:
        counts: dict[int, int] = {}
        for node, slots in _by_node(problem, place(problem, method), kinds).items():
            group = int(problem.device_pool[problem.device_index[node]])
            key = (group, tuple(sorted(slots)))
            if key not in index:
                index[key] = len(patterns)
                patterns.append(Pattern(group, slots))
            counts[index[key]] = counts.get(index[key], 0) + 1
        starts[method] = counts
    return patterns, starts


def _best_start(types: Types, patterns: list[Pattern], lp_floor: np.ndarray | None,
                starts: dict[str, dict]) -> tuple[np.ndarray, str | None]:
    """The integer model's start: the last LP rounded down, or a heuristic's placement,
    whichever places more (and the heuristic's name when it is one)."""
    n = len(patterns)
    value = np.array([p.counts(types.count.size) @ types.value for p in patterns])
    options = {} if lp_floor is None else {None: np.r_[lp_floor, np.zeros(n - lp_floor.size)]}
    for method, counts in starts.items():
        x = np.zeros(n)
        x[list(counts)] = list(counts.values())
        options[method] = x
    name = max(options, key=lambda k: float(options[k] @ value))
    return options[name], name


def _by_node(problem: Problem, placed: dict[str, Placement], kinds: TaskTypes) -> dict:
    out: dict[str, tuple] = {}
    for name, p in placed.items():
        t = int(kinds.type_of[problem.task_index[name]])
        out[p.node] = out.get(p.node, ()) + ((t, p.gpus),)
    return out


def _price(types: Types, patterns: list[Pattern], engine, options: SolveOptions,
           budget: Budget, progress=None) -> tuple[float | None, int, np.ndarray | None]:
    """Pricing rounds until no pattern improves the LP or the pricing share of the limit is
    spent; returns the best bound found (the Lagrangian bound of each round; once no pattern
    improves, it equals the LP's value), the number of rounds, and the last LP's solution
    rounded down (a start for the integer model)."""
    G = types.nodes.size
    end = budget.share_end(PRICE_SHARE, without_limit=float("inf"))
    known = {(p.group, tuple(sorted(p.slots))) for p in patterns}
    best, rounds, start = None, 0, None
    while time.perf_counter() < end:
        lp = engine.solve(master(types, patterns), replace(options, time_limit=None,
                                                           warm_start=None))
        if lp.termination is not Termination.OPTIMAL or lp.duals is None:
            break
        pi = np.maximum(0.0, -lp.duals[G:])
        mu = np.maximum(0.0, -lp.duals[:G])
        bound, found = float(types.count @ pi), []
        for g in range(G):
            left = end - time.perf_counter()
            built = pricing(types, g, types.value - pi)
            if built is None:
                continue
            if left <= 0:
                bound = None                     # a group left unpriced bounds nothing
                break
            model, decode = built
            raw = engine.solve(model, replace(options, time_limit=min(PRICE_SECONDS, left),
                                              warm_start=None, mip_gap=1e-4))
            upper = None if raw.bound is None else -raw.bound
            if upper is None:
                bound = None
                break
            bound += types.nodes[g] * max(0.0, upper)
            if raw.x is not None and -raw.objective > mu[g] + TOL:
                pattern = decode(raw.x)
                key = (g, tuple(sorted(pattern.slots)))
                if key not in known:
                    known.add(key)
                    found.append(pattern)
        rounds += 1
        start = np.floor(lp.x + 1e-9)            # a feasible integer start: the LP rounded down
        if bound is not None:
            best = bound if best is None else min(best, bound)
        if progress is not None:
            progress(budget.spent(), None, best)
        if not found:                            # priced out: the bound is the LP's value
            break
        patterns.extend(found)
    return best, rounds, start


def _invert(problem: Problem, kinds: TaskTypes, patterns: list[Pattern],
            counts: np.ndarray) -> dict[str, Placement]:
    """Each group's nodes take the patterns (``counts[k]`` nodes for pattern k), and each
    slot the next task of its type."""
    nodes = {g: list(np.flatnonzero(problem.device_pool == g)) for g in
             range(len(problem.pools))}
    slot_nodes, slot_types, slot_gpus = [], [], []
    for pattern, k in zip(patterns, np.round(counts).astype(int)):
        for _ in range(k):
            node = nodes[pattern.group].pop(0)
            for t, gpus in pattern.slots:
                slot_nodes.append(node), slot_types.append(t), slot_gpus.append(gpus)
    tasks = kinds.invert(np.array(slot_types, dtype=np.int64))
    out = {}
    for i, node, gpus in zip(tasks, slot_nodes, slot_gpus):
        task = problem.tasks[i]
        share = task.gpu_share if task.gpu_share is not None else (1.0 if gpus else 0.0)
        out[task.name] = Placement(problem.devices[node], tuple(gpus), share)
    return out
