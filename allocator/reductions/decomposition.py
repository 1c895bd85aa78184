"""POP-style decomposition for the largest makespan problems: :class:`Decomposition`, whose
apply is :func:`split` and invert :func:`join`.

Tasks and each pool's devices are split at random into ``k`` parts; part j gets about 1/k of
every pool and 1/k of the tasks. A task goes to the least-filled part that holds a pool it
may use, so that no sub-problem is infeasible for want of a device. :func:`join` maps the
parts' assignments back to the whole problem's devices. Solving the parts (in parallel, in
waves that share the time limit) and bounding the whole is the solver's:
:mod:`allocator.solver.decomposed`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..domain.problem import Problem
from .base import makespan_without_deadlines

TASKS_PER_PART = 2_500


@dataclass(frozen=True)
class Decomposition:
    """``parts`` random sub-problems (apply), their assignments joined (invert)."""

    parts: int
    seed: int | None = 0
    name = "decomposed"

    @staticmethod
    def parts_for(problem: Problem, parts: int | None = None) -> int:
        """``parts``, or about :data:`TASKS_PER_PART` tasks each (at least two)."""
        return parts or max(2, round(len(problem.tasks) / TASKS_PER_PART))

    def accepts(self, problem: Problem, objective: str) -> bool:
        return makespan_without_deadlines(problem, objective)

    def apply(self, problem: Problem) -> tuple[list[Problem], list[tuple[Problem, dict]]]:
        """The sub-problems, and each with its map of device names (for :meth:`invert`)."""
        pieces = split(problem, self.parts, self.seed)
        return [sub for sub, _ in pieces], pieces

    def invert(self, assignments: Sequence[Mapping[str, str]],
               pieces: Sequence[tuple[Problem, dict[str, str]]]) -> dict[str, str]:
        return join(pieces, assignments)


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
