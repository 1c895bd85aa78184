"""Local search: from the best greedy plan, apply improving moves and swaps until none is left.

A *move* sends one task to another device; a *swap* exchanges two tasks on different devices.
Both must keep the plan feasible (eligibility, horizon, deadlines under earliest-deadline-first
order). Improvement is judged on the objective, for makespan refined lexicographically by the
sorted device loads (so that shortening the second-busiest device counts as progress towards
shortening the busiest): a step improves iff the larger load of the two devices it touches
strictly decreases. First improvement for each task, scanning the tasks in an order drawn with
``seed``, round after round until a round improves nothing.
It never returns a plan worse than its start; given a ``deadline`` (a ``time.perf_counter``
value) it stops there with the best plan so far.
"""

from __future__ import annotations

import time

import numpy as np

from ..domain.problem import Problem
from ..objectives import get
from .greedy import fits_device


def improve(problem: Problem, assignment: dict[str, str], objective: str,
            seed: int | None = 0, max_rounds: int = 100_000,
            deadline: float | None = None) -> dict[str, str]:
    """Hill-climb from ``assignment``; return an assignment at least as good.

    A move or swap changes the loads of two devices only, so it is judged on those two:
    for makespan it improves iff the larger of the two loads strictly decreases (then the
    sorted load vector decreases lexicographically); for cost iff the cost strictly decreases.
    """
    rng = np.random.default_rng(seed)
    n, m = len(problem.tasks), len(problem.devices)
    where = np.array([problem.device_index[assignment[t.name]] for t in problem.tasks])
    P = problem.ptime[:, problem.device_pool]                     # task x device seconds
    # A sum of per-placement values (cost) is judged on its total; a bottleneck (makespan) on
    # the larger of the two loads a move changes.
    additive = get(objective).score == "sum"
    C = get(objective).coefficient(problem)[:, problem.device_pool] if additive else None
    load = np.bincount(where, weights=P[np.arange(n), where], minlength=m)
    # Horizons are checked on the load vector; deadlines need each device's queue.
    has_deadlines = any(t.deadline is not None for t in problem.tasks)
    limit = problem.device_horizon * (1 + 1e-9)
    eps = 1e-9

    def ok(d: int, tasks: np.ndarray) -> bool:
        return not has_deadlines or fits_device(problem, list(tasks), d)

    rows = np.arange(n)
    for _ in range(max_rounds):
        improved = False
        for count, i in enumerate(rng.permutation(n)):
            if deadline is not None and count % 64 == 0 and time.perf_counter() > deadline:
                break
            a = where[i]
            # Moves: task i to another device b.
            gain = _move_gain(i, a, load, P, C, limit)
            moved = False
            for b in np.flatnonzero(gain > eps * max(1.0, load[a])):
                if ok(b, np.r_[np.flatnonzero(where == b), i]):
                    load[a] -= P[i, a]
                    load[b] += P[i, b]
                    where[i] = b
                    moved = improved = True
                    break
            if moved:
                continue
            # Swaps: task i with a task j on another device where[j].
            gain, scale = _swap_gain(i, a, where, load, P, C, limit)
            for j in np.flatnonzero(gain > eps * scale):
                bj = where[j]
                tasks_a = np.r_[np.flatnonzero((where == a) & (rows != i)), j]
                tasks_b = np.r_[np.flatnonzero((where == bj) & (rows != j)), i]
                if ok(a, tasks_a) and ok(bj, tasks_b):
                    load[a] += P[j, a] - P[i, a]
                    load[bj] += P[i, bj] - P[j, bj]
                    where[i], where[j] = bj, a
                    improved = True
                    break
        if not improved or (deadline is not None and time.perf_counter() > deadline):
            break
    return {t.name: problem.devices[where[i]] for i, t in enumerate(problem.tasks)}


def _move_gain(i: int, a: int, load: np.ndarray, P: np.ndarray, C: np.ndarray | None,
               limit: np.ndarray) -> np.ndarray:
    """Per device b: what moving task i from device a to b gains (-inf where it may not go).
    With prices ``C`` (an additive objective) the drop in cost; else the drop in the larger
    of the two loads."""
    gain = C[i, a] - C[i] if C is not None else load[a] - (load + P[i])
    gain[a] = -np.inf
    gain[~np.isfinite(P[i]) | (load + P[i] > limit)] = -np.inf
    return gain


def _swap_gain(i: int, a: int, where: np.ndarray, load: np.ndarray, P: np.ndarray,
               C: np.ndarray | None, limit: np.ndarray) -> tuple[np.ndarray, float]:
    """Per task j: what swapping task i (on device a) with j (on where[j]) gains, and the
    scale a gain must exceed a tiny share of."""
    rows = np.arange(len(where))
    b = where
    new_a = load[a] - P[i, a] + P[:, a]
    new_b = load[b] - P[rows, b] + P[i, b]
    if C is not None:
        gain, scale = (C[i, a] + C[rows, b]) - (C[:, a] + C[i, b]), 1.0
    else:
        gain, scale = np.maximum(load[a], load[b]) - np.maximum(new_a, new_b), max(1.0, load[a])
    gain[b == a] = -np.inf
    gain[~np.isfinite(gain) | (new_a > limit[a]) | (new_b > limit[b])] = -np.inf
    return gain, scale
