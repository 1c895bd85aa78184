"""HiGHS driven directly through highspy: the engine under both SciPy and PuLP's HiGHS, with
what those interfaces leave out — a warm start (``setSolution``), a thread count, a seed and a
progress callback with the incumbent and the bound while the solver runs."""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import replace

import numpy as np

from ..model.sparse import LinearModel, rank_in_group
from .base import (
    Capabilities,
    Progress,
    RawResult,
    SolveOptions,
    Termination,
    importable,
    only_highs,
    solver_chatter_hidden,
)

name = "highs"
CAPABILITIES = Capabilities(warm_start=True, progress=True, threads=True,
                            column_generation=True, duals=True)
# HiGHS model statuses (by name) -> Termination. A limit (FEASIBLE here) becomes NO_SOLUTION
# when HiGHS has no feasible incumbent; any status not listed is an ERROR.
STATUS_MAP = {
    "kOptimal": Termination.OPTIMAL,
    "kInfeasible": Termination.INFEASIBLE,
    "kUnbounded": Termination.UNBOUNDED,
    "kUnboundedOrInfeasible": Termination.INFEASIBLE,
    "kTimeLimit": Termination.FEASIBLE,
    "kIterationLimit": Termination.FEASIBLE,
    "kSolutionLimit": Termination.FEASIBLE,
    "kInterrupt": Termination.FEASIBLE,
    "kObjectiveBound": Termination.FEASIBLE,
    "kObjectiveTarget": Termination.FEASIBLE,
}


def available() -> bool:
    return importable("highspy")


def solvers() -> list[str]:
    return ["HiGHS"]


def _pass(h, model: LinearModel) -> None:
    """Give HiGHS the model in one call (rows compressed; an infinite or undefined bound is
    HiGHS's infinity). One call instead of a ``HighsLp`` filled field by field: that cost a
    small LP more than a third of its solve."""
    import highspy
    A = model.A.tocsr()

    def bound(values, infinite: float) -> np.ndarray:
        return np.where(np.isfinite(values), values, infinite).astype(float)

    h.passModel(model.n_cols, model.n_rows, A.nnz, int(highspy.MatrixFormat.kRowwise),
                int(highspy.ObjSense.kMinimize), float(model.c0),
                np.asarray(model.c, dtype=float), bound(model.col_lo, -np.inf),
                bound(model.col_hi, np.inf), bound(model.row_lo, -np.inf),
                bound(model.row_hi, np.inf), np.asarray(A.indptr, dtype=np.int32),
                np.asarray(A.indices, dtype=np.int32), np.asarray(A.data, dtype=float),
                model.integrality.astype(np.int32))      # HighsVarType: 0 continuous, 1 integer


_this_thread = threading.local()
SMALL_LP = 10_000      # nonzeros: an LP this small is solved in milliseconds


def _scheduler(threads: int | None) -> None:
    """HiGHS keeps one task scheduler per calling thread, sized by the first run on that
    thread; a later run asking for another thread count fails ("global scheduler has already
    been initialized") unless the scheduler is reset first. Reset it when the count asked
    for differs from the one it was made with (a default run leaves that unknown)."""
    import highspy
    want, have = threads or 0, getattr(_this_thread, "threads", None)
    if have is None:
        _this_thread.threads = want
    elif want and want != have:
        highspy.Highs.resetGlobalScheduler(True)
        _this_thread.threads = want


def _highs(options: SolveOptions, reuse: bool = False):
    """A HiGHS instance set to ``options``. ``reuse``: this thread's kept instance, cleared
    (model, solver data and options, as a new one), when no solve on the thread holds it:
    making an instance costs more than solving the small LPs that online policies solve by
    the thousand."""
    import highspy
    _scheduler(options.threads)
    kept = getattr(_this_thread, "kept", None)
    if reuse and kept is not None and not _this_thread.busy:
        kept.clear()
        h = kept
    else:
        with solver_chatter_hidden(not options.verbose):
            h = highspy.Highs()
        if reuse and kept is None:
            _this_thread.kept, _this_thread.busy = h, False
    h.setOptionValue("output_flag", bool(options.verbose))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    if not options.presolve:
        h.setOptionValue("presolve", "off")
    if options.time_limit is not None:
        h.setOptionValue("time_limit", float(options.time_limit))
    if options.threads is not None:
        h.setOptionValue("threads", int(options.threads))
    if options.seed is not None:
        h.setOptionValue("random_seed", int(options.seed))
    return h


