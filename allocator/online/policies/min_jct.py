"""Shortest remaining time first, heterogeneity-aware: maximise the rate at which jobs are
being finished, ``sum_k weight[k] rate_k(x) / remaining[k]`` (each job's fraction of its work
left done per second), under the devices and each job's time. One LP; its optimum gives each
pool's devices to the jobs that finish soonest there, which is what minimises the mean
completion time on one machine (SRPT) and the best a fluid allocation can do greedily here.
"""

from __future__ import annotations

import numpy as np

from .base import View
from .lp import AllocationLP

name = "min_jct"


class MinJct:
    name = name
    shuffle = False
    exclusive = False

    def allocate(self, view: View) -> np.ndarray:
        lp = AllocationLP(view)
        value = view.rate * (view.weight / view.remaining)[:, None]
        return lp.allocation(lp.solve(-value.ravel() / value.max(), name))


def make(seed: int = 0) -> MinJct:
    return MinJct()
