"""The space-sharing part of the problem format: ``sharing:``, pairs of tasks that may run
together on the same devices of a pool, each at its own throughput while they do (what Gavel
measured for pairs of its job types). The loader (:mod:`.problem_files`) calls these for the
fields that :mod:`.schema` describes."""

from __future__ import annotations

from typing import Any, Mapping

from ..domain.problem import Problem, SharedPair
from ..domain.units import parse_quantity
from ..errors import ProblemError
from .schema import SHARING_FIELDS


def read_sharing(reader, value: Any, task_names: list[str],
                 pool_names: list[str]) -> tuple[SharedPair, ...]:
    """The ``sharing`` list: each entry two known tasks, a known pool and two throughputs; a
    pair named twice for one pool (in either order) is refused."""
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise ProblemError("must be a non-empty list of pairs ({tasks: [a, b], pool: p, "
                           "throughput: [ra, rb]})", "sharing")
    pairs, seen = [], {}
    for k, item in enumerate(value):
        path = f"sharing[{k}]"
        item = reader.mapping(item, path, f"sharing entry {k}")
        reader.keys(item, SHARING_FIELDS, path, f"sharing entry {k}")
        tasks = reader.field(item, "tasks", SHARING_FIELDS["tasks"], path)
        if len(tasks) != 2:
            raise ProblemError(f"must name two different tasks, got {list(tasks)!r}",
                               f"{path}.tasks")
        for j, name in enumerate(tasks):
            if name not in task_names:
                raise ProblemError(f"unknown task {name!r}{reader.did_you_mean(name, task_names)}",
                                   f"{path}.tasks[{j}]")
        pool = reader.field(item, "pool", SHARING_FIELDS["pool"], path)
        if pool not in pool_names:
            raise ProblemError(f"unknown pool {pool!r}{reader.did_you_mean(pool, pool_names)} "
                               f"(pools: {', '.join(pool_names)})", f"{path}.pool")
        key = (frozenset(tasks), pool)
        if key in seen:
            raise ProblemError(f"the pair {tasks[0]!r}, {tasks[1]!r} on pool {pool!r} is "
                               f"already given (sharing[{seen[key]}])", path)
        seen[key] = k
        pairs.append(SharedPair(tasks=(tasks[0], tasks[1]), pool=pool,
                                throughput=_two_rates(item.get("throughput"), path)))
    return tuple(pairs)


def _two_rates(value: Any, path: str) -> tuple[float, float]:
    sub = f"{path}.throughput"
    if not isinstance(value, list) or len(value) != 2:
        raise ProblemError(f"must be a list of two throughputs (the first task's, then the "
                           f"second's), got {value!r}", sub)
    first, second = (parse_quantity(v, "flop_rate", f"{sub}[{j}]") for j, v in enumerate(value))
    return first, second


def check_sharing(problem: Problem) -> None:
    """Both tasks of every pair hold the same number of devices. (Whether both may run on the
    pool is the online job set's check: a task that fits nowhere is reported as such first.)"""
    for k, pair in enumerate(problem.sharing):
        a, b = (problem.tasks[problem.task_index[n]] for n in pair.tasks)
        if a.devices != b.devices:
            raise ProblemError(f"tasks {a.name!r} ({a.devices} devices) and {b.name!r} "
                               f"({b.devices}) cannot share devices: only tasks holding as many "
                               "devices share them", f"sharing[{k}].tasks")


def sharing_to_dict(problem: Problem) -> list[Mapping]:
    return [{"tasks": list(p.tasks), "pool": p.pool, "throughput": list(p.throughput)}
            for p in problem.sharing]
