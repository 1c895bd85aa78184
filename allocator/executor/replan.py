"""Planning again, in the middle of a run, for the tasks that still need a device.

The re-plan solves the *same* problem — every field of the tasks and pools, the throughput,
time and cost tables, eligibility, the objective of the plan being run — restricted to the
tasks still waiting and the devices still usable, with one single-device pool per device so
that a task can be kept off one device of a pool. The clock has moved on: deadlines and
horizons are shortened by the time elapsed; if that leaves no feasible plan, it solves
again without them (a late task is better than an unrun one), then falls back to a
heuristic. What it does not know is how long the tasks running now still need; their
devices are planned as free.

It is a pure function of its inputs, so the runner calls it without holding its lock.
"""

from __future__ import annotations

from dataclasses import replace

from ..domain.problem import Problem
from ..objectives import HEURISTIC

# The objectives a re-plan keeps: those the heuristics plan too (the last resort below).
RUNNABLE_OBJECTIVES = HEURISTIC


def replan(problem: Problem, tasks: dict[str, list[str]], *, objective: str, elapsed: float,
           time_limit: float) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Queues for ``tasks`` (task -> the devices it may still use) and, for tasks no plan
    could place, the reason."""
    from ..solver.pipeline import solve
    if not tasks:
        return {}, {}
    objective = objective if objective in RUNNABLE_OBJECTIVES else "makespan"
    sub = subproblem(problem, tasks, elapsed=elapsed)
    plan = None
    for attempt in (sub, _without_time_limits(sub)):
        if attempt is None:
            continue
        plan = solve(attempt, objective=objective, time_limit=time_limit, lp_bound=False)
        if not plan.status.has_plan:
            plan = solve(attempt, objective="makespan", method="earliest_finish")
        if plan.status.has_plan:
            break
    queues: dict[str, list[str]] = {}
    for slot in sorted(plan.schedule, key=lambda s: (s.start, s.task)):
        queues.setdefault(_device_of(slot.device), []).append(slot.task)
    placed = {t for q in queues.values() for t in q}
    unplaced = {t: f"the re-plan found no place for it ({plan.status}"
                   + (f": {plan.reason})" if plan.reason else ")")
                for t in tasks if t not in placed}
    return queues, unplaced


def _device_of(sub_device: str) -> str:
    return sub_device[:-len("[0]")]                  # the pool 'gpu[1]' has one device, 'gpu[1][0]'


def subproblem(problem: Problem, tasks: dict[str, list[str]], *, elapsed: float) -> Problem:
    """``problem`` restricted to ``tasks`` on their allowed devices, one pool per device,
    deadlines and horizons shortened by ``elapsed`` seconds."""
    devices = sorted({d for allowed in tasks.values() for d in allowed},
                     key=problem.device_index.__getitem__)
    pools = []
    for d in devices:
        pool = problem.pool_of(d)
        pools.append(replace(pool, name=d, count=1,
                             horizon=_left(pool.horizon, elapsed)))
    chosen = [problem.tasks[problem.task_index[t]] for t in tasks]
    new_tasks = tuple(replace(t, allowed_kinds=None, allowed_pools=tuple(tasks[t.name]),
                              deadline=_left(t.deadline, elapsed))
                      for t in chosen)
    return problem.restricted(f"{problem.name} (re-plan)", new_tasks, tuple(pools),
                              {d: problem.pool_of(d).name for d in devices},
                              _left(problem.horizon, elapsed))


def _left(limit: float | None, elapsed: float) -> float | None:
    """What is left of a time limit; a limit already past stays as the smallest one, so that
    the solver sees it cannot be met (the fallback then drops it)."""
    if limit is None:
        return None
    return max(limit - elapsed, 1e-9)


def _without_time_limits(sub: Problem) -> Problem | None:
    if sub.horizon is None and all(p.horizon is None for p in sub.pools) \
            and all(t.deadline is None for t in sub.tasks):
        return None
    return replace(sub, horizon=None, pools=tuple(replace(p, horizon=None) for p in sub.pools),
                   tasks=tuple(replace(t, deadline=None) for t in sub.tasks))


__all__ = ["replan", "subproblem"]
