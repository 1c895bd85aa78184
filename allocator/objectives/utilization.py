r"""Utilization (seed formulation): give each task a share of the fleet that covers both its
compute and its memory, and waste as little as possible.

Task i needs compute t_i (FLOP) and memory m_i (bytes). Over the horizon the fleet performs
C = sum over pools of count x throughput x horizon FLOP (each pool's own horizon, else the
problem's) and holds M = sum(count x memory) bytes. A share
x_i of the fleet brings x_i C FLOP and x_i M bytes, so it serves the task iff
x_i >= l_i = max(t_i / C, m_i / M). Maximise the useful fraction of what is allocated:

    maximise    (sum_i t_i / C) / (sum_i x_i)
    subject to  l_i <= x_i <= 1,   sum_i x_i <= 1

A linear-fractional program, solved as an LP by the Charnes-Cooper transformation
s = 1 / sum x, y = s x:

    maximise    (sum_i t_i / C) s
    subject to  sum_i y_i = 1,   y_i >= l_i s,   y_i <= s,   1 <= s,   y, s >= 0

and x = y / s. The seed compares t_i and m_i with x_i in one unit (it sets C = min(M, C));
expressing x as a share of the fleet is what makes that comparison well-posed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..domain import checks
from ..domain.plan import Plan
from ..domain.problem import Problem
from .base import Objective
from .metrics import Metrics

if TYPE_CHECKING:
    from ..model.assignment import Built

name = "utilization"


def build(problem: Problem) -> Built:
    import scipy.sparse as sp
    from ..model.sparse import RowBuilder
    from ..model.assignment import Built
    compute_cap, memory_cap = problem.fleet_flop, problem.fleet_memory
    t = np.array([task.compute for task in problem.tasks]) / compute_cap
    m = np.array([task.memory for task in problem.tasks]) / memory_cap
    low = np.maximum(t, m)
    n = len(problem.tasks)                           # y_1..y_n, then s
    eye = sp.identity(n, format="csr")
    rows = RowBuilder(n + 1)
    # The scaled shares add up to one (s = 1 / sum x).
    rows.add(sp.csr_array(np.r_[np.ones(n), 0.0][None, :]), 1.0, 1.0, lambda: ["normalise"])
    # Each share covers the task's compute and memory: y_i - l_i s >= 0.
    rows.add(sp.hstack([eye, -low[:, None]]), 0.0, np.inf,
             lambda: [f"covers[{task.name}]" for task in problem.tasks])
    # No share exceeds the whole fleet: y_i - s <= 0.
    rows.add(sp.hstack([eye, -np.ones((n, 1))]), -np.inf, 0.0,
             lambda: [f"at_most_fleet[{task.name}]" for task in problem.tasks])
    c = np.r_[np.zeros(n), -t.sum()]                 # maximise => minimise the negative
    # sum x <= 1  <=>  s >= 1.
    model = rows.build(c, np.r_[np.zeros(n), 1.0], np.full(n + 1, np.inf), np.zeros(n + 1, bool),
                       col_names=lambda: [f"y[{task.name}]" for task in problem.tasks] + ["s"])

    def decode(v: np.ndarray) -> dict:
        share = v[:n] / v[n]
        amounts = {task.name: {"share": float(x), "compute": float(x * compute_cap),
                               "memory": float(x * memory_cap)}
                   for task, x in zip(problem.tasks, share)}
        return {"amounts": amounts, "objective": float(t.sum() / share.sum())}

    return Built(model, decode, sense="max", scale=-1.0)


def _check_inputs(problem: Problem) -> None:
    checks.require_compute_and_memory(problem, name, compute_always=True)
    checks.require_horizon(problem, name)


def _over_fleet(problem: Problem) -> tuple[str, str] | None:
    """The tasks' shares of the fleet (compute or memory, whichever is larger) exceed it."""
    compute_cap, memory_cap = problem.fleet_flop, problem.fleet_memory
    share = np.maximum([t.compute / compute_cap for t in problem.tasks],
                       [t.memory / memory_cap for t in problem.tasks])
    if share.sum() <= 1 + 1e-9:
        return None
    worst = int(np.argmax(share))
    return (f"the tasks need {share.sum():.1%} of the fleet over its horizons "
            f"(largest: task {problem.tasks[worst].name!r} "
            f"with {share[worst]:.1%}); lengthen the horizon or add devices"), "horizon"


def _metrics(problem: Problem, plan: Plan) -> Metrics:
    """The seeds' ratio of a plan: the fleet share the tasks' compute needs over the share
    allotted."""
    need = sum(t.compute for t in problem.tasks) / problem.fleet_flop
    share = sum(a.get("share", 0.0) for a in plan.amounts.values())
    return Metrics(utilization_ratio=need / share if share > 0 else None)


OBJECTIVE = Objective(
    name=name, summary="the share of the fleet the tasks' work uses (the seeds' ratio)",
    build=build, metric=lambda _measure: "utilization_ratio",
    describe=lambda value, _measure: f"{value:.6g}",
    check_inputs=_check_inputs,
    culprits=(checks.unplaceable, _over_fleet),
    places_tasks=False, plan_metrics=_metrics)
