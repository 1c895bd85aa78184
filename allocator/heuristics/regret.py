"""Regret greedy: place first the task that would lose most by waiting.

Every unplaced task has a value on each device that can still take it: its cost there (the
``cost`` objective; the MTHG rule of Martello and Toth for generalized assignment) or the time
it would finish there (``makespan``; the *sufferage* rule of heterogeneous grid scheduling).
The task whose second-best device is worst compared with its best (its *regret*; infinite when
one device is left) goes to its best device, and the rest are re-valued. Unlike the list rules,
it sees capacity coming: a task that fits only a few devices is placed before they fill.

For the cost objective it also tries three capacity-aware values, as MTHG does: the time the
task takes there, that time as a share of the device's horizon, and cost times that share; the
cheapest feasible plan wins. Feasibility only shrinks as devices fill, so the two best devices
of a task change only when one of them is the device just used: only those tasks are re-valued.
"""

from __future__ import annotations

import numpy as np

from ..domain.problem import Problem
from ..objectives import get
from .greedy import _stuck, meets_deadlines, value


def regret(problem: Problem, objective: str, seed: int | None = None,
           fixed: dict[int, int] | None = None) -> tuple[dict[str, str], str | None]:
    """The regret-greedy plan (assignment, reason or None); see the module docstring.
    ``fixed`` ({task index: device index}) places those tasks first, as given."""
    P = problem.ptime[:, problem.device_pool]                 # task x device, inf = ineligible
    H = problem.device_horizon
    if get(objective).score == "bottleneck":
        candidates = [(P, True)]
    else:
        C = get(objective).coefficient(problem)[:, problem.device_pool]
        share = P / np.where(np.isfinite(H), H, 1.0)[None, :]
        candidates = [(C, False), (P, False), (share, False), (C * share, False)]
    best, first_reason = None, None
    for values, dynamic in candidates:
        where, reason = _place(problem, P, values, H, dynamic=dynamic, fixed=fixed)
        if reason is not None:
            first_reason = first_reason or reason
            continue
        assignment = {problem.tasks[i].name: problem.devices[d] for i, d in where.items()}
        total = value(problem, assignment, objective) if len(candidates) > 1 else 0.0
        if best is None or total < best[0]:
            best = (total, assignment)
    return ({}, first_reason) if best is None else (best[1], None)


def _place(problem: Problem, P: np.ndarray, V0: np.ndarray, H: np.ndarray, *,
           dynamic: bool, fixed: dict[int, int] | None = None):
    """Regret placement with value V0 (+ the device's load when ``dynamic``); returns
    ({task index: device index}, None) or (partial, reason)."""
    n, m = P.shape
    has_deadlines = any(t.deadline is not None for t in problem.tasks)
    limit = H * (1 + 1e-9)
    load = np.zeros(m)
    banned = ~np.isfinite(P)                 # pairs that can never be used from now on
    queue: list[list[int]] = [[] for _ in range(m)]
    left = np.ones(n, dtype=bool)
    top = np.zeros((n, 2), dtype=int)        # best and second-best device
    val = np.full((n, 2), np.inf)            # their values

    def refresh(rows: np.ndarray) -> None:
        V = V0[rows] + load[None, :] if dynamic else V0[rows].copy()
        V[banned[rows] | (load[None, :] + P[rows] > limit[None, :])] = np.inf
        r = np.arange(len(rows))
        best = np.argmin(V, axis=1)                      # ties: the lower device index
        first = V[r, best]
        V[r, best] = np.inf
        second = np.argmin(V, axis=1)
        top[rows, 0], top[rows, 1] = best, second
        val[rows, 0], val[rows, 1] = first, V[r, second]

    where: dict[int, int] = {}

    def put(i: int, d: int) -> None:
        where[i] = d
        queue[d].append(i)
        load[d] += P[i, d]
        left[i] = False

    for i, d in (fixed or {}).items():
        put(i, d)
    refresh(np.arange(n))
    while left.any():
        rows = np.flatnonzero(left)
        first, second = val[rows, 0], val[rows, 1]
        if not np.all(np.isfinite(first)):
            return where, _stuck(problem.tasks[int(rows[~np.isfinite(first)][0])].name)
        gain = np.where(np.isfinite(second), second - first, np.inf)
        i = int(rows[np.argmax(gain)])           # ties: the earlier task
        d = int(top[i, 0])
        if has_deadlines and not meets_deadlines(problem, queue[d] + [i], d):
            banned[i, d] = True              # a fuller device never takes it back
            refresh(np.array([i]))
            continue
        put(i, d)
        stale = np.flatnonzero(left & ((top[:, 0] == d) | (top[:, 1] == d)))
        if stale.size:
            refresh(stale)
    return where, None
