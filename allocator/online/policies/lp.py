"""The allocation LP the heterogeneity-aware policies share, built as the project's
:class:`LinearModel` in whole arrays and solved by the project's backends.

Columns: ``x[k, t]`` (row-major, job by pool; fixed at 0 where the job cannot run on the pool),
then the policy's own columns. Rows: each pool's devices (``sum_k gang[k] x[k, t] <= count[t]``)
and each job's time (``sum_t x[k, t] <= 1``), then the policy's own rows.
"""

from __future__ import annotations

import functools

import numpy as np

from ...backends import default_backend, get_backend
from ...backends.base import SolveOptions, Termination
from ...model.sparse import LinearModel, RowBuilder
from .base import View


SMALL = 2_000     # nonzeros: presolve costs an LP this small more time than it saves


def solve_model(model: LinearModel, what: str):
    """Solve an online policy's LP with the project's default backend; its result, optimal or
    an error naming ``what``."""
    options = SolveOptions(presolve=model.A.nnz > SMALL)
    result = get_backend(default_backend()).solve(model, options)
    if result.termination is not Termination.OPTIMAL or result.x is None:
        raise RuntimeError(f"the {what} LP ended {result.termination.value}: "
                           f"{result.message}")
    return result


@functools.lru_cache(maxsize=512)
def _device_rows(k: int, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Row starts and columns of one row per pool over its x columns (x row-major, k jobs on
    t pools). Read-only: the same LP shapes come back round after round."""
    arrays = (np.arange(t + 1) * k, (np.arange(k) * t + np.arange(t)[:, None]).ravel())
    for a in arrays:
        a.flags.writeable = False
    return arrays


@functools.lru_cache(maxsize=512)
def _job_rows(k: int, t: int, extra: int) -> tuple[np.ndarray, np.ndarray]:
    """Row starts and columns of one row per job over its x columns, then column ``extra``
    where that is ≥ 0 (the time rows, and a policy's per-job rows). Read-only, as
    :func:`_device_rows`."""
    cols = (np.arange(k) * t)[:, None] + np.arange(t)
    if extra >= 0:
        cols = np.column_stack([cols, np.full(k, extra)])
    arrays = (np.arange(k + 1) * cols.shape[1], cols.ravel())
    for a in arrays:
        a.flags.writeable = False
    return arrays


class AllocationLP:
    """``copies[k]``: row k stands for that many identical jobs, and ``x[k, t]`` is their total
    (their time rows allow ``copies[k]``); the policy divides by ``copies`` at the end. Rows
    are given to the model's :class:`RowBuilder` in compressed form: every block here has the
    same number of entries per row."""

    def __init__(self, view: View, extra: int = 0, copies: np.ndarray | None = None):
        self.k, self.t = k, t = view.rate.shape
        self.nx = k * t
        self.n = self.nx + extra
        room = np.ones(k) if copies is None else copies.astype(float)
        self.col_lo = np.zeros(self.n)
        self.col_hi = np.full(self.n, np.inf)
        self.col_hi[:self.nx] = np.where(view.rate > 0, room[:, None], 0.0).ravel()
        self.rows = RowBuilder(self.n)
        gangs = np.empty((t, k))
        gangs[:] = view.gang                  # pool p's row: every job's gang
        self.rows.add_csr(*_device_rows(k, t), gangs.ravel(), -np.inf, view.counts,
                          lambda: [f"devices[{p}]" for p in range(t)])
        self.rows.add_csr(*_job_rows(k, t, -1), np.ones(self.nx), -np.inf, room,
                          lambda: [f"time[{j}]" for j in range(k)])

    def per_job(self, coef: np.ndarray, lo, hi, extra_col: int | None = None,
                extra_coef: np.ndarray | float = 0.0) -> None:
        """Rows ``lo <= sum_t coef[k, t] x[k, t] (+ extra_coef[k] * extra column) <= hi``, one
        per job."""
        width = self.t + (extra_col is not None)
        indptr, cols = _job_rows(self.k, self.t, -1 if extra_col is None else
                                 self.nx + extra_col)
        vals = np.empty((self.k, width))
        vals[:, :self.t] = coef
        if extra_col is not None:
            vals[:, self.t] = extra_coef
        self.rows.add_csr(indptr, cols, vals.ravel(), lo, hi,
                          lambda: [f"job[{j}]" for j in range(self.k)])

    def solve(self, cost: np.ndarray, what: str) -> np.ndarray:
        """Minimise ``cost @ columns``; the optimal columns (x first)."""
        model = self.rows.build(cost, self.col_lo, self.col_hi, np.zeros(self.n, dtype=bool))
        return solve_model(model, f"{what} allocation").x

    def allocation(self, columns: np.ndarray) -> np.ndarray:
        return np.maximum(columns[:self.nx].reshape(self.k, self.t), 0.0)
