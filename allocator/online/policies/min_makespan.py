"""Finish the present jobs as early as possible (Gavel's ``min_total_duration_perf``).

The time T by which every job can finish at the allocation's rates is smallest when
``u = 1 / T`` is largest, and ``rate_k(x) >= remaining[k] / T`` is linear in (x, u), so one LP
gives the optimum (Gavel bisects on T, solving an LP per step, to within 5%):

    max u   s.t.   sum_t rate[k, t] x[k, t] >= remaining[k] u,   devices,   time.

Rows are scaled by ``L / remaining[k]`` (L the longest time alone) so that u is near 1.
Reference: Gavel (OSDI '20) section 4.2, "minimize makespan"; ``policies/min_total_duration.py``.
"""

from __future__ import annotations

import numpy as np

from .base import View
from .lp import AllocationLP

name = "min_makespan"


class MinMakespan:
    name = name
    shuffle = False
    exclusive = False

    def allocate(self, view: View) -> np.ndarray:
        return solve(view)[0]


def solve(view: View) -> tuple[np.ndarray, float]:
    """The allocation and the earliest time (s from now) by which every job can finish."""
    longest = float((view.remaining / view.rate.max(axis=1)).max())
    lp = AllocationLP(view, extra=1)
    lp.per_job(view.rate * (longest / view.remaining)[:, None], 0.0, np.inf, 0, -1.0)
    cost = np.zeros(lp.n)
    cost[-1] = -1.0
    cols = lp.solve(cost, name)
    return lp.allocation(cols), longest / float(cols[-1])


def make(seed: int = 0) -> MinMakespan:
    return MinMakespan()
