"""``verify``'s rules for plans on cluster nodes (packing, fragmentation and, over time,
node_makespan), recomputed from the problem's raw fields: each node group's cores, memory,
named resources, GPU count and model; each task's requests, GPUs or GPU share, accepted
models, weight and time. Nothing is shared with the models, their decoders, the timeline or
the placement heuristics.
"""

from __future__ import annotations

import math
from collections import defaultdict

from ..domain.plan import Plan
from ..domain.problem import Pool, Problem, Task

TOL = 1e-9


def node_groups(problem: Problem) -> dict[str, Pool]:
    """Node name -> its group, named as the problem names them."""
    out = {}
    for pool in problem.pools:
        names = pool.node_names if pool.node_names is not None else \
            [f"{pool.name}[{k}]" for k in range(pool.count)]
        for node in names:
            out[node] = pool
    return out


def check_nodes(problem: Problem, plan: Plan, timed: bool = False) -> list[str]:
    """Every task placed once (or listed unplaced) where it fits on its own, and each node's
    cores, memory, named resources and GPUs enough for its tasks: all of them at once, or,
    for a plan over time (``timed``), those running at each moment, each for its time."""
    tasks = {t.name: t for t in problem.tasks}
    nodes = node_groups(problem)
    errors = _accounting(problem, plan, tasks)
    good = {}
    for name, where in plan.placements.items():
        task, pool = tasks.get(name), nodes.get(where.node)
        if task is None or pool is None:
            errors.append(f"task {name!r} is placed on unknown node {where.node!r}"
                          if task is not None else f"unknown task {name!r} is placed")
            continue
        errors += _task_on_node(task, pool, where.node, where.gpus, where.gpu_share)
        good[name] = where
    if not timed:
        return errors + _capacity(tasks, nodes, good, "")
    errors += _timing(problem, plan, tasks, nodes)
    if errors:
        return errors
    for moment in sorted({s.start for s in plan.schedule}):
        running = {s.task for s in plan.schedule if s.start <= moment < s.end}
        errors += _capacity(tasks, nodes, {t: good[t] for t in running},
                            f" at {moment:.6g} s")
    return list(dict.fromkeys(errors))


def _capacity(tasks: dict[str, Task], nodes: dict[str, Pool], placed: dict, when: str
              ) -> list[str]:
    """What ``placed`` (task -> placement), all at once, asks beyond its nodes."""
    errors = []
    used: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    gpu_use: dict[tuple[str, int], float] = defaultdict(float)
    for name, where in placed.items():
        for key, amount in _requests(tasks[name]).items():
            used[where.node][key] += amount
        for g in where.gpus:
            gpu_use[(where.node, g)] += where.gpu_share
    for node, amounts in used.items():
        offer = _offer(nodes[node])
        for key, amount in amounts.items():
            if amount > offer.get(key, 0.0) * (1 + 1e-9) + TOL:
                errors.append(f"node {node!r} is given {amount:.6g} {key} but has "
                              f"{offer.get(key, 0.0):.6g}{when}")
    for (node, g), total in sorted(gpu_use.items()):
        if total > 1 + 1e-6:
            errors.append(f"GPU {g} of node {node!r} is shared beyond itself{when}: "
                          f"{total:.6g} of 1")
    return errors


def _timing(problem: Problem, plan: Plan, tasks: dict[str, Task], nodes: dict[str, Pool]
            ) -> list[str]:
    """A plan over time: every task placed, each with one slot on its node, from time 0 or
    later, for at least its time on that node's group (the problem's time table)."""
    errors = [f"task {t!r} is not placed; every task must run" for t in plan.unplaced]
    slots: dict[str, list] = defaultdict(list)
    for s in plan.schedule:
        slots[s.task].append(s)
    for name, where in plan.placements.items():
        mine = slots.get(name, [])
        if len(mine) != 1:
            errors.append(f"task {name!r} has {len(mine)} slots in the schedule, not 1")
            continue
        s = mine[0]
        pool = nodes.get(where.node)
        needed = problem.time.get(name, {}).get(pool.name) if pool is not None else None
        if s.device != where.node:
            errors.append(f"task {name!r} is scheduled on {s.device!r} but placed on "
                          f"{where.node!r}")
        elif needed is None:
            errors.append(f"task {name!r} has no time on node group {pool.name!r}")
        elif s.start < -TOL or s.end - s.start < needed * (1 - 1e-9) - TOL:
            errors.append(f"task {name!r} runs from {s.start:.6g} s to {s.end:.6g} s on "
                          f"{where.node!r}, but needs {needed:.6g} s there")
    strange = sorted(set(slots) - set(plan.placements))
    if strange:
        errors.append(f"the schedule has slots for tasks it does not place: {strange}")
    return errors


