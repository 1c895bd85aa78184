"""The canonical model every formulation builds and every backend solves.

    minimise    c @ x + c0
    subject to  row_lo <= A @ x <= row_hi
                col_lo <= x <= col_hi
                x[j] integer where integrality[j]

Rows and columns carry names (``assign[llama-7b]``, ``load[h100[0]]``) so that a person can
read a report about them. Names are built lazily by the formulation: a backend never needs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class LinearModel:
    c: np.ndarray
    A: sp.csr_array
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integrality: np.ndarray                  # bool per column
    c0: float = 0.0
    row_names: Callable[[], list[str]] | None = field(default=None, compare=False)
    col_names: Callable[[], list[str]] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        n = self.c.shape[0]
        m = self.A.shape[0]
        assert self.A.shape[1] == n, (self.A.shape, n)
        for name, arr, size in (("row_lo", self.row_lo, m), ("row_hi", self.row_hi, m),
                                ("col_lo", self.col_lo, n), ("col_hi", self.col_hi, n),
                                ("integrality", self.integrality, n)):
            assert arr.shape == (size,), (name, arr.shape, size)

    @property
    def n_cols(self) -> int:
        return self.c.shape[0]

    @property
    def n_rows(self) -> int:
        return self.A.shape[0]

    @property
    def is_mip(self) -> bool:
        return bool(self.integrality.any())

    def relaxed(self) -> "LinearModel":
        """The LP relaxation: same model, no integrality."""
        return replace(self, integrality=np.zeros_like(self.integrality))

    def objective_value(self, x: np.ndarray) -> float:
        return float(self.c @ x + self.c0)

    def max_violation(self, x: np.ndarray) -> float:
        """Largest violation of any row or column bound by ``x`` (0 when feasible)."""
        ax = self.A @ x
        return float(max(0.0, np.max(self.row_lo - ax, initial=0), np.max(ax - self.row_hi, initial=0),
                         np.max(self.col_lo - x, initial=0), np.max(x - self.col_hi, initial=0)))


def rank_in_group(group: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Each element's rank among those of its group, by ``key`` (0 for its group's smallest)."""
    order = np.lexsort((key, group))
    g = group[order]
    first = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    rank = np.empty(group.size, dtype=np.int64)
    rank[order] = np.arange(group.size) - np.repeat(first, np.diff(np.r_[first, group.size]))
    return rank


def _per_row(bound, m: int) -> np.ndarray:
    """A row bound given once for all ``m`` rows, or per row."""
    if np.ndim(bound) == 0:
        return np.full(m, float(bound))
    bound = np.asarray(bound, dtype=float)
    assert bound.shape == (m,), (bound.shape, m)
    return bound


class RowBuilder:
    """Stacks constraint blocks given as sparse matrices, each with bounds and a name maker.

    Formulations describe each constraint group once, vectorised, e.g.
    ``rows.add(A_assign, lo=1, hi=1, names=lambda: [f"assign[{t}]" for t in tasks])``, or by
    its compressed rows with ``add_csr``; the matrix is assembled in one step at the end.
    """

    def __init__(self, n_cols: int):
        self.n_cols = n_cols
        self._m = 0                          # rows so far
        self._nnz = 0                        # entries so far
        self._ptr: list[np.ndarray] = []     # each block's row starts, shifted to the whole
        self._col: list[np.ndarray] = []
        self._val: list[np.ndarray] = []
        self._lo: list[np.ndarray] = []
        self._hi: list[np.ndarray] = []
        self._names: list[Callable[[], list[str]]] = []

    def add(self, block, lo, hi, names: Callable[[], list[str]]) -> None:
        """A block of rows over the model's first ``block.shape[1]`` columns (the rest zero)."""
        block = sp.csr_array(block)
        assert block.shape[1] <= self.n_cols, (block.shape, self.n_cols)
        self.add_csr(block.indptr, block.indices, block.data, lo, hi, names)

    def add_csr(self, indptr, indices, data, lo, hi, names: Callable[[], list[str]]) -> None:
        """A block of rows in compressed form: row k holds ``data[indptr[k]:indptr[k+1]]`` in
        the columns ``indices[...]`` (each column at most once per row). The pieces are only
        kept: the model's matrix is assembled once, in ``build``."""
        m = len(indptr) - 1
        if m == 0:
            return
        indptr, indices = np.asarray(indptr), np.asarray(indices)
        if indices.size == 0:                # e.g. [], which numpy reads as floats
            indices = indices.astype(np.int32)
        assert indices.dtype.kind in "iu", indices.dtype
        start, end = int(indptr[0]), int(indptr[-1])
        self._ptr.append(indptr[:-1] + (self._nnz - start))
        self._col.append(indices[start:end])
        self._val.append(np.asarray(data, dtype=float)[start:end])
        self._lo.append(_per_row(lo, m))
        self._hi.append(_per_row(hi, m))
        self._names.append(names)
        self._m += m
        self._nnz += end - start

    def build(self, c, col_lo, col_hi, integrality, c0: float = 0.0,
              col_names: Callable[[], list[str]] | None = None) -> LinearModel:
        # 32-bit indices where they fit (what the solvers take).
        index = np.int32 if max(self._nnz, self.n_cols) < 2 ** 31 else np.int64
        A = sp.csr_array((np.concatenate(self._val + [np.zeros(0)]),
                          np.concatenate(self._col + [np.zeros(0, index)], dtype=index),
                          np.concatenate(self._ptr + [[self._nnz]], dtype=index)),
                         shape=(self._m, self.n_cols))
        lo = np.concatenate(self._lo + [np.zeros(0)])
        hi = np.concatenate(self._hi + [np.zeros(0)])
        makers = list(self._names)
        return LinearModel(
            c=np.asarray(c, dtype=float), A=A, row_lo=lo, row_hi=hi,
            col_lo=np.asarray(col_lo, dtype=float), col_hi=np.asarray(col_hi, dtype=float),
            integrality=np.asarray(integrality, dtype=bool), c0=float(c0),
            row_names=lambda: [n for make in makers for n in make()], col_names=col_names)
