r"""Makespan: unrelated parallel machines with memory eligibility (R | M_i | C_max).

    minimise    C
    subject to  sum_d x[i,d] = 1                         for every task i
                sum_i p[i,d] x[i,d] <= C                  for every device d
                sum_{i: D_i <= D} p[i,d] x[i,d] <= D      for every device d and deadline D
                sum_i p[i,d] x[i,d] <= H[d]               for every device with a horizon
                C >= max_i min_d p[i,d]
                x[i,d] in {0, 1}, only for eligible pairs
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..domain.plan import sequence
from ..domain import checks
from .base import Objective, seconds
from ..domain.problem import Problem

if TYPE_CHECKING:
    from ..model.assignment import Built

name = "makespan"


def build(problem: Problem, keep: np.ndarray | None = None) -> Built:
    """The model; with ``keep`` (task x pool), over those pairs only (a restriction whose
    plans are plans of the whole problem)."""
    from ..model.assignment import (Built, add_assignment_rows, add_deadline_rows,
                                    add_horizon_rows, add_load_rows, add_symmetry_rows,
                                    decode_assignment, encode_assignment, integral_pairs,
                                    pair_names, pairs)
    from ..model.sparse import RowBuilder
    P = pairs(problem, keep)
    n = P.n + 1                                     # x, then C
    rows = RowBuilder(n)
    add_assignment_rows(rows, problem, P)
    # Every device's total processing time is at most the makespan C.
    add_load_rows(rows, problem, P, P.n)
    add_horizon_rows(rows, problem, P)
    add_deadline_rows(rows, problem, P)
    add_symmetry_rows(rows, problem, P)
    c = np.r_[np.zeros(P.n), 1.0]
    # Each task takes at least its fastest time somewhere: a valid lower bound on C.
    c_lo = float(problem.ptime.min(axis=1).max())
    model = rows.build(c, np.r_[np.zeros(P.n), c_lo], np.r_[np.ones(P.n), np.inf],
                       np.r_[np.ones(P.n, bool), False],
                       col_names=lambda: pair_names(problem, P)() + ["C"])

    def decode(x: np.ndarray) -> dict:
        assignment = decode_assignment(problem, P, x)
        schedule = sequence(problem, assignment)
        return {"assignment": assignment, "schedule": schedule,
                "objective": max((s.end for s in schedule), default=0.0)}

    def encode(assignment) -> np.ndarray:
        x = encode_assignment(problem, P, assignment)
        return np.r_[x, max(c_lo, float((P.by_device() @ x).max(initial=0.0)))]

    return Built(model, decode, encode=encode, integral=lambda x: integral_pairs(P, x),
                 pairs=P, task_columns=(P.ti, P.p))


def _check_inputs(problem: Problem) -> None:
    checks.require_compute_and_memory(problem, name)


OBJECTIVE = Objective(
    name=name, summary="the time the last device finishes",
    build=build, metric=lambda _measure: "makespan",
    describe=lambda value, _measure: seconds(value),
    check_inputs=_check_inputs,
    culprits=(checks.unplaceable, checks.too_slow, checks.over_capacity),
    places_tasks=True, limits=("horizon", "deadlines"),
    score="bottleneck", coefficient=lambda problem: problem.ptime, aggregable=True)
