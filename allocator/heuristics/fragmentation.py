"""Fragmentation Gradient Descent (FGD: Weng et al., "Beware of Fragmentation: Scheduling
GPU-Sharing Workloads with Fragmentation Gradient Descent", USENIX ATC 2023).

A node's GPU capacity is *fragmented* for a task type m when m cannot use it: all of the
node's free GPU capacity when m does not fit on the node at all (too few cores, memory or
usable GPUs, or a GPU model m does not accept), else the free capacity of each GPU that has
less free than m takes of one GPU (a share, or 1 for whole GPUs). The node's fragmentation
for the workload is the expectation over task types, weighted by how common each type is
among the problem's tasks that ask for GPUs:

    F_n = sum_m p_m frag_n(m)

FGD places each task on the node, and the GPU of that node, whose F grows least.
Nodes in the same state (group, free cores, memory and GPUs) are scored once, and each
state's F is computed once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..domain.cluster_state import EPS, ClusterState


@dataclass(frozen=True)
class Workload:
    """The task types that ask for GPUs, with how common each is (``p`` sums to 1)."""

    cpu: np.ndarray
    memory: np.ndarray
    count: np.ndarray          # GPUs it needs with ``each`` free
    each: np.ndarray           # of one GPU: its share, or 1
    allowed: np.ndarray        # type x group: accepts the group's GPU model
    p: np.ndarray


def workload(state: ClusterState) -> Workload:
    problem = state.problem
    gpu = [i for i, t in enumerate(problem.tasks) if t.gpu_demand]
    if not gpu:
        return Workload(*(np.zeros(0),) * 4, np.zeros((0, len(problem.pools)), bool),
                        np.zeros(0))
    models = np.array([p.gpu_model or "" for p in problem.pools])
    keys = {}
    for i in gpu:
        t = problem.tasks[i]
        key = (state.need[i, 0], state.need[i, 1], 1 if t.gpu_share else t.gpus,
               t.gpu_share or 1.0, t.gpu_models)
        keys[key] = keys.get(key, 0) + 1
    cpu, memory, count, each, allowed, weight = [], [], [], [], [], []
    for (c, m, k, e, accepted), n in keys.items():
        cpu.append(c), memory.append(m), count.append(k), each.append(e), weight.append(n)
        allowed.append(np.ones(len(models), bool) if accepted is None
                       else np.isin(models, accepted))
    w = np.array(weight, float)
    return Workload(np.array(cpu), np.array(memory), np.array(count), np.array(each),
                    np.array(allowed), w / w.sum())


def fragmentation(w: Workload, group: int, cpu: float, memory: float,
                  gpu_free: np.ndarray) -> float:
    """F of one node state (``gpu_free``: each GPU's free fraction) for workload ``w``."""
    free = gpu_free[gpu_free >= 0]
    total = free.sum()
    if total <= EPS or w.p.size == 0:
        return 0.0
    usable = free[None, :] >= w.each[:, None] - EPS                # type x GPU
    fits = (w.cpu <= cpu + EPS) & (w.memory <= memory + EPS) & w.allowed[:, group] & \
        (usable.sum(axis=1) >= w.count)
    stranded = np.where(usable, 0.0, free[None, :]).sum(axis=1)
    return float(w.p @ np.where(fits, stranded, total))


def fgd_choice(state: ClusterState, i: int, nodes: np.ndarray) -> tuple[int, tuple[int, ...]]:
    """The node of ``nodes`` (where task ``i`` fits) and its GPUs that raise F least."""
    if not hasattr(state, "fgd_workload"):
        state.fgd_workload, state.fgd_cache = workload(state), {}
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
