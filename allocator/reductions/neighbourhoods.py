"""Large-neighbourhood search on a built model: free a few devices, fix the rest, re-solve.

Where the whole MIP stops at its time limit with a plan it cannot improve (the solver's time
goes into the root node of a model with 100,000+ columns), a small MIP often can: pick a few
devices, free every task they hold to move among them, fix every other column at the current
solution, and solve that sub-model (a few thousand columns) exactly or up to a short limit,
starting from the current solution, so it is never worse. The rows the sub-model does not touch
hold already; the others have the fixed columns' share moved to their bounds. Nothing here is
specific to one objective: any model whose first columns are the task x device pairs works.

The neighbourhood size adapts: more devices after a sub-model solved to optimality quickly, fewer
after one that ran out of time. Devices are drawn at random (with ``seed``); for a min-max
objective the busiest device is always among them, as nothing else can lower the maximum.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import scipy.sparse as sp

from ..backends import SolveOptions, Termination
from ..model.assignment import Pairs
from ..model.sparse import LinearModel

STEP_SECONDS = 1.0        # time limit of one sub-model
TARGET_COLUMNS = 2_000    # free pair columns aimed at first


def sub_model(model: LinearModel, x: np.ndarray, free: np.ndarray) -> LinearModel:
    """The model over the columns ``free`` (a boolean mask), every other one fixed at x."""
    fixed_part = model.A @ np.where(free, 0.0, x)
    columns = sp.csr_array(model.A[:, free])
    touched = np.flatnonzero(np.diff(columns.indptr) > 0)
    A = columns[touched]
    return LinearModel(c=model.c[free], A=A, row_lo=model.row_lo[touched] - fixed_part[touched],
                       row_hi=model.row_hi[touched] - fixed_part[touched],
                       col_lo=model.col_lo[free], col_hi=model.col_hi[free],
                       integrality=model.integrality[free],
                       c0=model.c0 + float(model.c[~free] @ x[~free]))


@dataclass(frozen=True)
class Neighbourhood:
    """A reduction of a model to its columns ``free``, every other one fixed at ``x``: apply
    is :func:`sub_model`; invert puts a sub-model's solution back into ``x``."""

    x: np.ndarray
    free: np.ndarray                  # boolean mask over the model's columns
    name = "neighbourhood"

    def apply(self, model: LinearModel) -> tuple[LinearModel, LinearModel]:
        return sub_model(model, self.x, self.free), model

    def invert(self, y: np.ndarray, model: LinearModel) -> np.ndarray:
        """``x`` with the free columns set to ``y`` (integer columns rounded)."""
        x = self.x.copy()
        x[self.free] = np.where(model.integrality[self.free], np.round(y), y)
        return x


def search(model: LinearModel, P: Pairs, x: np.ndarray, engine, solver: str | None,
           options: SolveOptions, deadline: float, seed: int | None = 0,
           busiest: bool = False, on_improve: Callable[[float], None] | None = None,
           ) -> tuple[np.ndarray, int]:
    """Improve the feasible 0/1 solution ``x`` of ``model`` until ``deadline``; return the best
    solution and the number of sub-models that improved it. ``on_improve(value)`` hears of
    each better solution's objective (model units)."""
    rng = np.random.default_rng(seed)
    x = np.asarray(x, dtype=float).copy()
    value = model.objective_value(x)
    m = P.n_devices
    # k devices free about (tasks per device) x k^2 pair columns, P.n / m^2 x k^2.
    k = int(np.clip(round(m * np.sqrt(TARGET_COLUMNS / max(P.n, 1))), 2, m))
    rest = np.ones(model.n_cols - P.n, dtype=bool)   # columns past the pairs (C) stay free
    improved = 0
    while m >= 2 and time.perf_counter() < deadline:
        where = np.full(P.n_tasks, -1)
        on = x[:P.n] > 0.5
        where[P.ti[on]] = P.di[on]
        if busiest:
            load = np.bincount(P.di, weights=P.p * x[:P.n], minlength=m)
            top = int(np.argmax(load))
            others = rng.choice(np.delete(np.arange(m), top), size=k - 1, replace=False)
            chosen = np.r_[top, others]
        else:
            chosen = rng.choice(m, size=k, replace=False)
        inside = np.zeros(m, dtype=bool)
        inside[chosen] = True
        free = np.r_[inside[where[P.ti]] & inside[P.di], rest]
        hood = Neighbourhood(x, free)
        sub, _ = hood.apply(model)
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        step = replace(options, time_limit=min(STEP_SECONDS, left), warm_start=x[free],
                       progress=None, mip_gap=min(options.mip_gap, 1e-9))
        raw = engine.solve(sub, step, solver)
        if raw.x is not None and raw.objective is not None and \
                raw.objective < value - 1e-9 * max(1.0, abs(value)):
            x = hood.invert(raw.x, model)
            value = model.objective_value(x)
            improved += 1
            if on_improve is not None:
                on_improve(value)
        if raw.termination is Termination.OPTIMAL and raw.seconds < 0.25 * STEP_SECONDS:
            k = min(m, k + 1)
        elif raw.termination is not Termination.OPTIMAL:
            k = max(2, k - 1)
    return x, improved
