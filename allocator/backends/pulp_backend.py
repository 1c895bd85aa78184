"""PuLP: CBC (bundled) by default, and any solver PuLP can drive (HiGHS, GUROBI, CPLEX_CMD...)."""

from __future__ import annotations

import inspect
import time

import numpy as np

from ..errors import AllocatorError
from ..model.sparse import LinearModel
from .base import (
    Capabilities,
    RawResult,
    SolveOptions,
    Termination,
    importable,
    solver_chatter_hidden,
)

name = "pulp"
# Warm starts for CBC (PuLP's warmStart; PuLP's HiGHS class has none); no progress.
CAPABILITIES = Capabilities(warm_start=True, progress=False, threads=True,
                            column_generation=False)
# PuLP's solution status (pulp.LpSolution*) or problem status (pulp.LpStatus*) -> Termination:
# the first entry that matches, in this order; anything else is an ERROR.
STATUS_MAP = {
    ("solution", 1): Termination.OPTIMAL,          # LpSolutionOptimal
    ("solution", 2): Termination.FEASIBLE,         # LpSolutionIntegerFeasible
    ("solution", -1): Termination.INFEASIBLE,      # LpSolutionInfeasible
    ("status", -1): Termination.INFEASIBLE,        # LpStatusInfeasible
    ("solution", -2): Termination.UNBOUNDED,       # LpSolutionUnbounded
    ("status", -2): Termination.UNBOUNDED,         # LpStatusUnbounded
    ("status", 0): Termination.NO_SOLUTION,        # LpStatusNotSolved
}


def termination(solution: int, status: int) -> Termination:
    """:data:`STATUS_MAP` read in order for PuLP's two statuses."""
    seen = {"solution": solution, "status": status}
    return next((term for (kind, value), term in STATUS_MAP.items() if seen[kind] == value),
                Termination.ERROR)

ALIASES = {"CBC": "PULP_CBC_CMD", "COIN": "COIN_CMD", "HIGHS": ("HiGHS", "HiGHS_CMD"),
           "GUROBI": ("GUROBI", "GUROBI_CMD"), "CPLEX": ("CPLEX_PY", "CPLEX_CMD"),
           "GLPK": "GLPK_CMD", "SCIP": ("SCIP_PY", "SCIP_CMD"), "XPRESS": ("XPRESS_PY", "XPRESS"),
           "COPT": ("COPT", "COPT_CMD")}


def available() -> bool:
    return importable("pulp")


def solvers() -> list[str]:
    """Names of the PuLP solvers installed here."""
    import pulp
    return list(pulp.listSolvers(onlyAvailable=True))


def resolve(solver: str | None) -> str:
    """Map a user's solver name (``CBC``, ``highs``, ``GUROBI_CMD``) to an installed PuLP name."""
    import pulp
    installed = solvers()
    known = pulp.listSolvers()
    if solver is None:
        return "PULP_CBC_CMD"
    candidates = ALIASES.get(solver.upper(), solver)
    candidates = (candidates,) if isinstance(candidates, str) else candidates
    by_fold = {k.upper(): k for k in known}
    candidates = [by_fold.get(c.upper(), c) for c in candidates]
    for c in candidates:
        if c in installed:
            return c
    listing = ", ".join(installed) or "none"
    if any(c in known for c in candidates):
        raise AllocatorError(f"PuLP solver {solver!r} is not installed here; available: {listing}")
    raise AllocatorError(f"unknown PuLP solver {solver!r}; available here: {listing}; "
                         f"PuLP also knows: {', '.join(k for k in known if k not in installed)}")


def _make_solver(pulp_name: str, options: SolveOptions):
    import warnings

    import pulp
    cls = getattr(pulp, pulp_name)
    params = inspect.signature(cls.__init__).parameters
    kwargs = {"msg": options.verbose}
    if options.time_limit is not None and "timeLimit" in params:
        kwargs["timeLimit"] = options.time_limit
    if "gapRel" in params:
        kwargs["gapRel"] = options.mip_gap
    if options.threads is not None and "threads" in params:
        kwargs["threads"] = options.threads
    if options.warm_start is not None and "warmStart" in params:
        kwargs["warmStart"] = True
    with warnings.catch_warnings():
        # PuLP 3.3 announces that PULP_CBC_CMD (its bundled CBC) goes away in PuLP 4; the
        # project pins pulp<4, where it is the CBC that every installation has.
        warnings.filterwarnings("ignore", message="PULP_CBC_CMD is deprecated",
                                category=DeprecationWarning)
        return cls(**kwargs)


def _build(model: LinearModel):
    """A PuLP problem from the sparse matrix, one expression per row."""
    import pulp
    prob = pulp.LpProblem("allocator", pulp.LpMinimize)
    # PuLP 3.3 deprecates LpVariable(...) in favour of prob.add_variable(...); older ones lack it.
    new_var = getattr(prob, "add_variable", None) or pulp.LpVariable
    xs = []
    for j in range(model.n_cols):
        lo, hi = model.col_lo[j], model.col_hi[j]
        xs.append(new_var(f"x{j}", lowBound=float(lo) if np.isfinite(lo) else None,
                          upBound=float(hi) if np.isfinite(hi) else None,
                          cat=pulp.LpInteger if model.integrality[j] else pulp.LpContinuous))
    nz = np.flatnonzero(model.c)
    prob += pulp.LpAffineExpression([(xs[j], float(model.c[j])) for j in nz],
                                    constant=float(model.c0))
    A = model.A.tocsr()
    for r in range(model.n_rows):
        cols = A.indices[A.indptr[r]:A.indptr[r + 1]]
        vals = A.data[A.indptr[r]:A.indptr[r + 1]]
        expr = pulp.LpAffineExpression([(xs[j], float(v)) for j, v in zip(cols, vals)])
        lo, hi = model.row_lo[r], model.row_hi[r]
        if lo == hi:
            prob += pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{r}", float(lo))
            continue
        if np.isfinite(lo):
            prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{r}_lo", float(lo))
        if np.isfinite(hi):
            prob += pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{r}_hi", float(hi))
    return prob, xs


def solve(model: LinearModel, options: SolveOptions, solver: str | None = None) -> RawResult:
    import pulp
    pulp_name = resolve(solver)
    prob, xs = _build(model)
    engine = _make_solver(pulp_name, options)
    warm = options.warm_start is not None and getattr(engine, "optionsDict", {}).get("warmStart")
    if warm:
        for v, value in zip(xs, np.asarray(options.warm_start, dtype=float).tolist()):
            v.setInitialValue(value)
    start = time.perf_counter()
    try:
        with solver_chatter_hidden(not options.verbose):       # PuLP's HiGHS prints a banner
            prob.solve(engine)
    except pulp.PulpSolverError as exc:
        return RawResult(Termination.ERROR, None, None, None, time.perf_counter() - start,
                         pulp_name, str(exc))
    seconds = time.perf_counter() - start
    term = termination(prob.sol_status, prob.status)
    x = None
    if term in (Termination.OPTIMAL, Termination.FEASIBLE):
        x = np.array([v.varValue if v.varValue is not None else 0.0 for v in xs])
        if model.is_mip:
            x = np.where(model.integrality, np.round(x), x)
    objective = model.objective_value(x) if x is not None else None
    # PuLP reports no dual bound; an optimal status certifies the requested relative gap.
    bound = None
    if term is Termination.OPTIMAL:
        bound = objective if not model.is_mip else objective - options.mip_gap * abs(objective)
    return RawResult(term, x, objective, bound, seconds, pulp_name,
                     pulp.LpStatus.get(prob.status, ""), warm_started=bool(warm))
