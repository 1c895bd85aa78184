r"""Cost: cheapest device-hours within the horizons and deadlines (generalized assignment).

    minimise    sum_{i,d} c[i,d] x[i,d]        (maximise with ``sense: max``)
    subject to  sum_d x[i,d] = 1                         for every task i
                sum_i p[i,d] x[i,d] <= H[d]               for every device d with a horizon
                sum_{i: D_i <= D} p[i,d] x[i,d] <= D      for every device d and deadline D
                x[i,d] in {0, 1}, only for eligible pairs

c[i,d] is the task's ``cost`` override for the device's pool, else the pool's
``cost_per_hour`` x p[i,d] / 3600.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..domain.plan import sequence
from ..domain import checks
from .base import Objective
from ..domain.problem import Problem

if TYPE_CHECKING:
    from ..model.assignment import Built

name = "cost"


def build(problem: Problem, keep: np.ndarray | None = None) -> Built:
    """The model; with ``keep`` (task x pool), over those pairs only (a restriction whose
    plans are plans of the whole problem)."""
    from ..model.assignment import (Built, add_assignment_rows, add_deadline_rows,
                                    add_horizon_rows, add_symmetry_rows, decode_assignment,
                                    encode_assignment, integral_pairs, pair_names, pairs)
    from ..model.sparse import RowBuilder
    P = pairs(problem, keep)
    rows = RowBuilder(P.n)
    add_assignment_rows(rows, problem, P)
    add_horizon_rows(rows, problem, P)
    add_deadline_rows(rows, problem, P)
    add_symmetry_rows(rows, problem, P)
    c = problem.price[P.ti, problem.device_pool[P.di]]
    sign = -1.0 if problem.sense == "max" else 1.0
    model = rows.build(sign * c, np.zeros(P.n), np.ones(P.n), np.ones(P.n, bool),
                       col_names=pair_names(problem, P))

    def decode(x: np.ndarray) -> dict:
        assignment = decode_assignment(problem, P, x)
        placed = np.array([problem.device_index[assignment[t.name]] for t in problem.tasks])
        chosen = (placed[P.ti] == P.di).astype(float)
        return {"assignment": assignment, "schedule": sequence(problem, assignment),
                "objective": float(c @ chosen)}

    return Built(model, decode, sense=problem.sense, scale=sign,
                 encode=lambda assignment: encode_assignment(problem, P, assignment),
                 integral=lambda x: integral_pairs(P, x), pairs=P)


def _check_inputs(problem: Problem) -> None:
    checks.require_compute_and_memory(problem, name)
    checks.require_prices(problem, name)


OBJECTIVE = Objective(
    name=name, summary="the sum of the tasks' prices (or profits, with sense: max)",
    build=build, metric=lambda _measure: "cost",
    describe=lambda value, _measure: f"{value:,.4f}",
    check_inputs=_check_inputs,
    culprits=(checks.unplaceable, checks.too_slow, checks.over_capacity),
    places_tasks=True, limits=("horizon", "deadlines"),
    score="sum", coefficient=lambda problem: problem.price, maximisable=True)
