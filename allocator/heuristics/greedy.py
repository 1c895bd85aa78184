"""Greedy list scheduling: an ordering of the tasks, then a placement rule for each.

Orderings decide which task is placed next; placements decide where it goes. Every placement
respects memory eligibility, allowed kinds and pools, the horizon and deadlines (a device is a
candidate only if, with the task added, its earliest-deadline-first schedule still meets every
deadline and ends within the horizon). A task with no candidate makes the plan infeasible,
naming that task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..objectives import get
from ..objectives.evaluation import evaluate
from ..domain.plan import Plan, Status
from ..domain.problem import Problem

# -- orderings: Problem -> task indices in placement order -----------------------------------


def order_fcfs(problem: Problem) -> list[int]:
    """First come, first served: the order of the file."""
    return list(range(len(problem.tasks)))


def order_sjf(problem: Problem) -> list[int]:
    """Shortest job first: by compute, ascending (by fastest time where some task is given by a
    ``time`` table and has no compute); ties in file order."""
    if any(t.compute is None for t in problem.tasks):
        size = problem.ptime.min(axis=1)
    else:
        size = [t.compute for t in problem.tasks]
    return sorted(range(len(problem.tasks)), key=lambda i: (size[i], i))


def order_priority(problem: Problem) -> list[int]:
    """Highest priority first, then highest weight; ties in file order."""
    return sorted(range(len(problem.tasks)),
                  key=lambda i: (-problem.tasks[i].priority, -problem.tasks[i].weight, i))


def order_lpt(problem: Problem) -> list[int]:
    """Longest processing time first (the task's fastest time anywhere); ties in file order."""
    fastest = problem.ptime.min(axis=1)
    return sorted(range(len(problem.tasks)), key=lambda i: (-fastest[i], i))


def order_memory_decreasing(problem: Problem) -> list[int]:
    """Largest memory first; ties in file order."""
    return sorted(range(len(problem.tasks)), key=lambda i: (-problem.tasks[i].memory, i))


# -- feasibility of one device's queue --------------------------------------------------------


def meets_deadlines(problem: Problem, tasks: list[int], d: int) -> bool:
    """Device d runs ``tasks`` back to back in earliest-deadline-first order (ties: shortest
    first) and each one finishes by its deadline. By Jackson's rule no other order does
    better, so this decides whether the set fits at all."""
    times = problem.ptime[tasks, problem.device_pool[d]]
    due = np.array([problem.tasks[i].deadline if problem.tasks[i].deadline is not None
                    else np.inf for i in tasks])
    order = np.lexsort((times, due))
    return bool(np.all(np.cumsum(times[order]) <= due[order] * (1 + 1e-9)))


def fits_device(problem: Problem, tasks: list[int], d: int) -> bool:
    """``tasks`` may all run on device d: eligible, within the horizon, deadlines met."""
    times = problem.ptime[tasks, problem.device_pool[d]]
    if not np.all(np.isfinite(times)):
        return False
    if times.sum() > problem.device_horizon[d] * (1 + 1e-9):
        return False
    return meets_deadlines(problem, tasks, d)


def _stuck(name: str) -> str:
    return (f"task {name!r} fits no device once the tasks before it are placed "
            f"(horizon or deadlines)")


# -- the state a placement sees --------------------------------------------------------------


@dataclass
class State:
    """Devices' loads and queues while a greedy plan is built."""

    problem: Problem
    load: np.ndarray = field(init=False)                    # busy seconds per device
    count: np.ndarray = field(init=False)                   # tasks per device
    queue: list[list[int]] = field(init=False)
    cursor: int = 0                                         # round-robin position
    credit: np.ndarray = field(init=False)                  # smooth weighted round-robin
    has_deadlines: bool = field(init=False)

    def __post_init__(self) -> None:
        self.has_deadlines = any(t.deadline is not None for t in self.problem.tasks)
        m = len(self.problem.devices)
        self.load = np.zeros(m)
        self.count = np.zeros(m, dtype=int)
        self.queue = [[] for _ in range(m)]
        self.credit = np.zeros(m)

    def time(self, i: int, d: int) -> float:
        return float(self.problem.ptime[i, self.problem.device_pool[d]])

    def times(self, i: int) -> np.ndarray:
        """Task i's processing time on every device (inf where it may not run)."""
        return self.problem.ptime[i, self.problem.device_pool]

    def candidates(self, i: int) -> list[int]:
        """The devices task i may join: eligible, within the horizon, all deadlines still met."""
        p = self.times(i)
        ok = np.isfinite(p) & (self.load + p <= self.problem.device_horizon * (1 + 1e-9))
        if not self.has_deadlines:
            return np.flatnonzero(ok).tolist()
        return [int(d) for d in np.flatnonzero(ok)
                if meets_deadlines(self.problem, self.queue[d] + [i], int(d))]

    def place(self, i: int, d: int) -> None:
        self.load[d] += self.time(i, d)
        self.count[d] += 1
        self.queue[d].append(i)


# -- placements: (state, task, candidate devices) -> device ---------------------------------


def place_earliest_available(state: State, i: int, cands: list[int]) -> int:
    """The candidate that becomes free first (lowest load); ties to the lowest index."""
    c = np.asarray(cands)
    return int(c[np.argmin(state.load[c])])          # argmin: the first of equals


def place_earliest_finish(state: State, i: int, cands: list[int]) -> int:
    """The candidate on which the task would finish first (load + its time there)."""
    c = np.asarray(cands)
    return int(c[np.argmin(state.load[c] + state.times(i)[c])])     # the first of equals


def place_round_robin(state: State, i: int, cands: list[int]) -> int:
    """The next candidate at or after the round-robin cursor, which then moves past it."""
    m = len(state.problem.devices)
    allowed = set(cands)
    for step in range(m):
        d = (state.cursor + step) % m
        if d in allowed:
            state.cursor = (d + 1) % m
            return d
    raise AssertionError("no candidate")


def place_least_loaded(state: State, i: int, cands: list[int]) -> int:
    """Least connections: the candidate holding the fewest tasks; ties to the lowest index."""
    return min(cands, key=lambda d: (state.count[d], d))


def place_weighted_round_robin(state: State, i: int, cands: list[int]) -> int:
    """Smooth weighted round-robin (weights = device throughput): every candidate gains its
    weight in credit, the richest wins and pays back the candidates' total weight."""
    weight = np.array([state.problem.pools[p].throughput for p in state.problem.device_pool])
    c = np.array(cands)
    state.credit[c] += weight[c]
    d = int(c[np.argmax(state.credit[c])])
    state.credit[d] -= weight[c].sum()
    return d


def place_first_fit(state: State, i: int, cands: list[int]) -> int:
    """The first candidate in device order whose load stays within a capacity: the horizon,
    or without one the simple lower bound on the makespan, max(longest task at its fastest,
    total fastest work / devices). When none stays within it, the earliest finish."""
    problem = state.problem
    fastest = problem.ptime.min(axis=1)
    bound = max(fastest.max(), fastest.sum() / len(problem.devices))
    capacity = np.where(np.isfinite(problem.device_horizon), problem.device_horizon, bound)
    for d in cands:
        if state.load[d] + state.time(i, d) <= capacity[d] * (1 + 1e-9):
            return d
    return place_earliest_finish(state, i, cands)


Ordering = Callable[[Problem], list[int]]
Placement = Callable[[State, int, list[int]], int]


def greedy(problem: Problem, ordering: Ordering, placement: Placement
           ) -> tuple[dict[str, str], str | None]:
    """Place tasks in ``ordering`` by ``placement``; return (assignment, reason or None)."""
    state = State(problem)
    assignment: dict[str, str] = {}
    for i in ordering(problem):
        cands = state.candidates(i)
        task = problem.tasks[i]
        if not cands:
            return assignment, _stuck(task.name)
        d = placement(state, i, cands)
        state.place(i, d)
        assignment[task.name] = problem.devices[d]
    return assignment, None


def min_min(problem: Problem) -> tuple[dict[str, str], str | None]:
    """Min-min: repeatedly place the (task, device) pair that completes earliest.

    Ties go to the earlier task, then the lower device. Without deadlines the completion
    times live in one task x device matrix, updated a column at a time (O(n^2 m) numpy work);
    with deadlines every candidate pair is checked exactly, as in the other greedy rules.
    """
    if any(t.deadline is not None for t in problem.tasks):
        return _min_min_checked(problem)
    P = problem.ptime[:, problem.device_pool]                 # task x device, inf = ineligible
    n, m = P.shape
    load = np.zeros(m)
    finish = P.copy()
    horizon = problem.device_horizon * (1 + 1e-9)
    finish[finish > horizon[None, :]] = np.inf
    done = np.zeros(n, dtype=bool)
    assignment: dict[str, str] = {}
    for _ in range(n):
        k = int(np.argmin(finish))                             # row-major: earliest task first
        i, d = divmod(k, m)
        if not np.isfinite(finish[i, d]):
            return assignment, _stuck(problem.tasks[int(np.flatnonzero(~done)[0])].name)
        load[d] = finish[i, d]
        done[i] = True
        assignment[problem.tasks[i].name] = problem.devices[d]
        finish[i, :] = np.inf
        # Device d is busier now: its column of completion times moves later.
        column = load[d] + P[:, d]
        column[(column > horizon[d]) | done] = np.inf
        finish[:, d] = column
    return assignment, None


def _min_min_checked(problem: Problem) -> tuple[dict[str, str], str | None]:
    state = State(problem)
    left = set(range(len(problem.tasks)))
    assignment: dict[str, str] = {}
    while left:
        best = None
        for i in sorted(left):
            for d in state.candidates(i):
                key = (state.load[d] + state.time(i, d), i, d)
                if best is None or key < best:
                    best = key
        if best is None:
            return assignment, _stuck(problem.tasks[min(left)].name)
        _, i, d = best
        state.place(i, d)
        assignment[problem.tasks[i].name] = problem.devices[d]
        left.remove(i)
    return assignment, None


def value(problem: Problem, assignment: dict[str, str], objective: str) -> float:
    """The objective of ``assignment`` (each device running its tasks back to back)."""
    plan = Plan(problem=problem.name, objective_name=objective, status=Status.FEASIBLE,
                assignment=assignment)
    return get(objective).value(evaluate(problem, plan))
