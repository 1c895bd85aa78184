"""``solve()``: problem -> formulation -> backend -> Plan."""

from __future__ import annotations

import logging
import time
from typing import Any, Mapping

from . import heuristics
from .backends import SolveOptions, Termination, get_backend
from .checks import check_objective_inputs, infeasibility
from .errors import AllocatorError
from .formulations import FORMULATIONS
from .io import load
from .plan import Plan, Status
from .problem import MEASURES, Problem

log = logging.getLogger("allocator")

STATUS_OF = {
    Termination.OPTIMAL: Status.OPTIMAL,
    Termination.FEASIBLE: Status.FEASIBLE,
    Termination.NO_SOLUTION: Status.NO_SOLUTION,
    Termination.INFEASIBLE: Status.INFEASIBLE,
    Termination.UNBOUNDED: Status.UNBOUNDED,
    Termination.ERROR: Status.ERROR,
}


def solve(problem: Problem | str | Mapping[str, Any], *, objective: str | None = None,
          backend: str = "scipy", solver: str | None = None, time_limit: float | None = None,
          mip_gap: float = 1e-6, threads: int | None = None, measure: str | None = None,
          lp_bound: bool = True, verbose: bool = False, method: str = "optimal",
          seed: int | None = 0) -> Plan:
    """Find an optimal plan.

    Parameters
    ----------
    problem : Problem, path or dict
        What to allocate; paths and dicts go through :func:`allocator.load`.
    objective : str, optional
        ``makespan``, ``cost``, ``weighted_shortfall``, ``utilization`` or ``load_balance``;
        default: the problem's own (``makespan`` unless the file says otherwise).
    backend : str
        ``scipy`` (HiGHS inside SciPy, default) or ``pulp``.
    solver : str, optional
        For ``pulp``: any solver PuLP knows (``CBC`` default, ``HiGHS``, ``GUROBI``, ...).
    time_limit : float, optional
        Seconds; when reached, the best plan so far is returned with status ``feasible``.
    mip_gap : float
        Relative gap at which the solver may stop and call the plan optimal.
    measure : str, optional
        For ``load_balance``: ``max_load`` or ``inverse_sum``; default: the problem's.
    lp_bound : bool
        Also solve the LP relaxation of integer models and report it as ``plan.lp_bound``.
    method : str
        ``optimal`` (the model, default) or a heuristic from
        :data:`allocator.heuristics.HEURISTICS` (``fcfs``, ``lpt``, ``local_search``, ...),
        for the makespan and cost objectives; heuristic plans have status ``feasible``.
    seed : int, optional
        For heuristics that use randomness (``local_search``).

    Returns
    -------
    Plan
        With ``status`` optimal / feasible / infeasible (with ``reason``) / no_solution / ...

    Raises
    ------
    ProblemError
        The problem is malformed or lacks an input the objective needs.
    AllocatorError
        Unknown backend or solver, or one that is not installed.

    >>> plan = solve("problems/small/two-devices.yaml")
    >>> plan.status, plan.objective
    (<Status.OPTIMAL: 'optimal'>, 5.0)
    """
    problem = load(problem)
    objective = objective or problem.objective
    check_objective_inputs(problem, objective)
    if measure is not None and measure not in MEASURES:
        raise AllocatorError(f"unknown measure {measure!r}; choose one of {', '.join(MEASURES)}")
    if objective == "load_balance":
        measure = measure or problem.measure
    else:
        measure = None
    engine = get_backend(backend) if method == "optimal" else None
    common = dict(problem=problem.name, objective_name=objective, method=method,
                  backend=backend if engine is not None else None, measure=measure)
    reason = infeasibility(problem, objective)
    if reason is not None:
        return Plan(status=Status.INFEASIBLE, reason=reason, **common)
    if engine is None:
        return heuristics.run(problem, method, objective, seed)
    options = SolveOptions(time_limit=time_limit, mip_gap=mip_gap, threads=threads,
                           verbose=verbose)
    formulation = FORMULATIONS[objective]

    start = time.perf_counter()
    built = (formulation.build(problem, measure) if objective == "load_balance"
             else formulation.build(problem))
    build_seconds = time.perf_counter() - start
    log.info("%s: %d columns, %d rows, %d nonzeros, built in %.3fs", objective,
             built.model.n_cols, built.model.n_rows, built.model.A.nnz, build_seconds)

    raw = engine.solve(built.model, options, solver)
    solve_seconds = raw.seconds
    common.update(solver=raw.solver, build_seconds=build_seconds, sense=built.sense)
    status = STATUS_OF[raw.termination]

    def user(v):                                    # model units -> the user's objective
        return None if v is None else float(v * built.scale)

    lp = None
    if lp_bound and built.model.is_mip and status in (Status.OPTIMAL, Status.FEASIBLE,
                                                      Status.NO_SOLUTION):
        relaxed = engine.solve(built.model.relaxed(), options, solver)
        solve_seconds += relaxed.seconds
        if relaxed.termination is Termination.OPTIMAL:
            lp = user(relaxed.objective)
    if not status.has_plan:
        why = {Status.INFEASIBLE: _infeasible_reason(problem, objective),
               Status.NO_SOLUTION: f"the time limit of {time_limit}s passed before "
                                   f"{raw.solver} found any plan",
               Status.UNBOUNDED: "the model is unbounded (a bug: please report it)",
               Status.ERROR: f"{raw.solver} failed: {raw.message}"}[status]
        return Plan(status=status, reason=why, solve_seconds=solve_seconds, bound=lp,
                    lp_bound=lp, **common)
    fields = built.decode(raw.x)
    value = fields.pop("objective", user(raw.objective))
    bound = user(raw.bound)
    if lp is not None:
        bound = lp if bound is None else (max(bound, lp) if built.sense == "min" else min(bound, lp))
    return Plan(status=status, objective=value, bound=bound, lp_bound=lp,
                solve_seconds=solve_seconds, **common, **fields)


def _infeasible_reason(problem: Problem, objective: str) -> str:
    parts = []
    if problem.horizon is not None and objective in ("makespan", "cost", "load_balance"):
        parts.append(f"the horizon of {problem.horizon / 3600:g}h")
    if objective in ("makespan", "cost") and any(t.deadline is not None for t in problem.tasks):
        parts.append("the task deadlines")
    what = " and ".join(parts) or "the constraints"
    return (f"no plan places every task within {what}: the solver proved it; every task fits "
            f"somewhere on its own, so relax {what} or add devices")
