"""Solve a built model into a Plan, in stages that share one time budget.

1. **Starts** (a fifth of the limit, or 5 s without one): the quick heuristics; the LP
   relaxation (also the reported ``lp_bound``), rounded into a second candidate where the
   formulation allows; local search polishes the better one.
2. If the LP bound proves the best start within ``mip_gap``, that is the plan (optimal) and
   no MIP runs.
3. **The solver**, warm-started from the best start, with what is left (at least a tenth of
   the limit); half of it goes to large-neighbourhood search afterwards when the solver stops
   at its limit.
4. **The plan**: the solver's answer decoded, or the best start where the solver found
   nothing better; an aggregated plan repacked by local search where the bound shows it lost.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

from ..backends import SolveOptions, Termination
from ..domain.plan import Plan, Status, sequence
from ..domain.problem import Problem
from ..model.assignment import Built
from ..objectives import get
from ..reductions import neighbourhoods as lns
from .budget import FLOOR, Budget
from .candidate import Candidate
from .relaxation import by_columns, relaxation
from .starts import encoded, lp_rounding, polish, quick_plan

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
HEURISTIC_SECONDS = 5.0     # for them without a limit
LNS_SHARE = 0.5             # of what is left after them, for neighbourhood search


@dataclass(frozen=True)
class ModelRun:
    """What one solve of a built model works on, and how."""

    problem: Problem
    built: Built
    engine: object                      # a backend module
    solver: str | None
    options: SolveOptions
    common: dict                        # Plan fields every outcome carries

    @property
    def objective(self) -> str:
        return self.common["objective_name"]

    def user(self, v) -> float | None:
        """Model units -> the user's objective."""
        return None if v is None else float(v * self.built.scale)


@dataclass
class Starts:
    """The best start so far, the LP relaxation and what it proves."""

    best: Candidate | None
    relaxed: object = None              # the relaxation's RawResult, when optimal
    lp: float | None = None             # its value, when asked for
    polished: bool = False

    def proven(self, run: ModelRun) -> bool:
        """The LP bound proves the best start within the gap."""
        return self.best is not None and self.relaxed is not None and \
            run.built.sense == "min" and \
            self.best.value - run.user(self.relaxed.objective) <= \
            run.options.mip_gap * max(abs(self.best.value), 1e-12)


def solve_model(problem: Problem, built: Built, engine, solver: str | None,
                options: SolveOptions, *, lp_bound: bool, warm_start: bool,
                progress=None, common: dict, start: Candidate | None = None,
                time_limit_given: float | None = None) -> Plan:
    """Solve ``built`` (see the module docstring). ``start``, where given, stands for the
    quick heuristics; ``time_limit_given`` is the limit the user gave, for messages."""
    run = ModelRun(problem, built, engine, solver, options, common)
    budget = Budget(options.time_limit)
    heuristics_end = budget.share_end(HEURISTIC_SHARE, HEURISTIC_SECONDS)
    starts = _starts(run, budget, heuristics_end, lp_bound=lp_bound, warm_start=warm_start,
                     start=start)
    if starts.proven(run):                  # no MIP to run
        best = starts.best
        return Plan(status=Status.OPTIMAL, objective=best.value,
                    bound=run.user(starts.relaxed.objective), lp_bound=starts.lp,
                    solve_seconds=budget.spent(), warm_start=best.source,
                    assignment=best.assignment, schedule=sequence(problem, best.assignment),
                    **common, solver=starts.relaxed.solver, sense=built.sense)
    raw, seed = _run_solver(run, budget, starts, warm_start=warm_start, start=start,
                            progress=progress)
    return _plan_of(run, budget, starts, raw, seed, time_limit_given)


