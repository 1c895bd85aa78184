"""HiGHS through ``scipy.optimize.milp`` — the embedded default backend."""

from __future__ import annotations

import time

import numpy as np

from ..model.sparse import LinearModel
from .base import Capabilities, RawResult, SolveOptions, Termination, only_highs

name = "scipy"
# scipy.optimize.milp takes no starting solution, reports no progress and runs one thread.
CAPABILITIES = Capabilities(warm_start=False, progress=False, threads=False,
                            column_generation=False)

# scipy.optimize.milp status codes.
STATUS_MAP = {
    0: Termination.OPTIMAL,
    1: Termination.FEASIBLE,       # iteration or time limit; refined below when x is None
    2: Termination.INFEASIBLE,
    3: Termination.UNBOUNDED,
    4: Termination.ERROR,
}


def available() -> bool:
    return True


def solvers() -> list[str]:
    return ["HiGHS"]


def solve(model: LinearModel, options: SolveOptions, solver: str | None = None) -> RawResult:
    only_highs(name, solver)
    opts: dict = {"disp": options.verbose, "mip_rel_gap": options.mip_gap,
                  "presolve": options.presolve}
    if options.time_limit is not None:
        opts["time_limit"] = float(options.time_limit)
    from scipy.optimize import Bounds, LinearConstraint, milp   # 0.3 s: only to solve
    constraints = (LinearConstraint(model.A, model.row_lo, model.row_hi)
                   if model.n_rows else None)
    start = time.perf_counter()
    res = milp(model.c, integrality=model.integrality.astype(np.uint8),
               bounds=Bounds(model.col_lo, model.col_hi), constraints=constraints,
               options=opts)
    seconds = time.perf_counter() - start
    term = STATUS_MAP.get(res.status, Termination.ERROR)
    x = None if res.x is None else np.asarray(res.x, dtype=float)
    if term is Termination.FEASIBLE and x is None:
        term = Termination.NO_SOLUTION
    objective = model.objective_value(x) if x is not None else None
    bound = None
    if term in (Termination.OPTIMAL, Termination.FEASIBLE):
        dual = getattr(res, "mip_dual_bound", None)
        if model.is_mip and dual is not None and np.isfinite(dual):
            bound = float(dual) + model.c0
        elif not model.is_mip and term is Termination.OPTIMAL:
            bound = objective
    return RawResult(term, x, objective, bound, seconds, "HiGHS", str(res.message))
