"""``solve()``: problem -> formulation -> backend -> Plan."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any, Callable, Mapping

import numpy as np

from . import candidates, heuristics, lns
from .backends import SolveOptions, Termination, default_backend, get_backend
from .checks import check_objective_inputs, infeasibility
from .errors import AllocatorError
from .formulations import FORMULATIONS, Built, aggregated
from .io import load
from .model import rank_in_group
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
        from .decompose import solve_decomposed
        return honest_bound(solve_decomposed(problem, engine, solver, left(options, started),
                                             parts=parts,
                                             seed=seed, lp_bound=lp_bound, common=common))
    formulation = aggregated if strategy == "aggregated" else FORMULATIONS[objective]
    start = time.perf_counter()
    keep, first = None, None
    if strategy == "full" and objective in ("cost", "makespan") and \
            candidates.eligible_pairs(problem) > candidates.MODEL_PAIRS:
        # Too large to write in full: a greedy start over every pair, then a model over each
        # task's best pools (allocator.candidates).
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


def whole_problem_bound(problem: Problem, objective: str, plan: Plan, mip_gap: float,
                        deadline: float) -> Plan:
    """A plan of a restricted model, with a bound that holds for the whole problem in place
    of the restriction's own (allocator.candidates): optimal only if that bound proves it."""
    if not plan.status.has_plan and plan.status is not Status.NO_SOLUTION:
        return plan
    if plan.objective is None or objective != "cost" or problem.sense != "min":
        bound = candidates.relaxed_bound(problem, objective)
    else:           # its first step, with no multipliers, is the relaxed bound
        bound = candidates.lagrangian_bound(problem, plan.objective, deadline)
    if plan.objective is None:
        return replace(plan, bound=bound, lp_bound=None)
    gap = (plan.objective - bound) / max(abs(plan.objective), 1e-12)
    status = Status.OPTIMAL if gap <= mip_gap + 1e-12 else Status.FEASIBLE
    return replace(plan, status=status, bound=bound, lp_bound=None)


def honest_bound(plan: Plan, rel: float = 1e-6) -> Plan:
    """A plan whose proven bound is on the wrong side of its objective (above it when
    minimising, below when maximising) is a solver error, not a gap below zero: the plan is
    kept, but its status says ``error`` with both numbers, so no one trusts the proof."""
    if plan.objective is None or plan.bound is None or not plan.status.has_plan:
        return plan
    slack = rel * max(1.0, abs(plan.objective))
    wrong = (plan.bound > plan.objective + slack if plan.sense == "min"
             else plan.bound < plan.objective - slack)
    if not wrong:
        return plan
    side = "above" if plan.sense == "min" else "below"
    log.error("%s reported bound %r %s objective %r", plan.solver, plan.bound, side,
              plan.objective)
    return replace(plan, status=Status.ERROR,
                   reason=f"solver error: {plan.solver or plan.backend} reported a bound of "
                          f"{plan.bound:.9g}, {side} the objective {plan.objective:.9g} of its "
                          f"own plan; neither can be trusted (try another backend)")


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


QUICK = {"lpt": 400_000, "earliest_finish": 100_000}   # task-device pairs each rule may take
REGRET = {"cost": 400_000, "makespan": 100_000}          # the regret rule, per objective
IMPROVE = 20_000            # task-device pairs for local search without a deadline
IMPROVE_DEADLINE = 10_000_000                           # and with one
HEURISTIC_SHARE = 0.2       # of the time limit, for the quick heuristics (5 s without a limit)
LNS_SHARE = 0.5             # of what is left after them, for neighbourhood search
BOUND_SHARE = 0.1           # of the limit, for the whole problem's bound of a restricted model
SIFT_COLUMNS = 50_000       # columns from which the LP relaxation goes by column generation
SIFT_START = 2              # each task's fastest columns it starts from (with the warm start's)