def _starts(run: ModelRun, budget: Budget, end: float, *, lp_bound: bool, warm_start: bool,
            start: Candidate | None) -> Starts:
    """Stage 1: the quick heuristics, the LP relaxation and its rounding, polished."""
    problem, built, objective, seed = run.problem, run.built, run.objective, run.options.seed
    quick = start if start is not None else \
        quick_plan(problem, objective, seed, end, improve=False) if warm_start else None
    starts = Starts(quick)
    guide = warm_start and built.integral is not None and problem.sense == "min"
    sift = by_columns(built, run.engine)
    if built.model.is_mip and (lp_bound or guide):
        if warm_start and sift:
            # Column generation starts from the warm start's columns: the better the start,
            # the fewer rounds.
            starts.best = polish(problem, objective, starts.best, seed, end)
            starts.polished = True
        relaxed = relaxation(built, run.engine, run.solver, replace(
            run.options, warm_start=None, progress=None, time_limit=budget.left()),
            encoded(built, starts.best) if sift else None)
        log.info("LP relaxation: %s (%s) in %.2fs", relaxed.termination.name.lower(),
                 relaxed.message, relaxed.seconds)
        if relaxed.termination is Termination.OPTIMAL:
            starts.relaxed = relaxed
    if guide and starts.relaxed is not None:
        rounded = lp_rounding(problem, objective, built.integral(starts.relaxed.x), seed)
        if rounded is not None and rounded.beats(starts.best):
            starts.best = rounded
            starts.polished = False
    if lp_bound and starts.relaxed is not None:
        starts.lp = run.user(starts.relaxed.objective)
    if warm_start and not starts.proven(run) and not starts.polished:
        starts.best = polish(problem, objective, starts.best, seed, end)
    return starts


def _run_solver(run: ModelRun, budget: Budget, starts: Starts, *, warm_start: bool,
                start: Candidate | None, progress) -> tuple:
    """Stage 3: the backend from the best start, then neighbourhood search; ``(raw result,
    the candidate it started from)``."""
    built, options = run.built, run.options
    x0, seed = (encoded(built, starts.best), starts.best) if built.model.is_mip else (None, None)
    if x0 is None and start is not None and built.model.is_mip:
        x0, seed = encoded(built, start), start          # the start always fits the columns
    report = None if progress is None else (       # seconds since this stage began
        lambda _seconds, incumbent, bound: progress(budget.spent(), run.user(incumbent),
                                                    run.user(bound)))
    search = warm_start and x0 is not None and built.pairs is not None and \
        budget.limit is not None
    limit = budget.left()                                # what the starts left
    if limit is not None and (search or run.common["strategy"] == "aggregated"):
        limit = max(FLOOR * budget.limit, (1 - LNS_SHARE) * limit)   # half for the search
    solver_options = replace(options, warm_start=x0, progress=report, time_limit=limit)
    raw = run.engine.solve(built.model, solver_options, run.solver)
    if search and raw.termination in (Termination.FEASIBLE, Termination.NO_SOLUTION):
        raw = _neighbourhoods(run, solver_options, raw, x0, budget.end)
    return raw, seed


def _plan_of(run: ModelRun, budget: Budget, starts: Starts, raw, seed: Candidate | None,
             time_limit_given: float | None) -> Plan:
    """Stage 4: the solver's answer, or the best start where it found nothing better."""
    problem, built = run.problem, run.built
    common = {**run.common, "solver": raw.solver, "sense": built.sense}
    status = STATUS_OF[raw.termination]
    lp = starts.lp if status in (Status.OPTIMAL, Status.FEASIBLE, Status.NO_SOLUTION) else None
    bound = run.user(raw.bound)
    if lp is not None:
        bound = lp if bound is None else (max(bound, lp) if built.sense == "min" else min(bound, lp))
    started_from = seed.source if seed is not None and raw.warm_started else None
    fields = built.decode(raw.x) if status.has_plan else None
    value = None if fields is None else fields.pop("objective", run.user(raw.objective))
    best = starts.best
    if best is not None and status in (Status.FEASIBLE, Status.NO_SOLUTION) and \
            (value is None or best.value < value):
        # The solver stopped at a limit with nothing better than the quick heuristic: keep it.
        status, started_from, value = Status.FEASIBLE, best.source, best.value
        fields = {"assignment": best.assignment, "schedule": sequence(problem, best.assignment)}
    if not status.has_plan:
        return Plan(status=status, reason=_why_none(run, status, raw, time_limit_given),
                    solve_seconds=budget.spent(), bound=lp, lp_bound=lp, **common)
    if run.common["strategy"] == "aggregated":
        status, value, fields = _repacked(run, budget, status, value, bound, fields)
    return Plan(status=status, objective=value, bound=bound, lp_bound=lp,
                solve_seconds=budget.spent(), warm_start=started_from, **common, **fields)