def solve(model: LinearModel, options: SolveOptions, solver: str | None = None) -> RawResult:
    only_highs(name, solver)
    # a kept instance keeps its clock (a time limit counts every run on it) and progress
    # callbacks: a solve with either gets a new one
    h = _highs(options, reuse=options.progress is None and options.time_limit is None)
    held = h is getattr(_this_thread, "kept", None)
    if held:
        _this_thread.busy = True
    try:
        return _solve(h, model, options)
    finally:
        if held:
            _this_thread.busy = False


def _solve(h, model: LinearModel, options: SolveOptions) -> RawResult:
    import highspy
    mip = model.is_mip
    _pass(h, model)
    warm = False
    if options.warm_start is not None and mip:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(options.warm_start, dtype=float)
        sol.value_valid = True
        warm = h.setSolution(sol) == highspy.HighsStatus.kOk
    if options.progress is not None and mip:
        _subscribe(h, model, options.progress)
    start = time.perf_counter()
    _run(h, watch=mip or model.A.nnz > SMALL_LP)
    seconds = time.perf_counter() - start
    status = h.getModelStatus()
    term = STATUS_MAP.get(status.name, Termination.ERROR)
    # the info (a copy of some hundred fields) only where it matters: a MIP's bound, or
    # whether a stopped solve has a solution
    info = h.getInfo() if mip or term is Termination.FEASIBLE else None
    if term is Termination.FEASIBLE and \
            info.primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        term = Termination.NO_SOLUTION
    x = None
    solution = h.getSolution() if term in (Termination.OPTIMAL, Termination.FEASIBLE) else None
    if solution is not None:
        x = np.asarray(solution.col_value, dtype=float)
        if mip:
            x = np.where(model.integrality, np.round(x), x)
    objective = model.objective_value(x) if x is not None else None
    bound = None
    if mip and term in (Termination.OPTIMAL, Termination.FEASIBLE, Termination.NO_SOLUTION):
        dual = float(info.mip_dual_bound)
        if np.isfinite(dual):
            bound = dual
    duals = None
    if not mip and term is Termination.OPTIMAL:
        bound = objective
        duals = np.asarray(solution.row_dual, dtype=float)
    return RawResult(term, x, objective, bound, seconds, "HiGHS",
                     h.modelStatusToString(status), warm_started=warm, duals=duals)


