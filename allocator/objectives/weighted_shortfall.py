r"""Weighted shortfall (seed formulation): serve the important demands when capacity is short.

Task i wants t[i,k] device-seconds of kind k (its ``demand``); kind k offers
cap[k] = sum over the pools of kind k of count x horizon (each pool's own horizon, else the
problem's). Allocate a[i,k]:

    minimise    sum_{i,k} w_i (t[i,k] - a[i,k])
    subject to  sum_i a[i,k] <= cap[k]        for every kind k
                0 <= a[i,k] <= t[i,k]

The seed writes one amount x_i per task against t_i; with several kinds per task that is
ill-posed, so the amount is kept per (task, kind). It is an LP: amounts are divisible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..domain import checks
from ..domain.plan import Plan
from ..domain.problem import KINDS, Problem
from .base import Objective
from .metrics import Metrics

if TYPE_CHECKING:
    from ..model.assignment import Built

name = "weighted_shortfall"


def build(problem: Problem) -> Built:
    import scipy.sparse as sp
    from ..model.sparse import RowBuilder
    from ..model.assignment import Built
    entries = [(i, KINDS.index(k), t.weight, want)
               for i, t in enumerate(problem.tasks) for k, want in t.demand.items() if want > 0]
    ti, ki, w, want = (np.array(col) for col in zip(*entries)) if entries else \
        (np.zeros(0, int),) * 2 + (np.zeros(0),) * 2
    n = len(entries)
    rows = RowBuilder(n)
    cap = np.array([problem.kind_device_seconds(k) for k in KINDS])
    # The amounts given out of each kind fit in its capacity.
    rows.add(sp.csr_array((np.ones(n), (ki, np.arange(n))), shape=(len(KINDS), n)),
             -np.inf, cap, lambda: [f"capacity[{k}]" for k in KINDS])
    model = rows.build(-w, np.zeros(n), want, np.zeros(n, bool), c0=float(w @ want),
                       col_names=lambda: [f"a[{problem.tasks[i].name},{KINDS[k]}]"
                                          for i, k in zip(ti, ki)])

    def decode(x: np.ndarray) -> dict:
        amounts: dict[str, dict[str, float]] = {t.name: {} for t in problem.tasks}
        for i, k, a in zip(ti, ki, np.clip(x, 0.0, want)):
            amounts[problem.tasks[i].name][KINDS[k]] = float(a)
        return {"amounts": amounts}

    return Built(model, decode)


def _check_inputs(problem: Problem) -> None:
    checks.require_demand(problem, name)
    checks.require_horizon(problem, name)


def _metrics(problem: Problem, plan: Plan) -> Metrics:
    """The device-seconds each task wants and does not get, plain and weighted."""
    short = weighted = 0.0
    for t in problem.tasks:
        got = plan.amounts.get(t.name, {})
        for kind, want in t.demand.items():
            gap = want - got.get(kind, 0.0)
            short += gap
            weighted += t.weight * gap
    return Metrics(shortfall=short, weighted_shortfall=weighted)


OBJECTIVE = Objective(
    name=name, summary="the weighted device-time the tasks ask for and do not get",
    build=build, metric=lambda _measure: "weighted_shortfall",
    describe=lambda value, _measure: f"{value / 3600:.6g} weighted device-hours",
    check_inputs=_check_inputs,
    culprits=(),                                  # going short is allowed: always a plan
    places_tasks=False, plan_metrics=_metrics)
