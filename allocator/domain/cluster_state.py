"""What is free on each node of a cluster while tasks are placed one at a time: cores, host
memory, named resources and each GPU's free fraction. Placement heuristics and the packing
model's decoder share it; :func:`allocator.verify` does not (it recomputes on its own).
"""

from __future__ import annotations

import numpy as np

from .plan import Placement
from .problem import Problem

EPS = 1e-9


def gpu_capacity(problem: Problem) -> np.ndarray:
    """Node x GPU: 1 for each GPU a node has, -1 past its last (rows as wide as the most)."""
    width = max((p.gpus for p in problem.pools), default=0)
    gpus = np.array([p.gpus for p in problem.pools])[problem.device_pool]
    return np.where(np.arange(width)[None, :] < gpus[:, None], 1.0, -1.0)


def choose_gpus(task, free: np.ndarray) -> tuple[int, ...] | None:
    """The GPUs ``task`` would use among GPUs with ``free`` fractions (a share: the fullest
    GPU it fits on, best fit; a gang: the fully free GPUs with the lowest indices; no GPU:
    ()), or None if they do not hold it."""
    if task.gpu_share is not None:
        ok = np.flatnonzero(free >= task.gpu_share - EPS)
        return (int(ok[np.argmin(free[ok])]),) if ok.size else None
    if task.gpus:
        whole = np.flatnonzero(free >= 1 - EPS)
        return tuple(int(g) for g in whole[:task.gpus]) if whole.size >= task.gpus else None
    return ()


class ClusterState:
    """Free resources per node (``problem.devices`` order) and per GPU."""

    def __init__(self, problem: Problem):
        self.problem = problem
        requests = problem.node_requests
        self.capacity = requests.offer[problem.device_pool]        # node x resource
        self.free = self.capacity.copy()
        self.need = requests.need                                  # task x resource
        # Free fraction of each GPU; -1 marks a GPU the node does not have.
        self.gpu_free = gpu_capacity(problem)
        self.allowed = problem.allowed[:, problem.device_pool]     # task x node

    def gpu_choice(self, i: int, n: int) -> tuple[int, ...] | None:
        """The GPUs of node ``n`` task ``i`` would use now (:func:`choose_gpus`), or None if
        they do not hold it."""
        return choose_gpus(self.problem.tasks[i], self.gpu_free[n])

    def fitting_nodes(self, i: int) -> np.ndarray:
        """The nodes task ``i`` fits on now (a boolean mask over the nodes)."""
        task = self.problem.tasks[i]
        ok = self.allowed[i] & np.all(self.need[i][None, :] <= self.free + EPS, axis=1)
        if task.gpu_share is not None:
            ok &= (self.gpu_free >= task.gpu_share - EPS).any(axis=1)
        elif task.gpus:
            ok &= (self.gpu_free >= 1 - EPS).sum(axis=1) >= task.gpus
        return ok

    def place(self, i: int, n: int, gpus: tuple[int, ...] | None = None) -> Placement:
        """Place task ``i`` on node ``n`` (on ``gpus``, else :meth:`gpu_choice`); the caller
        has checked that it fits."""
        task = self.problem.tasks[i]
        gpus = self.gpu_choice(i, n) if gpus is None else gpus
        self.free[n] -= self.need[i]
        placed = Placement.of(task, self.problem.devices[n], gpus)
        for g in placed.gpus:
            self.gpu_free[n, g] -= placed.gpu_share
        return placed

    def fill(self, placed: dict[str, Placement], order: np.ndarray) -> dict[str, Placement]:
        """``placed`` with each task of ``order`` it lacks added on the first node it fits
        on (``placed`` must already be recorded in this state)."""
        out = dict(placed)
        for i in order:
            name = self.problem.tasks[i].name
            if name in out:
                continue
            nodes = np.flatnonzero(self.fitting_nodes(i))
            if nodes.size:
                out[name] = self.place(i, int(nodes[0]))
        return out

    def record(self, placed: dict[str, Placement]) -> None:
        """Take what ``placed`` uses."""
        index = self.problem.device_index
        for name, p in placed.items():
            i, n = self.problem.task_index[name], index[p.node]
            self.free[n] -= self.need[i]
            for g in p.gpus:
                self.gpu_free[n, g] -= p.gpu_share