def relax_by_columns(model: LinearModel, options: SolveOptions, start: np.ndarray,
                     group: np.ndarray, per_group: int = 3) -> RawResult:
    """The LP relaxation of ``model`` by column generation (sifting), for models with many
    more columns than rows.

    The LP is solved over the columns in ``start`` (a boolean mask) only; then the reduced
    cost ``c - A^T y`` of every column is computed from the row duals ``y``, and for each
    ``group`` (the task of a column; -1 for columns that are always kept) its ``per_group``
    most negative ones join, and the LP is solved again from its last basis. When no column
    prices out below HiGHS's dual feasibility tolerance, the restricted optimum is optimal for
    the whole LP: its value is the relaxation's, exactly as a solve of the whole model would
    give it, with the other columns at zero. A restricted LP that is infeasible falls back to
    the whole model; the time limit, once reached, leaves no bound (``NO_SOLUTION``), since
    the restricted value bounds nothing until the pricing is done.
    """
    import highspy
    relaxed = model.relaxed()
    started = time.perf_counter()
    end = None if options.time_limit is None else started + options.time_limit
    keep = start | (group < 0)
    assert np.all(relaxed.col_lo[~keep] == 0), "columns left out must rest at zero"
    cols = np.flatnonzero(keep)
    A = relaxed.A.tocsc()
    h = _highs(options)
    _pass(h, replace(relaxed, c=relaxed.c[cols], A=A[:, cols].tocsr(),
                     col_lo=relaxed.col_lo[cols], col_hi=relaxed.col_hi[cols],
                     integrality=relaxed.integrality[cols], col_names=None))
    tol = float(h.getOptionValue("dual_feasibility_tolerance")[1])
    M = highspy.HighsModelStatus
    rounds = 0
    while True:
        if end is not None:
            left = end - time.perf_counter()
            if left <= 0:
                break
            h.setOptionValue("time_limit", h.getRunTime() + left)    # HiGHS counts all runs
        _run(h)
        status = h.getModelStatus()
        if status == M.kInfeasible or status == M.kUnboundedOrInfeasible:
            return solve(relaxed, replace(options, time_limit=None if end is None else
                                          max(0.0, end - time.perf_counter())))
        if status != M.kOptimal:
            break
        solution = h.getSolution()
        reduced = relaxed.c - A.T @ np.asarray(solution.row_dual)
        enter = np.flatnonzero((reduced < -tol) & ~keep)
        if enter.size == 0:
            x = np.zeros(relaxed.n_cols)
            x[cols] = solution.col_value
            value = relaxed.objective_value(x)
            return RawResult(Termination.OPTIMAL, x, value, value,
                             time.perf_counter() - started, "HiGHS",
                             f"optimal by column generation: {rounds} rounds, "
                             f"{cols.size} of {relaxed.n_cols} columns")
        enter = enter[rank_in_group(group[enter], reduced[enter]) < per_group]
        keep[enter] = True
        cols = np.r_[cols, enter]
        block = A[:, enter]
        h.addCols(enter.size, relaxed.c[enter], relaxed.col_lo[enter], relaxed.col_hi[enter],
                  block.nnz, block.indptr.astype(np.int32), block.indices.astype(np.int32),
                  block.data)
        rounds += 1
    return RawResult(Termination.NO_SOLUTION, None, None, None, time.perf_counter() - started,
                     "HiGHS", f"time limit during column generation ({rounds} rounds)")


def _run(h, watch: bool = True) -> None:
    """``h.run()``, stopped cleanly by Ctrl-C. While HiGHS works, SIGINT only sets a flag; the
    interrupt callbacks HiGHS calls see it and ask HiGHS to stop (an exception inside a
    callback would be reported by HiGHS as a solve error), and KeyboardInterrupt is raised
    once HiGHS has returned. Signal handlers belong to the main thread: elsewhere HiGHS just
    runs, and a handler the caller installed (or SIGINT ignored) is left as it is. Without
    ``watch`` (a small LP, done in milliseconds: the callbacks would cost it a third of its
    time), HiGHS just runs and Ctrl-C takes effect when it returns."""
    if not watch or threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        h.run()
        return
    interrupted: list[bool] = []

    def on_signal(_signum, _frame) -> None:
        interrupted.append(True)

    def watch(event) -> None:
        if interrupted:
            event.interrupt()

    events = (h.cbSimplexInterrupt, h.cbIpmInterrupt, h.cbMipInterrupt)
    for event in events:
        event.subscribe(watch)
    previous = signal.signal(signal.SIGINT, on_signal)
    try:
        h.run()
    finally:
        signal.signal(signal.SIGINT, previous)
        for event in events:
            event.unsubscribe(watch)
    if interrupted:
        raise KeyboardInterrupt


def _subscribe(h, model: LinearModel, progress: Progress, every: float = 0.2) -> None:
    """Report (seconds, incumbent, bound) to ``progress`` at most every ``every`` seconds, and
    on every improving solution."""
    last = [-np.inf]

    def report(event, force: bool = False) -> None:
        out = event.data_out
        t = float(out.running_time)
        if not force and t - last[0] < every:
            return
        last[0] = t
        primal, dual = float(out.mip_primal_bound), float(out.mip_dual_bound)
        progress(t, primal if abs(primal) < 1e30 else None,
                 dual if abs(dual) < 1e30 else None)

    h.cbMipInterrupt.subscribe(lambda e: report(e))
    h.cbMipImprovingSolution.subscribe(lambda e: report(e, force=True))
