"""Checks that need the whole problem: the inputs an objective may require, and infeasibility
that can be pinned on one culprit (a task that fits no device, a deadline or horizon too
short, more work than the horizons hold). Each objective (:mod:`allocator.objectives`) says
which of these apply to it."""

from __future__ import annotations

import numpy as np

from ..errors import ProblemError
from .problem import Problem
from .units import format_quantity as fq


class InfeasibleError(ProblemError):
    """The input is well-formed but admits no plan; the message names the culprit."""


def require_supported(problem: Problem, objective: str, on_nodes: bool) -> None:
    """Refuse what the domain can say but the objective does not plan: a task holding several
    devices at once or with a release time (no model plans these yet); cluster nodes and
    node requests (cores, GPUs, named resources) for an objective that plans devices, and
    devices for one that plans nodes (``on_nodes``)."""
    online = "; jobs that arrive over time or hold several devices are simulated with " \
             "`allocator simulate` (docs/online.md)"
    for i, t in enumerate(problem.tasks):
        if t.devices != 1:
            raise ProblemError(f"task {t.name!r} asks for {t.devices} devices at once; every "
                               f"model of solve plans one device per task{online}",
                               f"tasks[{i}]")
        if t.release != 0:
            raise ProblemError(f"task {t.name!r} has a release time; every model of solve "
                               f"plans all tasks from time 0{online}", f"tasks[{i}]")
    if on_nodes:
        if not problem.on_nodes:
            raise ProblemError(f"the {objective} objective places tasks on cluster nodes; "
                               "describe them under 'nodes:' (cores, memory, GPUs), not "
                               "'pools:'", "pools")
        return
    if problem.on_nodes:
        raise ProblemError(f"the {objective} objective plans devices ('pools:'); a cluster of "
                           "nodes is planned by the packing, fragmentation or node_makespan "
                           "objective", "objective")
    for i, t in enumerate(problem.tasks):
        asked = [k for k, v in (("cpu", t.cpu), ("gpus", t.gpus), ("gpu_share", t.gpu_share),
                                ("gpu_models", t.gpu_models)) if v] + list(t.requests)
        if asked:
            raise ProblemError(f"task {t.name!r} requests {', '.join(asked)} of a node; the "
                               f"{objective} objective plans devices, which offer compute "
                               "and memory only (packing, fragmentation and node_makespan "
                               "plan nodes)", f"tasks[{i}]")
    for j, p in enumerate(problem.pools):
        if p.resources:
            raise ProblemError(f"pool {p.name!r} offers {', '.join(p.resources)}; the models "
                               f"plan memory and throughput only", f"pools[{j}]")


def require_compute_and_memory(problem: Problem, objective: str, *,
                               compute_always: bool = False) -> None:
    """Every task has a memory, and a compute (or, unless ``compute_always``, a ``time`` for
    every pool it may use)."""
    for i, t in enumerate(problem.tasks):
        if t.memory is None:
            raise ProblemError(f"task {t.name!r} has no 'memory'; the {objective} "
                               f"objective needs it", f"tasks[{i}]")
        if t.compute is None:
            timed = problem.time.get(t.name, {})
            missing = [p.name for j, p in enumerate(problem.pools)
                       if problem.allowed[i, j] and p.name not in timed]
            if missing or compute_always:
                where = (f" (nor a 'time' for pool {missing[0]!r})"
                         if missing and t.name in problem.time else "")
                raise ProblemError(f"task {t.name!r} has no 'compute'{where}; the "
                                   f"{objective} objective needs it", f"tasks[{i}]")


def require_demand(problem: Problem, objective: str) -> None:
    """Every task says how much device-time of each kind it wants."""
    for i, t in enumerate(problem.tasks):
        if not t.demand:
            raise ProblemError(f"task {t.name!r} has no 'demand'; the {objective} "
                               f"objective needs device-time per kind, e.g. demand: {{gpu: 10h}}",
                               f"tasks[{i}]")


def require_horizon(problem: Problem, objective: str) -> None:
    """Every pool has a horizon (its own or the problem's): the fleet's capacity is finite."""
    for j, p in enumerate(problem.pools):
        if p.horizon is None and problem.horizon is None:
            raise ProblemError(f"the {objective} objective needs a 'horizon' to know the "
                               f"capacity of the fleet: pool {p.name!r} has none, and "
                               f"there is no top-level one", f"pools[{j}]")


def require_prices(problem: Problem, objective: str) -> None:
    """Every eligible (task, pool) pair has a price."""
    missing = np.argwhere(np.isnan(problem.price))
    if missing.size:
        i, j = missing[0]
        raise ProblemError(f"pool {problem.pools[j].name!r} has no 'cost_per_hour' (and task "
                           f"{problem.tasks[i].name!r} no 'cost' for it); the {objective} "
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


def unplaceable(problem: Problem) -> tuple[str, str] | None:
    """A task that fits no device, with the reason and its field path."""
    fits = problem.eligible.any(axis=1)
    if fits.all():
        return None
    i = int(np.flatnonzero(~fits)[0])
    return _fit_error(problem, i), f"tasks[{i}]"


def too_slow(problem: Problem) -> tuple[str, str] | None:
    """A task that misses its deadline, or outlasts every horizon, even on its fastest pool."""
    fastest = problem.ptime.min(axis=1)
    within = problem.ptime <= problem.pool_horizon[None, :] * (1 + 1e-9)
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
    return None


def over_capacity(problem: Problem) -> tuple[str, str] | None:
    """More device-time needed, even on the fastest pools, than the horizons offer."""
    fastest = problem.ptime.min(axis=1)
    capacity = float(problem.device_horizon.sum())
    if not (np.isfinite(capacity) and fastest.sum() > capacity * (1 + 1e-9)):
        return None
    hz = problem.device_horizon
    over = (f"the horizon of {fq(hz[0], 'time')}" if np.all(hz == hz[0])
            else "their horizons")
    return (f"the tasks need at least {fastest.sum() / 3600:.4g} device-hours even on "
            f"their fastest pools, but {len(problem.devices)} devices over {over} offer "
            f"{capacity / 3600:.4g}"), "horizon" if problem.horizon is not None else "pools"
