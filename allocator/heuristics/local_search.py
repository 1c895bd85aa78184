"""Local search: from the best greedy plan, apply improving moves and swaps until none is left.

A *move* sends one task to another device; a *swap* exchanges two tasks on different devices.
Both must keep the plan feasible (eligibility, horizon, deadlines under earliest-deadline-first
order). Improvement is judged on the objective, for makespan refined lexicographically by the
sorted device loads (so that shortening the second-busiest device counts as progress towards
shortening the busiest). First improvement, scanning tasks in an order drawn with ``seed``.
It never returns a plan worse than its start.
"""

from __future__ import annotations

import random

import numpy as np

from ..problem import Problem


def _feasible(problem: Problem, tasks: list[int], d: int) -> bool:
    pool = problem.device_pool[d]
    times = problem.ptime[tasks, pool]
    if not np.all(np.isfinite(times)):
        return False
    if problem.horizon is not None and times.sum() > problem.horizon * (1 + 1e-9):
        return False
    due = np.array([problem.tasks[i].deadline if problem.tasks[i].deadline is not None
                    else np.inf for i in tasks])
    if np.isinf(due).all():
        return True
    order = np.lexsort((times, due))
    return bool(np.all(np.cumsum(times[order]) <= due[order] * (1 + 1e-9)))


def improve(problem: Problem, assignment: dict[str, str], objective: str,
            seed: int | None = 0, max_rounds: int = 10_000) -> dict[str, str]:
    """Hill-climb from ``assignment``; return an assignment at least as good."""
    rng = random.Random(seed)
    n, m = len(problem.tasks), len(problem.devices)
    where = np.array([problem.device_index[assignment[t.name]] for t in problem.tasks])
    P = problem.ptime[:, problem.device_pool]                     # task x device seconds
    price = np.array([problem.pools[p].cost_per_hour or 0.0 for p in problem.device_pool])

    def loads(w):
        return np.bincount(w, weights=P[np.arange(n), w], minlength=m)

    def key(w):
        if objective == "cost":
            return (float(np.sum(price[w] * P[np.arange(n), w])),)
        return tuple(np.round(np.sort(loads(w))[::-1], 9))

    best = key(where)
    for _ in range(max_rounds):
        improved = False
        order = list(range(n))
        rng.shuffle(order)
        for i in order:
            a = where[i]
            # Moves: task i to another device.
            for b in range(m):
                if b == a or not np.isfinite(P[i, b]):
                    continue
                trial = where.copy()
                trial[i] = b
                k = key(trial)
                if k < best and _feasible(problem, list(np.flatnonzero(trial == b)), b):
                    where, best, improved = trial, k, True
                    break
            if improved:
                break
            # Swaps: task i with a task j on another device.
            for j in order:
                b = where[j]
                if b == a or not (np.isfinite(P[i, b]) and np.isfinite(P[j, a])):
                    continue
                trial = where.copy()
                trial[i], trial[j] = b, a
                k = key(trial)
                if k < best and _feasible(problem, list(np.flatnonzero(trial == a)), a) \
                        and _feasible(problem, list(np.flatnonzero(trial == b)), b):
                    where, best, improved = trial, k, True
                    break
            if improved:
                break
        if not improved:
            break
    return {t.name: problem.devices[where[i]] for i, t in enumerate(problem.tasks)}
