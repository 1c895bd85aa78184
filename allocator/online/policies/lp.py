"""The allocation LP the heterogeneity-aware policies share, built as the project's
:class:`LinearModel` in whole arrays and solved by the project's backends.

Columns: ``x[k, t]`` (row-major, job by pool; fixed at 0 where the job cannot run on the pool),
then the policy's own columns. Rows: each pool's devices (``sum_k gang[k] x[k, t] <= count[t]``)
and each job's time (``sum_t x[k, t] <= 1``), then the policy's own rows.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ...backends import default_backend, get_backend
from ...backends.base import SolveOptions, Termination
from ...model.sparse import LinearModel
from .base import View


class AllocationLP:
    """``copies[k]``: row k stands for that many identical jobs, and ``x[k, t]`` is their total
    (their time rows allow ``copies[k]``); the policy divides by ``copies`` at the end."""

    def __init__(self, view: View, extra: int = 0, copies: np.ndarray | None = None):
        self.k, self.t = view.rate.shape
        self.nx = self.k * self.t
        self.n = self.nx + extra
        room = np.ones(self.k) if copies is None else copies.astype(float)
        self.col_lo = np.zeros(self.n)
        self.col_hi = np.r_[np.where(view.rate > 0, room[:, None], 0.0).ravel(),
                            np.full(extra, np.inf)]
        cols = np.arange(self.nx)
        self._row, self._col, self._val = [], [], []
        self._lo, self._hi = [], []
        self.m = 0
        self._add(cols % self.t, cols, np.repeat(view.gang.astype(float), self.t), self.t,
                  -np.inf, view.counts.astype(float))                  # devices of each pool
        self._add(cols // self.t, cols, np.ones(self.nx), self.k, -np.inf, room)   # job time

    def _add(self, row, col, val, count, lo, hi) -> None:
        self._row.append(row + self.m)
        self._col.append(col)
        self._val.append(val)
        self._lo.append(np.broadcast_to(lo, (count,)))
        self._hi.append(np.broadcast_to(hi, (count,)))
        self.m += count

    def per_job(self, coef: np.ndarray, lo, hi, extra_col: int | None = None,
                extra_coef: np.ndarray | float = 0.0) -> None:
        """Rows ``lo <= sum_t coef[k, t] x[k, t] (+ extra_coef[k] * extra column) <= hi``, one
        per job."""
        cols = np.arange(self.nx)
        row, col, val = cols // self.t, cols, coef.ravel().astype(float)
        if extra_col is not None:
            row = np.r_[row, np.arange(self.k)]
            col = np.r_[col, np.full(self.k, self.nx + extra_col)]
            val = np.r_[val, np.broadcast_to(extra_coef, (self.k,)).astype(float)]
        self._add(row, col, val, self.k, lo, hi)

    def solve(self, cost: np.ndarray, what: str) -> np.ndarray:
        """Minimise ``cost @ columns``; the optimal columns (x first)."""
        A = sp.csr_array((np.concatenate(self._val),
                          (np.concatenate(self._row), np.concatenate(self._col))),
                         shape=(self.m, self.n))
        model = LinearModel(c=cost, A=A, row_lo=np.concatenate(self._lo),
                            row_hi=np.concatenate(self._hi), col_lo=self.col_lo,
                            col_hi=self.col_hi, integrality=np.zeros(self.n, dtype=bool))
        result = get_backend(default_backend()).solve(model, SolveOptions())
        if result.termination is not Termination.OPTIMAL or result.x is None:
            raise RuntimeError(f"the {what} allocation LP ended {result.termination.value}: "
                               f"{result.message}")
        return result.x

    def allocation(self, columns: np.ndarray) -> np.ndarray:
        return np.maximum(columns[:self.nx].reshape(self.k, self.t), 0.0)
