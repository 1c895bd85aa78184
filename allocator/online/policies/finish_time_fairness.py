"""Finish-time fairness (Themis, NSDI '20; Gavel's ``finish_time_fairness_perf``).

A job's finish-time ratio rho is the time it will have taken under the allocation (its age
plus its work left over its rate) over the time it would take with an equal split of the
cluster among the jobs present (the time that equal split has been worth to it so far plus its
work left over the equal-split rate). Minimise the largest rho. For a given rho the rates
needed are fixed, ``rate_k(x) >= remaining[k] / (rho D[k] - age[k])``, so feasibility is an LP;
rho is found by bisection (the problem is quasi-convex; Gavel hands the same ratio to cvxpy).
Reference: ``policies/finish_time_fairness.py`` (``FinishTimeFairnessPolicyWithPerf``).
"""

from __future__ import annotations

import numpy as np

from .base import View, equal_share
from .lp import AllocationLP

name = "finish_time_fairness"
TOLERANCE = 1e-3          # relative width of the final bisection interval on rho


class FinishTimeFairness:
    name = name
    shuffle = False
    exclusive = False

    def __init__(self):
        self.isolated_time: dict[int, float] = {}   # equal-split time its progress was worth
        self.last: dict[int, tuple[float, float]] = {}   # job -> (remaining, equal-split rate)

    def _isolated(self, view: View) -> tuple[np.ndarray, np.ndarray]:
        iso = (view.rate * equal_share(view.counts, view.gang)).sum(axis=1)
        spent = np.empty(view.size)
        for k, j in enumerate(view.jobs.tolist()):
            if j in self.last:
                remaining, rate = self.last[j]
                self.isolated_time[j] = self.isolated_time.get(j, 0.0) + \
                    (remaining - view.remaining[k]) / rate
            spent[k] = self.isolated_time.get(j, 0.0)
        self.last = {j: (float(r), float(i))
                     for j, r, i in zip(view.jobs.tolist(), view.remaining, iso)}
        return iso, spent + view.remaining / iso

    def allocate(self, view: View) -> np.ndarray:
        iso, alone = self._isolated(view)
        x_equal = equal_share(view.counts, view.gang)
        lo = float((view.age / alone).max())
        hi = float(((view.age + view.remaining / iso) / alone).max())
        best = x_equal
        while hi - lo > TOLERANCE * hi:
            rho = (lo + hi) / 2
            x = self._feasible(view, rho * alone - view.age)
            if x is None:
                lo = rho
            else:
                best, hi = x, rho
        return best

    def _feasible(self, view: View, time_left: np.ndarray) -> np.ndarray | None:
        """An allocation finishing every job within ``time_left``, or None."""
        if (time_left <= 0).any():
            return None
        need = view.remaining / time_left
        lp = AllocationLP(view, extra=1)
        lp.per_job(view.rate / need[:, None], 0.0, np.inf, 0, -1.0)
        lp.col_hi[-1] = 1.0
        cost = np.zeros(lp.n)
        cost[-1] = -1.0
        cols = lp.solve(cost, name)
        return lp.allocation(cols) if cols[-1] >= 1.0 - 1e-9 else None


def make(seed: int = 0) -> FinishTimeFairness:
    return FinishTimeFairness()
