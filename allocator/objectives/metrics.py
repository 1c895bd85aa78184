"""Metrics of a plan, recomputed from its assignment (or amounts) and the problem alone.

Nothing here uses a formulation or a model: processing times are recomputed from each task's
compute and the pool's (or the override's) throughput, one task at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..domain.plan import Plan
from ..domain.problem import Problem


def processing_time(problem: Problem, task_name: str, device: str) -> float:
    """Seconds task ``task_name`` takes on ``device``: its ``time`` override for the pool, else
    compute / throughput."""
    task = problem.tasks[problem.task_index[task_name]]
    pool = problem.pool_of(device)
    timed = problem.time.get(task_name, {})
    if pool.name in timed:
        return float("inf") if timed[pool.name] is None else float(timed[pool.name])
    rate = problem.throughput.get(task_name, {}).get(pool.name, pool.throughput)
    if rate is None or task.compute is None:
        return float("inf")
    return task.compute / rate


def price(problem: Problem, task_name: str, device: str) -> float:
    """What task ``task_name`` costs on ``device``: its ``cost`` override for the pool, else
    the pool's cost_per_hour (0 when unset) x hours."""
    pool = problem.pool_of(device)
    priced = problem.cost.get(task_name, {})
    if pool.name in priced:
        return float(priced[pool.name])
    return (pool.cost_per_hour or 0.0) * processing_time(problem, task_name, device) / 3600.0


def device_loads(problem: Problem, plan: Plan) -> dict[str, float]:
    """Busy seconds per device, from the assignment (or the fractions of a split plan)."""
    loads = {d: 0.0 for d in problem.devices}
    if plan.fractions:
        for task, shares in plan.fractions.items():
            for device, f in shares.items():
                loads[device] += f * processing_time(problem, task, device)
    else:
        for task, device in plan.assignment.items():
            loads[device] += processing_time(problem, task, device)
    return loads


@dataclass(frozen=True)
class Metrics:
    makespan: float | None = None                  # seconds
    cost: float | None = None                      # sum of the tasks' prices (evaluate.price)
    loads: dict[str, float] = field(default_factory=dict)
    utilization: dict[str, float] = field(default_factory=dict)   # busy / makespan
    mean_utilization: float | None = None
    min_utilization: float | None = None
    load_imbalance: float | None = None            # max load / mean load - 1
    inverse_load_sum: float | None = None          # sum over usable devices of 1 / load (hours)
    memory_headroom: dict[str, float] = field(default_factory=dict)  # device memory - task memory
    min_memory_headroom: float | None = None
    shortfall: float | None = None                 # device-seconds not served
    weighted_shortfall: float | None = None
    utilization_ratio: float | None = None         # seed utilization: sum t / sum x
    placed_demand: float | None = None             # packing: weighted demand placed
    placed_tasks: int | None = None
    placed_gpus: float | None = None               # shares count as their fraction
    gpu_allocation: float | None = None            # placed GPUs / the cluster's GPUs
    fragmentation: float | None = None             # FGD's measure summed over the nodes (GPUs)


def usable_devices(problem: Problem) -> list[str]:
    """Devices on which at least one task may run."""
    ok = problem.eligible.any(axis=0)
    return [d for d, p in zip(problem.devices, problem.device_pool) if ok[p]]


def assignment_metrics(problem: Problem, plan: Plan) -> Metrics:
    """The metrics of a plan that places tasks (an assignment or fractions of one)."""
    if not (plan.assignment or plan.fractions):
        return Metrics()
    loads = device_loads(problem, plan)
    values = np.array(list(loads.values()))
    makespan = float(values.max())
    cost = 0.0
    if plan.fractions:
        for task, shares in plan.fractions.items():
            for device, f in shares.items():
                cost += f * price(problem, task, device)
    else:
        for task, device in plan.assignment.items():
            cost += price(problem, task, device)
    util = {d: (v / makespan if makespan > 0 else 0.0) for d, v in loads.items()}
    mean = float(values.mean())
    usable = usable_devices(problem)
    inv = (float(sum(3600.0 / loads[d] if loads[d] > 0 else np.inf for d in usable))
           if usable else None)
    headroom = {}
    placed = plan.assignment if not plan.fractions else {
        t: max(s, key=s.get) for t, s in plan.fractions.items() if s}
    for task, device in placed.items():
        pool = problem.pool_of(device)
        mem = problem.tasks[problem.task_index[task]].memory or 0.0
        headroom[task] = pool.memory - mem
    return Metrics(
        makespan=makespan, cost=cost, loads=loads, utilization=util,
        mean_utilization=float(np.mean(list(util.values()))),
        min_utilization=float(min(util.values())),
        load_imbalance=(float(values.max() / mean - 1.0) if mean > 0 else 0.0),
        inverse_load_sum=inv, memory_headroom=headroom,
        min_memory_headroom=min(headroom.values()) if headroom else None,
    )
