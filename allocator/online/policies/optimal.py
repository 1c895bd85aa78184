"""Our own policy: the exact plan for the jobs present, revised at every arrival and completion.

Two LPs over the same allocation. The first finds the earliest time T* by which every present
job can finish (as ``min_makespan``). The second keeps that time, ``rate_k(x) >=
remaining[k] / T*`` for every job, and among those allocations takes the one that finishes jobs
soonest (``min_jct``'s objective): devices a job does not need to meet T* go to the jobs they
finish fastest, instead of being left to the rounds. The re-planner asks for it at every event
(``replan_every = 0``), not at most every 1920 s as for Gavel's policies.
"""

from __future__ import annotations

import numpy as np

from .base import View
from .lp import AllocationLP
from .min_makespan import earliest_finish

name = "optimal"
SLACK = 1e-6            # relative room on T* for the second LP (the first's rounding)


class Optimal:
    name = name
    shuffle = False
    exclusive = False
    replan_every = 0.0
    lag_first = True

    def allocate(self, view: View) -> np.ndarray:
        finish = earliest_finish(view) * (1 + SLACK)
        lp = AllocationLP(view)
        lp.per_job(view.rate * (finish / view.remaining)[:, None], 1.0, np.inf)
        value = view.rate * (view.weight / view.remaining)[:, None]
        return lp.allocation(lp.solve(-value.ravel() / value.max(), name))


def make(seed: int = 0) -> Optimal:
    return Optimal()
