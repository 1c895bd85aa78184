"""Solve a large placement on a cluster by configurations (:mod:`allocator.model.configurations`):
identical tasks become types (:class:`~allocator.reductions.task_types.TaskTypes`), identical
nodes are already groups, and the model counts how many nodes of each group hold each pattern.

1. **Start**: the patterns of quick heuristic placements (first fit, largest first, and
   with a time limit of 30 s or more Kubernetes' LeastAllocated, which takes longer).
2. **Price** (within 3/4 of the time limit): solve the LP over the patterns known, and for its
   duals (smoothed) find each group's best pattern (a small exact MIP per group); add those
   that improve the LP. Each round also gives a Lagrangian bound on every placement; the best
   is kept (once no pattern improves, it is the LP's value).
3. **Integer**: the last LP's counts rounded down, the tasks they leave out added by first
   fit, is read back as patterns and competes with the starting placements as the start of
   the model over all patterns with integer counts. Its answer, also completed by first
   fit, is kept when it places more than that start.
4. **Invert**: each group's nodes take the patterns in turn, each slot the next task of its
   type; tasks still out that fit somewhere are then added (as the packing objective does).

The plan's bound is the best bound found: the Lagrangian bounds of the pricing rounds, and
a quick relaxation over the groups' totals (:func:`~allocator.model.configurations.aggregate`),
so its gap is honest whether or not the pricing converged within the limit. When tasks name
GPU models and the pricing has not converged by 1/2 of the limit, the same pricing runs on
the problem without those constraints (a relaxation with far fewer task types, which often
converges) until 3/4, and its bound counts too; the problem's own pricing then goes on with
what time is left. Each round prices the groups in parallel, one thread per core.
"""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from ..backends import SolveOptions, Termination
from ..domain.plan import Placement, Plan, Status
from ..domain.problem import Problem
from ..errors import AllocatorError
from ..heuristics.placement import place
from ..model.configurations import Pattern, Types, aggregate, master, rearrangement
from ..model.pricing import pricing
from ..objectives import OBJECTIVES
from ..objectives.packing import completed, placement_fields, worth
from ..reductions.task_types import TaskTypes
from .budget import Budget

log = logging.getLogger("allocator")

PRICE_SHARE = 0.75          # of the time limit, for the pricing rounds
PRICE_SECONDS = 2.0         # at most, for one group's pricing MIP
SMOOTHING = 0.5             # weight of the best bound's duals in the duals priced
INVERT_SHARE = 0.05         # of the time limit, kept for turning the counts into placements
AIM_SHARE = 0.2             # of the time limit, kept for a second aim (fragmentation)
RELAXED_SHARE = 0.25        # of the time limit, for the bound without GPU models (if needed)
TOL = 1e-6
START_HEURISTICS = ("first_fit_decreasing", "least_allocated")
SPREAD_SECONDS = 30.0       # the least time limit with room for the slower second start


