"""The jobs of an online problem as arrays: the problem's tasks, in order of arrival.

A task is a job: ``compute`` is its work, ``release`` its arrival, ``devices`` the GPUs of one
pool it holds at once (a gang), ``weight`` its priority weight. Its rate on a pool is
``devices`` x its throughput there (the pool's, or the problem's ``throughput`` table), 0 where
it may not run or where the gang is larger than the pool.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..domain.problem import Problem
from ..errors import ProblemError


@dataclass(frozen=True)
class JobSet:
    names: tuple[str, ...]          # task names, in arrival order
    arrival: np.ndarray             # s
    work: np.ndarray                # work units (steps, FLOP): the task's compute
    gang: np.ndarray                # devices held at once
    rate: np.ndarray                # [job, pool] work units per second of the whole gang
    weight: np.ndarray
    pools: tuple[str, ...]
    counts: np.ndarray              # devices per pool
    order: np.ndarray               # index in problem.tasks of each job
    # space sharing (two jobs on the same devices): each job's class, and per pool and pair of
    # classes the two jobs' rates when they share (0: they may not); None: no sharing
    kind: np.ndarray | None = None
    pair_rate: np.ndarray | None = None     # [pool, class, class, 2]

    @property
    def shares(self) -> bool:
        return self.pair_rate is not None

    def paired(self, a: np.ndarray, b: np.ndarray, pool: np.ndarray) -> np.ndarray:
        """[unit, 2]: the rates of jobs a and b sharing gang devices of ``pool``."""
        return self.pair_rate[pool, self.kind[a], self.kind[b]]

    @property
    def size(self) -> int:
        return len(self.names)

    @property
    def fastest(self) -> np.ndarray:
        """Each job's time alone on its fastest pool: no schedule finishes it sooner."""
        return self.work / self.rate.max(axis=1)

    @classmethod
    def from_problem(cls, problem: Problem, sharing: bool = False) -> "JobSet":
        """The problem's tasks as jobs; a task without work, or that can run nowhere, is
        refused naming it. ``sharing``: with the pair rates of the problem's ``sharing`` list
        (space sharing), which must have one."""
        if problem.on_nodes:
            raise ProblemError("allocator simulate plans pools of devices ('pools:'); a "
                               "cluster of nodes ('nodes:') is not simulated yet")
        tasks = problem.tasks
        for t in tasks:
            if t.compute is None:
                raise ProblemError(f"task {t.name!r} has no compute (its work); a simulation "
                                   "needs it to know when the task is done")
        counts = np.array([p.count for p in problem.pools], dtype=np.int64)
        gang = np.array([t.devices for t in tasks], dtype=np.int64)
        rate = np.where(problem.allowed, problem.rate, 0.0) * gang[:, None]
        rate[gang[:, None] > counts[None, :]] = 0.0
        for i in np.flatnonzero(~(rate > 0).any(axis=1)):
            t = tasks[int(i)]
            biggest = max(problem.pools, key=lambda p: p.count)
            why = (f"it holds {t.devices} devices at once and the largest pool, "
                   f"{biggest.name!r}, has {biggest.count}" if t.devices > biggest.count
                   else "its throughput is 0 on every pool it may use")
            raise ProblemError(f"task {t.name!r} can run on no pool: {why}")
        release = np.array([t.release for t in tasks], dtype=float)
        order = np.argsort(release, kind="stable")
        kind = pair_rate = None
        if sharing:
            if not problem.sharing:
                raise ProblemError("space sharing needs the throughputs of tasks sharing "
                                   "devices: the problem has no 'sharing' list", "sharing")
            kind, pair_rate = _pair_table(problem, order)
        return cls(names=tuple(tasks[int(i)].name for i in order), arrival=release[order],
                   work=np.array([float(t.compute) for t in tasks])[order], gang=gang[order],
                   rate=rate[order], weight=np.array([t.weight for t in tasks])[order],
                   pools=tuple(p.name for p in problem.pools), counts=counts, order=order,
                   kind=kind, pair_rate=pair_rate)


def _pair_table(problem: Problem, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each job's class, ``rates[pool, class, other class] = (its rate, the other's)``) for
    the jobs of an online run (``order``: each job's task index): class 0 is every task named
    in no pair, each task named in one has a class of its own; a rate is the whole gang's. A
    pair with a task that may not run on its pool is refused naming it."""
    job_of = np.empty(len(order), dtype=np.int64)
    job_of[order] = np.arange(len(order))
    named = sorted({job_of[problem.task_index[n]] for pair in problem.sharing
                    for n in pair.tasks})
    kind = np.zeros(len(order), dtype=np.int64)
    kind[named] = np.arange(1, len(named) + 1)
    rates = np.zeros((len(problem.pools), len(named) + 1, len(named) + 1, 2))
    for k, pair in enumerate(problem.sharing):
        i, j = (problem.task_index[n] for n in pair.tasks)
        a, b, t = kind[job_of[i]], kind[job_of[j]], problem.pool_index[pair.pool]
        for task in (i, j):
            if not (problem.allowed[task, t] and problem.rate[task, t] > 0):
                raise ProblemError(f"task {problem.tasks[task].name!r} may not run on pool "
                                   f"{pair.pool!r}, so it cannot share its devices there",
                                   f"sharing[{k}].pool")
        gang = problem.tasks[i].devices
        if gang > problem.pools[t].count:           # the pair cannot run there, nor either
            continue
        rates[t, a, b] = (gang * pair.throughput[0], gang * pair.throughput[1])
        rates[t, b, a] = rates[t, a, b, ::-1]
    return kind, rates
