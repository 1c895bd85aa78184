"""Strategies (full, aggregated, decomposed), warm starts, time limits and progress.

Bounds are checked against brute force: whatever a strategy reports as its bound must be at or
below the true optimum, and its plan at or above it."""

from __future__ import annotations

import importlib
import io

import pytest
from rich.console import Console

import allocator
from allocator.backends import get_backend
from allocator.errors import AllocatorError
from allocator.solver.strategy import choose_strategy
from allocator.io.synthetic import FAMILIES, fleet

from .bruteforce import brute_force, random_problem
from .conftest import solved


def _no_deadlines(seed):
    doc = random_problem(seed, max_tasks=6, max_devices=3)
    for t in doc["tasks"]:
        t.pop("deadline", None)
    doc.pop("horizon", None)
    return allocator.load(doc, check=False)


@pytest.mark.parametrize("strategy", ["aggregated", "decomposed"])
@pytest.mark.parametrize("seed", range(8))
def test_strategy_bound_and_plan_bracket_the_optimum(strategy, seed):
    problem = _no_deadlines(seed)
    if allocator.solve(problem).status != "optimal":
        pytest.skip("no plan exists")
    best = brute_force(problem, "makespan")
    plan = solved(problem, strategy=strategy, parts=2)
    assert plan.strategy == strategy
    assert plan.bound <= best * (1 + 1e-6)
    assert plan.objective >= best * (1 - 1e-6)
    if plan.status == "optimal":
        assert plan.objective == pytest.approx(best)


def test_aggregated_is_exact_when_every_pool_has_one_device():
    # With one device per pool, the aggregated model is the full model.
    problem = fleet("few_per_pool", 12, 4, seed=3, pools=4)
    full = solved(problem, strategy="full")
    agg = solved(problem, strategy="aggregated")
    assert agg.status == "optimal" and agg.objective == pytest.approx(full.objective)


def test_aggregated_bound_holds_on_many_devices_per_pool():
    problem = fleet("many_per_pool", 40, 16, seed=1)
    full = solved(problem, strategy="full", mip_gap=1e-6)
    agg = solved(problem, strategy="aggregated")
    assert full.status == "optimal"
    assert agg.bound <= full.objective * (1 + 1e-6) <= agg.objective * (1 + 1e-6)


def test_automatic_choice_follows_size_and_pools():
    assert choose_strategy(fleet("unrelated", 50, 8), "makespan") == "full"
    assert choose_strategy(fleet("few_per_pool", 2000, 64), "makespan") == "full"
    assert choose_strategy(fleet("many_per_pool", 5000, 64), "makespan") == "aggregated"
    assert choose_strategy(fleet("many_per_pool", 5000, 64), "cost") == "full"
    assert choose_strategy(fleet("many_per_pool", 60_000, 1000, pools=20), "makespan") == \
        "decomposed"
    assert choose_strategy(fleet("many_per_pool", 5000, 64), "makespan", "full") == "full"
    with pytest.raises(AllocatorError, match="unknown strategy"):
        choose_strategy(fleet("unrelated", 50, 8), "makespan", "greedy")


def test_forcing_a_strategy_that_does_not_apply_is_refused():
    with pytest.raises(AllocatorError, match="without deadlines"):
        allocator.solve("problems/cluster-mixed.yaml", objective="cost", strategy="aggregated")


def test_every_family_builds_and_verifies():
    for family in FAMILIES:
        solved(fleet(family, 30, 8, seed=2), time_limit=10, mip_gap=1e-3)


def test_warm_start_reaches_the_backends_that_take_one(engine):
    problem = fleet("unrelated", 30, 6, seed=4)
    plan = solved(problem, **engine)
    if engine["backend"] == "highs" or engine["solver"] == "CBC":
        start = plan.warm_start.removesuffix("+local_search")
        assert start in ("lpt", "earliest_finish", "regret", "lp_rounding")
    elif plan.status == "optimal":
        assert plan.warm_start is None       # SciPy and PuLP's HiGHS take no start
    cold = solved(problem, warm_start=False, **engine)
    assert cold.warm_start is None
    assert cold.objective == pytest.approx(plan.objective, rel=1e-5)


def test_time_limit_returns_the_best_plan_with_its_bound():
    problem = fleet("unrelated", 300, 16, seed=0)
    quick = allocator.solve(problem, method="lpt")
    plan = solved(problem, time_limit=0.5, mip_gap=1e-9)
    assert plan.status == "feasible"
    assert plan.bound is not None and plan.bound <= plan.objective
    assert plan.objective <= quick.objective * (1 + 1e-9)
    assert plan.gap > 0


