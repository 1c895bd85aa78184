r"""Makespan on a cluster of nodes in time slots: every task runs once, on one node, for its
duration there (whole slots); a gang holds the same GPUs from its start to its end; the
shares on one GPU add up to at most 1 in every slot.

Columns, for task i, node n it may use, start slot s (ending by the horizon H), GPU g::

    x[i,n,s]    task i (no GPU, or whole GPUs) starts on n at s
    y[i,n,g,s]  task i (a share) starts on n at s on GPU g
    a[i,n,g,s]  gang i, started on n at s, holds GPU g
    C           the makespan, in slots

Rows (d = task i's duration on n; "running at t" means s <= t < s + d)::

    min C
    sum_{n,s} x[i,n,s] (or sum_{n,g,s} y[i,n,g,s]) = 1        every task once
    sum over tasks running at t of need[i,r] <= offer[n,r]     every node, slot, resource
    sum over gangs running at t of a[i,n,g,s]
      + sum over shares running at t of share_i y[i,n,g,s] <= 1 every GPU of every node, slot
    sum_g a[i,n,g,s] - k_i x[i,n,s] = 0                         a gang's k GPUs
    sum_{n,s} (s + d) x[i,n,s] - C <= 0                         every task ends by C

With every duration a whole number of slots it is exact: some optimal schedule starts each
task at 0 or at another task's end, so on the slot grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..domain.problem import Problem
from .sparse import LinearModel

PLACE, HOLD = 0, 1        # a column that places a task (x or y), one that holds a GPU (a)


@dataclass(frozen=True)
class TimedColumns:
    task: np.ndarray
    node: np.ndarray
    gpu: np.ndarray           # -1 for x
    start: np.ndarray
    length: np.ndarray
    kind: np.ndarray          # PLACE or HOLD

    @property
    def n(self) -> int:
        return self.task.size + 1                  # and C, last


def timed_columns(problem: Problem, durations: np.ndarray, horizon: int) -> TimedColumns:
    """Every column of the model: ``durations[i, p]`` in slots (0: may not use group p)."""
    pool_of = problem.device_pool
    gpus = np.array([p.gpus for p in problem.pools])[pool_of]
    cols: list[tuple] = []
    for i, task in enumerate(problem.tasks):
        for n in np.flatnonzero(durations[i, pool_of] > 0):
            d = int(durations[i, pool_of[n]])
            starts = np.arange(max(horizon - d + 1, 0))
            if task.gpu_share is not None:
                for g in range(gpus[n]):
                    cols.append((i, n, g, starts, d, PLACE))
                continue
            cols.append((i, n, -1, starts, d, PLACE))
            if task.gpus:
                for g in range(gpus[n]):
                    cols.append((i, n, g, starts, d, HOLD))
    size = [c[3].size for c in cols]

    def spread(k: int) -> np.ndarray:
        return np.repeat(np.array([c[k] for c in cols], dtype=np.int64), size)
    return TimedColumns(spread(0), spread(1), spread(2),
                        np.concatenate([c[3] for c in cols]) if cols else np.zeros(0, int),
                        spread(4), spread(5))


def build_timed(problem: Problem, C: TimedColumns, horizon: int, least: float = 0.0
                ) -> LinearModel:
    """The model over columns ``C``; ``least`` a lower bound on C (slots)."""
    requests = problem.node_requests
    need, offer = requests.need, requests.offer[problem.device_pool]
    n_tasks, n_res = need.shape
    m = C.task.size
    place = np.flatnonzero(C.kind == PLACE)
    hold = np.flatnonzero(C.kind == HOLD)
    blocks, lo, hi = [], [], []

    def add(rows, cols, vals, shape_rows, row_lo, row_hi):
        blocks.append(sp.csr_array((vals, (rows, cols)), shape=(shape_rows, m + 1)))
        lo.append(row_lo)
        hi.append(row_hi)

    # every task once
    add(C.task[place], place, np.ones(place.size), n_tasks, np.ones(n_tasks), np.ones(n_tasks))
    # resources: every node, slot and resource its running tasks use
    col, t = _running(C, place)
    for r in range(n_res):
        use = need[C.task[col], r]
        keep = use > 0
        key = C.node[col[keep]] * horizon + t[keep]
        rows, index = np.unique(key, return_inverse=True)
        add(index, col[keep], use[keep], rows.size, np.full(rows.size, -np.inf),
            offer[rows // horizon, r])
    # GPUs: every GPU and slot, the gangs holding it and the shares on it
    shares = np.array([t_.gpu_share or 0.0 for t_ in problem.tasks])
    on_gpu = np.r_[hold, place[C.gpu[place] >= 0]]
    col, t = _running(C, on_gpu)
    width = max(1, int(C.gpu.max(initial=0)) + 1)
    key = (C.node[col] * width + C.gpu[col]) * horizon + t
    rows, index = np.unique(key, return_inverse=True)
    vals = np.where(C.kind[col] == HOLD, 1.0, shares[C.task[col]])
    add(index, col, vals, rows.size, np.full(rows.size, -np.inf), np.ones(rows.size))
    # a gang's k GPUs: each hold column to its start column
    gang = place[(C.gpu[place] < 0) & (np.array([t_.gpus for t_ in problem.tasks])[
        C.task[place]] > 0)]
    if gang.size:
        key_of = {(int(C.task[c]), int(C.node[c]), int(C.start[c])): k for k, c in enumerate(gang)}
        link = np.array([key_of[(int(C.task[c]), int(C.node[c]), int(C.start[c]))]
                         for c in hold], dtype=np.int64)
        k = np.array([problem.tasks[i].gpus for i in C.task[gang]], float)
        add(np.r_[link, np.arange(gang.size)], np.r_[hold, gang],
            np.r_[np.ones(hold.size), -k], gang.size, np.zeros(gang.size), np.zeros(gang.size))
    # every task ends by C
    ends = (C.start[place] + C.length[place]).astype(float)
    add(np.r_[C.task[place], np.arange(n_tasks)], np.r_[place, np.full(n_tasks, m)],
        np.r_[ends, -np.ones(n_tasks)], n_tasks, np.full(n_tasks, -np.inf), np.zeros(n_tasks))
    A = sp.vstack(blocks, format="csr")
    c = np.zeros(m + 1)
    c[m] = 1.0
    return LinearModel(c=c, A=A, row_lo=np.concatenate(lo), row_hi=np.concatenate(hi),
                       col_lo=np.r_[np.zeros(m), least], col_hi=np.r_[np.ones(m), horizon],
                       integrality=np.r_[np.ones(m, bool), False])


def _running(C: TimedColumns, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column of ``cols`` repeated for every slot it runs in, and that slot."""
    length = C.length[cols]
    col = np.repeat(cols, length)
    first = np.repeat(np.cumsum(length) - length, length)
    t = C.start[col] + (np.arange(col.size) - first)
    return col, t


