"""``solve()``: problem -> checks -> strategy -> model (or parts, or a heuristic) -> Plan.

The stages that solve a built model are :mod:`.model_solve`; the choice of strategy
:mod:`.strategy`; decomposition :mod:`.decomposed`; the bounds :mod:`.bounds`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any, Callable, Mapping

from .. import heuristics
from ..backends import SolveOptions, default_backend, get_backend
from ..domain.plan import Plan, Status
from ..domain.problem import MEASURES, Problem
from ..errors import AllocatorError
from ..io.problem_files import load
from .. import objectives
from ..reductions.aggregation import Aggregation
from . import restriction
from .bounds import honest_bound, whole_problem_bound
from .budget import Budget
from .model_solve import solve_model
from .strategy import choose_strategy

log = logging.getLogger("allocator")

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
        packing inside each pool; makespan without deadlines), ``decomposed`` (random
        partition into ``parts`` sub-problems solved in parallel; makespan without deadlines)
        or ``configurations`` (packing on a cluster: node groups and task types, patterns
        found by pricing; auto's choice beyond 2,000,000 node-by-node columns).
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
    budget = Budget(time_limit)              # every stage below draws on one time limit
    problem = load(problem)
    objective = objective or problem.objective
    objectives.check_inputs(problem, objective)
    if measure is not None and measure not in MEASURES:
        raise AllocatorError(f"unknown measure {measure!r}; choose one of {', '.join(MEASURES)}")
    measure = (measure or problem.measure) if objectives.get(objective).measures else None
    backend = backend or default_backend()
    engine = get_backend(backend) if method == "optimal" else None
    if engine is not None:
        strategy = choose_strategy(problem, objective, strategy)
    common = dict(problem=problem.name, objective_name=objective, method=method,
                  backend=backend if engine is not None else None, measure=measure,
                  strategy=strategy if engine is not None else None)
    reason = objectives.infeasibility(problem, objective)
    if reason is not None:
        return Plan(status=Status.INFEASIBLE, reason=reason, **common)
    if engine is None:
        return heuristics.run(problem, method, objective, seed)
    options = SolveOptions(time_limit=time_limit, mip_gap=mip_gap, threads=threads,
                           verbose=verbose, seed=seed)
    if objectives.get(objective).timed:
        from .timed import solve_timed
        return honest_bound(solve_timed(problem, engine, options, budget, common))
    if strategy == "configurations":
        from .configurations import solve_configurations
        return honest_bound(solve_configurations(problem, engine, options, budget, common,
                                                 progress))
    if strategy == "decomposed":
        from .decomposed import solve_decomposed
        return honest_bound(solve_decomposed(
            problem, engine, solver, options, budget, parts=parts, seed=seed,
            lp_bound=lp_bound, common=common, solve=solve))
    return honest_bound(_by_model(problem, engine, solver, options, budget, common,
                                  lp_bound=lp_bound, warm_start=warm_start, progress=progress))


def _by_model(problem: Problem, engine, solver: str | None, options: SolveOptions,
              budget: Budget, common: dict, *, lp_bound: bool, warm_start: bool,
              progress) -> Plan:
    """Build the objective's model (or the aggregated one; restricted to each task's best
    pools when too large to write in full) and solve it."""
    objective, strategy, measure = common["objective_name"], common["strategy"], common["measure"]
    formulation = objectives.get(objective)
    start = time.perf_counter()
    keep, first = None, None
    if strategy == "full" and objectives.get(objective).heuristics and \
            restriction.eligible_pairs(problem) > restriction.MODEL_PAIRS:
        # Too large to write in full: a greedy start over every pair, then a model over each
        # task's best pools (allocator.solver.restriction).
        first = restriction.greedy_fit(problem, objective) if warm_start else None
        keep = restriction.candidate_pools(problem, objective, first and first.assignment)
        built = formulation.build(problem, keep)
    elif strategy == "aggregated":
        built, _ = Aggregation().apply(problem)       # its decode inverts
    else:
        built = (formulation.build(problem, measure) if measure is not None
                 else formulation.build(problem))
    build_seconds = time.perf_counter() - start
    log.info("%s/%s: %d columns, %d rows, %d nonzeros, built in %.3fs", objective, strategy,
             built.model.n_cols, built.model.n_rows, built.model.A.nnz, build_seconds)
    left = budget.left()
    if keep is not None and left is not None:        # time for the bound, after
        left = (1 - BOUND_SHARE) * left
    plan = solve_model(problem, built, engine, solver, replace(options, time_limit=left),
                       lp_bound=lp_bound, warm_start=warm_start and built.encode is not None,
                       progress=progress, common={**common, "build_seconds": build_seconds},
                       start=first, time_limit_given=budget.limit)
    if keep is not None:
        plan = whole_problem_bound(problem, objective, plan, options.mip_gap,
                                   budget.end_or(10.0))
    return plan
