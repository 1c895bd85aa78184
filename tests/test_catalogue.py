"""Known optima, on every installed backend: hand-worked cases, the seeds' worked examples,
and random small problems against brute-force enumeration."""

from __future__ import annotations

import pytest

import allocator
from allocator.objectives import check_inputs as check_objective_inputs
from allocator.objectives.load_balance import worst_ratio

from .bruteforce import brute_force, random_problem
from .conftest import PROBLEMS, solved

HOUR = 3600.0

# file, objective, optimum (in the objective's unit)
CATALOGUE = [
    ("small/two-devices.yaml", "makespan", 5.0),
    ("small/two-devices.yaml", "cost", 10 / HOUR),            # all 10 s on the 1/h device
    ("small/two-devices.yaml", "load_balance", 5.0),
    ("small/memory-eligibility.yaml", "makespan", 6.0),
    ("small/memory-eligibility.yaml", "cost", 18 / HOUR),
    ("small/memory-eligibility.yaml", "load_balance", 6.0),   # huge alone pins big[0] at 6 s
    ("small/deadlines.yaml", "makespan", 4.0),
    ("seed-weighted-shortfall.yaml", "weighted_shortfall", 0.0),
    ("seed-weighted-shortfall-tight.yaml", "weighted_shortfall", 1600 * HOUR),
    ("seed-utilization.yaml", "utilization", 1.0),
]


@pytest.mark.parametrize("file, objective, optimum", CATALOGUE,
                         ids=[f"{f}-{o}" for f, o, _ in CATALOGUE])
def test_catalogue(file, objective, optimum, engine):
    problem = allocator.load(PROBLEMS / file, check=False)
    plan = solved(problem, objective=objective, **engine)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(optimum, rel=1e-6, abs=1e-9)
    assert plan.bound == pytest.approx(optimum, rel=1e-5, abs=1e-6)


def test_seed_weighted_shortfall_serves_everyone(engine):
    plan = solved(PROBLEMS / "seed-weighted-shortfall.yaml", **engine)
    for name, want in (("subtask-1", 100), ("subtask-2", 200), ("subtask-3", 300)):
        for kind in ("cpu", "gpu", "tpu"):
            assert plan.amounts[name][kind] == pytest.approx(want * HOUR)


def test_seed_weighted_shortfall_tight_serves_the_heaviest_first(engine):
    plan = solved(PROBLEMS / "seed-weighted-shortfall-tight.yaml", **engine)
    got = {t: {k: v / HOUR for k, v in a.items()} for t, a in plan.amounts.items()}
    assert got["subtask-3"] == pytest.approx({"cpu": 200, "gpu": 300, "tpu": 300})
    assert got["subtask-2"] == pytest.approx({"cpu": 0, "gpu": 0, "tpu": 100}, abs=1e-6)
    assert got["subtask-1"] == pytest.approx({"cpu": 0, "gpu": 0, "tpu": 0}, abs=1e-6)


def test_seed_utilization_worked_example(engine):
    plan = solved(PROBLEMS / "seed-utilization.yaml", **engine)
    x = [plan.amounts[t]["compute"] for t in ("T1", "T2", "T3")]
    assert x == pytest.approx([10, 30, 20])
    assert sum(x) == pytest.approx(60)
    assert plan.sense == "max"


def test_utilization_with_memory_dominating():
    # Memory decides the share of T2: 60 B of 100 B is 60 %, more than its 30 % of compute.
    doc = allocator.to_dict(allocator.load(PROBLEMS / "seed-utilization.yaml"))
    doc["tasks"][1]["memory"] = 60
    plan = solved(doc)
    assert [plan.amounts[t]["share"] for t in ("T1", "T2", "T3")] == pytest.approx([0.1, 0.6, 0.2])
    assert plan.objective == pytest.approx(0.6 / 0.9)


def test_deadlines_infeasible_is_proven_by_the_solver(engine):
    plan = solved(PROBLEMS / "small/deadlines-infeasible.yaml", **engine)
    assert plan.status == "infeasible"
    assert "deadlines" in plan.reason


def test_inverse_sum_is_within_its_documented_error(engine):
    # Two equal devices, 10 s of divisible work: the optimum puts 5 s on each,
    # sum of 1 / (5 s in hours) = 2 x 720 = 1440.
    plan = solved(PROBLEMS / "small/two-devices.yaml", objective="load_balance",
                  measure="inverse_sum", **engine)
    assert plan.status == "optimal"
    assert plan.bound <= 1440 * (1 + 1e-9) <= plan.objective * (1 + 1e-9)
    assert plan.bound >= worst_ratio() * 1440 - 1e-6
    assert plan.objective <= 1440 / worst_ratio() + 1e-6


def test_shipped_cluster_solves_and_verifies():
    plan = solved(PROBLEMS / "cluster-mixed.yaml", time_limit=60)
    assert plan.status in ("optimal", "feasible")
    assert plan.lp_bound <= plan.bound * (1 + 1e-9) <= plan.objective * (1 + 1e-6)


SEEDS = range(30)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("objective", ["makespan", "cost"])
def test_random_small_problems_match_brute_force(seed, objective, engine):
    doc = random_problem(seed)
    try:
        problem = allocator.load(doc, check=False)
        check_objective_inputs(problem, objective)
    except allocator.ProblemError:
        pytest.skip("random problem rejected by the loader")
    best = brute_force(problem, objective)
    plan = solved(problem, objective=objective, **engine)
    if best is None:
        assert plan.status == "infeasible", plan
        return
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(best, rel=1e-6)
    assert plan.bound <= best * (1 + 1e-6)


def _hard_problem(seed: int = 1) -> dict:
    """80 tasks with unrelated speeds on 12 devices: HiGHS and CBC need far more than 1 s."""
    import random
    rng = random.Random(seed)
    pools = [{"name": f"p{j}", "kind": "gpu", "count": 2, "memory": "80GiB",
              "throughput": rng.randint(1, 9) * 1e12} for j in range(6)]
    tasks = [{"name": f"t{i}", "compute": rng.randint(50, 150) * 1e15, "memory": "1GiB"}
             for i in range(80)]
    speeds = {t["name"]: {p["name"]: rng.randint(1, 9) * 1e12 for p in pools} for t in tasks}
    return {"name": "hard", "pools": pools, "tasks": tasks, "throughput": speeds}


def test_time_limit_returns_the_incumbent_with_its_gap(engine):
    problem = allocator.load(_hard_problem())
    plan = solved(problem, time_limit=1, **engine)
    assert plan.status in ("feasible", "optimal")
    assert plan.bound <= plan.objective
    if plan.status == "feasible":
        assert plan.gap > 0


def test_no_incumbent_still_reports_the_lp_bound():
    problem = allocator.load(_hard_problem())
    plan = solved(problem, time_limit=0.05)
    heuristic = solved(problem, method="lpt")
    assert plan.status in ("no_solution", "feasible", "optimal")
    if plan.status == "no_solution":
        assert "time limit" in plan.reason
    assert plan.bound is not None and plan.bound <= heuristic.objective
