r"""Fragmentation-aware packing: the placed demand first, exactly as :mod:`.packing` places
it, then the least GPU fragmentation among the placements of the same tasks.

The fragmentation is the FGD paper's measure (:mod:`allocator.domain.fragmentation`): summed
over the nodes, the GPU capacity left free that the problem's own GPU tasks, weighted by how
common each kind is, could not use. A placement that leaves half-used GPUs, or GPUs on nodes
whose cores or memory are gone, leaves capacity stranded; this aim moves tasks so that what
is left free stays usable, without placing less.

Only the configurations strategy plans it: one node's fragmentation depends on its whole
contents, which is what a configuration (pattern) is, so the total is linear in the pattern
counts (:func:`allocator.model.configurations.rearrangement`). The second stage is exact
over the patterns the first one found (not over every pattern), and the plan's bound is the
first stage's: a bound on the placed demand.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..domain.fragmentation import fragmentation, workload
from ..domain.problem import Problem
from ..errors import AllocatorError
from . import packing
from .base import Objective

name = "fragmentation"


def node_cost(problem: Problem) -> Callable[[int, np.ndarray, np.ndarray], float]:
    """FGD's fragmentation of one node state, for the problem's own GPU tasks."""
    w = workload(problem)

    def cost(group: int, free: np.ndarray, gpu_free: np.ndarray) -> float:
        return fragmentation(w, group, free[0], free[1], gpu_free)
    return cost


def _build(problem: Problem):
    raise AllocatorError("the fragmentation objective is planned by the configurations "
                         "strategy (strategy='configurations' or 'auto'), not node by node")


OBJECTIVE = Objective(
    name=name, summary="the placed demand first (as packing), then the least GPU "
                       "fragmentation (FGD's measure) among placements of the same tasks",
    build=_build, metric=lambda _measure: "placed_demand",
    describe=lambda value, _measure: f"{value:,.6g} placed",
    check_inputs=lambda _problem: None, culprits=(), places_tasks=True,
    plan_metrics=packing.OBJECTIVE.plan_metrics, on_nodes=True, node_cost=node_cost)