def quick_plan(problem: Problem, objective: str, seed: int | None = 0,
               deadline: float | None = None, improve: bool = True,
               ) -> tuple[str, dict[str, str], float] | None:
    """The best plan of the quick heuristics (name, assignment, value), or None if none is
    feasible.

    The constructive rules run where the size allows: LPT up to 400,000 task-device pairs,
    earliest-finish up to 100,000, regret up to 400,000 for cost and 100,000 for makespan.
    Above those sizes, for cost or with horizons, ``greedy_fit`` (allocator.candidates: regret
    or LPT order, each task to its best device with room, in numpy); for makespan without
    horizons or deadlines, ``pool_lpt`` (longest first to the least-loaded pool, then LPT
    inside each pool). With ``improve``, local search then polishes the best (see
    :func:`polish`). No new rule starts after ``deadline`` (a ``time.perf_counter`` value).
    """
    if problem.sense != "min" or objective not in ("makespan", "cost"):
        return None
    size = len(problem.tasks) * len(problem.devices)
    limits = {**QUICK, "regret": REGRET[objective]}
    best = None
    for name, limit in limits.items():
        if size > limit or (deadline is not None and time.perf_counter() > deadline):
            continue
        plan = heuristics.run(problem, name, objective, seed)
        if plan.status.has_plan and (best is None or plan.objective < best[2]):
            best = (name, dict(plan.assignment), float(plan.objective))
    if best is None and (objective == "cost" or problem.has_horizon) and \
            (deadline is None or time.perf_counter() <= deadline):
        # Too large for the rules above, with capacity to respect (pool_lpt, below, ignores
        # it): one greedy pass in numpy (allocator.candidates).
        best = candidates.greedy_fit(problem, objective)
    if best is None and objective == "makespan" and not problem.has_horizon and \
            not any(t.deadline is not None for t in problem.tasks):
        # Too large for the task-by-device rules: one pass over pools, then a packing.
        assignment = aggregated.pool_lpt(problem)
        schedule = sequence(problem, assignment)
        best = ("pool_lpt", assignment, max(s.end for s in schedule))
    return polish(problem, objective, best, seed, deadline) if improve else best


def polish(problem: Problem, objective: str, start: tuple[str, dict[str, str], float] | None,
           seed: int | None, deadline: float | None):
    """Local search from ``start`` (name, assignment, value) up to 20,000 task-device pairs,
    or 10,000,000 with a ``deadline``, where it stops; the start itself (or None) when it finds
    nothing better. The name becomes ``<start>+local_search``."""
    size = len(problem.tasks) * len(problem.devices)
    if start is None or size > (IMPROVE if deadline is None else IMPROVE_DEADLINE):
        return start
    assignment = heuristics.improve(problem, start[1], objective, seed=seed, deadline=deadline)
    value = heuristics.value(problem, assignment, objective)
    if value < start[2] - 1e-9 * max(1.0, abs(start[2])):
        return (f"{start[0]}+local_search", assignment, value)
    return start


def lp_rounding(problem: Problem, objective: str, whole: dict[int, int], seed: int | None,
                ) -> tuple[str, dict[str, str], float] | None:
    """LP rounding: keep the tasks the LP relaxation places whole and place the split ones by
    the regret rule (name ``lp_rounding``); None if that gets stuck."""
    assignment, reason = heuristics.HEURISTICS["regret"](problem, objective, seed, fixed=whole)
    if reason is not None:
        return None
    return ("lp_rounding", assignment, heuristics.value(problem, assignment, objective))


def relaxation(built: Built, engine, solver: str | None, options: SolveOptions,
               x0: np.ndarray | None = None):
    """The LP relaxation of ``built.model``. With 50,000 columns or more, where the backend
    offers it (``highs``) and the formulation names each column's task, by column generation:
    from each task's two fastest columns and those of the warm start ``x0``, adding the others
    as they price out, to the same optimum as the whole LP (docs/formulations.md)."""
    model = built.model.relaxed()
    if not by_columns(built, engine):
        return engine.solve(model, options, solver)
    task, seconds = built.task_columns
    group = np.full(model.n_cols, -1)
    group[:task.size] = task
    start = np.zeros(model.n_cols, bool)
    start[:task.size] = rank_in_group(task, seconds) < SIFT_START
    if x0 is not None:
        start |= x0 > 0.5
    return engine.relax_by_columns(model, options, start, group)


def by_columns(built: Built, engine) -> bool:
    """Whether :func:`relaxation` goes by column generation."""
    return hasattr(engine, "relax_by_columns") and built.task_columns is not None and \
        built.model.n_cols >= SIFT_COLUMNS


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
    """Large-neighbourhood search (:mod:`allocator.lns`) from the better of the solver's
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


def encoded(built: Built, plan) -> np.ndarray | None:
    """The model's vector for a (name, assignment, value) plan, or None where the model cannot
    express it (no encoder, or a plan off the candidate columns: it stays a plan, but not a
    start)."""
    if plan is None or built.encode is None:
        return None
    try:
        return built.encode(plan[1])
    except ValueError as exc:
        log.info("%s is not a start for this model: %s", plan[0], exc)
        return None


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