def _repacked(run: ModelRun, budget: Budget, status: Status, value: float, bound: float | None,
              fields: dict) -> tuple[Status, float, dict]:
    """An aggregated plan whose packing inside the pools lost against the bound, improved by
    local search on the devices; optimal only if proven within the gap of the bound."""
    problem, gap = run.problem, run.options.mip_gap
    if bound is not None and value > bound * (1 + gap):
        polished = polish(problem, run.objective, Candidate("", fields["assignment"], value),
                          run.options.seed, budget.end_or(HEURISTIC_SECONDS))
        if polished.value < value:
            value = polished.value
            fields = {"assignment": polished.assignment,
                      "schedule": sequence(problem, polished.assignment)}
    if status is Status.OPTIMAL and bound is not None and \
            abs(value - bound) / max(abs(value), 1e-12) > gap + 1e-9:
        # The aggregated model was solved, but the plan packed from it is not proven within
        # the requested gap of the bound.
        status = Status.FEASIBLE
    return status, value, fields


def _neighbourhoods(run: ModelRun, options: SolveOptions, raw, x0, end: float):
    """Large-neighbourhood search (:mod:`allocator.reductions.neighbourhoods`) from the better
    of the solver's incumbent and the warm start, until ``end``; ``raw`` with the improved
    solution."""
    model = run.built.model
    x = x0
    if raw.x is not None and raw.objective is not None and \
            raw.objective <= model.objective_value(x0):
        x = raw.x
    started = time.perf_counter()
    report = None if options.progress is None else (     # the live line follows the search
        lambda value: options.progress(None, value, raw.bound))
    best, rounds = lns.search(model, run.built.pairs, x, run.engine, run.solver, options,
                              end, seed=options.seed, busiest=get(run.objective).score == "bottleneck",
                              on_improve=report)
    log.info("neighbourhood search: %d improving sub-models in %.1fs", rounds,
             time.perf_counter() - started)
    value = model.objective_value(best)
    if raw.objective is not None and value >= raw.objective:
        return raw
    return replace(raw, x=best, objective=value, termination=Termination.FEASIBLE)


def _why_none(run: ModelRun, status: Status, raw, time_limit_given: float | None) -> str:
    """Why there is no plan, in words."""
    if status is Status.INFEASIBLE:
        return _infeasible_reason(run.problem, run.objective)
    if status is Status.NO_SOLUTION:
        limit = time_limit_given or run.options.time_limit
        return (f"the time limit of {'none' if limit is None else f'{limit:g} s'} passed "
                f"before {raw.solver} found any plan")
    if status is Status.UNBOUNDED:
        return "the model is unbounded (a bug: please report it)"
    return f"{raw.solver} failed: {raw.message}"


def _infeasible_reason(problem: Problem, objective: str) -> str:
    parts = []
    limits = get(objective).limits
    if problem.horizon is not None and "horizon" in limits:
        parts.append(f"the horizon of {problem.horizon / 3600:g}h")
    if "deadlines" in limits and any(t.deadline is not None for t in problem.tasks):
        parts.append("the task deadlines")
    what = " and ".join(parts) or "the constraints"
    return (f"no plan places every task within {what}: the solver proved it; every task fits "
            f"somewhere on its own, so relax {what} or add devices")
