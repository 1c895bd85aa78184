r"""Packing: place what fits on a cluster of nodes, the most valuable demand first.

Each task goes to one node, or stays out (partial placement). A node's tasks stay within its
cores, host memory and named resources; a gang's whole GPUs are GPUs of its node that no
other task uses; the shares of one GPU add up to at most 1 (per GPU, not per node). The
model is :mod:`allocator.model.nodes`; it maximises the **placed demand**

    sum_i w_i d_i p_i                                  (p_i = 1 when task i is placed)

where d_i is the task's demand: the GPUs it takes (a share counts as its fraction) when any
task asks for a GPU, else its cores; w_i its ``weight`` (default 1). Then, as a second aim,
every task still left out that fits somewhere (a task without GPUs, say, whose demand is 0)
is added where it fits, largest demand first, first node first: this never lowers the
placed demand, so the model's bound stays a bound on the plan's value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..domain.cluster_state import ClusterState
from ..domain.fragmentation import cluster_fragmentation
from ..domain.plan import Placement, Plan
from ..domain.problem import Problem
from .base import Objective
from .metrics import Metrics

if TYPE_CHECKING:
    from ..model.assignment import Built

name = "packing"


def demand(problem: Problem) -> np.ndarray:
    """Each task's demand: its GPUs when any task asks for a GPU, else its cores."""
    gpus = np.array([t.gpu_demand for t in problem.tasks])
    if gpus.any():
        return gpus
    return np.array([t.cpu or 0.0 for t in problem.tasks])


def worth(problem: Problem) -> np.ndarray:
    """w_i d_i: what placing task i adds to the placed demand."""
    return np.array([t.weight for t in problem.tasks]) * demand(problem)


def completed(problem: Problem, placed: dict[str, Placement]) -> dict[str, Placement]:
    """``placed`` with every task it leaves out that still fits added, largest worth first
    (ties: fewer cores and less memory first, then name), each on the first node it fits."""
    state = ClusterState(problem)
    state.record(placed)
    w = worth(problem)
    order = np.lexsort((np.array([t.name for t in problem.tasks]), state.need[:, 1],
                        state.need[:, 0], -w))
    return state.fill(placed, order)


FULL_COLUMNS = 2_000_000      # the most columns the node-by-node model is written with


def columns(problem: Problem) -> int:
    """Columns of the node-by-node model: a task's allowed nodes (times their GPUs for a
    task that shares one), without writing them."""
    count = np.array([p.count for p in problem.pools])
    gpus = np.array([p.gpus for p in problem.pools])
    share = np.array([t.gpu_share is not None for t in problem.tasks])
    per = np.where(share[:, None], count * gpus, count)
    return int((problem.allowed * per).sum())


def build(problem: Problem) -> Built:
    from ..errors import AllocatorError
    from ..model.assignment import Built
    from ..model.nodes import build_rows, node_columns, placements
    size = columns(problem)
    if size > FULL_COLUMNS:
        raise AllocatorError(
            f"the packing model of {problem.name!r} would have {size:,} columns "
            f"(task x node, and x GPU for shares), more than the {FULL_COLUMNS:,} it is "
            "written for; place it with a heuristic (method least_allocated, fgd, ...: "
            "docs/heuristics.md) or solve a smaller part")
    C = node_columns(problem)
    rows = build_rows(problem, C)
    w = worth(problem)
    c = -np.r_[w[C.task], np.zeros(C.z_node.size)]
    model = rows.build(c, np.zeros(C.n), np.ones(C.n), np.ones(C.n, bool), col_names=lambda: [
        f"place[{problem.tasks[i].name},{problem.devices[n]}" + (f",{g}]" if g >= 0 else "]")
        for i, n, g in zip(C.task, C.node, C.gpu)] + [
        f"whole[{problem.devices[n]},{g}]" for n, g in zip(C.z_node, C.z_gpu)])

    def decode(x: np.ndarray) -> dict:
        return placement_fields(problem, completed(problem, placements(problem, C, x)))

    return Built(model, decode, sense="max", scale=-1.0)


def placement_fields(problem: Problem, placed: dict[str, Placement]) -> dict:
    """The Plan fields of a placement: assignment, placements, unplaced and objective."""
    w = worth(problem)
    return {"assignment": {t: p.node for t, p in placed.items()}, "placements": placed,
            "unplaced": tuple(t.name for t in problem.tasks if t.name not in placed),
            "objective": float(sum(w[problem.task_index[t]] for t in placed))}


def _metrics(problem: Problem, plan: Plan) -> Metrics:
    placed = [problem.task_index[t] for t in plan.assignment]
    gpus = sum(problem.tasks[i].gpu_demand for i in placed)
    total = problem.gpu_count
    return Metrics(placed_demand=float(worth(problem)[placed].sum()), placed_tasks=len(placed),
                   placed_gpus=float(gpus), gpu_allocation=gpus / total if total else None,
                   fragmentation=cluster_fragmentation(problem, plan.placements) if total
                   else None)


def _check_inputs(problem: Problem) -> None:
    """Nothing beyond the cluster itself (refused where absent by the registry)."""


OBJECTIVE = Objective(
    name=name, summary="the weighted demand (GPUs, else cores) placed on the nodes; tasks that "
                       "do not fit stay out",
    build=build, metric=lambda _measure: "placed_demand",
    describe=lambda value, _measure: f"{value:,.6g} placed",
    check_inputs=_check_inputs, culprits=(), places_tasks=True,
    plan_metrics=_metrics, on_nodes=True)
