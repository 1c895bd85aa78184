"""Heterogeneity-aware max-min fairness (Gavel's ``max_min_fairness_perf``, its "LAS").

Maximise the smallest normalised throughput: job k's throughput under the allocation, divided
by what it would get from an equal split of every pool (``sum_t rate[k, t] count[t] / N``),
times its gang and divided by its weight. One LP:

    max z   s.t.   sum_t c[k, t] x[k, t] >= z   for every job k,
                   sum_k gang[k] x[k, t] <= count[t],   sum_t x[k, t] <= 1,   x >= 0.

Reference: Gavel (OSDI '20) section 4.1; ``policies/max_min_fairness.py``
(``MaxMinFairnessPolicyWithPerf``), solved there with cvxpy and ECOS, here as one sparse LP.

With space sharing (the jobs' pair rates known), it is Gavel's ``max_min_fairness_packed``:
the LP over job classes of ``space_sharing.py``, whose class-pair shares are then given to
concrete pairs so that every job of a class gets the same time: a class paired with another
by cycling through both lists, a class with itself around a ring.
"""

from __future__ import annotations

import numpy as np

from .base import Packed, View, equal_split_rate
from .lp import AllocationLP
from .space_sharing import max_min_packed

name = "max_min_fairness"


def normalised_rates(view: View) -> np.ndarray:
    """``c[k, t]``: rate over the equal-split rate, times gang, over weight."""
    equal = equal_split_rate(view.rate, view.counts)
    return view.rate / equal[:, None] * (view.gang / view.weight)[:, None]


class MaxMinFairness:
    name = name
    shuffle = False
    exclusive = False

    def allocate(self, view: View) -> np.ndarray | Packed:
        if view.pair_rate is not None:
            return packed(view)
        c = normalised_rates(view)
        one, group, sizes = view.grouped(c)       # jobs of one type and gang: one row
        lp = AllocationLP(one, extra=1, copies=sizes)
        c_one = np.empty((len(sizes), c.shape[1]))
        c_one[group] = c                          # a group's jobs have equal rows of c
        lp.per_job(c_one, 0.0, np.inf, 0, -sizes)
        cost = np.zeros(lp.n)
        cost[-1] = -1.0
        return (lp.allocation(lp.solve(cost, name)) / sizes[:, None])[group]


def packed(view: View) -> Packed:
    """Gavel's LP with space sharing, solved over classes and spread over concrete pairs."""
    solution = max_min_packed(view.rate, view.gang, view.weight, view.counts, view.kind,
                              view.pair_rate, spread=True)
    group, size = solution.group, solution.size
    members = [np.flatnonzero(group == g) for g in range(len(size))]
    pairs, shared = [], []
    for (ga, gb), total in zip(solution.pairs.tolist(), solution.together):
        if total.sum() <= 1e-12:
            continue
        a, b = members[ga], members[gb]
        if ga == gb:                 # around a ring: every job in two pairs (one when two)
            ring = [(a[i], a[(i + 1) % len(a)]) for i in range(len(a) if len(a) > 2 else 1)]
        else:                        # cycling through both lists, the longer once
            ring = [(a[i % len(a)], b[i % len(b)]) for i in range(max(len(a), len(b)))]
        pairs += ring
        shared += [total / len(ring)] * len(ring)
    singles = solution.alone[group] / size[group][:, None]
    return Packed(singles=singles, pairs=np.array(pairs, dtype=np.int64).reshape(-1, 2),
                  shared=np.array(shared).reshape(-1, view.rate.shape[1]))


def make(seed: int = 0) -> MaxMinFairness:
    return MaxMinFairness()