def solve_configurations(problem: Problem, engine, options: SolveOptions, budget: Budget,
                         common: dict, progress=None) -> Plan:
    """Place ``problem`` by configurations; ``progress(seconds, None, bound)`` hears of each
    pricing round's best bound."""
    if not engine.CAPABILITIES.duals:
        raise AllocatorError(f"the configurations strategy needs an LP's duals, which the "
                             f"{engine.name} backend does not give; use backend='highs'")
    kinds = TaskTypes.apply(problem)
    types = Types.of(problem, kinds.first, kinds.count, worth(problem)[kinds.first])
    patterns = Patterns(problem, kinds)
    short = budget.limit is not None and budget.limit < SPREAD_SECONDS
    placed_by = {method: place(problem, method)
                 for method in START_HEURISTICS[:1 if short else None]}
    starts = {method: patterns.of(placed) for method, placed in placed_by.items()}
    quick = engine.solve(aggregate(types), replace(options, time_limit=None, warm_start=None))
    first = -quick.objective if quick.termination is Termination.OPTIMAL else None
    log.info("configurations: %d task types, %d node groups, %d starting patterns",
             types.count.size, types.nodes.size, len(patterns.items))
    aim = OBJECTIVES[common["objective_name"]].node_cost      # a second aim, if any
    reserve = AIM_SHARE if aim is not None else 0.0
    relaxed = _without_models(problem, types.count.size)
    bound, rounds, lp_floor, priced_out = _price(
        types, patterns, engine, options, budget,
        PRICE_SHARE - reserve - (RELAXED_SHARE if relaxed is not None else 0.0), progress)
    if relaxed is not None and not priced_out:
        bounds = [bound, _relaxed_bound(relaxed, _translated(patterns.items, kinds, relaxed[1]),
                                        engine, options, budget, PRICE_SHARE - reserve)]
        more, extra, floor, _ = _price(types, patterns, engine, options, budget,  # time left
                                       PRICE_SHARE - reserve, progress)
        rounds, lp_floor = rounds + extra, floor if floor is not None else lp_floor
        bound = min((b for b in bounds + [more] if b is not None), default=None)
    if first is not None:
        bound = first if bound is None else min(bound, first)
    if lp_floor is not None:                     # the LP rounded down, the rest by first fit
        starts[None] = patterns.of(completed(problem, _invert(problem, kinds, patterns.items,
                                                                lp_floor)))
    start, source = _best_start(types, patterns, starts)
    raw = engine.solve(master(types, patterns.items, integer=True),
                       replace(options, time_limit=_seconds_left(budget, reserve),
                               warm_start=start))
    # Each answer completed by first fit; the integer model's may leave room that it fills.
    answers = [placement_fields(problem, completed(problem, _invert(
        problem, kinds, patterns.items, x))) for x in (raw.x, start) if x is not None]
    fields = max(answers, key=lambda f: f["objective"])
    if aim is not None:                          # from any placement that places as much
        tied = [f["placements"] for f in answers + [placement_fields(problem, p) for p in
                                                    placed_by.values()]
                if f["objective"] >= fields["objective"] - TOL]
        fields = placement_fields(problem, _least_cost(problem, kinds, types, patterns, tied,
                                                       aim(problem), engine, options, budget))
    value = fields.pop("objective")
    status = Status.OPTIMAL if bound is not None and \
        bound - value <= options.mip_gap * max(abs(value), 1e-12) else Status.FEASIBLE
    log.info("configurations: %d rounds, %d patterns, value %.6g, bound %s", rounds,
             len(patterns.items), value, bound)
    return Plan(status=status, objective=value, bound=bound, solve_seconds=budget.spent(),
                sense="max", solver=raw.solver, warm_start=source if raw.warm_started else None,
                **common, **fields)


def _seconds_left(budget: Budget, reserve: float = 0.0) -> float | None:
    """What is left for a model, less a share kept for inverting its answer and ``reserve``
    of the limit kept for a later stage."""
    left = budget.left()
    return None if left is None else max(0.05 * budget.limit,
                                         left - (INVERT_SHARE + reserve) * budget.limit)


def _least_cost(problem: Problem, kinds: TaskTypes, types: Types, patterns: "Patterns",
                placements: list[dict[str, Placement]], cost_of, engine,
                options: SolveOptions, budget: Budget) -> dict[str, Placement]:
    """Starting from the least costly of ``placements`` (total node cost ``cost_of``), the
    placement of the same tasks over the patterns known (its node contents among them) of
    least total node cost (the start itself when none costs less), completed by first fit."""
    counts = [patterns.of(placed) for placed in placements]
    items = patterns.items
    empty = [cost_of(g, types.capacity[g], np.ones(int(types.gpus[g])))
             for g in range(types.nodes.size)]
    cost = np.array([_node_cost(types, p, cost_of) - empty[p.group] for p in items])
    start = min((patterns.vector(c) for c in counts), key=lambda x: float(x @ cost))
    tasks = np.array([p.counts(types.count.size) for p in items]).T @ start
    raw = engine.solve(rearrangement(types, items, tasks, cost),
                       replace(options, time_limit=_seconds_left(budget), warm_start=start))
    better = raw.x is not None and cost @ raw.x < cost @ start - TOL
    log.info("configurations: node cost %.6g, was %.6g", cost @ (raw.x if better else start),
             cost @ start)
    return completed(problem, _invert(problem, kinds, items, raw.x if better else start))


