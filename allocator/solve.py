"""``solve()``: problem -> formulation -> backend -> Plan."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any, Callable, Mapping

from . import heuristics
from .backends import SolveOptions, Termination, default_backend, get_backend
from .checks import check_objective_inputs, infeasibility
from .errors import AllocatorError
from .formulations import FORMULATIONS, Built, aggregated
from .io import load
from .plan import Plan, Status, sequence
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


STRATEGIES = ("auto", "full", "aggregated", "decomposed")
FULL_PAIRS = 20_000        # task-device pairs up to which auto always keeps the full model


def solve(problem: Problem | str | Mapping[str, Any], *, objective: str | None = None,
          backend: str | None = None, solver: str | None = None,
          time_limit: float | None = None, mip_gap: float = 1e-6, threads: int | None = None,
          measure: str | None = None, lp_bound: bool = True, verbose: bool = False,
          method: str = "optimal", seed: int | None = 0, strategy: str = "auto",
          warm_start: bool = True, parts: int | None = None,
          progress: Callable[[float, float | None, float | None], None] | None = None) -> Plan:
    """Find an optimal plan.

    Parameters
    ----------
    problem : Problem, path or dict
        What to allocate; paths and dicts go through :func:`allocator.load`.
    objective : str, optional
        ``makespan``, ``cost``, ``weighted_shortfall``, ``utilization`` or ``load_balance``;
        default: the problem's own (``makespan`` unless the file says otherwise).
    backend : str, optional
        ``highs`` (HiGHS through highspy: warm starts, threads, progress; the default where
        highspy is installed), ``scipy`` (HiGHS inside SciPy) or ``pulp``.
    solver : str, optional
        For ``pulp``: any solver PuLP knows (``CBC`` default, ``HiGHS``, ``GUROBI``, ...).
    time_limit : float, optional
        Seconds; when reached, the best plan so far is returned with status ``feasible``, its
        bound and gap.
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
        For heuristics that use randomness, the solver's seed and the decomposition's split.
    strategy : str
        ``auto`` (default: chosen from the size and the pools, see docs/performance.md),
        ``full`` (a variable per task and device), ``aggregated`` (per task and pool, then a
        packing inside each pool; makespan without deadlines) or ``decomposed`` (random
        partition into ``parts`` sub-problems solved in parallel; makespan without deadlines).
        ``plan.strategy`` records the one used.
    warm_start : bool
        Start the solver from the best quick heuristic plan, on backends that accept one
        (``highs``; ``pulp`` with CBC). On every backend, a heuristic plan better than the
        solver's incumbent at the time limit is returned instead (``plan.warm_start`` names it).
    parts : int, optional
        Number of sub-problems for ``decomposed`` (default: about 2,500 tasks each).
    progress : callable, optional
        ``progress(seconds, incumbent, bound)`` while the solver runs (``highs`` backend).

    Returns
    -------
    Plan
        With ``status`` optimal / feasible / infeasible (with ``reason``) / no_solution / ...

    Raises
    ------
    ProblemError
        The problem is malformed or lacks an input the objective needs.
    AllocatorError
        Unknown backend, solver or strategy, or one that is not installed or does not apply.

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
    backend = backend or default_backend()
    engine = get_backend(backend) if method == "optimal" else None
    if engine is not None:
        strategy = choose_strategy(problem, objective, strategy)
    common = dict(problem=problem.name, objective_name=objective, method=method,
                  backend=backend if engine is not None else None, measure=measure,
                  strategy=strategy if engine is not None else None)
    reason = infeasibility(problem, objective)
    if reason is not None:
        return Plan(status=Status.INFEASIBLE, reason=reason, **common)
    if engine is None:
        return heuristics.run(problem, method, objective, seed)
    options = SolveOptions(time_limit=time_limit, mip_gap=mip_gap, threads=threads,
                           verbose=verbose, seed=seed)
    if strategy == "decomposed":
        from .decompose import solve_decomposed
        return solve_decomposed(problem, engine, solver, options, parts=parts, seed=seed,
                                lp_bound=lp_bound, common=common)
    formulation = aggregated if strategy == "aggregated" else FORMULATIONS[objective]
    start = time.perf_counter()
    built = (formulation.build(problem, measure) if objective == "load_balance"
             else formulation.build(problem))
    build_seconds = time.perf_counter() - start
    log.info("%s/%s: %d columns, %d rows, %d nonzeros, built in %.3fs", objective, strategy,
             built.model.n_cols, built.model.n_rows, built.model.A.nnz, build_seconds)
    return solve_built(problem, built, engine, solver, options, lp_bound=lp_bound,
                       warm_start=warm_start and built.encode is not None,
                       progress=progress, common={**common, "build_seconds": build_seconds})


def choose_strategy(problem: Problem, objective: str, strategy: str = "auto") -> str:
    """The strategy ``solve`` uses: ``strategy`` itself when forced (checked to apply), else
    chosen from the problem's size and pool structure.

    - ``full`` for every objective but makespan, with deadlines, and up to 20,000 task-device
      pairs (where it proves optimality quickly), and where pools hold fewer than 4 devices on
      average (aggregation loses most there: one LPT packing per pool of one or two devices);
    - ``decomposed`` above 1,000,000 task-pool pairs (measured to lose more than aggregation
      below that: docs/performance.md);
    - ``aggregated`` otherwise.
    """
    if strategy not in STRATEGIES:
        raise AllocatorError(f"unknown strategy {strategy!r}; choose one of "
                             f"{', '.join(STRATEGIES)}")
    simple = objective == "makespan" and not any(t.deadline is not None for t in problem.tasks)
    if strategy != "auto":
        if strategy != "full" and not simple:
            raise AllocatorError(f"the {strategy} strategy plans the makespan objective without "
                                 f"deadlines; use strategy='full' for this problem")
        return strategy
    n, d, k = len(problem.tasks), len(problem.devices), len(problem.pools)
    if not simple or n * d <= FULL_PAIRS or d / k < 4:
        return "full"
    return "decomposed" if n * k > 1_000_000 else "aggregated"


