"""Checks that need the whole problem: what an objective requires, and infeasibility that can
be pinned on one culprit (a task that fits no device, a deadline or horizon too short)."""

from __future__ import annotations

import numpy as np

from ..errors import ProblemError
from .problem import ASSIGNMENT_OBJECTIVES, OBJECTIVES, Problem
from .units import format_quantity as fq


class InfeasibleError(ProblemError):
    """The input is well-formed but admits no plan; the message names the culprit."""


_NEEDS_COMPUTE = ASSIGNMENT_OBJECTIVES + ("utilization",)


def check_objective_inputs(problem: Problem, objective: str) -> None:
    """Raise :class:`ProblemError` if ``objective`` lacks an input it needs."""
    if objective not in OBJECTIVES:
        raise ProblemError(f"unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")
    if problem.sense != "min" and objective != "cost":
        raise ProblemError(f"sense {problem.sense!r} applies to the cost objective only, not "
                           f"{objective!r}", "sense")
    for i, t in enumerate(problem.tasks):
        if objective in _NEEDS_COMPUTE:
            if t.memory is None:
                raise ProblemError(f"task {t.name!r} has no 'memory'; the {objective} "
                                   f"objective needs it", f"tasks[{i}]")
            if t.compute is None:
                timed = problem.time.get(t.name, {})
                missing = [p.name for j, p in enumerate(problem.pools)
                           if problem.allowed[i, j] and p.name not in timed]
                if missing or objective == "utilization":
                    where = (f" (nor a 'time' for pool {missing[0]!r})"
                             if missing and t.name in problem.time else "")
                    raise ProblemError(f"task {t.name!r} has no 'compute'{where}; the "
                                       f"{objective} objective needs it", f"tasks[{i}]")
        if objective == "weighted_shortfall" and not t.demand:
            raise ProblemError(f"task {t.name!r} has no 'demand'; the weighted_shortfall "
                               f"objective needs device-time per kind, e.g. demand: {{gpu: 10h}}",
                               f"tasks[{i}]")
    if objective in ("weighted_shortfall", "utilization"):
        for j, p in enumerate(problem.pools):
            if p.horizon is None and problem.horizon is None:
                raise ProblemError(f"the {objective} objective needs a 'horizon' to know the "
                                   f"capacity of the fleet: pool {p.name!r} has none, and "
                                   f"there is no top-level one", f"pools[{j}]")
    if objective == "cost":
        missing = np.argwhere(np.isnan(problem.price))
        if missing.size:
            i, j = missing[0]
            raise ProblemError(f"pool {problem.pools[j].name!r} has no 'cost_per_hour' (and task "
                               f"{problem.tasks[i].name!r} no 'cost' for it); the cost "
                               f"objective needs one", f"pools[{j}]")


def _fit_error(problem: Problem, i: int) -> str:
    t = problem.tasks[i]
    considered = [j for j, p in enumerate(problem.pools)
                  if (t.allowed_kinds is None or p.kind in t.allowed_kinds)
                  and (t.allowed_pools is None or p.name in t.allowed_pools)]
    if not considered:
        return (f"task {t.name!r} allows kinds {list(t.allowed_kinds or ['any'])} and pools "
                f"{list(t.allowed_pools or ['any'])}, but no pool matches both")
    fast = [j for j in considered if np.isfinite(problem.raw_ptime[i, j])]
    if not fast:
        return (f"task {t.name!r} may not run on any pool it allows "
                f"({', '.join(problem.pools[j].name for j in considered)}): "
                f"the throughput or time overrides forbid them all")
    best = max(fast, key=lambda j: problem.pools[j].memory)
    return (f"task {t.name!r} needs {fq(t.memory, 'bytes')} of memory, but the largest device "
            f"it may use has {fq(problem.pools[best].memory, 'bytes')} "
            f"(pool {problem.pools[best].name!r})")


def infeasibility(problem: Problem, objective: str) -> str | None:
    """A reason naming the culprit if the problem is plainly infeasible, else ``None``.

    These are necessary conditions only; the solver decides the rest.
    """
    found = culprit(problem, objective)
    return None if found is None else found[0]


def culprit(problem: Problem, objective: str) -> tuple[str, str | None] | None:
    """:func:`infeasibility`'s reason and the field path it points at (``tasks[3]``)."""
    if objective == "weighted_shortfall":
        return None                       # going short is allowed
    fits = problem.eligible.any(axis=1)
    if not fits.all():
        i = int(np.flatnonzero(~fits)[0])
        return _fit_error(problem, i), f"tasks[{i}]"
    fastest = problem.ptime.min(axis=1)
    if objective == "utilization":
        compute_cap, memory_cap = problem.fleet_flop, problem.fleet_memory
        share = np.maximum([t.compute / compute_cap for t in problem.tasks],
                           [t.memory / memory_cap for t in problem.tasks])
        if share.sum() > 1 + 1e-9:
            worst = int(np.argmax(share))
            return (f"the tasks need {share.sum():.1%} of the fleet over its horizons "
                    f"(largest: task {problem.tasks[worst].name!r} "
                    f"with {share[worst]:.1%}); lengthen the horizon or add devices"), "horizon"
        return None
    within = problem.ptime <= problem.pool_horizon[None, :] * (1 + 1e-9)
    if objective != "load_balance":
        for i, t in enumerate(problem.tasks):
            j = int(np.argmin(problem.ptime[i]))
            if t.deadline is not None and fastest[i] > t.deadline * (1 + 1e-9):
                return (f"task {t.name!r} has deadline {fq(t.deadline, 'time')} but needs at "
                        f"least {fq(fastest[i], 'time')} on its fastest pool "
                        f"{problem.pools[j].name!r}"), f"tasks[{i}].deadline"
            if not within[i].any():
                return (f"task {t.name!r} needs at least {fq(fastest[i], 'time')} on its fastest "
                        f"pool {problem.pools[j].name!r}, longer than the horizon of "
                        f"{fq(problem.pool_horizon[j], 'time')}"), f"tasks[{i}]"
    capacity = float(problem.device_horizon.sum())
    if np.isfinite(capacity) and fastest.sum() > capacity * (1 + 1e-9):
        hz = problem.device_horizon
        over = (f"the horizon of {fq(hz[0], 'time')}" if np.all(hz == hz[0])
                else "their horizons")
        return (f"the tasks need at least {fastest.sum() / 3600:.4g} device-hours even on "
                f"their fastest pools, but {len(problem.devices)} devices over {over} offer "
                f"{capacity / 3600:.4g}"), "horizon" if problem.horizon is not None else "pools"
    return None


def check_problem(problem: Problem, objective: str) -> None:
    """Raise :class:`ProblemError` (or :class:`InfeasibleError`) for bad input."""
    check_objective_inputs(problem, objective)
    found = culprit(problem, objective)
    if found is not None:
        raise InfeasibleError(*found)
