"""GPU fragmentation, as the FGD paper measures it (Weng et al., "Beware of Fragmentation:
Scheduling GPU-Sharing Workloads with Fragmentation Gradient Descent", USENIX ATC 2023).

A node's free GPU capacity is *fragmented* for a task type m when m cannot use it: all of the
node's free GPU capacity when m does not fit on the node at all (too few cores, memory or
usable GPUs, or a GPU model m does not accept), else the free capacity of each GPU that has
less free than m takes of one GPU (a share, or 1 for whole GPUs). The node's fragmentation
for the workload is the expectation over task types, weighted by how common each type is
among the problem's tasks that ask for GPUs:

    F_n = sum_m p_m frag_n(m)                    (in GPUs)

and a cluster's is the sum over its nodes. The FGD heuristic places each task where F grows
least; the ``fragmentation`` objective minimises the cluster's F among the plans that place
the most demand; every plan on nodes reports it (``Metrics.fragmentation``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cluster_state import EPS, ClusterState
from .plan import Placement
from .problem import Problem


@dataclass(frozen=True)
class Workload:
    """The task types that ask for GPUs, with how common each is (``p`` sums to 1)."""

    cpu: np.ndarray
    memory: np.ndarray
    count: np.ndarray          # GPUs it needs with ``each`` free
    each: np.ndarray           # of one GPU: its share, or 1
    allowed: np.ndarray        # type x group: accepts the group's GPU model
    p: np.ndarray


def workload(problem: Problem) -> Workload:
    """The problem's own tasks that ask for GPUs, as the workload F is measured against."""
    need = problem.node_requests.need
    gpu = [i for i, t in enumerate(problem.tasks) if t.gpu_demand]
    if not gpu:
        return Workload(*(np.zeros(0),) * 4, np.zeros((0, len(problem.pools)), bool),
                        np.zeros(0))
    models = np.array([p.gpu_model or "" for p in problem.pools])
    keys: dict[tuple, int] = {}
    for i in gpu:
        t = problem.tasks[i]
        key = (need[i, 0], need[i, 1], 1 if t.gpu_share else t.gpus, t.gpu_share or 1.0,
               t.gpu_models)
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
    """F of one node state (``gpu_free``: each GPU's free fraction; -1 for none) for ``w``."""
    free = gpu_free[gpu_free >= 0]
    total = free.sum()
    if total <= EPS or w.p.size == 0:
        return 0.0
    usable = free[None, :] >= w.each[:, None] - EPS                # type x GPU
    fits = (w.cpu <= cpu + EPS) & (w.memory <= memory + EPS) & w.allowed[:, group] & \
        (usable.sum(axis=1) >= w.count)
    stranded = np.where(usable, 0.0, free[None, :]).sum(axis=1)
    return float(w.p @ np.where(fits, stranded, total))


def cluster_fragmentation(problem: Problem, placed: dict[str, Placement]) -> float:
    """The cluster's F after ``placed``: the sum of its nodes' (each distinct state once)."""
    state = ClusterState(problem)
    state.record(placed)
    w = workload(problem)
    key = np.c_[problem.device_pool, state.free[:, :2], -np.sort(-state.gpu_free, axis=1)]
    rows, count = np.unique(key, axis=0, return_counts=True)
    return float(sum(k * fragmentation(w, int(r[0]), r[1], r[2], r[3:])
                     for r, k in zip(rows, count)))
