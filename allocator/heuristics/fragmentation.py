"""Fragmentation Gradient Descent (FGD: Weng et al., "Beware of Fragmentation: Scheduling
GPU-Sharing Workloads with Fragmentation Gradient Descent", USENIX ATC 2023).

FGD places each task on the node, and the GPU of that node, whose fragmentation F (the
expected GPU capacity the workload's tasks cannot use: :mod:`allocator.domain.fragmentation`)
grows least.
Nodes in the same state (group, free cores, memory and GPUs) are scored once, and each
state's F is computed once.
"""

from __future__ import annotations

import numpy as np

from ..domain.cluster_state import EPS, ClusterState
from ..domain.fragmentation import fragmentation, workload


def fgd_choice(state: ClusterState, i: int, nodes: np.ndarray) -> tuple[int, tuple[int, ...]]:
    """The node of ``nodes`` (where task ``i`` fits) and its GPUs that raise F least."""
    if not hasattr(state, "fgd_workload"):
        state.fgd_workload, state.fgd_cache = workload(state.problem), {}
    task = state.problem.tasks[i]
    take = task.gpu_share if task.gpu_share is not None else (1.0 if task.gpus else 0.0)
    # A node's state: group, free cores, free memory, GPUs' free fractions largest first.
    key = np.c_[state.problem.device_pool[nodes], state.free[nodes][:, :2],
                -np.sort(-state.gpu_free[nodes], axis=1)]
    rows, first = np.unique(key, axis=0, return_index=True)
    best = (np.inf, -1, 0.0)
    for row, k in zip(rows, first):
        before = _cached(state, row)
        after = row.copy()
        after[1:3] -= state.need[i, :2]
        for value in _options(row[3:], task, take):
            changed = after.copy()
            gpus = changed[3:]
            if task.gpu_share is not None:
                gpus[np.flatnonzero(gpus == value)[0]] -= take
            else:
                gpus[:task.gpus] -= take                  # whole GPUs: the free ones
            gpus[:] = -np.sort(-gpus)
            delta = _cached(state, changed) - before
            if delta < best[0] - 1e-12 or (abs(delta - best[0]) <= 1e-12 and k < best[1]):
                best = (delta, int(k), value)
    n = int(nodes[best[1]])
    free = state.gpu_free[n]
    if task.gpu_share is not None:
        return n, (int(np.flatnonzero(free == best[2])[0]),)
    return n, tuple(int(j) for j in np.flatnonzero(free >= 1 - EPS)[:task.gpus])


def _options(free: np.ndarray, task, take: float) -> np.ndarray:
    """The GPU choices that differ: for a share, each distinct free fraction it fits in;
    for whole GPUs or none, one (any whole GPUs are alike)."""
    if task.gpu_share is None:
        return np.zeros(1)
    return np.unique(free[free >= take - EPS])


def _cached(state: ClusterState, row: np.ndarray) -> float:
    """:func:`fragmentation` of a node state (group, cores, memory, GPUs' free fractions),
    once per state."""
    key = row.tobytes()
    value = state.fgd_cache.get(key)
    if value is None:
        value = state.fgd_cache[key] = fragmentation(state.fgd_workload, int(row[0]), row[1],
                                                     row[2], row[3:])
    return value