def test_progress_reports_incumbent_and_bound():
    seen = []
    problem = fleet("unrelated", 300, 16, seed=0)
    allocator.solve(problem, time_limit=1.0, mip_gap=1e-9, lp_bound=False,
                    progress=lambda t, inc, bound: seen.append((t, inc, bound)))
    assert seen, "no progress was reported in a 1 s solve"
    times = [t for t, _, _ in seen]
    assert times == sorted(times)
    for _, inc, bound in seen:
        if inc is not None and bound is not None:
            assert bound <= inc * (1 + 1e-9)


def test_cli_progress_line_only_after_a_while():
    from allocator.cli.common import SolveProgress
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120)
    with SolveProgress(console, after=2.0) as progress:
        progress(0.5, 10.0, 9.0)
        assert progress.status is None            # quick solves stay silent
        progress(2.5, 10.0, 9.0)
        assert progress.status is not None
    assert "gap 10.00%" in buf.getvalue()


def test_pool_lpt_places_every_task_and_verifies():
    from allocator.reductions.aggregation import pool_lpt
    from allocator.domain.plan import Plan, Status, sequence
    problem = fleet("many_per_pool", 200, 32, seed=5)
    assignment = pool_lpt(problem)
    assert set(assignment) == {t.name for t in problem.tasks}
    schedule = sequence(problem, assignment)
    plan = Plan(problem=problem.name, objective_name="makespan", status=Status.FEASIBLE,
                assignment=assignment, schedule=schedule,
                objective=max(s.end for s in schedule))
    assert allocator.verify(problem, plan) == []
    # Never better than the proven bound.
    best = allocator.solve(problem, strategy="aggregated")
    assert plan.objective >= best.bound * (1 - 1e-9)


def test_a_start_the_lp_bound_proves_skips_the_mip(monkeypatch):
    # Four 1-second tasks on two identical devices: LPT gives 2 s, the LP bound is 2 s, so the
    # start is proven optimal and no integer model is solved.
    doc = {"name": "even", "pools": [{"name": "p", "kind": "gpu", "count": 2, "memory": "16GiB",
                                      "throughput": 1}],
           "tasks": [{"name": f"t{i}", "compute": 1, "memory": "1GiB"} for i in range(4)]}
    engine = get_backend("highs")
    calls = []
    real = engine.solve

    def counting(model, options, solver):
        calls.append(model.is_mip)
        return real(model, options, solver)
    monkeypatch.setattr(engine, "solve", counting)
    plan = allocator.solve(doc, backend="highs")
    assert plan.status == "optimal" and plan.objective == 2.0 and plan.bound == 2.0
    assert plan.warm_start is not None
    assert calls == [False]                      # the relaxation only
    assert allocator.verify(allocator.load(doc), plan) == []


def test_decomposed_parts_share_the_time_limit_in_waves(monkeypatch):
    # 4 parts on 2 workers run in 2 waves; with 20% kept for the whole problem's bound, each
    # part gets 0.8 x 10 / 2 = 4 s, so that the parts and the bound together fit in 10 s
    # (a little less: the time spent before the split is drawn from the same limit).
    solve_module = importlib.import_module("allocator.solver.pipeline")
    real, limits = solve_module.solve, []

    def recording(*args, **kwargs):
        limits.append(kwargs["time_limit"])
        return real(*args, **kwargs)
    monkeypatch.setattr(solve_module, "solve", recording)
    problem = fleet("unrelated", 200, 16, seed=0)
    plan = real(problem, strategy="decomposed", parts=4, threads=2, time_limit=10)
    assert plan.strategy == "decomposed" and plan.status.has_plan
    assert len(limits) == 4 and all(3.9 < limit <= 4.0 for limit in limits), limits
    assert allocator.verify(problem, plan) == []
    assert plan.bound is not None and plan.bound <= plan.objective


def test_solves_with_different_thread_counts_in_one_thread():
    # HiGHS sizes its scheduler on a thread's first run; a later, different count used to end
    # in an error ("global scheduler has already been initialized").
    problem = fleet("unrelated", 30, 4, seed=0)
    plans = [allocator.solve(problem, threads=t) for t in (None, 2, 1, 2, None)]
    assert [str(p.status) for p in plans] == ["optimal"] * 5
    assert len({round(p.objective, 6) for p in plans}) == 1
