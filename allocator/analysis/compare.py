"""Run the optimal model, its LP bound and the heuristics side by side on one problem."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..objectives import check_inputs as check_objective_inputs
from ..errors import AllocatorError
from ..objectives.evaluation import evaluate
from ..heuristics import HEURISTICS, PLACEMENT_HEURISTICS, TIMED_HEURISTICS
from ..io.problem_files import load
from ..domain.plan import Plan
from ..domain.problem import Problem
from ..objectives import HEURISTIC as HEURISTIC_OBJECTIVES, get
from ..solver.pipeline import solve
from .verify import verify


@dataclass(frozen=True)
class Row:
    method: str
    status: str
    objective: float | None
    ratio_to_optimum: float | None      # objective / proven optimum (None unless proven)
    ratio_to_bound: float | None        # objective / best proven lower bound
    makespan: float | None
    cost: float | None
    mean_utilization: float | None
    min_utilization: float | None
    load_imbalance: float | None
    seconds: float
    placed_tasks: int | None = None     # on nodes
    gpu_allocation: float | None = None
    fragmentation: float | None = None  # FGD's, in GPUs, on nodes


@dataclass(frozen=True)
class Comparison:
    problem: str
    objective_name: str
    bound: float | None                 # best proven lower bound on the objective
    optimum: float | None               # proven optimum, when the model proved it
    rows: tuple[Row, ...]
    plans: Mapping[str, Plan] = field(default_factory=dict, compare=False)
    sense: str = "min"

    def row(self, method: str) -> Row:
        return next(r for r in self.rows if r.method == method)

    def _heuristic_rows(self) -> list[Row]:
        return [r for r in self.rows if r.method not in ("optimal", "lp_bound")
                and r.objective is not None]

    def best_heuristic(self) -> Row | None:
        rows = self._heuristic_rows()
        pick = max if self.sense == "max" else min
        return pick(rows, key=lambda r: r.objective) if rows else None

    def worst_heuristic(self) -> Row | None:
        rows = self._heuristic_rows()
        pick = min if self.sense == "max" else max
        return pick(rows, key=lambda r: r.objective) if rows else None

    def to_dict(self) -> dict[str, Any]:
        return {"problem": self.problem, "objective": self.objective_name, "bound": self.bound,
                "optimum": self.optimum, "rows": [asdict(r) for r in self.rows]}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")


def compare(problem: Problem | str | Mapping, methods: Sequence[str] | None = None, *,
            objective: str | None = None, time_limit: float | None = 60.0,
            backend: str | None = None, solver: str | None = None, seed: int | None = 0,
            progress=None) -> Comparison:
    """Solve ``problem`` with the model and with each heuristic and tabulate the results.

    Parameters
    ----------
    methods : list of str, optional
        Heuristic names (default: all of :data:`allocator.heuristics.HEURISTICS`).
        ``"optimal"`` (the model) and its LP bound always run.
    time_limit : float, optional
        Seconds for the model; at the limit the ratios are taken against its bound.
    progress : callable, optional
        Called with each method's name before it runs (the CLI drives a progress bar).

    Every plan goes through :func:`allocator.verify`; a plan that fails raises, since a
    comparison built on a wrong plan would be worse than none.
    """
    problem = load(problem)
    objective = objective or problem.objective
    check_objective_inputs(problem, objective)
    on_nodes = get(objective).on_nodes
    known = (TIMED_HEURISTICS if get(objective).timed else PLACEMENT_HEURISTICS if on_nodes
             else tuple(HEURISTICS))
    if objective not in HEURISTIC_OBJECTIVES and not on_nodes:
        raise AllocatorError(f"compare() covers {' and '.join(HEURISTIC_OBJECTIVES)} and the "
                             f"objectives on nodes, not {objective!r}")
    methods = list(known) if methods is None else list(methods)
    for m in methods:
        if m not in known:
            raise AllocatorError(f"unknown method {m!r}; choose from {', '.join(known)}")
    plans: dict[str, Plan] = {}
    seconds: dict[str, float] = {}
    for m in ["optimal", *methods]:
        if progress is not None:
            progress(m)
        start = time.perf_counter()
        plans[m] = solve(problem, objective=objective, method=m, time_limit=time_limit,
                         backend=backend, solver=solver, seed=seed)
        seconds[m] = time.perf_counter() - start
        errors = verify(problem, plans[m])
        if errors:
            raise AssertionError(f"{m} produced a plan that does not verify: {errors[0]}")
    opt = plans["optimal"]
    bound = opt.bound
    optimum = opt.objective if opt.status == "optimal" else None

    def ratio(value, ref):
        if value is None or ref is None:
            return None
        return value / ref if ref > 0 else (1.0 if value == 0 else float("inf"))

    rows = []
    if opt.lp_bound is not None:
        rows.append(Row("lp_bound", "bound", opt.lp_bound, ratio(opt.lp_bound, optimum),
                        ratio(opt.lp_bound, bound), None, None, None, None, None, 0.0))
    for m, plan in plans.items():
        met = evaluate(problem, plan) if plan.status.has_plan else None
        rows.append(Row(
            method=m, status=plan.status.value, objective=plan.objective,
            ratio_to_optimum=ratio(plan.objective, optimum),
            ratio_to_bound=ratio(plan.objective, bound),
            makespan=met.makespan if met else None, cost=met.cost if met else None,
            mean_utilization=met.mean_utilization if met else None,
            min_utilization=met.min_utilization if met else None,
            load_imbalance=met.load_imbalance if met else None, seconds=seconds[m],
            placed_tasks=met.placed_tasks if met else None,
            gpu_allocation=met.gpu_allocation if met else None,
            fragmentation=met.fragmentation if met else None))
    return Comparison(problem.name, objective, bound, optimum, tuple(rows), plans,
                      sense=opt.sense)
