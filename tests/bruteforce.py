"""Independent reference: enumerate every assignment of a small problem.

Uses only the problem's raw fields (no formulation, no cached matrices) so that it can catch
mistakes in both. Exponential: for n <= 7 tasks and m <= 3 devices only.
"""

from __future__ import annotations

import itertools
import math
import random


def _time(problem, task, pool) -> float | None:
    """Seconds for ``task`` on one device of ``pool``, or None when the pair is not allowed."""
    if task.memory > pool.memory:
        return None
    if task.allowed_kinds is not None and pool.kind not in task.allowed_kinds:
        return None
    if task.allowed_pools is not None and pool.name not in task.allowed_pools:
        return None
    override = problem.throughput.get(task.name, {})
    rate = override[pool.name] if pool.name in override else pool.throughput
    return None if rate is None else task.compute / rate


def brute_force(problem, objective: str) -> float | None:
    """Optimal makespan or cost over all assignments; None when none is feasible."""
    devices = [(pool, k) for pool in problem.pools for k in range(pool.count)]
    times = [[_time(problem, t, pool) for pool, _ in devices] for t in problem.tasks]
    best = None
    for choice in itertools.product(range(len(devices)), repeat=len(problem.tasks)):
        if any(times[i][d] is None for i, d in enumerate(choice)):
            continue
        ok, loads, cost = True, [0.0] * len(devices), 0.0
        for d in range(len(devices)):
            mine = sorted((problem.tasks[i].deadline or math.inf, times[i][d])
                          for i, c in enumerate(choice) if c == d)
            t = 0.0
            for due, dur in mine:                     # earliest deadline first
                t += dur
                if t > due * (1 + 1e-9):
                    ok = False
            if problem.horizon is not None and t > problem.horizon * (1 + 1e-9):
                ok = False
            loads[d] = t
            cost += (devices[d][0].cost_per_hour or 0.0) * t / 3600
        if not ok:
            continue
        value = max(loads) if objective == "makespan" else cost
        best = value if best is None else min(best, value)
    return best


def random_problem(seed: int, max_tasks: int = 7, max_devices: int = 3) -> dict:
    """A small random problem document: unrelated speeds, memory limits, kinds, deadlines."""
    rng = random.Random(seed)
    kinds = ["cpu", "gpu", "tpu"]
    n_devices = rng.randint(1, max_devices)
    counts = []
    while sum(counts) < n_devices:
        counts.append(rng.randint(1, n_devices - sum(counts)))
    pools = [{"name": f"p{j}", "kind": rng.choice(kinds), "count": c,
              "memory": rng.choice([16, 40, 80]) * 2 ** 30,
              "throughput": rng.choice([1, 2, 3, 5]) * 1e12,
              "cost_per_hour": rng.choice([0.5, 1, 2, 4])} for j, c in enumerate(counts)]
    tasks = []
    for i in range(rng.randint(2, max_tasks)):
        t = {"name": f"t{i}", "compute": rng.randint(1, 20) * 1e15,
             "memory": rng.choice([4, 12, 30]) * 2 ** 30}
        if rng.random() < 0.2:
            t["allowed_kinds"] = [rng.choice([p["kind"] for p in pools])]
        if rng.random() < 0.2:
            t["deadline"] = rng.randint(20, 150) * 100.0
        tasks.append(t)
    doc = {"name": f"random-{seed}", "pools": pools, "tasks": tasks}
    if rng.random() < 0.3:
        doc["horizon"] = rng.randint(50, 250) * 100.0
    if rng.random() < 0.3:            # Gavel-style unrelated speeds for one task
        t = rng.choice(tasks)["name"]
        doc["throughput"] = {t: {pools[0]["name"]: rng.choice([0.5e12, 4e12, None])}}
    return doc

