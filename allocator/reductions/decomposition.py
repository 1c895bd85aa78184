"""POP-style decomposition for the largest makespan problems: :func:`split` (apply) and
:func:`join` (invert).

Tasks and each pool's devices are split at random into ``k`` parts; part j gets about 1/k of
every pool and 1/k of the tasks. A task goes to the least-filled part that holds a pool it
may use, so that no sub-problem is infeasible for want of a device. :func:`join` maps the
parts' assignments back to the whole problem's devices. Solving the parts (in parallel, in
waves that share the time limit) and bounding the whole is the solver's:
:mod:`allocator.solver.decomposed`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from ..domain.problem import Problem

TASKS_PER_PART = 2_500


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
        sub = problem.restricted(f"{problem.name}/part{j + 1}", tasks, tuple(pools),
                                 {p.name: p.name for p in pools}, problem.horizon)
        out.append((sub, names))
    return out


def join(pieces: Sequence[tuple[Problem, dict[str, str]]],
         assignments: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """The whole problem's assignment from each part's (``pieces`` as :func:`split` made
    them)."""
    return {task: names[device] for (_, names), assignment in zip(pieces, assignments)
            for task, device in assignment.items()}