def _node_cost(types: Types, pattern: Pattern, cost_of) -> float:
    """``cost_of`` one node of the pattern's group holding it."""
    g = pattern.group
    free = types.capacity[g].astype(float)
    gpu_free = np.ones(int(types.gpus[g]))
    for t, gpus in pattern.slots:
        free = free - types.need[t]
        gpu_free[list(gpus)] -= types.share[t] if types.share[t] > 0 else 1.0
    return cost_of(g, free, gpu_free)


class Patterns:
    """The patterns known, each once (``items``), and placements read as pattern counts."""

    def __init__(self, problem: Problem, kinds: TaskTypes):
        self.problem, self.kinds = problem, kinds
        self.items: list[Pattern] = []
        self._index: dict[tuple, int] = {}

    def add(self, pattern: Pattern) -> tuple[int, bool]:
        """The pattern's index, and whether it is new."""
        key = (pattern.group, tuple(sorted(pattern.slots)))
        if key in self._index:
            return self._index[key], False
        self._index[key] = len(self.items)
        self.items.append(pattern)
        return self._index[key], True

    def of(self, placed: dict[str, Placement]) -> dict[int, int]:
        """A placement as {pattern index: nodes holding it}, its node contents added."""
        counts: dict[int, int] = {}
        problem = self.problem
        for node, slots in _by_node(problem, placed, self.kinds).items():
            k, _ = self.add(Pattern(int(problem.device_pool[problem.device_index[node]]), slots))
            counts[k] = counts.get(k, 0) + 1
        return counts

    def vector(self, counts: dict[int, int]) -> np.ndarray:
        """Pattern counts ({pattern index: nodes}) as one count per pattern known."""
        x = np.zeros(len(self.items))
        x[list(counts)] = list(counts.values())
        return x


def _best_start(types: Types, patterns: Patterns,
                starts: dict[str | None, dict]) -> tuple[np.ndarray, str | None]:
    """The integer model's start: the placement (as pattern counts) that places most, and
    the heuristic's name when it is one (None: the LP rounded down, then first fit)."""
    value = np.array([p.counts(types.count.size) @ types.value for p in patterns.items])
    options = {method: patterns.vector(counts) for method, counts in starts.items()}
    name = max(options, key=lambda k: float(options[k] @ value))
    return options[name], name


def _by_node(problem: Problem, placed: dict[str, Placement], kinds: TaskTypes) -> dict:
    out: dict[str, tuple] = {}
    for name, p in placed.items():
        t = int(kinds.type_of[problem.task_index[name]])
        out[p.node] = out.get(p.node, ()) + ((t, p.gpus),)
    return out


def _price(types: Types, patterns: Patterns, engine, options: SolveOptions,
           budget: Budget, share: float,
           progress=None) -> tuple[float | None, int, np.ndarray | None, bool]:
    """Pricing rounds until no pattern improves the LP or ``share`` of the time limit is
    spent; returns the best bound found (a Lagrangian bound per pricing; once no pattern
    improves, it equals the LP's value), the number of rounds, the last LP's solution
    rounded down (a start for the integer model), and whether it priced out.

    The duals priced are smoothed (Wentges): a blend of the LP's and those of the best bound
    so far, which damps the LP's swings from round to round. A smoothed pricing that finds
    nothing better for the LP itself is repeated with the LP's own duals."""
    G = types.nodes.size
    end = budget.share_end(share, without_limit=float("inf"))
    best, centre, rounds, start = None, None, 0, None
    while time.perf_counter() < end:
        lp = engine.solve(master(types, patterns.items), replace(options, time_limit=None,
                                                                 warm_start=None))
        if lp.termination is not Termination.OPTIMAL or lp.duals is None:
            break
        rounds += 1
        start = np.floor(lp.x + 1e-9)            # a feasible integer start: the LP rounded down
        pi = np.maximum(0.0, -lp.duals[G:])
        mu = np.maximum(0.0, -lp.duals[:G])
        found: list[Pattern] = []
        for alpha in ((SMOOTHING, 0.0) if centre is not None else (0.0,)):
            priced = alpha * centre + (1 - alpha) * pi if alpha else pi
            bound, candidates = _price_groups(types, priced, engine, options, end)
            if bound is not None and (best is None or bound < best):
                best, centre = bound, priced
            found += [p for p in candidates if p.counts(types.count.size) @ (types.value - pi)
                      > mu[p.group] + TOL and patterns.add(p)[1]]
            if found or time.perf_counter() >= end:
                break
        if progress is not None:
            progress(budget.spent(), None, best)
        if not found:                            # nothing new: priced out, or out of time
            value = -lp.objective                # priced out when the bound meets the LP
            return best, rounds, start, best is not None and best <= value + TOL * max(
                1.0, abs(value))
    return best, rounds, start, False


