"""Large-neighbourhood search: the sub-model is the whole model with columns fixed, and the
search never leaves the feasible set nor worsens its start (checked against brute force)."""

from __future__ import annotations

import time

import numpy as np
import pytest

import allocator
from allocator.io import orlib as gap
from allocator.reductions import neighbourhoods as lns
from allocator.backends import SolveOptions, get_backend
from allocator.objectives import OBJECTIVES
from allocator.io.synthetic import fleet

from .test_gap import brute_force, random_instance


def _start(problem, objective):
    built = OBJECTIVES[objective].build(problem)
    plan = allocator.solve(problem, objective=objective, method="regret")
    assert plan.status == "feasible"
    return built, built.encode(plan.assignment)


@pytest.mark.parametrize("seed", range(5))
def test_sub_model_is_the_model_with_the_other_columns_fixed(seed):
    problem = gap.to_problem(random_instance(seed + 100, m=4, n=10), "min")
    built, x = _start(problem, "cost")
    rng = np.random.default_rng(seed)
    free = rng.random(built.model.n_cols) < 0.4
    sub = lns.sub_model(built.model, x, free)
    # x restricted is feasible there, with the same objective.
    assert sub.max_violation(x[free]) <= 1e-9
    assert sub.objective_value(x[free]) == pytest.approx(built.model.objective_value(x))
    # Every solution of the sub-model, put back, is feasible in the whole model.
    raw = get_backend("highs").solve(sub, SolveOptions(), None)
    whole = x.copy()
    whole[free] = raw.x
    assert built.model.max_violation(whole) <= 1e-6
    assert built.model.objective_value(whole) == pytest.approx(raw.objective)
    assert raw.objective <= built.model.objective_value(x) + 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_search_reaches_no_better_than_brute_force_and_never_worsens(seed):
    inst = random_instance(seed, m=4, n=8)
    want = brute_force(inst, "min")
    problem = gap.to_problem(inst, "min")
    if want is None:                            # nothing to search from
        assert allocator.solve(problem, method="regret").status == "infeasible"
        return
    built, x = _start(problem, "cost")
    best, rounds = lns.search(built.model, built.pairs, x, get_backend("highs"), None,
                              SolveOptions(), time.perf_counter() + 0.5, seed=seed)
    assert built.model.max_violation(best) <= 1e-9
    value = built.model.objective_value(best)
    assert want <= value <= built.model.objective_value(x)
    assert (rounds > 0) == (value < built.model.objective_value(x))
    a = gap.assignment_of(problem, allocator.Plan(
        problem=problem.name, objective_name="cost", status=allocator.Status.FEASIBLE,
        assignment=built.decode(best)["assignment"]))
    assert inst.feasible(a) and inst.value(a) == pytest.approx(value)


def test_search_lowers_a_makespan_through_the_busiest_device():
    problem = fleet("unrelated", 40, 6, seed=1)
    built = OBJECTIVES["makespan"].build(problem)
    plan = allocator.solve(problem, method="fcfs")
    x = built.encode(plan.assignment)
    best, rounds = lns.search(built.model, built.pairs, x, get_backend("highs"), None,
                              SolveOptions(), time.perf_counter() + 1.0, busiest=True)
    assert built.model.max_violation(best) <= 1e-9
    decoded = built.decode(best)
    assert decoded["objective"] <= plan.objective
    assert rounds > 0 and decoded["objective"] < plan.objective
    optimum = allocator.solve(problem)
    assert optimum.objective <= decoded["objective"] * (1 + 1e-9)


def test_solve_at_a_time_limit_stays_verified_and_bracketed():
    # Big enough that the whole MIP stops at the limit, so the search runs after it.
    problem = gap.to_problem(random_instance(7, m=10, n=120), "min")
    plan = allocator.solve(problem, time_limit=2.0, mip_gap=1e-9)
    assert allocator.verify(problem, plan) == []
    if plan.status == "feasible":
        assert plan.bound <= plan.objective


def test_search_reports_each_improvement_in_order():
    problem = fleet("unrelated", 40, 6, seed=1)
    built = OBJECTIVES["makespan"].build(problem)
    x = built.encode(allocator.solve(problem, method="fcfs").assignment)
    heard = []
    best, rounds = lns.search(built.model, built.pairs, x, get_backend("highs"), None,
                              SolveOptions(), time.perf_counter() + 1.0, busiest=True,
                              on_improve=heard.append)
    assert len(heard) == rounds > 0
    assert heard == sorted(heard, reverse=True) and len(set(heard)) == len(heard)
    assert heard[-1] == pytest.approx(built.model.objective_value(best))
    assert heard[0] < built.model.objective_value(x)
