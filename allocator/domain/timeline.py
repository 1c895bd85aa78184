"""Time on a cluster of nodes: each task's duration on each node group in whole slots, and
what is free on each node in each slot (cores, host memory, named resources, each GPU's free
fraction) while tasks are scheduled one at a time. A gang holds the same GPUs from its start
to its end; a share keeps to one GPU. The list scheduler and the timed model's decoder share
it; :func:`allocator.verify` does not (it recomputes on its own).
"""

from __future__ import annotations

import math
from functools import reduce

import numpy as np

from .cluster_state import EPS, choose_gpus, gpu_capacity
from .problem import Problem

MAX_SLOTS = 64            # slots in the timed model's horizon before the slot is coarsened
MAX_LIST_SLOTS = 4096     # slots the list schedule that sets the grid may look through


def seconds(problem: Problem) -> np.ndarray:
    """``[i, p]``: task i's time on a node of group p (from the problem's ``time`` table);
    NaN where it has none or may not run there."""
    out = np.full((len(problem.tasks), len(problem.pools)), np.nan)
    for name, row in problem.time.items():
        i = problem.task_index[name]
        for pool, value in row.items():
            if value is not None:
                out[i, problem.pool_index[pool]] = value
    out[~problem.allowed] = np.nan
    return out


def exact_slot(times: np.ndarray) -> float:
    """The longest slot that divides every time (their greatest common divisor in whole
    milliseconds); 0 when some time is not a whole number of milliseconds."""
    ms = times[np.isfinite(times)] * 1000.0
    whole = np.round(ms)
    if ms.size == 0 or np.any(np.abs(ms - whole) > 1e-6 * np.maximum(1.0, ms)) \
            or np.any(whole < 1):
        return 0.0
    return reduce(math.gcd, whole.astype(np.int64).tolist()) / 1000.0


def in_slots(times: np.ndarray, slot: float) -> np.ndarray:
    """Durations in whole slots (rounded up), 0 where a task may not run."""
    slots = np.ceil(times / slot - 1e-9)
    return np.where(np.isfinite(times), np.maximum(slots, 1), 0).astype(np.int64)


class Timeline:
    """Free resources per slot, node (``problem.devices`` order) and GPU, growing as needed."""

    def __init__(self, problem: Problem, slots: int = 16):
        self.problem = problem
        requests = problem.node_requests
        self.capacity = requests.offer[problem.device_pool]            # node x resource
        self.need = requests.need                                      # task x resource
        self.gpu_capacity = gpu_capacity(problem)                      # node x GPU
        self.free = np.repeat(self.capacity[None], slots, axis=0)      # slot x node x resource
        self.gpu_free = np.repeat(self.gpu_capacity[None], slots, axis=0)

    def _reach(self, end: int) -> None:
        if end > self.free.shape[0]:
            more = max(end, 2 * self.free.shape[0]) - self.free.shape[0]
            self.free = np.concatenate([self.free, np.repeat(self.capacity[None], more, 0)])
            self.gpu_free = np.concatenate([self.gpu_free,
                                            np.repeat(self.gpu_capacity[None], more, 0)])

    def gpus_at(self, i: int, n: int, start: int, length: int) -> tuple[int, ...] | None:
        """The GPUs task ``i`` would hold on node ``n`` from slot ``start`` for ``length``
        slots (:func:`~allocator.domain.cluster_state.choose_gpus` on each GPU's free part
        throughout), or None when it does not fit there then."""
        self._reach(start + length)
        window = slice(start, start + length)
        if np.any(self.free[window, n] < self.need[i] - EPS):
            return None
        return choose_gpus(self.problem.tasks[i], self.gpu_free[window, n].min(axis=0))

    def earliest(self, i: int, n: int, length: int) -> tuple[int, tuple[int, ...]]:
        """The first slot from which task ``i`` fits on node ``n`` for ``length`` slots (it
        fits on the empty node: the caller checked), and its GPUs then."""
        start = 0
        while True:
            gpus = self.gpus_at(i, n, start, length)
            if gpus is not None:
                return start, gpus
            start += 1

    def take(self, i: int, n: int, start: int, length: int, gpus: tuple[int, ...]) -> None:
        """Task ``i`` holds what it needs on node ``n`` from ``start`` for ``length`` slots."""
        self._reach(start + length)
        window = slice(start, start + length)
        self.free[window, n] -= self.need[i]
        task = self.problem.tasks[i]
        share = task.gpu_share if task.gpu_share is not None else 1.0
        for g in gpus:
            self.gpu_free[window, n, g] -= share


def longest_first(problem: Problem, times: np.ndarray) -> np.ndarray:
    """Tasks by their shortest time, longest first, the most GPUs first among equals."""
    fastest = np.nanmin(times, axis=1)
    gpus = np.array([t.gpu_demand for t in problem.tasks])
    return np.lexsort((np.arange(len(problem.tasks)), -gpus, -fastest))


def grid(problem: Problem, times: np.ndarray) -> tuple[float, bool, dict]:
    """The slot (seconds), whether it divides every time, and the list schedule (longest
    first) on it. The slot is the longest that divides every time, unless that schedule then
    needs more than MAX_SLOTS of them; then one so coarse that it needs at most about that
    many, each time rounded up."""
    slot = exact_slot(times)
    exact = slot > 0
    if not exact:
        slot = float(np.nanmin(times)) / 8
    serial = float(np.nansum(np.nanmax(times, axis=1)))    # every list schedule ends by then
    if serial / slot > MAX_LIST_SLOTS:                       # times far apart: coarser first
        slot, exact = slot * math.ceil(serial / slot / MAX_LIST_SLOTS), False
    order = longest_first(problem, times)
    durations = in_slots(times, slot)
    schedule = list_schedule(problem, durations, order)
    makespan = schedule_end(problem, schedule, durations)
    if makespan > MAX_SLOTS:
        slot, exact = slot * math.ceil(makespan / MAX_SLOTS), False
        schedule = list_schedule(problem, in_slots(times, slot), order)
    return slot, exact, schedule


def schedule_end(problem: Problem, chosen: dict, durations: np.ndarray) -> int:
    """The last slot a schedule (task -> node, start, GPUs) uses, plus one."""
    pool_of = problem.device_pool
    return max((s + int(durations[problem.task_index[t], pool_of[n]])
                for t, (n, s, _) in chosen.items()), default=0)


def list_schedule(problem: Problem, durations: np.ndarray, order: np.ndarray
                  ) -> dict[str, tuple[int, int, tuple[int, ...]]]:
    """Each task of ``order`` in turn where it finishes first (its earliest start on each
    node it may use, plus its duration there; ties: the lower node): task -> (node, start
    slot, GPUs). ``durations[i, p]`` in slots, 0 where task i may not use group p."""
    line = Timeline(problem)
    pool_of = problem.device_pool
    out = {}
    for i in order:
        best = None
        for n in np.flatnonzero(durations[i, pool_of] > 0):
            length = int(durations[i, pool_of[n]])
            start, gpus = line.earliest(i, int(n), length)
            if best is None or start + length < best[0]:
                best = (start + length, int(n), start, gpus)
        _, n, start, gpus = best
        line.take(i, n, start, int(durations[i, pool_of[n]]), gpus)
        out[problem.tasks[i].name] = (n, start, gpus)
    return out