def encode(C: TimedColumns, chosen: dict[int, tuple[int, int, tuple[int, ...]]],
           makespan: int) -> np.ndarray:
    """The model's x for a schedule: task index -> (node, start slot, GPUs)."""
    x = np.zeros(C.n)
    where = {(int(i), int(n), int(g), int(s), int(k)): c for c, (i, n, g, s, k) in
             enumerate(zip(C.task, C.node, C.gpu, C.start, C.kind))}
    for i, (n, s, gpus) in chosen.items():
        if (i, n, -1, s, PLACE) in where:                 # no GPU, or whole GPUs
            x[where[(i, n, -1, s, PLACE)]] = 1.0
            for g in gpus:
                x[where[(i, n, g, s, HOLD)]] = 1.0
        else:                                            # a share, on its GPU
            x[where[(i, n, gpus[0], s, PLACE)]] = 1.0
    x[-1] = makespan
    return x


def decode(C: TimedColumns, x: np.ndarray) -> dict[int, tuple[int, int, tuple[int, ...]]]:
    """Task index -> (node, start slot, GPUs) of an integer solution."""
    on = np.flatnonzero(x[:-1] > 0.5)
    out: dict[int, tuple[int, int, tuple[int, ...]]] = {}
    for c in on[C.kind[on] == PLACE]:
        g = int(C.gpu[c])
        out[int(C.task[c])] = (int(C.node[c]), int(C.start[c]), (g,) if g >= 0 else ())
    for c in on[C.kind[on] == HOLD]:
        n, s, gpus = out[int(C.task[c])]
        out[int(C.task[c])] = (n, s, tuple(sorted(gpus + (int(C.gpu[c]),))))
    return out
