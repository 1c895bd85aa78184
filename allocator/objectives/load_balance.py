r"""Load balance: divisible work spread evenly over the devices.

Tasks are divisible here (data-parallel batches, sharded preprocessing): x[i,d] in [0, 1] is
the fraction of task i done on device d, and the load of d is L_d = sum_i p[i,d] x[i,d].

``max_load`` (default), an LP:

    minimise C   subject to   sum_d x[i,d] = 1,   L_d <= C,   L_d <= horizon

``inverse_sum`` (seed formulation): minimise sum_d 1 / y_d over the devices that can take
work, y_d = L_d in hours. 1/y is convex, so it is replaced by the maximum of its tangents at
geometric breakpoints b_k = y_max r^-k, an outer approximation:

    minimise sum_d u_d   subject to   u_d >= 2 / b_k - y_d / b_k^2   for every k

Tangents lie below a convex function, so the LP optimum is a proven lower bound on the true
optimum; the plan reports the exact sum of 1 / y_d at the LP's solution as its objective.
Between two tangents at a and r a the approximation is at worst 4r / (1+r)^2 of the true
value (r = 1.05: 0.06 %), for loads inside [y_max / 10^4, y_max].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .metrics import usable_devices
from ..domain.plan import split_schedule
from ..domain import checks
from .base import Objective, seconds
from ..domain.problem import MEASURES, Problem

if TYPE_CHECKING:
    from ..model.assignment import Built

name = "load_balance"
RATIO = 1.05
SPAN = 1e4


def breakpoints(y_max: float, ratio: float = RATIO, span: float = SPAN) -> np.ndarray:
    k = int(np.ceil(np.log(span) / np.log(ratio)))
    return y_max * ratio ** -np.arange(k + 1)


def worst_ratio(ratio: float = RATIO) -> float:
    """Smallest (approximation / true value) between two consecutive breakpoints."""
    return 4 * ratio / (1 + ratio) ** 2


def build(problem: Problem, measure: str | None = None) -> Built:
    from ..model.assignment import (Built, add_assignment_rows, add_horizon_rows,
                                    add_load_rows, pair_names, pairs)
    from ..model.sparse import RowBuilder
    measure = measure or problem.measure
    P = pairs(problem)
    m = P.n_devices
    if measure == "max_load":
        extra, names = 1, ["C"]
    else:
        usable = np.array([problem.device_index[d] for d in usable_devices(problem)])
        extra, names = len(usable), [f"u[{problem.devices[d]}]" for d in usable]
    rows = RowBuilder(P.n + extra)
    add_assignment_rows(rows, problem, P)
    load = P.by_device()
    add_horizon_rows(rows, problem, P)
    if measure == "max_load":
        # Every device's load is at most C.
        add_load_rows(rows, problem, P, P.n)
        c = np.r_[np.zeros(P.n), 1.0]
        hi = np.inf
    else:
        _add_tangent_rows(rows, problem, load, usable)
        c = np.r_[np.zeros(P.n), np.ones(extra)]
        hi = np.inf
    model = rows.build(c, np.zeros(P.n + extra), np.r_[np.ones(P.n), np.full(extra, hi)],
                       np.zeros(P.n + extra, bool),
                       col_names=lambda: pair_names(problem, P)() + names)

    def decode(x: np.ndarray) -> dict:
        xs = np.clip(x[:P.n], 0.0, 1.0)
        fractions: dict[str, dict[str, float]] = {t.name: {} for t in problem.tasks}
        for i, d, f in zip(P.ti, P.di, xs):
            if f > 1e-9:
                fractions[problem.tasks[i].name][problem.devices[d]] = float(f)
        for shares in fractions.values():             # renormalise solver round-off
            total = sum(shares.values())
            for k in shares:
                shares[k] /= total
        assignment = {t: max(s, key=s.get) for t, s in fractions.items()}
        schedule = split_schedule(problem, fractions)
        loads = np.zeros(m)
        for s in schedule:
            loads[problem.device_index[s.device]] += s.end - s.start
        if measure == "max_load":
            objective = float(loads.max())
        else:
            y = loads[usable] / 3600.0
            objective = float(np.sum(1.0 / y)) if np.all(y > 0) else float("inf")
        return {"assignment": assignment, "fractions": fractions, "schedule": schedule,
                "objective": objective}

    return Built(model, decode)


def _add_tangent_rows(rows, problem: Problem, load, usable: np.ndarray) -> None:
    """u_d lies above every tangent of 1/y at the device's breakpoints (y in hours), for the
    usable devices ``usable`` (u_d is the column after the pairs' for its rank in it)."""
    import scipy.sparse as sp
    extra = len(usable)
    y_max = np.asarray(load.sum(axis=1)).ravel() / 3600.0
    blocks, lo, labels = [], [], []
    for col, d in enumerate(usable):
        b = breakpoints(float(y_max[d]))
        k = b.shape[0]
        y_row = load[[d]] / 3600.0                       # y_d as a row over x
        u = sp.csr_array((np.ones(k), (np.arange(k), np.full(k, col))), shape=(k, extra))
        # u_d + y_d / b^2 >= 2 / b
        blocks.append(sp.hstack([sp.kron(sp.csr_array((1 / b ** 2)[:, None]), y_row), u]))
        lo.append(2 / b)
        labels.append((problem.devices[d], k))
    if blocks:
        rows.add(sp.vstack(blocks), np.concatenate(lo), np.inf,
                 lambda: [f"tangent[{d},{j}]" for d, k in labels for j in range(k)])


def _check_inputs(problem: Problem) -> None:
    checks.require_compute_and_memory(problem, name)


def _describe(value: float, measure: str | None) -> str:
    if measure == "max_load":
        return seconds(value)
    return f"{value:.6g} (sum of 1/load-hours)"


OBJECTIVE = Objective(
    name=name, summary="the busiest device's load, or the sum of 1/load (tasks may split)",
    build=build,
    metric=lambda measure: "makespan" if (measure or "max_load") == "max_load"
    else "inverse_load_sum",
    describe=_describe,
    check_inputs=_check_inputs,
    culprits=(checks.unplaceable, checks.over_capacity),
    places_tasks=True, limits=("horizon",), measures=MEASURES)