def _accounting(problem: Problem, plan: Plan, tasks: dict[str, Task]) -> list[str]:
    """Every task placed once or listed unplaced, and the assignment saying the same."""
    errors = []
    if dict(plan.assignment) != {t: p.node for t, p in plan.placements.items()}:
        errors.append("the assignment and the placements disagree")
    unplaced = list(plan.unplaced)
    if len(set(unplaced)) != len(unplaced):
        errors.append("a task is listed unplaced twice")
    for name in unplaced:
        if name not in tasks:
            errors.append(f"unknown task {name!r} is listed unplaced")
        elif name in plan.placements:
            errors.append(f"task {name!r} is both placed and unplaced")
    for t in problem.tasks:
        if t.name not in plan.placements and t.name not in unplaced:
            errors.append(f"task {t.name!r} is neither placed nor listed unplaced")
    return errors


def _requests(task: Task) -> dict[str, float]:
    out = {"cores": task.cpu or 0.0, "bytes of memory": task.memory or 0.0}
    out.update(task.requests)
    return out


def _offer(pool: Pool) -> dict[str, float]:
    out = {"cores": pool.cpu or 0.0, "bytes of memory": pool.memory}
    out.update(pool.resources)
    return out


def _task_on_node(task: Task, pool: Pool, node: str, gpus: tuple[int, ...],
                  share: float) -> list[str]:
    """What is wrong with ``task`` on ``node`` using ``gpus`` at ``share`` each, on its own."""
    errors = []
    where = f"task {task.name!r} on node {node!r}"
    if len(set(gpus)) != len(gpus) or any(not 0 <= g < pool.gpus for g in gpus):
        errors.append(f"{where} uses GPUs {list(gpus)}, but the node has GPUs 0 to "
                      f"{pool.gpus - 1}" if pool.gpus else f"{where} uses GPUs it does not have")
    if task.gpu_share is not None:
        want, each = 1, task.gpu_share
    else:
        want, each = task.gpus, (1.0 if task.gpus else 0.0)
    if len(gpus) != want:
        errors.append(f"{where} uses {len(gpus)} GPUs but needs {want}")
    if not math.isclose(share, each, rel_tol=1e-9, abs_tol=1e-12):
        errors.append(f"{where} takes {share!r} of each GPU but asks for {each!r}")
    if want and task.gpu_models is not None and pool.gpu_model not in task.gpu_models:
        errors.append(f"{where}: GPU model {pool.gpu_model!r} is not one of "
                      f"{', '.join(task.gpu_models)}")
    if task.allowed_pools is not None and pool.name not in task.allowed_pools:
        errors.append(f"{where}: group {pool.name!r} is not among its allowed pools")
    if task.allowed_kinds is not None and ("gpu" if pool.gpus else "cpu") not in \
            task.allowed_kinds:
        errors.append(f"{where}: the node's kind is not among its allowed kinds")
    return errors


def placed_demand(problem: Problem, plan: Plan) -> float:
    """Sum over placed tasks of weight x demand (GPUs, a share as its fraction, when any task
    asks for a GPU; else cores)."""
    by_gpu = any(t.gpus or t.gpu_share for t in problem.tasks)
    total = 0.0
    for t in problem.tasks:
        if t.name in plan.placements:
            amount = (t.gpu_share if t.gpu_share is not None else t.gpus) if by_gpu \
                else (t.cpu or 0.0)
            total += t.weight * amount
    return total