def quick_plan(problem: Problem, objective: str, seed: int | None = 0,
               ) -> tuple[str, dict[str, str], float] | None:
    """The best plan of the quick heuristics (name, assignment, value), or None if none is
    feasible: LPT up to 400,000 task-device pairs, earliest-finish up to 100,000 and local
    search up to 20,000 (they place task by task, device by device); above that, for makespan,
    ``pool_lpt`` (longest first to the least-loaded pool, then LPT inside each pool)."""
    if problem.sense != "min" or objective not in ("makespan", "cost"):
        return None
    size = len(problem.tasks) * len(problem.devices)
    names = [name for name, limit in (("lpt", 400_000), ("earliest_finish", 100_000),
                                      ("local_search", 20_000)) if size <= limit]
    best = None
    for name in names:
        plan = heuristics.run(problem, name, objective, seed)
        if plan.status.has_plan and (best is None or plan.objective < best[2]):
            best = (name, dict(plan.assignment), float(plan.objective))
    if best is None and objective == "makespan" and not problem.has_horizon and \
            not any(t.deadline is not None for t in problem.tasks):
        # Too large for the task-by-device rules: one pass over pools, then a packing.
        assignment = aggregated.pool_lpt(problem)
        schedule = sequence(problem, assignment)
        best = ("pool_lpt", assignment, max(s.end for s in schedule))
    return best


def solve_built(problem: Problem, built: Built, engine, solver: str | None,
                options: SolveOptions, *, lp_bound: bool, warm_start: bool,
                progress=None, common: dict) -> Plan:
    """Solve a built model (with a warm start and progress where asked) into a Plan."""
    objective = common["objective_name"]
    started = time.perf_counter()
    quick = quick_plan(problem, objective, options.seed) if warm_start else None
    heuristic_seconds = time.perf_counter() - started

    def user(v):                                    # model units -> the user's objective
        return None if v is None else float(v * built.scale)

    x0 = built.encode(quick[1]) if quick is not None and built.model.is_mip else None
    report = None
    if progress is not None:
        def report(seconds, incumbent, bound):
            progress(seconds + heuristic_seconds, user(incumbent), user(bound))
    limit = options.time_limit
    if limit is not None:                  # the quick heuristics spend part of the time limit
        limit = max(0.1 * limit, limit - heuristic_seconds)
    options = replace(options, warm_start=x0, progress=report, time_limit=limit)
    raw = engine.solve(built.model, options, solver)
    solve_seconds = heuristic_seconds + raw.seconds
    common = {**common, "solver": raw.solver, "sense": built.sense}
    status = STATUS_OF[raw.termination]
    lp = None
    if lp_bound and built.model.is_mip and status in (Status.OPTIMAL, Status.FEASIBLE,
                                                      Status.NO_SOLUTION):
        relaxed = engine.solve(built.model.relaxed(), replace(options, warm_start=None,
                                                              progress=None), solver)
        solve_seconds += relaxed.seconds
        if relaxed.termination is Termination.OPTIMAL:
            lp = user(relaxed.objective)
    bound = user(raw.bound)
    if lp is not None:
        bound = lp if bound is None else (max(bound, lp) if built.sense == "min" else min(bound, lp))
    started_from = quick[0] if raw.warm_started else None
    fields = built.decode(raw.x) if status.has_plan else None
    value = None if fields is None else fields.pop("objective", user(raw.objective))
    if quick is not None and status in (Status.FEASIBLE, Status.NO_SOLUTION) and \
            (value is None or quick[2] < value):
        # The solver stopped at a limit with nothing better than the quick heuristic: keep it.
        status, started_from, value = Status.FEASIBLE, quick[0], quick[2]
        fields = {"assignment": quick[1], "schedule": sequence(problem, quick[1])}
    if not status.has_plan:
        why = {Status.INFEASIBLE: _infeasible_reason(problem, objective),
               Status.NO_SOLUTION: f"the time limit of {options.time_limit}s passed before "
                                   f"{raw.solver} found any plan",
               Status.UNBOUNDED: "the model is unbounded (a bug: please report it)",
               Status.ERROR: f"{raw.solver} failed: {raw.message}"}[status]
        return Plan(status=status, reason=why, solve_seconds=solve_seconds, bound=lp,
                    lp_bound=lp, **common)
    if status is Status.OPTIMAL and bound is not None and common["strategy"] == "aggregated":
        gap = abs(value - bound) / max(abs(value), 1e-12)
        if gap > options.mip_gap + 1e-9:
            # The aggregated model was solved, but the plan packed from it is not proven
            # within the requested gap of the bound.
            status = Status.FEASIBLE
    return Plan(status=status, objective=value, bound=bound, lp_bound=lp,
                solve_seconds=solve_seconds, warm_start=started_from, **common, **fields)


def _infeasible_reason(problem: Problem, objective: str) -> str:
    parts = []
    if problem.horizon is not None and objective in ("makespan", "cost", "load_balance"):
        parts.append(f"the horizon of {problem.horizon / 3600:g}h")
    if objective in ("makespan", "cost") and any(t.deadline is not None for t in problem.tasks):
        parts.append("the task deadlines")
    what = " and ".join(parts) or "the constraints"
    return (f"no plan places every task within {what}: the solver proved it; every task fits "
            f"somewhere on its own, so relax {what} or add devices")
