r"""Makespan over pools of identical devices: variables per task x pool, not task x device.

    minimise    C
    subject to  sum_p y[i,p] = 1                          for every task i
                sum_i p[i,p] y[i,p] <= count[p] * C        for every pool p
                p[i,p] y[i,p] <= C                         for every pair with p[i,p] > C_lo
                sum_i p[i,p] y[i,p] <= count[p] * H[p]     for every pool with a horizon
                y[i,p] = 0 where p[i,p] > H[p];   C >= C_lo = max_i min_p p[i,p]
                y[i,p] in {0, 1}, only for eligible pairs

Any schedule of the full problem with makespan M gives a solution of this model with C = M
(a pool's load is at most count x M, and every task it runs fits in M), so the model's optimum
and every bound the solver proves for it are lower bounds on the true optimal makespan. The
plan itself packs each pool's tasks onto its devices by longest processing time first (LPT:
within 4/3 of the best packing of that pool, and within one task of count x C); its makespan
is then compared against that bound, so the reported gap is honest.

Deadlines are not modelled here (use the full model); per-device horizons are, through the
pool capacity, and a packing that breaks one is reported as such by ``decode``.

As a reduction (:class:`Aggregation`): ``apply`` is :func:`build`, ``invert`` is :func:`pack`
(each task's pool, from the model's columns, to a device of that pool); the built model's
``decode`` runs ``invert`` and sequences the result.
"""

from __future__ import annotations

import heapq

import numpy as np
import scipy.sparse as sp

from ..domain.plan import sequence
from ..domain.problem import Problem
from ..model.assignment import Built, largest_per_task
from ..model.sparse import RowBuilder
from .base import makespan_without_deadlines

name = "aggregated"


class Aggregation:
    """Identical devices become one pool: variables per task x pool (apply), then a packing
    inside each pool (invert)."""

    name = name

    def accepts(self, problem: Problem, objective: str) -> bool:
        return makespan_without_deadlines(problem, objective)

    def apply(self, problem: Problem) -> tuple[Built, Problem]:
        """The pool-level model (its ``decode`` inverts), and the problem to invert into."""
        return build(problem), problem

    def invert(self, pool_of: np.ndarray, problem: Problem) -> dict[str, str]:
        """Task i (in ``problem.tasks`` order) on pool ``pool_of[i]`` -> a device of it."""
        return pack(problem, pool_of)


def build(problem: Problem) -> Built:
    ptime = problem.ptime
    counts = np.array([p.count for p in problem.pools], dtype=float)
    H = problem.pool_horizon
    ok = problem.eligible & (ptime <= H[None, :] * (1 + 1e-9))
    ti, pi = np.nonzero(ok)
    n_pairs, n_tasks, n_pools = ti.size, len(problem.tasks), len(problem.pools)
    p = ptime[ti, pi]
    cols = np.arange(n_pairs)
    n = n_pairs + 1                                    # y, then C
    rows = RowBuilder(n)
    by_task = sp.csr_array((np.ones(n_pairs), (ti, cols)), shape=(n_tasks, n))
    rows.add(by_task, 1.0, 1.0, lambda: [f"assign[{t.name}]" for t in problem.tasks])
    load = sp.csr_array((p, (pi, cols)), shape=(n_pools, n))
    # Every pool's load is at most count x C.
    rows.add(load - sp.csr_array((counts, (np.arange(n_pools), np.full(n_pools, n_pairs))),
                                 shape=(n_pools, n)), -np.inf, 0.0,
             lambda: [f"pool_load[{q.name}]" for q in problem.pools])
    c_lo = float(ptime.min(axis=1).max())
    long = np.flatnonzero(p > c_lo * (1 + 1e-12))
    # A task longer than C_lo bounds C wherever it runs.
    rows.add(sp.csr_array((np.r_[p[long], -np.ones(long.size)],
                           (np.r_[np.arange(long.size), np.arange(long.size)],
                            np.r_[long, np.full(long.size, n_pairs)])), shape=(long.size, n)),
             -np.inf, 0.0, lambda: [f"longest[{problem.tasks[ti[j]].name},"
                                    f"{problem.pools[pi[j]].name}]" for j in long])
    finite = np.flatnonzero(np.isfinite(H))
    if finite.size:
        rows.add(load[finite], -np.inf, counts[finite] * H[finite],
                 lambda: [f"pool_horizon[{problem.pools[k].name}]" for k in finite])
    c = np.r_[np.zeros(n_pairs), 1.0]
    model = rows.build(c, np.r_[np.zeros(n_pairs), c_lo], np.r_[np.ones(n_pairs), np.inf],
                       np.r_[np.ones(n_pairs, bool), False],
                       col_names=lambda: [f"y[{problem.tasks[i].name},{problem.pools[k].name}]"
                                          for i, k in zip(ti, pi)] + ["C"])

    def decode(x: np.ndarray) -> dict:
        first = largest_per_task(ti, x[:n_pairs])
        pool_of = np.empty(n_tasks, dtype=int)
        pool_of[ti[first]] = pi[first]
        assignment = Aggregation().invert(pool_of, problem)
        schedule = sequence(problem, assignment)
        return {"assignment": assignment, "schedule": schedule,
                "objective": max((s.end for s in schedule), default=0.0)}

    def encode(assignment) -> np.ndarray:
        pool_of = np.array([problem.pool_index_of(assignment[t.name]) for t in problem.tasks])
        y = (pool_of[ti] == pi).astype(float)
        loads = np.bincount(pi, weights=p * y, minlength=n_pools)
        C = max(c_lo, float((loads / counts).max()), float((p * y).max(initial=0.0)))
        return np.r_[y, C]

    return Built(model, decode, encode=encode, task_columns=(ti, p))


def pack(problem: Problem, pool_of: np.ndarray) -> dict[str, str]:
    """Place each pool's tasks on its devices, longest first, each on the least-loaded device."""
    assignment: dict[str, str] = {}
    first = np.r_[0, np.cumsum([q.count for q in problem.pools])[:-1]]
    for k, pool in enumerate(problem.pools):
        tasks = np.flatnonzero(pool_of == k)
        if tasks.size == 0:
            continue
        times = problem.ptime[tasks, k]
        order = tasks[np.lexsort((tasks, -times))]
        if pool.count == 1:
            for i in order:
                assignment[problem.tasks[i].name] = problem.devices[first[k]]
            continue
        heap = [(0.0, d) for d in range(pool.count)]
        for i in order:
            load, d = heapq.heappop(heap)
            assignment[problem.tasks[i].name] = problem.devices[first[k] + d]
            heapq.heappush(heap, (load + float(problem.ptime[i, k]), d))
    return assignment


def pool_lpt(problem: Problem) -> dict[str, str]:
    """A quick plan for large fleets: tasks longest first, each to the pool whose average load
    per device grows least, then :func:`pack` inside each pool. O(tasks x pools)."""
    counts = np.array([q.count for q in problem.pools], dtype=float)
    ptime = problem.ptime
    load = np.zeros(len(problem.pools))
    pool_of = np.empty(len(problem.tasks), dtype=int)
    for i in np.argsort(-ptime.min(axis=1), kind="stable"):
        k = int(np.argmin(np.maximum((load + ptime[i]) / counts, ptime[i])))
        pool_of[i] = k
        load[k] += ptime[i, k]
    return pack(problem, pool_of)
