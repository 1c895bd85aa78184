"""Seeded synthetic fleets for the scale benchmark and the tests.

Four families, each a makespan problem with n tasks on d devices:

- ``unrelated``: 8 pools; every task has its own speed on every pool (Gavel-style throughput
  table, speeds spread over 30x), so no pool is uniformly faster;
- ``memory_tight``: 8 pools of 16–80 GiB; task memory spread so that about half the tasks fit
  only the larger pools;
- ``few_per_pool``: pools of one or two devices (d/2 pools), speeds related — the region where
  aggregating identical devices helps least;
- ``many_per_pool``: few pools (d/16, at least 2) of many devices each.

``pools=`` forces the number of pools (the Gavel/POP-size runs use 3 pools of 512 and 20 pools
of 50).

>>> p = fleet("unrelated", 20, 8, seed=1)
>>> len(p.tasks), len(p.devices), len(p.pools)
(20, 8, 8)
"""

from __future__ import annotations

import numpy as np

from ..domain.problem import Pool, Problem, Task

FAMILIES = ("unrelated", "memory_tight", "few_per_pool", "many_per_pool")
GiB = 2.0 ** 30


def _pool_counts(d: int, k: int) -> list[int]:
    base, extra = divmod(d, k)
    return [base + (1 if j < extra else 0) for j in range(k)]


def fleet(family: str, n: int, d: int, *, seed: int = 0, pools: int | None = None) -> Problem:
    """A seeded problem of ``family`` with ``n`` tasks and ``d`` devices."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    rng = np.random.default_rng(seed)
    k = pools or {"unrelated": min(8, d), "memory_tight": min(8, d),
                  "few_per_pool": max(1, d // 2), "many_per_pool": max(2, d // 16)}[family]
    counts = _pool_counts(d, k)
    speed = rng.uniform(50e12, 1000e12, size=k)                       # FLOP/s per device
    memory = (np.linspace(16, 80, k) if family == "memory_tight"
              else rng.choice([24.0, 40.0, 80.0], size=k)) * GiB
    memory[np.argmax(memory)] = 80 * GiB                                # every task fits somewhere
    the_pools = tuple(Pool(name=f"p{j}", kind="gpu", count=counts[j], memory=float(memory[j]),
                           throughput=float(speed[j])) for j in range(k))
    compute = rng.lognormal(np.log(1e18), 1.0, size=n)                  # FLOP, heavy-tailed
    if family == "memory_tight":
        need = rng.uniform(4, 80, size=n) * GiB
    else:
        need = rng.uniform(1, 20, size=n) * GiB
    tasks = tuple(Task(name=f"t{i}", compute=float(compute[i]), memory=float(need[i]))
                  for i in range(n))
    throughput = {}
    if family == "unrelated":
        factor = rng.uniform(1 / 30 ** 0.5, 30 ** 0.5, size=(n, k))
        throughput = {f"t{i}": {f"p{j}": float(speed[j] * factor[i, j]) for j in range(k)}
                      for i in range(n)}
    return Problem(name=f"{family}-{n}x{d}-s{seed}", pools=the_pools, tasks=tasks,
                   throughput=throughput)
