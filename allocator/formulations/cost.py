r"""Cost: cheapest device-hours within the horizon and deadlines (generalized assignment).

    minimise    sum_{i,d} cost[d] * p[i,d] / 3600 * x[i,d]
    subject to  sum_d x[i,d] = 1                         for every task i
                sum_i p[i,d] x[i,d] <= horizon            for every device d (if a horizon)
                sum_{i: D_i <= D} p[i,d] x[i,d] <= D      for every device d and deadline D
                x[i,d] in {0, 1}, only for eligible pairs
"""

from __future__ import annotations

import numpy as np

from ..model import RowBuilder
from ..plan import sequence
from ..problem import Problem
from .base import (Built, add_assignment_rows, add_deadline_rows, add_symmetry_rows,
                   decode_assignment, pair_names, pairs)

name = "cost"


def build(problem: Problem) -> Built:
    P = pairs(problem)
    rows = RowBuilder(P.n)
    add_assignment_rows(rows, problem, P, 0)
    if problem.horizon is not None:
        # Every device's total processing time fits in the horizon.
        rows.add(P.by_device(), -np.inf, problem.horizon,
                 lambda: [f"horizon[{d}]" for d in problem.devices])
    add_deadline_rows(rows, problem, P, 0)
    add_symmetry_rows(rows, problem, P, 0)
    price = np.array([p.cost_per_hour or 0.0 for p in problem.pools])[problem.device_pool]
    c = price[P.di] * P.p / 3600.0
    model = rows.build(c, np.zeros(P.n), np.ones(P.n), np.ones(P.n, bool),
                       col_names=pair_names(problem, P))

    def decode(x: np.ndarray) -> dict:
        assignment = decode_assignment(problem, P, x)
        placed = np.array([problem.device_index[assignment[t.name]] for t in problem.tasks])
        chosen = (placed[P.ti] == P.di).astype(float)
        return {"assignment": assignment, "schedule": sequence(problem, assignment),
                "objective": float(c @ chosen)}

    return Built(model, decode)
