r"""Makespan on a cluster of nodes: run every task once, on one node, for its time there, and
finish as early as possible. Tasks on one node run side by side while their cores, memory,
named resources and GPUs allow; a gang holds the same whole GPUs from its start to its end;
the shares on one GPU add up to at most 1 at every moment.

A task's time on a node group is the problem's ``time`` table (``time: {task: {group: 2h}}``;
``null`` keeps it off that group). Time is cut into slots: the longest that divides every
time, so the model (:mod:`allocator.model.timed_nodes`) is exact; when that would take more
than :data:`~allocator.domain.timeline.MAX_SLOTS` slots to cover the schedule, a coarser slot
with each time rounded up to whole slots (then the plan is exact for the rounded times, and
its bound comes from the capacity bounds alone). The solver starts from a list schedule
(longest task first, each where it finishes first) and keeps the better of the two; the
bound is the larger of the model's and the capacity bounds (the longest task; each
resource's task-time over the cluster's capacity).
"""

from __future__ import annotations

import numpy as np

from ..domain.plan import Placement, Plan, Slot
from ..domain.problem import Problem
from ..domain.timeline import seconds as task_seconds
from ..errors import AllocatorError, ProblemError
from .base import Objective, seconds
from .metrics import Metrics

name = "node_makespan"


def capacity_bound(problem: Problem) -> float:
    """A lower bound on the makespan (seconds): the longest task at its fastest, and for each
    resource (cores, memory, named ones, GPUs) the task-time it needs at the least over the
    cluster's total."""
    times = np.nanmin(task_seconds(problem), axis=1)
    requests = problem.node_requests
    counts = np.array([p.count for p in problem.pools], float)
    bounds = [float(times.max(initial=0.0))]
    total = counts @ requests.offer
    for r in range(requests.need.shape[1]):
        if total[r] > 0:
            bounds.append(float(requests.need[:, r] @ times) / total[r])
    gpus = sum(p.count * p.gpus for p in problem.pools)
    if gpus:
        bounds.append(float(np.array([t.gpu_demand for t in problem.tasks]) @ times) / gpus)
    return max(bounds)


def plan_fields(problem: Problem, chosen: dict[int, tuple[int, int, tuple[int, ...]]],
                slot: float) -> dict:
    """The Plan fields of a schedule (task index -> node, start slot, GPUs): the placements,
    each task's slot from its start for its own time, and the makespan."""
    times = task_seconds(problem)
    schedule, placements = [], {}
    for i, (n, s, gpus) in sorted(chosen.items()):
        task, node = problem.tasks[i], problem.devices[n]
        placements[task.name] = Placement.of(task, node, gpus)
        start = s * slot
        schedule.append(Slot(task.name, node, start,
                             start + float(times[i, problem.device_pool[n]])))
    schedule.sort(key=lambda x: (x.start, x.task))
    return {"assignment": {t: p.node for t, p in placements.items()},
            "placements": placements, "schedule": tuple(schedule), "unplaced": (),
            "objective": max((x.end for x in schedule), default=0.0)}


def _metrics(problem: Problem, plan: Plan) -> Metrics:
    ends = [s.end for s in plan.schedule]
    gpus = sum(t.gpu_demand for t in problem.tasks if t.name in plan.placements)
    return Metrics(makespan=max(ends) if ends else None, placed_tasks=len(plan.placements),
                   placed_gpus=float(gpus))


def _check_inputs(problem: Problem) -> None:
    """Every task has a time on each node group it may use (null keeps it off one)."""
    allowed = problem.allowed
    for i, task in enumerate(problem.tasks):
        row = problem.time.get(task.name, {})
        for p, pool in enumerate(problem.pools):
            if allowed[i, p] and pool.name not in row:
                raise ProblemError(f"task {task.name!r} may run on node group {pool.name!r} "
                                   f"but has no time there; the {name} objective needs "
                                   f"time: {{{task.name}: {{{pool.name}: 2h}}}} (null keeps "
                                   "it off the group)", "time")


def _fits_nowhere(problem: Problem) -> tuple[str, str | None] | None:
    """A task that no node may run (with a time there) has no schedule."""
    times = task_seconds(problem)
    for i, task in enumerate(problem.tasks):
        if not np.isfinite(times[i]).any():
            return (f"task {task.name!r} fits on no node it has a time for (cores, memory, "
                    "GPUs, models and its allowed groups), so nothing can run it",
                    f"tasks[{i}]")
    return None


def _build(problem: Problem):
    raise AllocatorError(f"the {name} objective is solved by allocator.solver.timed")


OBJECTIVE = Objective(
    name=name, summary="finish every task on the cluster's nodes as early as possible, gangs "
                       "holding their GPUs together, in time slots",
    build=_build, metric=lambda _measure: "makespan",
    describe=lambda value, _measure: seconds(value),
    check_inputs=_check_inputs, culprits=(_fits_nowhere,), places_tasks=True,
    plan_metrics=_metrics, on_nodes=True, timed=True)
