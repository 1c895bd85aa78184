"""Problems too large to write in full: a greedy start over every pair, a model over each
task's best pools, and a bound that holds for the whole problem (allocator.solver.restriction).

The size threshold is lowered here so that small problems take the same path; the answers are
checked against brute force and every plan goes through verify()."""

from __future__ import annotations

import random

import numpy as np
import pytest

import allocator
from allocator.solver import restriction

from .bruteforce import brute_force
from .conftest import solved


@pytest.fixture
def restricted(monkeypatch):
    monkeypatch.setattr(restriction, "MODEL_PAIRS", 0)        # every problem is "too large"
    monkeypatch.setattr(restriction, "CANDIDATE_PAIRS", 0)    # at least 4 columns per task


def _gap_like(seed: int, tasks: int = 6, pools: int = 3, count: int = 1) -> dict:
    rng = random.Random(seed)
    pool_list = [{"name": f"p{j}", "kind": "gpu", "count": count, "memory": "8GiB",
                  "throughput": rng.randint(1, 5) * 1e12, "cost_per_hour": rng.randint(1, 9)}
                 for j in range(pools)]
    task_list = [{"name": f"t{i}", "compute": rng.randint(1, 9) * 3.6e15,
                  "memory": f"{rng.randint(1, 8)}GiB"} for i in range(tasks)]
    return {"name": "g", "objective": "cost", "horizon": f"{rng.randint(2, 6)}h",
            "pools": pool_list, "tasks": task_list}


def test_greedy_fit_respects_capacity_and_is_what_it_says():
    problem = allocator.load(_gap_like(3, tasks=7, pools=3))
    name, assignment, value = restriction.greedy_fit(problem, "cost")
    plan = allocator.solve(problem, method="fcfs")           # any verified plan, for its shape
    import dataclasses
    from allocator.domain.plan import sequence
    mine = dataclasses.replace(plan, assignment=assignment, objective=value, bound=None,
                               schedule=sequence(problem, assignment), method=name)
    assert allocator.verify(problem, mine) == []


@pytest.mark.parametrize("seed", range(15))
@pytest.mark.parametrize("objective", ["cost", "makespan"])
def test_restricted_model_plans_are_plans_and_its_bound_holds(seed, objective, restricted):
    doc = _gap_like(seed, tasks=6, pools=3 + seed % 3)
    try:
        problem = allocator.load(doc, objective=objective)
    except allocator.ProblemError:
        pytest.skip("infeasible at load")
    best = brute_force(problem, objective)
    plan = solved(problem, objective=objective)
    if best is None:
        assert not plan.status.has_plan
        return
    if not plan.status.has_plan:                 # the candidates may miss every plan
        assert plan.status in ("infeasible", "no_solution")
        return
    assert plan.objective >= best * (1 - 1e-9)
    assert plan.bound <= best * (1 + 1e-9)           # holds for the whole problem
    assert plan.lp_bound is None                     # the restriction's LP is not reported
    if plan.status == "optimal":
        assert plan.objective == pytest.approx(best, rel=1e-6)


def test_candidates_keep_whole_pools_and_the_start():
    problem = allocator.load(_gap_like(1, tasks=5, pools=6, count=2))
    start = {t.name: "p5[1]" for t in problem.tasks}
    keep = restriction.candidate_pools(problem, "cost", start, pairs=0)
    assert keep[:, 5].all()                          # the start's pool, for every task
    # 4 columns wanted, pools of 2 devices: the two cheapest pools (and the start's).
    price = np.where(problem.eligible, problem.price, np.inf)
    for i in range(len(problem.tasks)):
        cheapest = set(np.argsort(price[i], kind="stable")[:2])
        assert cheapest <= set(np.flatnonzero(keep[i]))


def _two_devices(prices: dict[str, float], compute: float) -> dict:
    """Two tasks of ``compute`` FLOP and one 1 TFLOP/s device per pool, priced per hour,
    within a 1 h horizon."""
    return {"name": "two", "objective": "cost", "horizon": "1h",
            "pools": [{"name": name, "kind": "gpu", "count": 1, "memory": "1GiB",
                       "throughput": 1e12, "cost_per_hour": price}
                      for name, price in prices.items()],
            "tasks": [{"name": f"t{i}", "compute": compute, "memory": 1} for i in range(2)]}


def test_relaxed_bound_by_hand():
    problem = allocator.load(_two_devices({"a": 2, "b": 3}, 1.8e15))
    # Each task: 0.5 h; cheapest 2/h x 0.5 h = 1 each; capacity ignored: 2.
    assert restriction.relaxed_bound(problem, "cost") == pytest.approx(2.0)
    # Makespan: the larger of 1800 s (one task) and 3600 s / 2 devices.
    assert restriction.relaxed_bound(problem, "makespan") == pytest.approx(1800.0)


def test_a_large_problem_still_gets_a_heuristic_start(restricted, monkeypatch):
    calls = []
    real = restriction.greedy_fit

    def spy(problem, objective):
        calls.append(real(problem, objective))
        return calls[-1]
    monkeypatch.setattr(restriction, "greedy_fit", spy)
    problem = allocator.load(_gap_like(7, tasks=12, pools=4))
    plan = solved(problem, objective="cost", time_limit=5)
    assert len(calls) == 1 and calls[0] is not None
    assert plan.status.has_plan and plan.objective <= calls[0][2] + 1e-9


@pytest.mark.parametrize("seed", range(20))
def test_lagrangian_bound_lies_between_the_relaxed_bound_and_the_optimum(seed):
    import time
    doc = _gap_like(seed, tasks=6, pools=3, count=1 + seed % 2)
    try:
        problem = allocator.load(doc)
    except allocator.ProblemError:
        pytest.skip("infeasible at load")
    best = brute_force(problem, "cost")
    if best is None:
        pytest.skip("no plan")
    bound = restriction.lagrangian_bound(problem, best, time.perf_counter() + 5)
    assert restriction.relaxed_bound(problem, "cost") - 1e-9 <= bound <= best * (1 + 1e-9)


def test_lagrangian_bound_sees_capacity():
    # Two tasks of 1 h each, one cheap device with room for one: capacity ignored, both go
    # there (bound 2 x 1 = 2); the optimum sends one to the dear device (1 + 3 = 4). The
    # multipliers find a bound above 2 (here the optimum itself: the LP is integral).
    import time
    problem = allocator.load(_two_devices({"cheap": 1, "dear": 3}, 3.6e15))
    assert restriction.relaxed_bound(problem, "cost") == pytest.approx(2.0)
    assert restriction.lagrangian_bound(problem, 4.0, time.perf_counter() + 5) == \
        pytest.approx(4.0, rel=1e-3)


def test_a_cost_problem_past_the_rules_sizes_still_gets_a_start(monkeypatch):
    # Shrink the rules' size limits instead of building a 400,000-pair problem: no rule may
    # run, and the greedy pass must still give a start.
    from allocator.solver import starts
    monkeypatch.setattr(starts, "QUICK", {"lpt": 0, "earliest_finish": 0})
    monkeypatch.setattr(starts, "REGRET", {"sum": 0, "bottleneck": 0})
    doc = _gap_like(4, tasks=8, pools=3)
    doc["horizon"] = "100h"                        # room for any order of placement
    problem = allocator.load(doc)
    start = starts.quick_plan(problem, "cost", improve=False)
    assert start is not None and start[0] == "greedy_fit"
    plan = solved(problem, objective="cost", time_limit=5)
    assert plan.status.has_plan and plan.objective <= start[2] + 1e-9
