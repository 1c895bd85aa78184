"""``solve()``: problem -> formulation -> backend -> Plan."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any, Callable, Mapping

from .. import heuristics
from ..backends import SolveOptions, Termination, default_backend, get_backend
from ..domain.checks import check_objective_inputs, infeasibility
from ..domain.plan import Plan, Status, sequence
from ..domain.problem import MEASURES, Problem
from ..errors import AllocatorError
from ..io.problem_files import load
from ..objectives import FORMULATIONS, Built
from ..reductions import aggregation as aggregated
from ..reductions import neighbourhoods as lns
from . import candidates
from .bounds import honest_bound, whole_problem_bound
from .relaxation import by_columns, relaxation
from .starts import encoded, lp_rounding, polish, quick_plan
from .strategy import choose_strategy

log = logging.getLogger("allocator")

STATUS_OF = {
    Termination.OPTIMAL: Status.OPTIMAL,
    Termination.FEASIBLE: Status.FEASIBLE,
    Termination.NO_SOLUTION: Status.NO_SOLUTION,
    Termination.INFEASIBLE: Status.INFEASIBLE,
    Termination.UNBOUNDED: Status.UNBOUNDED,
    Termination.ERROR: Status.ERROR,
}

HEURISTIC_SHARE = 0.2       # of the time limit, for the quick heuristics (5 s without a limit)
LNS_SHARE = 0.5             # of what is left after them, for neighbourhood search
BOUND_SHARE = 0.1           # of the limit, for the whole problem's bound of a restricted model


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
    started = time.perf_counter()           # every stage below draws on one time limit
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
        from .decomposed import solve_decomposed
        return honest_bound(solve_decomposed(problem, engine, solver, left(options, started),
                                             parts=parts, seed=seed, lp_bound=lp_bound,
                                             common=common, solve=solve))
    formulation = aggregated if strategy == "aggregated" else FORMULATIONS[objective]
    start = time.perf_counter()
    keep, first = None, None
    if strategy == "full" and objective in ("cost", "makespan") and \
            candidates.eligible_pairs(problem) > candidates.MODEL_PAIRS:
        # Too large to write in full: a greedy start over every pair, then a model over each
        # task's best pools (allocator.solver.candidates).
        first = candidates.greedy_fit(problem, objective) if warm_start else None
        keep = candidates.candidate_pools(problem, objective, first and first[1])
        built = formulation.build(problem, keep)
    else:
        built = (formulation.build(problem, measure) if objective == "load_balance"
                 else formulation.build(problem))
    build_seconds = time.perf_counter() - start
    log.info("%s/%s: %d columns, %d rows, %d nonzeros, built in %.3fs", objective, strategy,
             built.model.n_cols, built.model.n_rows, built.model.A.nnz, build_seconds)
    budget = left(options, started)
    if keep is not None and budget.time_limit is not None:      # time for the bound, after
        budget = replace(budget, time_limit=(1 - BOUND_SHARE) * budget.time_limit)
    plan = solve_built(problem, built, engine, solver, budget,
                       lp_bound=lp_bound, warm_start=warm_start and built.encode is not None,
                       progress=progress, common={**common, "build_seconds": build_seconds},
                       start=first, time_limit_given=time_limit)
    if keep is not None:
        end = started + time_limit if time_limit is not None else time.perf_counter() + 10.0
        plan = whole_problem_bound(problem, objective, plan, mip_gap, end)
    return honest_bound(plan)


def left(options: SolveOptions, started: float) -> SolveOptions:
    """``options`` with the time limit less what has been spent since ``started`` (at least a
    tenth of it, so the solver always gets a chance)."""
    if options.time_limit is None:
        return options
    spent = time.perf_counter() - started
    return replace(options, time_limit=max(0.1 * options.time_limit,
                                           options.time_limit - spent))


def solve_built(problem: Problem, built: Built, engine, solver: str | None,
                options: SolveOptions, *, lp_bound: bool, warm_start: bool,
                progress=None, common: dict, start=None,
                time_limit_given: float | None = None) -> Plan:
    """Solve a built model (with a warm start and progress where asked) into a Plan.

    With a warm start, the quick heuristics run first, then the LP relaxation (also the
    reported ``lp_bound``), rounded into a second candidate where the formulation allows;
    local search polishes the better one (all this within a fifth of the time limit, or 5 s
    without one). If the LP bound proves it within ``mip_gap``, that is the plan (optimal);
    otherwise it starts the solver with the time that is left (at least a tenth of the limit).
    ``start`` (name, assignment, value), where given, stands for the quick heuristics;
    ``time_limit_given`` is the limit the user gave, for messages.
    """
    objective = common["objective_name"]
    started = time.perf_counter()
    limit = options.time_limit
    deadline = started + (HEURISTIC_SHARE * limit if limit is not None else 5.0)
    quick = start if start is not None else \
        quick_plan(problem, objective, options.seed, deadline, improve=False) if warm_start \
        else None

    def user(v):                                    # model units -> the user's objective
        return None if v is None else float(v * built.scale)

    relaxed = None
    guide = warm_start and built.integral is not None and problem.sense == "min"
    polished = None
    sift = by_columns(built, engine)
    if built.model.is_mip and (lp_bound or guide):
        if warm_start and sift:
            # Column generation starts from the warm start's columns: the better the start,
            # the fewer rounds.
            quick = polished = polish(problem, objective, quick, options.seed, deadline)
        left = None if limit is None else max(0.1 * limit, started + limit - time.perf_counter())
        relaxed = relaxation(built, engine, solver, replace(
            options, warm_start=None, progress=None, time_limit=left),
            encoded(built, quick) if sift else None)
        log.info("LP relaxation: %s (%s) in %.2fs", relaxed.termination.name.lower(),
                 relaxed.message, relaxed.seconds)
        if relaxed.termination is not Termination.OPTIMAL:
            relaxed = None
    if guide and relaxed is not None:
        rounded = lp_rounding(problem, objective, built.integral(relaxed.x), options.seed)
        if rounded is not None and (quick is None or rounded[2] < quick[2]):
            quick = rounded
    lp = user(relaxed.objective) if lp_bound and relaxed is not None else None

    def proven() -> bool:          # the LP bound proves the start within the gap
        return quick is not None and relaxed is not None and built.sense == "min" and \
            quick[2] - user(relaxed.objective) <= options.mip_gap * max(abs(quick[2]), 1e-12)
    if warm_start and not proven() and quick is not polished:
        quick = polish(problem, objective, quick, options.seed, deadline)
    heuristic_seconds = time.perf_counter() - started
    if proven():                   # no MIP to run
        return Plan(status=Status.OPTIMAL, objective=quick[2], bound=user(relaxed.objective),
                    lp_bound=lp, solve_seconds=heuristic_seconds, warm_start=quick[0],
                    assignment=quick[1], schedule=sequence(problem, quick[1]),
                    **common, solver=relaxed.solver, sense=built.sense)

    x0, seed_plan = (encoded(built, quick), quick) if built.model.is_mip else (None, None)
    if x0 is None and start is not None and built.model.is_mip:
        x0, seed_plan = encoded(built, start), start     # the start always fits the columns
    report = None
    if progress is not None:
        def report(_seconds, incumbent, bound):       # seconds since solve() began
            progress(time.perf_counter() - started, user(incumbent), user(bound))
    search = warm_start and x0 is not None and built.pairs is not None and limit is not None
    repack = common["strategy"] == "aggregated"
    end = None if limit is None else started + limit
    if limit is not None:          # the heuristics and the relaxation spend part of the limit
        limit = max(0.1 * limit, limit - heuristic_seconds)
        if search or repack:       # half of what is left goes to the search after the MIP
            limit = max(0.1 * options.time_limit, (1 - LNS_SHARE) * limit)
    options = replace(options, warm_start=x0, progress=report, time_limit=limit)
    raw = engine.solve(built.model, options, solver)
    if search and raw.termination in (Termination.FEASIBLE, Termination.NO_SOLUTION):
        raw = _neighbourhoods(built, engine, solver, options, raw, x0, end,
                              busiest=objective == "makespan")
    solve_seconds = time.perf_counter() - started
    common = {**common, "solver": raw.solver, "sense": built.sense}
    status = STATUS_OF[raw.termination]
    if status not in (Status.OPTIMAL, Status.FEASIBLE, Status.NO_SOLUTION):
        lp = None
    bound = user(raw.bound)
    if lp is not None:
        bound = lp if bound is None else (max(bound, lp) if built.sense == "min" else min(bound, lp))
    started_from = seed_plan[0] if raw.warm_started else None
    fields = built.decode(raw.x) if status.has_plan else None
    value = None if fields is None else fields.pop("objective", user(raw.objective))
    if quick is not None and status in (Status.FEASIBLE, Status.NO_SOLUTION) and \
            (value is None or quick[2] < value):
        # The solver stopped at a limit with nothing better than the quick heuristic: keep it.
        status, started_from, value = Status.FEASIBLE, quick[0], quick[2]
        fields = {"assignment": quick[1], "schedule": sequence(problem, quick[1])}
    if not status.has_plan:
        why = {Status.INFEASIBLE: _infeasible_reason(problem, objective),
               Status.NO_SOLUTION: f"the time limit of "
                                   f"{_seconds(time_limit_given or options.time_limit)} passed "
                                   f"before {raw.solver} found any plan",
               Status.UNBOUNDED: "the model is unbounded (a bug: please report it)",
               Status.ERROR: f"{raw.solver} failed: {raw.message}"}[status]
        return Plan(status=status, reason=why, solve_seconds=solve_seconds, bound=lp,
                    lp_bound=lp, **common)
    if repack and bound is not None and value > bound * (1 + options.mip_gap):
        # The packing inside the pools lost against the bound: local search on the devices.
        polished = polish(problem, objective, ("", fields["assignment"], value), options.seed,
                          end if end is not None else time.perf_counter() + 5.0)
        if polished[2] < value:
            value = polished[2]
            fields = {"assignment": polished[1], "schedule": sequence(problem, polished[1])}
        solve_seconds = time.perf_counter() - started
    if status is Status.OPTIMAL and bound is not None and repack:
        gap = abs(value - bound) / max(abs(value), 1e-12)
        if gap > options.mip_gap + 1e-9:
            # The aggregated model was solved, but the plan packed from it is not proven
            # within the requested gap of the bound.
            status = Status.FEASIBLE
    return Plan(status=status, objective=value, bound=bound, lp_bound=lp,
                solve_seconds=solve_seconds, warm_start=started_from, **common, **fields)


def _neighbourhoods(built: Built, engine, solver, options: SolveOptions, raw, x0, end: float,
                    busiest: bool):
    """Large-neighbourhood search (:mod:`allocator.reductions.neighbourhoods`) from the better of the solver's
    incumbent and the warm start, until ``end``; ``raw`` with the improved solution."""
    x = x0
    if raw.x is not None and raw.objective is not None and \
            raw.objective <= built.model.objective_value(x0):
        x = raw.x
    started = time.perf_counter()
    report = None
    if options.progress is not None:
        def report(value):                           # the live line follows the search
            options.progress(None, value, raw.bound)
    best, rounds = lns.search(built.model, built.pairs, x, engine, solver, options, end,
                              seed=options.seed, busiest=busiest, on_improve=report)
    log.info("neighbourhood search: %d improving sub-models in %.1fs", rounds,
             time.perf_counter() - started)
    value = built.model.objective_value(best)
    if raw.objective is not None and value >= raw.objective:
        return raw
    return replace(raw, x=best, objective=value, termination=Termination.FEASIBLE)


def _seconds(value: float | None) -> str:
    return "none" if value is None else f"{value:g} s"


def _infeasible_reason(problem: Problem, objective: str) -> str:
    parts = []
    if problem.horizon is not None and objective in ("makespan", "cost", "load_balance"):
        parts.append(f"the horizon of {problem.horizon / 3600:g}h")
    if objective in ("makespan", "cost") and any(t.deadline is not None for t in problem.tasks):
        parts.append("the task deadlines")
    what = " and ".join(parts) or "the constraints"
    return (f"no plan places every task within {what}: the solver proved it; every task fits "
            f"somewhere on its own, so relax {what} or add devices")
