"""POP-style decomposition for the largest makespan problems.

Tasks and each pool's devices are split at random into ``k`` parts; part j gets about 1/k of
every pool and 1/k of the tasks, and the k sub-problems are solved in parallel threads (HiGHS
releases the GIL), in waves that share the time limit. A task goes to the least-filled part
that holds a pool it may use, so that no sub-problem is infeasible for want of a device. The plan joins the sub-plans; its bound is
the LP relaxation of the aggregated model of the whole problem, which holds for every plan, so
the gap reported is against the undecomposed problem, not against the parts.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from .backends import SolveOptions, Termination
from .formulations import aggregated
from .plan import Plan, Status, sequence
from .problem import Problem

TASKS_PER_PART = 2_500
BOUND_SHARE = 0.2           # of the time limit, kept for the bound of the whole problem


def split(problem: Problem, parts: int, seed: int | None = 0
          ) -> list[tuple[Problem, dict[str, str]]]:
    """``parts`` sub-problems, each with a map from its device names to the whole problem's."""
    rng = np.random.default_rng(seed)
    sizes = []                                      # devices of pool p in part j
    for k, pool in enumerate(problem.pools):
        base, extra = divmod(pool.count, parts)
        size = np.full(parts, base)
        size[rng.permutation(parts)[:extra]] += 1
        sizes.append(size)
    sizes = np.array(sizes)                         # pools x parts
    has = (sizes > 0).T                             # parts x pools
    filled = np.zeros(parts, dtype=int)
    part_of = np.empty(len(problem.tasks), dtype=int)
    for i in rng.permutation(len(problem.tasks)):
        usable = np.flatnonzero((has & problem.eligible[i][None, :]).any(axis=1))
        j = usable[np.argmin(filled[usable])]
        part_of[i] = j
        filled[j] += 1
    out = []
    offset = np.zeros(len(problem.pools), dtype=int)
    for j in range(parts):
        pools, names = [], {}
        for k, pool in enumerate(problem.pools):
            c = int(sizes[k, j])
            if c == 0:
                continue
            pools.append(replace(pool, count=c))
            for d in range(c):
                names[f"{pool.name}[{d}]"] = f"{pool.name}[{offset[k] + d}]"
            offset[k] += c
        tasks = tuple(t for i, t in enumerate(problem.tasks) if part_of[i] == j)
        if not tasks:
            continue
        keep = {t.name for t in tasks}
        pool_names = {p.name for p in pools}
        tables = {key: {n: {p: v for p, v in row.items() if p in pool_names}
                        for n, row in getattr(problem, key).items() if n in keep}
                  for key in ("throughput", "time", "cost")}
        sub = Problem(name=f"{problem.name}/part{j + 1}", pools=tuple(pools), tasks=tasks,
                      objective=problem.objective, horizon=problem.horizon,
                      sense=problem.sense, **tables)
        out.append((sub, names))
    return out


def solve_decomposed(problem: Problem, engine, solver, options: SolveOptions, *,
                     parts: int | None, seed: int | None, lp_bound: bool, common: dict) -> Plan:
    from .solver import FULL_PAIRS, relaxation, solve
    k = parts or max(2, round(len(problem.tasks) / TASKS_PER_PART))
    start = time.perf_counter()
    pieces = split(problem, k, seed)
    workers = min(len(pieces), options.threads or os.cpu_count() or 1)
    # The parts run in waves of `workers`; together they get the time limit less a share for
    # the bound of the whole problem, each wave an equal part of it.
    waves = -(-len(pieces) // workers)
    limit = options.time_limit
    per_part = None if limit is None else (1 - BOUND_SHARE) * limit / waves

    def one(piece):
        sub, _ = piece
        return solve(sub, objective="makespan", backend=engine.name, solver=solver,
                     time_limit=per_part, mip_gap=options.mip_gap, threads=1,
                     lp_bound=False, seed=seed, strategy="auto" if len(sub.tasks) * len(
                         sub.devices) <= FULL_PAIRS else "aggregated")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        plans = list(pool.map(one, pieces))
    seconds = time.perf_counter() - start
    failed = [p for p in plans if not p.status.has_plan]
    if failed:
        return Plan(status=failed[0].status, reason=f"sub-problem {failed[0].problem}: "
                    f"{failed[0].reason}", solve_seconds=seconds, **common)
    assignment = {t: names[d] for (_, names), p in zip(pieces, plans)
                  for t, d in p.assignment.items()}
    schedule = sequence(problem, assignment)
    makespan = max(s.end for s in schedule)
    bound = None
    if lp_bound:
        built = aggregated.build(problem)
        left = None if limit is None else \
            max(BOUND_SHARE * limit, limit - (time.perf_counter() - start))
        raw = relaxation(built, engine, solver, replace(options, warm_start=None, progress=None,
                                                        time_limit=left),
                         built.encode(assignment))
        seconds = time.perf_counter() - start
        if raw.termination is Termination.OPTIMAL:
            bound = min(float(raw.objective), makespan)
    optimal = all(p.status is Status.OPTIMAL for p in plans)
    status = Status.OPTIMAL if optimal and bound is not None and \
        makespan - bound <= options.mip_gap * makespan else Status.FEASIBLE
    return Plan(status=status, objective=makespan, bound=bound, lp_bound=bound,
                assignment=assignment, schedule=schedule, solve_seconds=seconds,
                solver=plans[0].solver, **common)
