"""``verify(problem, plan)``: is the plan feasible, and does it say true things about itself?

Trusts nothing. Everything is recomputed here, with plain Python, from the problem's own
fields (each pool's count, memory, throughput, kind, horizon and price; each task's compute,
memory, deadline, demand and allowed kinds and pools; the override tables) and the plan's
assignment, schedule, fractions or amounts. It shares no helper with the formulations, the
domain's derived arrays (``ptime``, ``eligible``, ``pool_horizon``...) or the metrics module,
so a mistake in any of them cannot hide behind the same mistake here.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from ..domain.plan import Plan
from ..domain.problem import Pool, Problem, Task
from ..objectives import OBJECTIVES
from .verify_nodes import check_nodes, placed_demand

REL = 1e-6


def _close(a: float, b: float, rel: float = REL) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9 * max(1.0, abs(a), abs(b)))


@dataclass(frozen=True)
class _Facts:
    """What verify needs, read from the raw fields once."""

    tasks: dict[str, Task]
    device_pool: dict[str, Pool]          # "h100[3]" -> its pool

    @classmethod
    def of(cls, problem: Problem) -> "_Facts":
        return cls({t.name: t for t in problem.tasks},
                   {f"{p.name}[{k}]": p for p in problem.pools for k in range(p.count)})


def horizon_of(problem: Problem, pool: Pool) -> float:
    """Seconds each device of ``pool`` is available: its own horizon, else the problem's."""
    if pool.horizon is not None:
        return pool.horizon
    return problem.horizon if problem.horizon is not None else math.inf


def duration(problem: Problem, task: Task, pool: Pool) -> float:
    """Seconds ``task`` takes on one device of ``pool``; inf where an override forbids it."""
    timed = problem.time.get(task.name, {})
    if pool.name in timed:
        return math.inf if timed[pool.name] is None else float(timed[pool.name])
    rate = problem.throughput.get(task.name, {}).get(pool.name, pool.throughput)
    if rate is None or task.compute is None:
        return math.inf
    return task.compute / rate


def price(problem: Problem, task: Task, pool: Pool) -> float:
    """What ``task`` costs on one device of ``pool``: the ``cost`` table, else cost_per_hour
    (0 when unset) x hours."""
    priced = problem.cost.get(task.name, {})
    if pool.name in priced:
        return float(priced[pool.name])
    return (pool.cost_per_hour or 0.0) * duration(problem, task, pool) / 3600.0


def may_run(task: Task, pool: Pool, problem: Problem) -> str | None:
    """Why ``task`` may not run on a device of ``pool``, or None."""
    if (task.memory or 0.0) > pool.memory:
        return f"task {task.name!r} needs {task.memory:.6g} bytes but {pool.name} has {pool.memory:.6g}"
    if task.allowed_kinds is not None and pool.kind not in task.allowed_kinds:
        return f"task {task.name!r} may not run on kind {pool.kind!r}"
    if task.allowed_pools is not None and pool.name not in task.allowed_pools:
        return f"task {task.name!r} may not run on pool {pool.name!r}"
    if not math.isfinite(duration(problem, task, pool)):
        return f"task {task.name!r} is forbidden on pool {pool.name!r} by an override"
    return None


def verify(problem: Problem, plan: Plan) -> list[str]:
    """Return the violations found in ``plan`` (an empty list when it is feasible and honest).

    Checks that every task is placed exactly once on a device it fits and may use, that the
    schedule matches the processing times without overlaps and meets deadlines and each pool's
    horizon, that amounts respect demands and capacities (each pool with its own horizon), and
    that the stated objective and bound agree with a recomputation.
    """
    if not plan.status.has_plan:
        return [] if plan.reason else [f"plan has status {plan.status} but gives no reason"]
    facts = _Facts.of(problem)
    errors: list[str] = []
    if plan.objective_name == "utilization":
        errors += _check_shares(problem, facts, plan)
    elif plan.objective_name == "weighted_shortfall":
        errors += _check_amounts(problem, facts, plan)
    elif plan.objective_name in OBJECTIVES and OBJECTIVES[plan.objective_name].on_nodes:
        errors += check_nodes(problem, plan, timed=OBJECTIVES[plan.objective_name].timed)
    elif plan.objective_name in OBJECTIVES and OBJECTIVES[plan.objective_name].places_tasks:
        errors += _check_placement(problem, facts, plan)
        errors += _check_schedule(problem, facts, plan)
    else:
        errors.append(f"unknown objective {plan.objective_name!r}")
    if errors:
        return errors
    value = _objective(problem, facts, plan)
    if plan.objective is None or value is None or not _close(value, plan.objective, 1e-5):
        errors.append(f"plan states objective {plan.objective!r} but its assignment gives {value!r}")
    if plan.bound is not None and plan.objective is not None:
        slack = 1e-6 * max(1.0, abs(plan.objective))
        if (plan.sense == "min" and plan.bound > plan.objective + slack) or \
                (plan.sense == "max" and plan.bound < plan.objective - slack):
            errors.append(f"bound {plan.bound!r} is on the wrong side of objective {plan.objective!r}")
    return errors


