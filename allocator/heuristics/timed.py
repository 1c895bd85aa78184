"""Schedules over time on a cluster of nodes (the ``node_makespan`` objective): tasks taken in
an order, each placed where it finishes first, at the earliest slot from which its node has
its cores, memory and GPUs free for its whole run (a gang on the lowest whole GPUs free
throughout, a share on the fullest GPU it fits). A later task may start before an earlier
one when it fits in a gap without delaying it: backfilling.

- ``backfill``: the file's order (first come, first served) with that backfilling: Slurm's
  conservative backfill (Mu'alem and Feitelson, "Utilization, predictability, workloads, and
  user runtime estimates in scheduling the IBM SP2 with backfilling", IEEE TPDS 2001).
- ``lpt``: longest first (most GPUs first among equals): Graham's LPT list schedule ("Bounds
  on multiprocessing timing anomalies", SIAM J. Appl. Math. 1969); the solver's start.
- ``widest_first``: most GPUs first, longest first among equals: gangs placed before the
  small jobs that would fragment the nodes' GPUs.

Each takes higher ``priority`` first, as Slurm's queue does, and its own order within one.

They use the solver's time grid (:func:`allocator.domain.timeline.grid`), so their plans
compare with its plan slot for slot.
"""

from __future__ import annotations

import numpy as np

from ..domain.problem import Problem
from ..domain.timeline import grid, in_slots, list_schedule, longest_first, seconds


def _orders(problem: Problem, times: np.ndarray) -> dict[str, np.ndarray]:
    """Each method's order, higher ``priority`` first (a stable sort keeps the rest)."""
    n = len(problem.tasks)
    fastest = np.nanmin(times, axis=1)
    gpus = np.array([t.gpu_demand for t in problem.tasks])
    priority = np.array([t.priority for t in problem.tasks])
    orders = {"backfill": np.arange(n), "lpt": longest_first(problem, times),
              "widest_first": np.lexsort((np.arange(n), -fastest, -gpus))}
    return {name: order[np.argsort(-priority[order], kind="stable")]
            for name, order in orders.items()}


TIMED_HEURISTICS = ("backfill", "lpt", "widest_first")


def timed_schedule(problem: Problem, method: str
                   ) -> tuple[dict[int, tuple[int, int, tuple[int, ...]]], float]:
    """Task index -> (node, start slot, GPUs) by ``method``, and the slot in seconds."""
    times = seconds(problem)
    slot, _, _ = grid(problem, times)
    chosen = list_schedule(problem, in_slots(times, slot), _orders(problem, times)[method])
    return {problem.task_index[t]: v for t, v in chosen.items()}, slot
