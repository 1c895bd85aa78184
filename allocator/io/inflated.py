"""Inflated cluster workloads in the FGD paper's style: the tasks of a problem on a cluster,
resampled with replacement (seeded) until the GPUs they ask for reach a multiple of the
cluster's GPUs, optionally with more GPU sharing or more gangs than the original mix.

``inflate(problem, 1.2, seed=0, share_weight=2.0)`` draws shares twice as often as in the
original, relative to the other tasks, until the demand is 1.2 x the cluster's GPUs. Tasks
without GPUs are drawn too (in their original proportion), so the cores and memory they take
keep their share of the cluster.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..domain.problem import Problem
from ..errors import ProblemError


def inflate(problem: Problem, demand: float, seed: int = 0, *, share_weight: float = 1.0,
            gang_weight: float = 1.0) -> Problem:
    """A new problem on the same nodes whose tasks ask for ``demand`` x the cluster's GPUs
    (the last draw may pass it by less than one task's GPUs)."""
    gpus = problem.gpu_count
    if gpus == 0:
        raise ProblemError("inflating needs a cluster with GPUs")
    if not demand > 0 or share_weight < 0 or gang_weight < 0:
        raise ProblemError("demand must be positive and the weights non-negative")
    tasks = problem.tasks
    weight = np.array([share_weight if t.gpu_share is not None else
                       gang_weight if t.gpus > 1 else 1.0 for t in tasks])
    if not weight.any() or not any(t.gpu_demand for t, w in zip(tasks, weight) if w):
        raise ProblemError("no task asking for a GPU is left to draw from")
    rng = np.random.default_rng(seed)
    p = weight / weight.sum()
    drawn, total = [], 0.0
    target = demand * gpus
    while total < target:
        for i in rng.choice(len(tasks), size=256, p=p):
            drawn.append(int(i))
            total += tasks[i].gpu_demand
            if total >= target:
                break
    named = tuple(replace(tasks[i], name=f"{tasks[i].name}~{k}") for k, i in enumerate(drawn))
    suffix = f"x{demand:g}" + (f"-share{share_weight:g}" if share_weight != 1 else "") + \
        (f"-gang{gang_weight:g}" if gang_weight != 1 else "")
    return replace(problem, name=f"{problem.name}-{suffix}-seed{seed}", tasks=named,
                   description=f"{problem.name} resampled to {demand:g} x the cluster's GPUs "
                               f"(seed {seed}, shares x{share_weight:g}, gangs "
                               f"x{gang_weight:g})")
