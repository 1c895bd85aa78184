"""``verify(problem, plan)``: is the plan feasible, and does it say true things about itself?

Independent of every formulation: it recomputes times, loads and objective values from the
problem's raw fields and the plan's assignment, with plain Python and numpy.
"""

from __future__ import annotations

import math
from collections import Counter

from .evaluate import (evaluate, fleet_capacity, kind_capacity, processing_time)
from ..plan import Plan
from ..problem import ASSIGNMENT_OBJECTIVES, Problem

REL = 1e-6


def _close(a: float, b: float, rel: float = REL) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9 * max(1.0, abs(a), abs(b)))


def verify(problem: Problem, plan: Plan) -> list[str]:
    """Return the violations found in ``plan`` (an empty list when it is feasible and honest).

    Checks that every task is placed exactly once on a device it fits and may use, that the
    schedule matches the processing times without overlaps and meets deadlines and the horizon,
    that amounts respect demands and capacities, and that the stated objective and bound agree
    with a recomputation.
    """
    if not plan.status.has_plan:
        return [] if plan.reason else [f"plan has status {plan.status} but gives no reason"]
    errors: list[str] = []
    if plan.amounts:
        errors += _check_amounts(problem, plan)
    elif plan.objective_name in ASSIGNMENT_OBJECTIVES:
        errors += _check_placement(problem, plan)
        errors += _check_schedule(problem, plan)
    else:
        errors.append(f"a {plan.objective_name} plan must carry amounts")
    if errors:
        return errors
    value = evaluate(problem, plan).objective(plan.objective_name, plan.measure or "max_load")
    if plan.objective is None or value is None or not _close(value, plan.objective, 1e-5):
        errors.append(f"plan states objective {plan.objective!r} but its assignment gives {value!r}")
    if plan.bound is not None and plan.objective is not None:
        slack = 1e-6 * max(1.0, abs(plan.objective))
        if (plan.sense == "min" and plan.bound > plan.objective + slack) or \
                (plan.sense == "max" and plan.bound < plan.objective - slack):
            errors.append(f"bound {plan.bound!r} is on the wrong side of objective {plan.objective!r}")
    return errors


def _check_one(problem: Problem, task: str, device: str) -> str | None:
    if task not in problem.task_index:
        return f"unknown task {task!r}"
    if device not in problem.device_index:
        return f"task {task!r} is on unknown device {device!r}"
    t = problem.tasks[problem.task_index[task]]
    pool = problem.pool_of(device)
    if (t.memory or 0.0) > pool.memory:
        return (f"task {task!r} needs {t.memory:.6g} bytes but {device} has {pool.memory:.6g}")
    if t.allowed_kinds is not None and pool.kind not in t.allowed_kinds:
        return f"task {task!r} may not run on kind {pool.kind!r} ({device})"
    if t.allowed_pools is not None and pool.name not in t.allowed_pools:
        return f"task {task!r} may not run on pool {pool.name!r} ({device})"
    if not math.isfinite(processing_time(problem, task, device)):
        return f"task {task!r} is forbidden on pool {pool.name!r} by a throughput override"
    return None


def _check_placement(problem: Problem, plan: Plan) -> list[str]:
    errors = []
    if plan.fractions:
        placed = {t: list(s.items()) for t, s in plan.fractions.items()}
        for task, shares in placed.items():
            total = sum(f for _, f in shares)
            if any(f < -1e-9 for _, f in shares) or not _close(total, 1.0, 1e-6):
                errors.append(f"task {task!r} has fractions summing to {total:.9g}, not 1")
    else:
        placed = {t: [(d, 1.0)] for t, d in plan.assignment.items()}
    for task, shares in placed.items():
        for device, f in shares:
            if f > 1e-9:
                problem_ = _check_one(problem, task, device)
                if problem_:
                    errors.append(problem_)
    for t in problem.tasks:
        if t.name not in placed:
            errors.append(f"task {t.name!r} is not assigned")
    return errors


def _check_schedule(problem: Problem, plan: Plan) -> list[str]:
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
        if s.task not in problem.task_index or s.device not in problem.device_index:
            continue
        want = s.fraction * processing_time(problem, s.task, s.device)
        if s.start < -1e-9 or not _close(s.end - s.start, want):
            errors.append(f"task {s.task!r} on {s.device} lasts {s.end - s.start:.9g}s, "
                          f"expected {want:.9g}s")
        deadline = problem.tasks[problem.task_index[s.task]].deadline
        if deadline is not None and s.end > deadline * (1 + REL):
            errors.append(f"task {s.task!r} ends at {s.end:.9g}s, after its deadline {deadline:.9g}s")
        horizon = problem.device_horizon[problem.device_index[s.device]]
        if s.end > horizon * (1 + REL):
            errors.append(f"task {s.task!r} ends at {s.end:.9g}s, after the horizon "
                          f"{horizon:.9g}s of {s.device}")
    for device, slots in by_device.items():
        slots = sorted(slots, key=lambda s: s.start)
        for a, b in zip(slots, slots[1:]):
            if b.start < a.end - REL * max(1.0, a.end):
                errors.append(f"tasks {a.task!r} and {b.task!r} overlap on {device}")
    return errors


def _check_amounts(problem: Problem, plan: Plan) -> list[str]:
    errors = []
    for task in plan.amounts:
        if task not in problem.task_index:
            errors.append(f"unknown task {task!r}")
    if plan.objective_name == "utilization":
        compute_cap, memory_cap = fleet_capacity(problem)
        total = 0.0
        for t in problem.tasks:
            share = plan.amounts.get(t.name, {}).get("share")
            if share is None:
                errors.append(f"task {t.name!r} has no allocated share")
                continue
            total += share
            if share * compute_cap < t.compute * (1 - REL):
                errors.append(f"task {t.name!r} gets {share * compute_cap:.6g} FLOP of compute, "
                              f"less than its {t.compute:.6g}")
            if share * memory_cap < t.memory * (1 - REL):
                errors.append(f"task {t.name!r} gets {share * memory_cap:.6g} bytes of memory, "
                              f"less than its {t.memory:.6g}")
            if share > 1 + REL:
                errors.append(f"task {t.name!r} gets {share:.6g} of the fleet, more than all of it")
        if total > 1 + REL:
            errors.append(f"shares add up to {total:.6g} of the fleet, more than all of it")
        return errors
    used: dict[str, float] = {}
    for t in problem.tasks:
        got = plan.amounts.get(t.name, {})
        for kind, amount in got.items():
            want = t.demand.get(kind, 0.0)
            if amount < -REL * max(1.0, want) or amount > want * (1 + REL) + 1e-9:
                errors.append(f"task {t.name!r} gets {amount:.6g}s of {kind}, outside [0, {want:.6g}]")
            used[kind] = used.get(kind, 0.0) + amount
    for kind, amount in used.items():
        cap = kind_capacity(problem, kind)
        if amount > cap * (1 + REL) + 1e-9:
            errors.append(f"{kind} is allocated {amount:.6g} device-seconds, more than its "
                          f"capacity {cap:.6g}")
    return errors