# -- placement and schedule ------------------------------------------------------------------

def _placed(plan: Plan) -> dict[str, list[tuple[str, float]]]:
    if plan.fractions:
        return {t: list(s.items()) for t, s in plan.fractions.items()}
    return {t: [(d, 1.0)] for t, d in plan.assignment.items()}


def _check_placement(problem: Problem, facts: _Facts, plan: Plan) -> list[str]:
    errors = []
    placed = _placed(plan)
    for task, shares in placed.items():
        if plan.fractions:
            total = sum(f for _, f in shares)
            if any(f < -1e-9 for _, f in shares) or not _close(total, 1.0, 1e-6):
                errors.append(f"task {task!r} has fractions summing to {total:.9g}, not 1")
        if task not in facts.tasks:
            errors.append(f"unknown task {task!r}")
            continue
        for device, f in shares:
            if f <= 1e-9:
                continue
            if device not in facts.device_pool:
                errors.append(f"task {task!r} is on unknown device {device!r}")
                continue
            why = may_run(facts.tasks[task], facts.device_pool[device], problem)
            if why:
                errors.append(f"{why} ({device})")
    for t in problem.tasks:
        if t.name not in placed:
            errors.append(f"task {t.name!r} is not assigned")
    return errors


def _check_schedule(problem: Problem, facts: _Facts, plan: Plan) -> list[str]:
    errors = []
    seen = Counter((s.task, s.device) for s in plan.schedule)
    for (task, device), n in seen.items():
        if n > 1:
            errors.append(f"task {task!r} appears {n} times on {device}")
    if plan.fractions:
        expected = {(t, d) for t, s in plan.fractions.items() for d, f in s.items() if f > 1e-9}
    else:
        expected = set(plan.assignment.items())
        for task, n in Counter(s.task for s in plan.schedule).items():
            if n > 1:
                errors.append(f"task {task!r} is scheduled {n} times")
    got = set(seen)
    for task, device in sorted(expected - got):
        errors.append(f"task {task!r} is assigned to {device} but not scheduled there")
    for task, device in sorted(got - expected):
        errors.append(f"task {task!r} is scheduled on {device} but not assigned there")
    by_device: dict[str, list] = {}
    for s in plan.schedule:
        by_device.setdefault(s.device, []).append(s)
        if s.task not in facts.tasks or s.device not in facts.device_pool:
            continue
        task, pool = facts.tasks[s.task], facts.device_pool[s.device]
        want = s.fraction * duration(problem, task, pool)
        if s.start < -1e-9 or not _close(s.end - s.start, want):
            errors.append(f"task {s.task!r} on {s.device} lasts {s.end - s.start:.9g}s, "
                          f"expected {want:.9g}s")
        if task.deadline is not None and s.end > task.deadline * (1 + REL):
            errors.append(f"task {s.task!r} ends at {s.end:.9g}s, after its deadline "
                          f"{task.deadline:.9g}s")
        horizon = horizon_of(problem, pool)
        if s.end > horizon * (1 + REL):
            errors.append(f"task {s.task!r} ends at {s.end:.9g}s, after the horizon "
                          f"{horizon:.9g}s of {s.device}")
    for device, slots in by_device.items():
        slots = sorted(slots, key=lambda s: s.start)
        for a, b in zip(slots, slots[1:]):
            if b.start < a.end - REL * max(1.0, a.end):
                errors.append(f"tasks {a.task!r} and {b.task!r} overlap on {device}")
    return errors


