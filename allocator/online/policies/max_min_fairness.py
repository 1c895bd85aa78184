"""Heterogeneity-aware max-min fairness (Gavel's ``max_min_fairness_perf``, its "LAS").

Maximise the smallest normalised throughput: job k's throughput under the allocation, divided
by what it would get from an equal split of every pool (``sum_t rate[k, t] count[t] / N``),
times its gang and divided by its weight. One LP:

    max z   s.t.   sum_t c[k, t] x[k, t] >= z   for every job k,
                   sum_k gang[k] x[k, t] <= count[t],   sum_t x[k, t] <= 1,   x >= 0.

Reference: Gavel (OSDI '20) section 4.1; ``policies/max_min_fairness.py``
(``MaxMinFairnessPolicyWithPerf``), solved there with cvxpy and ECOS, here as one sparse LP.
"""

from __future__ import annotations

import numpy as np

from .base import View
from .lp import AllocationLP

name = "max_min_fairness"


def normalised_rates(view: View) -> np.ndarray:
    """``c[k, t]``: rate over the equal-split rate, times gang, over weight."""
    equal = (view.rate * view.counts[None, :]).sum(axis=1) / view.counts.sum()
    return view.rate / equal[:, None] * (view.gang / view.weight)[:, None]


class MaxMinFairness:
    name = name
    shuffle = False
    exclusive = False

    def allocate(self, view: View) -> np.ndarray:
        c = normalised_rates(view)
        one, group, sizes = view.grouped(c)       # jobs of one type and gang: one row
        lp = AllocationLP(one, extra=1, copies=sizes)
        lp.per_job(normalised_rates(one), 0.0, np.inf, 0, -sizes)
        cost = np.zeros(lp.n)
        cost[-1] = -1.0
        return (lp.allocation(lp.solve(cost, name)) / sizes[:, None])[group]


def make(seed: int = 0) -> MaxMinFairness:
    return MaxMinFairness()
