"""Placement heuristics for clusters of nodes (the ``packing`` objective): the scoring rules
operators know, each a plain function that scores the nodes a task fits on.

Tasks are taken higher ``priority`` first, as Kubernetes' scheduling queue does
(PrioritySort), and then in the problem's order (a trace's creation order, as a scheduler
sees them arrive), or largest GPU demand first for ``first_fit_decreasing``; each goes to the
best-scoring node it fits on now (ties: the first such node), or stays out. A share goes to the
fullest GPU it fits on, a gang to the node's free GPUs with the lowest indices
(:class:`~allocator.domain.cluster_state.ClusterState`), except under ``fgd``, which chooses
the GPU too.

Scores use each node's resources after placing the task, as fractions of its capacity: cores,
memory and, on GPU nodes, GPUs (a share counts as its fraction).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..domain.cluster_state import ClusterState
from ..domain.plan import Placement
from ..domain.problem import Problem
from .fragmentation import fgd_choice

Score = Callable[[ClusterState, int, np.ndarray], np.ndarray]   # higher is better


def _resources(state: ClusterState, i: int, nodes: np.ndarray) -> tuple[np.ndarray, ...]:
    """(capacity, free) of ``nodes`` and task i's need, each over cores, memory and GPUs (a
    node's GPUs count 1 each, free as their free fractions; a share as its fraction)."""
    real = state.gpu_free[nodes] >= 0
    capacity = np.c_[state.capacity[nodes][:, :2], real.sum(axis=1)]
    free = np.c_[state.free[nodes][:, :2],
                 np.where(real, state.gpu_free[nodes], 0).sum(axis=1)]
    need = np.r_[state.need[i][:2], state.problem.tasks[i].gpu_demand]
    return capacity.astype(float), free, need


def _used_fractions(state: ClusterState, i: int, nodes: np.ndarray) -> np.ndarray:
    """nodes x resources: the share of each resource in use once task i is placed there
    (resources a node lacks are left out: NaN)."""
    capacity, free, need = _resources(state, i, nodes)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(capacity > 0, (capacity - free + need[None, :]) / capacity, np.nan)


def first_fit(state: ClusterState, i: int, nodes: np.ndarray) -> np.ndarray:
    """First fit: the first node (in the problem's order) the task fits on."""
    return -nodes.astype(float)


def least_allocated(state: ClusterState, i: int, nodes: np.ndarray) -> np.ndarray:
    """Kubernetes NodeResourcesFit, ``LeastAllocated`` (the default; spreads): the mean free
    fraction of the node's resources after placing the task."""
    return np.nanmean(1 - _used_fractions(state, i, nodes), axis=1)


def most_allocated(state: ClusterState, i: int, nodes: np.ndarray) -> np.ndarray:
    """Kubernetes NodeResourcesFit, ``MostAllocated`` (bin-packing): the mean used fraction of
    the node's resources after placing the task."""
    return np.nanmean(_used_fractions(state, i, nodes), axis=1)


def balanced_allocation(state: ClusterState, i: int, nodes: np.ndarray) -> np.ndarray:
    """Kubernetes ``NodeResourcesBalancedAllocation``: 1 minus the standard deviation of the
    node's used fractions after placing the task (resources used evenly score highest)."""
    return 1 - np.nanstd(_used_fractions(state, i, nodes), axis=1)


def dot_product(state: ClusterState, i: int, nodes: np.ndarray) -> np.ndarray:
    """Alignment scoring (Tetris, Grandl et al., SIGCOMM 2014; the FGD paper's DotProd
    baseline): the dot product of the task's demand and the node's free resources, each as a
    fraction of the node's capacity."""
    capacity, free, need = _resources(state, i, nodes)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(capacity > 0, (need[None, :] / capacity) * (free / capacity), 0.0)
    return terms.sum(axis=1)


SCORES: dict[str, Score] = {
    "first_fit": first_fit, "first_fit_decreasing": first_fit,
    "least_allocated": least_allocated, "most_allocated": most_allocated,
    "balanced_allocation": balanced_allocation, "dot_product": dot_product,
}
PLACEMENT_HEURISTICS = (*SCORES, "fgd")


def order_of(problem: Problem, name: str) -> np.ndarray:
    """The order tasks are placed in: higher ``priority`` first (Kubernetes' PrioritySort
    queue), then the problem's order, or (first_fit_decreasing) largest GPU demand first,
    then most cores, then the problem's order."""
    n = len(problem.tasks)
    priority = np.array([t.priority for t in problem.tasks])
    if name != "first_fit_decreasing":
        return np.lexsort((np.arange(n), -priority))
    gpus = np.array([t.gpu_demand for t in problem.tasks])
    cpu = np.array([t.cpu or 0.0 for t in problem.tasks])
    return np.lexsort((np.arange(n), -cpu, -gpus, -priority))


def place(problem: Problem, name: str, progress: Callable[[int], None] | None = None
          ) -> dict[str, Placement]:
    """Placements by heuristic ``name`` (:data:`PLACEMENT_HEURISTICS`); tasks that fit
    nowhere when their turn comes stay out."""
    state = ClusterState(problem)
    placed: dict[str, Placement] = {}
    for k, i in enumerate(order_of(problem, name)):
        nodes = np.flatnonzero(state.fitting_nodes(int(i)))
        if nodes.size:
            if name == "fgd":
                node, gpus = fgd_choice(state, int(i), nodes)
            else:
                scores = SCORES[name](state, int(i), nodes)
                node, gpus = int(nodes[int(np.argmax(scores))]), None
            placed[problem.tasks[i].name] = state.place(int(i), node, gpus)
        if progress is not None:
            progress(k + 1)
    return placed