# -- amounts --------------------------------------------------------------------------------

def fleet_flop(problem: Problem) -> float:
    """FLOP the fleet performs, each pool over its own horizon."""
    return sum(p.count * p.throughput * horizon_of(problem, p) for p in problem.pools)


def _unknown_tasks(facts: _Facts, plan: Plan) -> list[str]:
    return [f"unknown task {t!r}" for t in plan.amounts if t not in facts.tasks]


def _check_shares(problem: Problem, facts: _Facts, plan: Plan) -> list[str]:
    """utilization: each task's share of the fleet covers its compute and memory."""
    errors = _unknown_tasks(facts, plan)
    flop = fleet_flop(problem)
    memory = sum(p.count * p.memory for p in problem.pools)
    total = 0.0
    for t in problem.tasks:
        share = plan.amounts.get(t.name, {}).get("share")
        if share is None:
            errors.append(f"task {t.name!r} has no allocated share")
            continue
        total += share
        if share * flop < t.compute * (1 - REL):
            errors.append(f"task {t.name!r} gets {share * flop:.6g} FLOP of compute, "
                          f"less than its {t.compute:.6g}")
        if share * memory < t.memory * (1 - REL):
            errors.append(f"task {t.name!r} gets {share * memory:.6g} bytes of memory, "
                          f"less than its {t.memory:.6g}")
        if share > 1 + REL:
            errors.append(f"task {t.name!r} gets {share:.6g} of the fleet, more than all of it")
    if total > 1 + REL:
        errors.append(f"shares add up to {total:.6g} of the fleet, more than all of it")
    return errors


def _check_amounts(problem: Problem, facts: _Facts, plan: Plan) -> list[str]:
    """weighted_shortfall: amounts within demands, each kind within its device-time (every
    pool of the kind counting its own horizon)."""
    errors = _unknown_tasks(facts, plan)
    used: dict[str, float] = {}
    for t in problem.tasks:
        for kind, amount in plan.amounts.get(t.name, {}).items():
            want = t.demand.get(kind, 0.0)
            if amount < -REL * max(1.0, want) or amount > want * (1 + REL) + 1e-9:
                errors.append(f"task {t.name!r} gets {amount:.6g}s of {kind}, outside [0, {want:.6g}]")
            used[kind] = used.get(kind, 0.0) + amount
    for kind, amount in used.items():
        capacity = sum(p.count * horizon_of(problem, p) for p in problem.pools if p.kind == kind)
        if amount > capacity * (1 + REL) + 1e-9:
            errors.append(f"{kind} is allocated {amount:.6g} device-seconds, more than its "
                          f"capacity {capacity:.6g}")
    return errors


# -- the objective, recomputed --------------------------------------------------------------

def _objective(problem: Problem, facts: _Facts, plan: Plan) -> float | None:
    name = plan.objective_name
    if name == "utilization":
        shares = sum(a.get("share", 0.0) for a in plan.amounts.values())
        need = sum(t.compute for t in problem.tasks) / fleet_flop(problem)
        return need / shares if shares > 0 else None
    if name in ("packing", "fragmentation"):             # both value the placed demand
        return placed_demand(problem, plan)
    if name == "node_makespan":                          # the last end
        return max((s.end for s in plan.schedule), default=0.0)
    if name == "weighted_shortfall":
        return sum(t.weight * (want - plan.amounts.get(t.name, {}).get(kind, 0.0))
                   for t in problem.tasks for kind, want in t.demand.items())
    loads = {d: 0.0 for d in facts.device_pool}
    cost = 0.0
    for task, shares in _placed(plan).items():
        for device, f in shares:
            t, pool = facts.tasks[task], facts.device_pool[device]
            loads[device] += f * duration(problem, t, pool)
            cost += f * price(problem, t, pool)
    if name == "cost":
        return cost
    if name == "load_balance" and (plan.measure or "max_load") == "inverse_sum":
        usable = [d for d, pool in facts.device_pool.items()
                  if any(may_run(t, pool, problem) is None for t in problem.tasks)]
        return sum(3600.0 / loads[d] if loads[d] > 0 else math.inf for d in usable)
    return max(loads.values())