def _without_models(problem: Problem, n_types: int) -> tuple[Problem, TaskTypes] | None:
    """The problem with the tasks' GPU-model constraints dropped, and its task types, when
    that leaves fewer types (None otherwise): a relaxation, since every placement of the
    problem is one of it, and one whose pricing converges where the problem's may not."""
    if all(t.gpu_models is None for t in problem.tasks):
        return None
    relaxed = replace(problem, tasks=tuple(replace(t, gpu_models=None) for t in problem.tasks))
    kinds = TaskTypes.apply(relaxed)
    return (relaxed, kinds) if kinds.count.size < n_types else None


def _translated(patterns: list[Pattern], kinds: TaskTypes, coarser: TaskTypes
                ) -> list[Pattern]:
    """Patterns over ``kinds``' types as patterns over ``coarser``'s (each of whose types
    is a union of ``kinds``' types)."""
    to = coarser.type_of[kinds.first]
    return [Pattern(p.group, tuple((int(to[t]), gpus) for t, gpus in p.slots))
            for p in patterns]


def _relaxed_bound(relaxed: tuple[Problem, TaskTypes], known: list[Pattern], engine,
                   options: SolveOptions, budget: Budget, share: float) -> float | None:
    """A bound on the placed demand from :func:`_without_models`'s relaxation, priced until
    ``share`` of the time limit; its first patterns are the problem's (``known``, over its
    types: the starting placements' among them)."""
    problem, kinds = relaxed
    types = Types.of(problem, kinds.first, kinds.count, worth(problem)[kinds.first])
    patterns = Patterns(problem, kinds)
    for pattern in known:
        patterns.add(pattern)
    if not patterns.items:                       # the problem's placed nothing
        if not patterns.of(place(problem, "first_fit_decreasing")):
            return 0.0                           # first fit places any task that fits alone
    bound, rounds, _, priced_out = _price(types, patterns, engine, options, budget, share)
    log.info("configurations: without GPU models, %d task types, %d rounds, bound %s%s",
             types.count.size, rounds, bound, " (priced out)" if priced_out else "")
    return bound


def _price_groups(types: Types, pi: np.ndarray, engine, options: SolveOptions,
                  end: float) -> tuple[float | None, list[Pattern]]:
    """Each group's best pattern for duals ``pi``, and the Lagrangian bound they give (None
    when the time ran out before every group was priced). The groups are priced in parallel
    threads (HiGHS releases the GIL), one per core."""
    def price(g: int):
        built = pricing(types, g, types.value - pi)
        if built is None:                        # no type it may hold is worth anything
            return True, 0.0, None
        left = end - time.perf_counter()
        if left <= 0:
            return False, None, None
        model, decode = built
        raw = engine.solve(model, replace(options, time_limit=min(PRICE_SECONDS, left),
                                          warm_start=None, mip_gap=1e-6, presolve=False,
                                          threads=1))
        return raw.bound is not None, raw.bound, None if raw.x is None else decode(raw.x)

    workers = min(types.nodes.size, options.threads or os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
        answers = list(pool.map(price, range(types.nodes.size)))
    bound, found = float(types.count @ pi), []
    for g, (priced, best, pattern) in enumerate(answers):
        if pattern is not None:
            found.append(pattern)
        if not priced:
            bound = None                         # a group left unpriced bounds nothing
        elif bound is not None:
            bound += types.nodes[g] * max(0.0, -best)
    return bound, found


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
        out[task.name] = Placement.of(task, problem.devices[node], gpus)
    return out
